"""The selection stage: check the coordinators' decisions, track approval, send decision letters."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime

from samen.config import Config
from samen.domain.intake import parse_iso
from samen.domain.layouts import (
    APPROVAL_HEADERS,
    APPROVAL_SUMMARY_COLUMN,
    PARTICIPANTS_HEADERS,
    PARTICIPANTS_KEY,
    PARTICIPANTS_SELECTION,
    REVIEW_HEADERS,
    REVIEW_KEY,
)
from samen.domain.selection import (
    ApprovalState,
    code_salt,
    evaluate_approval,
    read_decisions,
    summary_cells,
)
from samen.domain.tabs import contiguous_blocks, header_index, reconcile_tab
from samen.gateways.mail import MailConnectionError, MailGateway
from samen.gateways.sheets.base import CellBlock, SheetsGateway, TabSpec
from samen.gateways.store import Store
from samen.gateways.store.ledger import SignalRecord
from samen.gateways.store.selection import Approval, Decision
from samen.gateways.store.store import utcnow
from samen.rendering import Renderer
from samen.schemas.municipalities import display_name
from samen.stages.delivery import PlannedMail
from samen.stages.intake_mail import current_versions
from samen.stages.messaging import check_messaging_headers, messaging_tab_specs, run_messaging

log = logging.getLogger("samen.selection")
FIX = "Restore the header, or remove the tab so samen creates it again."
SIDES = (("initiative", "initiatief"), ("municipality", "gemeente"))


@dataclass(frozen=True)
class SelectionSummary:
    """What a selection run did, in counts and ids (no personal data)."""

    as_of: str
    dry_run: bool
    applications: int
    kern: int
    kenniskring: int
    afgewezen: int
    undecided: int
    rows_with_problems: int
    code: str
    approvals_counted: int
    approved: bool
    approval_recorded: bool
    decisions_changed: int
    participants: int
    messages_sent: int
    messages_waiting: int
    signals_added: int
    manifest: str
    cells_written: int

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a plain dict."""
        return asdict(self)


def selection_tab_specs(config: Config) -> list[TabSpec]:
    """Return the tabs selection reads and writes."""
    t = config.tabs
    return [TabSpec(t["review"], REVIEW_HEADERS), TabSpec(t["approval"], APPROVAL_HEADERS),
            TabSpec(t["participants"], PARTICIPANTS_HEADERS), *messaging_tab_specs(config)]


def run_selection(
    config: Config, *, sheets: SheetsGateway, store: Store, mail: MailGateway, as_of: date,
    dry_run: bool = False, now: datetime | None = None,
) -> SelectionSummary:
    """Check decisions, record an approval of the current code, and send letters once."""
    t, moment = config.tabs, now or utcnow()
    columns: dict[str, dict[str, int]] = {}

    def check(snapshot: Mapping[str, list[list[str]]]) -> None:
        columns["review"] = header_index(t["review"], snapshot[t["review"]], REVIEW_HEADERS, FIX)
        columns["approval"] = header_index(t["approval"], snapshot[t["approval"]],
                                           APPROVAL_HEADERS, FIX)
        columns["participants"] = header_index(t["participants"], snapshot[t["participants"]],
                                               PARTICIPANTS_HEADERS, FIX)
        check_messaging_headers(config, snapshot)

    snapshot = sheets.open_tabs(selection_tab_specs(config), check=check)
    apps = store.load_applications()
    current = current_versions(apps, store.load_versions())
    read = read_decisions(snapshot[t["review"]], columns["review"], {a.id for a in apps},
                          config.programme.coordinators)
    decided = {a: r.decision for a, r in read.items() if r.decision}
    entries = approval_entries(snapshot[t["approval"]], columns["approval"])
    approvals = store.selection.approvals()
    p = config.programme

    def evaluate(done: list[Approval]) -> ApprovalState:
        salt = code_salt(decided, [(a.seq, a.decisions) for a in done])
        return evaluate_approval(decided, len(apps) - len(decided), entries, p.coordinators,
                                 p.approvals_needed, p.kern_capacity, done[-1].code if done else "",
                                 salt)

    state = evaluate(approvals)
    recorded, changed = False, list[str]()
    latest = approvals[-1].code if approvals else ""
    if state.approved and not dry_run and state.code != latest:
        _seq, changed = store.selection.approve(state.code, decided, state.approvers, as_of, moment)
        recorded = True
        approvals = store.selection.approvals()
        state = evaluate(approvals)  # the notes must not call the code just approved "earlier"
    in_force = store.selection.decisions()
    messaging = run_messaging(
        config, stage="selection", store=store, mail=mail, renderer=Renderer(p.language),
        snapshot=snapshot, planned=decision_letters(in_force, current),
        signals=change_signals(in_force, decided, current, as_of), as_of=as_of, now=moment,
        dry_run=dry_run)
    part_cols = [columns["participants"][h] for h in PARTICIPANTS_KEY]
    listed = {"|".join(r[c - 1].strip() if len(r) >= c else "" for c in part_cols)
              for r in snapshot[t["participants"]][1:]}
    blocks = [
        *reconcile_tab(t["review"], snapshot[t["review"]], columns["review"], REVIEW_KEY,
                       {a: {"Problemen": "\n".join(r.problems)} for a, r in read.items()}).blocks,
        *summary_blocks(t["approval"], snapshot[t["approval"]],
                        summary_cells(state, approved_text(state.code, approvals))),
        *reconcile_tab(t["participants"], snapshot[t["participants"]], columns["participants"],
                       PARTICIPANTS_KEY, register_rows(in_force, current, listed)).blocks,
        *messaging.blocks,
    ]
    if not dry_run:
        sheets.write_blocks(blocks)
    report = messaging.report
    summary = SelectionSummary(
        as_of=as_of.isoformat(), dry_run=dry_run, applications=len(apps),
        kern=state.counts["kern"], kenniskring=state.counts["kenniskring"],
        afgewezen=state.counts["afgewezen"], undecided=state.undecided,
        rows_with_problems=sum(1 for r in read.values() if r.problems), code=state.code,
        approvals_counted=len(state.approvers), approved=state.approved,
        approval_recorded=recorded, decisions_changed=len(changed),
        participants=sum(1 for d in in_force.values() if d.decision != "afgewezen") * 2,
        messages_sent=report.sent, messages_waiting=report.waiting,
        signals_added=messaging.signals_added, manifest=messaging.manifest,
        cells_written=sum(len(b.values[0]) for b in blocks),
    )
    log.info("selection: %s", summary.as_dict())
    if report.stopped:
        raise MailConnectionError(f"Sending stopped after {report.sent} messages: {report.stopped}")
    return summary


