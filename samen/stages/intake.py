"""The intake stage: read the form tab, record new versions, route them to review or correction."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

from samen.config import Config
from samen.domain.intake import (
    IntakePlan,
    plan_intake,
    read_form_rows,
    review_signals,
    show_datetime,
)
from samen.domain.layouts import (
    CORRECTIONS_HEADERS,
    CORRECTIONS_KEY,
    REVIEW_HEADERS,
    REVIEW_KEY,
    SUMMARY_CHARS,
)
from samen.domain.records import Application, ResponseVersion
from samen.domain.tabs import header_index, reconcile_tab
from samen.gateways.mail import MailConnectionError, MailGateway
from samen.gateways.sheets.base import SheetsGateway, TabSpec
from samen.gateways.store import Store
from samen.gateways.store.ledger import LedgerEntry
from samen.gateways.store.store import utcnow
from samen.rendering import Renderer
from samen.stages.collector import collector_paused, collector_resumed
from samen.stages.form_adapter import key_from_normalised, validate_rows
from samen.stages.intake_mail import (
    correction_mails,
    current_versions,
    intake_signals,
    receipt_mails,
    request_dates,
)
from samen.stages.messaging import (
    check_messaging_headers,
    messaging_tab_specs,
    run_messaging,
)

log = logging.getLogger("samen.intake")


@dataclass(frozen=True)
class IntakeSummary:
    """What an intake run did, in counts (no personal data)."""

    as_of: str
    dry_run: bool
    form_rows: int
    empty_rows: int
    new_versions: int
    valid_versions: int
    invalid_versions: int
    new_applications: int
    updated_applications: int
    applications: int
    review_rows_added: int
    review_rows_changed: int
    corrections_open: int
    corrections_resolved: int
    messages_recorded: int
    messages_sent: int
    messages_failed: int
    messages_held: int
    messages_waiting: int
    signals_added: int
    manifest: str
    cells_written: int

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a plain dict (for artifacts and the CLI)."""
        return asdict(self)


def intake_tab_specs(config: Config) -> list[TabSpec]:
    """Return the tabs intake reads and writes."""
    return [
        TabSpec(config.tabs["form"], tuple(config.questions.values()), create=False),
        TabSpec(config.tabs["review"], REVIEW_HEADERS),
        TabSpec(config.tabs["corrections"], CORRECTIONS_HEADERS),
        *messaging_tab_specs(config),
    ]


def run_intake(
    config: Config,
    *,
    sheets: SheetsGateway,
    store: Store,
    mail: MailGateway,
    as_of: date,
    dry_run: bool = False,
    now: datetime | None = None,
) -> IntakeSummary:
    """Read the form once, record new or edited responses, and reconcile review and corrections."""
    with collector_paused():
        return _intake(config, sheets=sheets, store=store, mail=mail, as_of=as_of,
                       dry_run=dry_run, now=now)


def _intake(
    config: Config, *, sheets: SheetsGateway, store: Store, mail: MailGateway, as_of: date,
    dry_run: bool, now: datetime | None,
) -> IntakeSummary:
    tabs = config.tabs
    columns: dict[str, dict[str, int]] = {}

    def check_headers(snapshot: Mapping[str, list[list[str]]]) -> None:
        by_header = header_index(
            tabs["form"], snapshot[tabs["form"]], list(config.questions.values()),
            "Restore the question title in the form, or set [form.questions] in samen.toml.",
        )
        columns["form"] = {fld: by_header[q] for fld, q in config.questions.items()}
        fix = "Restore the header, or remove the tab so samen creates it again."
        columns["review"] = header_index(tabs["review"], snapshot[tabs["review"]], REVIEW_HEADERS, fix)
        columns["corrections"] = header_index(
            tabs["corrections"], snapshot[tabs["corrections"]], CORRECTIONS_HEADERS, fix
        )
        check_messaging_headers(config, snapshot)

    snapshot = sheets.open_tabs(intake_tab_specs(config), check=check_headers)
    form_cols, review_cols, corr_cols = columns["form"], columns["review"], columns["corrections"]
    # Memory: the form tab's cells go once read, the rows once planned (versions keep the
    # answers), the audit once recorded; at 100,000 rows each is 100 MB or more.
    rows, empty = read_form_rows(snapshot[tabs["form"]], form_cols)
    if list(tabs.values()).count(tabs["form"]) == 1:  # no other step reads that tab
        del snapshot[tabs["form"]]
    stored = store.load_versions()
    apps = store.load_applications()
    plan = plan_intake(
        rows, stored, apps, validate=validate_rows(config.questions),
        key_of=key_from_normalised, id_prefix=config.programme.id_prefix,
    )
    del rows
    plan.empty_rows = empty
    if not dry_run:
        store.save_intake(plan.versions, plan.new_apps, plan.changed_apps, plan.audit)
    plan.audit.clear()
    versions = [*stored, *plan.versions]
    current_apps = merge_apps(apps, plan)
    current = current_versions(current_apps, versions)
    with collector_resumed():  # rendering and building messages leaves reference cycles
        messaging = run_messaging(
            config, stage="intake", store=store, mail=mail,
            renderer=Renderer(config.programme.language), snapshot=snapshot,
            planned=[*receipt_mails(current_apps, current), *correction_mails(versions)],
            signals=intake_signals(current_apps, current, config.programme.closing_date, as_of),
            as_of=as_of, now=now or utcnow(), dry_run=dry_run,
        )
    review = reconcile_tab(
        tabs["review"], snapshot[tabs["review"]], review_cols, REVIEW_KEY,
        each_review_row(current_apps, versions, config),
    )
    corrections_desired = correction_rows(versions, messaging.entries, config)
    corrections = reconcile_tab(
        tabs["corrections"], snapshot[tabs["corrections"]], corr_cols, CORRECTIONS_KEY,
        corrections_desired,
    )
    blocks = [*review.blocks, *corrections.blocks, *messaging.blocks]
    report = messaging.report
    summary = IntakeSummary(
        as_of=as_of.isoformat(), dry_run=dry_run, form_rows=plan.form_rows,
        empty_rows=empty, new_versions=len(plan.versions),
        valid_versions=sum(v.valid for v in plan.versions),
        invalid_versions=sum(not v.valid for v in plan.versions),
        new_applications=len(plan.new_apps), updated_applications=len(plan.changed_apps),
        applications=len(current_apps), review_rows_added=review.rows_added,
        review_rows_changed=review.rows_changed,
        corrections_open=sum(r["Status"] == "open" for r in corrections_desired.values()),
        corrections_resolved=sum(r["Status"] == "opgelost" for r in corrections_desired.values()),
        messages_recorded=report.recorded, messages_sent=report.sent,
        messages_failed=report.failed, messages_held=report.held,
        messages_waiting=report.waiting, signals_added=messaging.signals_added,
        manifest=messaging.manifest,
        cells_written=sum(len(b.values[0]) for b in blocks),
    )
    # Memory: what the summary needed is counted; the answers, versions and plan go before the
    # write builds its request (at 100,000 rows they are 300 MB, the request 100 MB).
    del plan, versions, stored, apps, current_apps, current, review, corrections, corrections_desired
    messaging.entries.clear()
    if not dry_run:
        sheets.write_blocks(blocks)
    log.info("intake: %s", summary.as_dict())
    if report.stopped:
        # The spreadsheet and the ledger are up to date; the rest waits for the next run, but
        # the run must not look successful.
        raise MailConnectionError(f"Sending stopped after {report.sent} messages: {report.stopped}")
    return summary


