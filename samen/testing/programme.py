"""Test helpers for the meeting stages: a register of participants, meetings, stage runs, the outbox.

`enrol` does what intake, the coordinators and selection do, so that a test starts with approved
tandems (application n has contacts bewoner{n}@ and ambtenaar{n}@example.org, see
`samen.testing.forms.make_response`).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any

import icalendar

from samen.config import Config
from samen.domain.layouts import MEETINGS_HEADERS
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.gateways.mail import MailGateway
from samen.gateways.sheets.base import SheetsGateway
from samen.gateways.store import Store
from samen.stages.intake import run_intake
from samen.stages.selection import run_selection
from samen.testing.forms import form_table
from samen.testing.workbooks import edit_cells, records, tab_rows

ENROLLED_ON = date(2022, 11, 28)
Stage = Callable[..., Any]


def app_id(n: int, config: Config) -> str:
    """Return the application id of the n-th response (in submission order)."""
    return f"{config.programme.id_prefix}-{n:03d}"


def run(config: Config, stage: Stage, as_of: date, dry_run: bool = False) -> Any:
    """Run a stage (run_intake, run_invitations, ...) once with fresh gateways; return its summary."""
    store: Store = build_store(config)
    sheets: SheetsGateway = build_sheets(config)
    mail: MailGateway = build_mail(config)
    try:
        return stage(config, sheets=sheets, store=store, mail=mail, as_of=as_of, dry_run=dry_run)
    finally:
        sheets.close()
        store.close()


def add_responses(config: Config, responses: Iterable[Mapping[str, str]]) -> None:
    """Append form responses below the last row of the form tab, as Google Forms does."""
    tab = config.tabs["form"]
    rows = tab_rows(config.workbook.path, tab)
    new = form_table(responses)[1:]
    edit_cells(config.workbook.path, tab, {
        (len(rows) + i, c): v for i, row in enumerate(new, start=1)
        for c, v in enumerate(row, start=1) if v})


def set_cells(config: Config, tab_key: str, match: Mapping[str, str], cells: Mapping[str, str]) -> int:
    """Type cells (header -> text) into every row of a tab whose cells equal match; return how many."""
    tab = config.tabs[tab_key]
    rows = tab_rows(config.workbook.path, tab)
    header = rows[0]
    edits: dict[tuple[int, int], str] = {}
    for number, row in enumerate(records(rows), start=2):
        if all(row.get(h) == v for h, v in match.items()):
            edits.update({(number, header.index(h) + 1): v for h, v in cells.items()})
    if edits:
        edit_cells(config.workbook.path, tab, edits)
    return len({r for r, _c in edits})


def approve_current_code(config: Config) -> None:
    """Let the needed number of coordinators enter the current code in Vaststelling."""
    tab = config.tabs["approval"]
    rows = tab_rows(config.workbook.path, tab)
    code = next(r[5] for r in rows if len(r) > 5 and r[4] == "Huidige code")
    last = max([i for i, r in enumerate(rows, start=1) if r and r[0]] or [1])
    p = config.programme
    edits: dict[tuple[int, int], str] = {}
    for offset, who in enumerate(p.coordinators[: p.approvals_needed], start=1):
        edits.update({(last + offset, 1): who, (last + offset, 2): "28-11-2022",
                      (last + offset, 3): code})
    edit_cells(config.workbook.path, tab, edits)


def enrol(config: Config, decisions: Mapping[int, str], as_of: date = ENROLLED_ON) -> None:
    """Run intake, decide response n as decisions[n] (kern | kenniskring | afgewezen), approve."""
    run(config, run_intake, as_of)
    for n, decision in decisions.items():
        changed = set_cells(config, "review", {"Aanmelding": app_id(n, config)},
                            {"Besluit": decision, "Beoordeeld door": config.programme.coordinators[0]})
        assert changed == 1, f"no Beoordeling row for response {n}"
    run(config, run_selection, as_of)
    approve_current_code(config)
    assert run(config, run_selection, as_of).approved, "the decisions were not approved"


def meeting(nr: str, day: date, **cells: str) -> dict[str, str]:
    """Return a Bijeenkomsten row (header -> text): 13:00-17:00, a venue, for everyone, planned."""
    row = {"Nr": nr, "Datum": day.strftime("%d-%m-%Y"), "Begin": "13:00", "Einde": "17:00",
           "Titel": f"Bijeenkomst {nr}", "Locatie": "Stadskantoor", "Adres": "Stadsplateau 1, Utrecht",
           "Doelgroep": "iedereen", "Status": "gepland", "Materiaal": "",
           "Aanwezigheid compleet": "nee"}
    row.update({h.replace("_", " "): v for h, v in cells.items()})
    return row


def write_meetings(config: Config, meetings: Iterable[Mapping[str, str]]) -> None:
    """Write the Bijeenkomsten tab (header and rows), replacing what the listed rows held."""
    rows = [list(MEETINGS_HEADERS)] + [[m.get(h, "") for h in MEETINGS_HEADERS] for m in meetings]
    old = tab_rows(config.workbook.path, config.tabs["meetings"])
    width = len(MEETINGS_HEADERS)
    edits = {(r, c): (rows[r - 1][c - 1] if r <= len(rows) else "")
             for r in range(1, max(len(rows), len(old)) + 1) for c in range(1, width + 1)}
    edit_cells(config.workbook.path, config.tabs["meetings"], edits)


@dataclass(frozen=True)
class Event:
    """What a message's calendar file says: METHOD, and its VEVENT's UID, SEQUENCE, STATUS, start."""

    method: str
    uid: str
    sequence: int
    status: str
    start: datetime


@dataclass(frozen=True)
class Sent:
    """One message in the outbox: its ledger kind and subject, the recipient, the parsed mail."""

    kind: str
    subject: str
    to: str
    message: EmailMessage

    def calendar(self) -> icalendar.Calendar | None:
        """Return the message's calendar file (the .ics attachment), or None."""
        for part in self.message.iter_attachments():
            if part.get_filename() == "uitnodiging.ics":
                return icalendar.Calendar.from_ical(part.get_content())
        return None

    def event(self) -> Event | None:
        """Return the facts of the calendar file's one VEVENT, or None without a calendar file."""
        cal = self.calendar()
        if cal is None:
            return None
        [vevent] = cal.walk("VEVENT")
        return Event(str(cal["METHOD"]), str(vevent["UID"]), int(str(vevent["SEQUENCE"])),
                     str(vevent["STATUS"]), vevent.decoded("DTSTART"))

    def text(self) -> str:
        """Return the plain-text body."""
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())


def outbox(config: Config) -> list[Sent]:
    """Return every message in the outbox, parsed strictly, with its ledger kind and subject."""
    store = build_store(config)
    try:
        by_id = {e.message_id: e for e in store.ledger.entries().values()}
    finally:
        store.close()
    folder = config.mail.outbox_path
    out: list[Sent] = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        entry = by_id[str(msg["Message-ID"])]
        out.append(Sent(entry.kind, entry.subject, msg["To"].addresses[0].addr_spec, msg))
    return out


def sent(config: Config, *kinds: str) -> list[tuple[str, str, str]]:
    """Return sorted (kind, subject, To) of the outbox messages of these kinds (all when none)."""
    return sorted((s.kind, s.subject, s.to) for s in outbox(config) if not kinds or s.kind in kinds)


def tab(config: Config, tab_key: str) -> list[dict[str, str]]:
    """Return a tab's rows (by its configuration key, such as "attendance") as dicts."""
    rows = tab_rows(config.workbook.path, config.tabs[tab_key])
    return records(rows) if rows else []