def approval_entries(rows: list[list[str]], columns: Mapping[str, int]) -> list[tuple[str, str]]:
    """Return the (coordinator, code) entries of Vaststelling's human columns."""
    who, code = columns["Coördinator"], columns["Code"]
    return [(r[who - 1] if len(r) >= who else "", r[code - 1] if len(r) >= code else "")
            for r in rows[1:]]


def approved_text(code: str, approvals: list[Approval]) -> str:
    """Return the Goedgekeurd value: when and by whom the current code was approved, or nee.

    Only the latest approval counts: a return to an earlier set of decisions needs approving again.
    """
    if approvals and approvals[-1].code == code:
        a = approvals[-1]
        return f"ja, op {a.approved_on.strftime('%d-%m-%Y')} door {', '.join(a.coordinators)}"
    return "nee"


def summary_blocks(tab: str, rows: list[list[str]], cells: list[tuple[str, str]]) -> list[CellBlock]:
    """Return the blocks that make columns E-F of Vaststelling show the summary."""
    blocks: list[CellBlock] = []
    for number, (label, value) in enumerate(cells, start=1):
        row = rows[number - 1] if len(rows) >= number else []
        col = APPROVAL_SUMMARY_COLUMN
        current = [row[c - 1] if len(row) >= c else "" for c in (col, col + 1)]
        if current != [label, value]:
            blocks.extend(contiguous_blocks(tab, number, {col: label, col + 1: value}))
    return blocks


def decision_letters(
    in_force: Mapping[str, Decision], current: Mapping[str, Mapping[str, str]]
) -> list[PlannedMail]:
    """Return the letter of every decision in force to both contacts; the version is its approval."""
    out: list[PlannedMail] = []
    for app_id in sorted(in_force):
        d, n = in_force[app_id], current.get(app_id, {})
        application = {"id": app_id, "initiative": n.get("initiative", ""),
                       "municipality": display_name(n.get("municipality_code", "")) if n else "",
                       "submitted_at": parse_iso(n.get("submitted_at", "")) or datetime.min}
        for side, _kant in SIDES:
            out.append(PlannedMail(f"besluit-{d.decision}", app_id, n.get(f"{side}_email", ""),
                                   n.get(f"{side}_contact", ""),
                                   {"application": application, "explanation": ""},
                                   version=f"v{d.approval_seq}"))
    return out


def change_signals(
    in_force: Mapping[str, Decision], decided: Mapping[str, str],
    current: Mapping[str, Mapping[str, str]], as_of: date,
) -> list[SignalRecord]:
    """Return a signal for every decision changed in the sheet after it was approved."""
    out: list[SignalRecord] = []
    for app_id, d in sorted(in_force.items()):
        new = decided.get(app_id)
        if new and new != d.decision:
            name = current.get(app_id, {}).get("initiative", "")
            out.append(SignalRecord(
                key=f"besluit-gewijzigd|{app_id}|{new}|v{d.approval_seq}",
                kind="Besluit gewijzigd na vaststelling", subject=app_id,
                explanation=(f"Het besluit over {app_id} ({name}) is in de spreadsheet gewijzigd "
                             f"van {d.decision} naar {new}. Dat geldt pas als genoeg coördinatoren "
                             "de nieuwe code invullen bij Vaststelling."),
                raised_on=as_of))
    return out


def register_rows(
    in_force: Mapping[str, Decision], current: Mapping[str, Mapping[str, str]],
    listed: Collection[str] = (),
) -> dict[str, dict[str, str]]:
    """Return the Deelnemers rows: both contacts of every kern and kenniskring tandem.

    A listed row ("Aanmelding|Kant") of a tandem now afgewezen is emptied: it left the register.
    """
    out: dict[str, dict[str, str]] = {}
    for app_id in sorted(in_force):
        d, n = in_force[app_id], current.get(app_id, {})
        if d.decision == "afgewezen":
            out.update({f"{app_id}|{kant}": dict.fromkeys(PARTICIPANTS_SELECTION, "")
                        for _side, kant in SIDES if f"{app_id}|{kant}" in listed})
            continue
        for side, kant in SIDES:
            out[f"{app_id}|{kant}"] = {
                "Aanmelding": app_id, "Initiatief": n.get("initiative", ""),
                "Gemeente": display_name(n.get("municipality_code", "")) if n else "",
                "Rol": d.decision, "Naam": n.get(f"{side}_contact", ""),
                "E-mail": n.get(f"{side}_email", ""), "Kant": kant,
            }
    return out