def merge_apps(apps: Sequence[Application], plan: IntakePlan) -> list[Application]:
    """Return the applications after the plan, by sequence number."""
    by_id = {a.id: a for a in apps}
    for a in (*plan.new_apps, *plan.changed_apps):
        by_id[a.id] = a
    return sorted(by_id.values(), key=lambda a: a.seq)


def review_rows(
    apps: Sequence[Application], versions: Sequence[ResponseVersion], config: Config
) -> dict[str, dict[str, str]]:
    """Return the intake-owned cells of every application's review row, by application id."""
    return dict(each_review_row(apps, versions, config))


def each_review_row(
    apps: Sequence[Application], versions: Sequence[ResponseVersion], config: Config
) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (application id, intake-owned cells of its review row), one application at a time.

    Memory: reconciling takes them one by one, so at 100,000 applications the desired rows
    (some 150 MB of text) never exist all at once.
    """
    by_key = {(v.form_row, v.version): v for v in versions}
    history: dict[str, list[ResponseVersion]] = {}
    for v in versions:
        if v.valid and v.application_id:
            history.setdefault(v.application_id, []).append(v)
    current = {a.id: by_key[(a.form_row, a.version)].normalised or {} for a in apps}
    del by_key
    signals = review_signals(apps, current, history, config.programme.closing_date)
    del history
    for a in apps:
        n = current[a.id]
        yield a.id, {
            "Ingediend op": show_datetime(n.get("submitted_at", "")),
            "Initiatief": n.get("initiative", ""),
            "Gemeente": f"{n.get('municipality_name', '')} ({n.get('municipality_code', '')})",
            "Contact initiatief": contact(n, "initiative"),
            "Contact gemeente": contact(n, "municipality"),
            "Samenvatting": summarise(n.get("description", ""), n.get("ambition", "")),
            "Signalen": "\n".join(signals[a.id]),
        }


def contact(norm: Mapping[str, str], side: str) -> str:
    """Return one contact as 'Name, e-mail, phone' (empty parts left out)."""
    parts = [norm.get(f"{side}_contact", ""), norm.get(f"{side}_email", ""),
             norm.get(f"{side}_phone", "")]
    return ", ".join(p for p in parts if p)


def summarise(description: str, ambition: str) -> str:
    """Return a short summary of what the initiative does and wants."""
    text = f"Wat: {' '.join(description.split())}\nDoel: {' '.join(ambition.split())}"
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def show_timestamp(raw: str) -> str:
    """Return a form timestamp without seconds ("28-09-2022 19:08"); other text as it is."""
    if len(raw) == 19 and raw[2] == "-" and raw[5] == "-" and raw[16] == ":":
        return raw[:16]
    return raw


def correction_key(form_row: int) -> str:
    """Return the stable key of a response in Te corrigeren."""
    return f"Formulierrij {form_row}"


def correction_rows(
    versions: Sequence[ResponseVersion], entries: Mapping[str, LedgerEntry], config: Config
) -> dict[str, dict[str, str]]:
    """Return a row for every response that was ever invalid: open, or opgelost once valid."""
    requested = request_dates(entries, config.programme.zone)
    latest: dict[int, ResponseVersion] = {}
    last_invalid: dict[int, ResponseVersion] = {}
    for v in versions:
        latest[v.form_row] = v
        if not v.valid:
            last_invalid[v.form_row] = v
    out: dict[str, dict[str, str]] = {}
    for row in sorted(last_invalid):
        bad = last_invalid[row]
        out[correction_key(row)] = {
            "Ingediend op": show_timestamp(bad.raw.get("submitted_at", "")),
            "E-mailadres": bad.raw.get("email", ""),
            "Initiatief": bad.raw.get("initiative", ""),
            "Problemen": "\n".join(p.get("message", "") for p in bad.problems),
            "Verzoek verstuurd op": requested.get(row, ""),
            "Status": "opgelost" if latest[row].valid else "open",
        }
    return out
