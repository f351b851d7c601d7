"""A programme on a local workbook, as a list of steps: people's work, then one stage run.

Used by the crash tests: the same steps run once cleanly and once with the stage processes
killed at many points, and the outcomes are compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl

from samen.config import Config, load_config
from samen.gateways.sheets.workbook import create_workbook, read_sheet
from samen.testing.forms import form_table, make_response
from samen.testing.google_programme import VOLATILE
from samen.testing.programme import add_responses, approve_current_code, meeting, write_meetings
from samen.testing.workbooks import edit_cells, tab_rows

FORM = "Formulierreacties 1"
BATCHES, BATCH_SIZE = 4, 5
INVALID = 13  # response 13 lacks consent: a correction request, no application
MEETINGS = (("1", date(2023, 3, 27)), ("2", date(2023, 6, 23)))


@dataclass(frozen=True)
class Step:
    """People's work (if any), then one run of a stage on a day."""

    label: str
    stage: str
    as_of: date
    prepare: Callable[[Config], None] | None = None


def write_workbook_config(folder: Path, smtp_port: int, lock_timeout: float = 10.0) -> Path:
    """Write samen.toml (workbook, SQLite store, SMTP relay) and an empty form tab; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "samen.toml"
    path.write_text(
        f'[sheets.workbook]\npath = "book.xlsx"\nlock_timeout_seconds = {lock_timeout}\n\n'
        f'[mail]\nbackend = "smtp"\n\n[mail.outbox]\npath = "outbox"\n\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        f'timeout_seconds = 10\n\n[store]\nurl = "sqlite:///samen.db"\n', encoding="utf-8")
    create_workbook(folder / "book.xlsx", {FORM: form_table([])})
    return path


def response(n: int) -> dict[str, str]:
    """Return form response n (13 lacks consent)."""
    return make_response(n, consent="Nee") if n == INVALID else make_response(n)


def add_batch(b: int) -> Callable[[Config], None]:
    """Return the people's work of form batch b: BATCH_SIZE new responses."""
    return lambda config: add_responses(
        config, [response(n) for n in range(b * BATCH_SIZE + 1, (b + 1) * BATCH_SIZE + 1)])


def decision(app_number: int) -> str:
    """Return the decision on application n: 7 kern, then kenniskring, the last 7 afgewezen."""
    valid = BATCHES * BATCH_SIZE - 1
    return "kern" if app_number <= 7 else "afgewezen" if app_number > valid - 7 else "kenniskring"


def decide_all(config: Config) -> None:
    """Fill Besluit and Beoordeeld door of every review row, in one edit."""
    tab = config.tabs["review"]
    rows = tab_rows(config.workbook.path, tab)
    header = rows[0]
    col = {h: header.index(h) + 1 for h in ("Aanmelding", "Besluit", "Beoordeeld door")}
    edits: dict[tuple[int, int], str] = {}
    for number, row in enumerate(rows[1:], start=2):
        app = row[col["Aanmelding"] - 1]
        edits[(number, col["Besluit"])] = decision(int(app.rsplit("-", 1)[1]))
        edits[(number, col["Beoordeeld door"])] = config.programme.coordinators[0]
    edit_cells(config.workbook.path, tab, edits)


def enter_meetings(config: Config) -> None:
    """Enter the meetings in Bijeenkomsten."""
    write_meetings(config, [meeting(nr, day) for nr, day in MEETINGS])


def mark(email: str) -> str:
    """Return a fixed attendance mark per address."""
    roll = int(hashlib.sha256(email.encode()).hexdigest()[:4], 16) % 10
    return "afgemeld" if roll == 0 else "afwezig" if roll < 3 else "aanwezig"


def complete_meeting(nr: str) -> Callable[[Config], None]:
    """Return the people's work of marking meeting nr's attendance complete."""

    def complete(config: Config) -> None:
        tab = config.tabs["attendance"]
        rows = tab_rows(config.workbook.path, tab)
        header = rows[0]
        at = {h: header.index(h) + 1 for h in ("Bijeenkomst", "E-mail", "Status")}
        edits = {(number, at["Status"]): mark(row[at["E-mail"] - 1])
                 for number, row in enumerate(rows[1:], start=2) if row[0] == nr}
        edit_cells(config.workbook.path, tab, edits)
        meetings = tab_rows(config.workbook.path, config.tabs["meetings"])
        head = meetings[0]
        number = next(i for i, r in enumerate(meetings[1:], start=2) if r[0] == nr)
        edit_cells(config.workbook.path, config.tabs["meetings"], {
            (number, head.index("Aanwezigheid compleet") + 1): "ja",
            (number, head.index("Materiaal") + 1): f"https://example.org/samen/{nr}"})

    return complete


def programme_steps() -> list[Step]:
    """Return the programme: four intake rounds, selection twice, invitations, attendance."""
    steps = [Step(f"intake-{b + 1}", "intake", date(2022, 10, 10 + b), add_batch(b))
             for b in range(BATCHES)]
    steps += [
        Step("selection-1", "selection", date(2022, 11, 25), decide_all),
        Step("selection-2", "selection", date(2022, 11, 28), approve_current_code),
        Step("invitations-1", "invitations", date(2023, 2, 27), enter_meetings),
        Step("reminders-1", "invitations", date(2023, 3, 20)),
        Step("attendance-1", "attendance", date(2023, 3, 28), complete_meeting("1")),
        Step("invitations-2", "invitations", date(2023, 5, 26)),
    ]
    return steps


def load(folder: Path) -> Config:
    """Load the programme's configuration in folder."""
    return load_config(folder / "samen.toml")


def workbook_contents(path: Path, volatile: Mapping[str, tuple[str, ...]] = VOLATILE,
                      ) -> dict[str, list[list[str]]]:
    """Return every tab's rows as text, the volatile columns blanked (for comparing runs)."""
    book = openpyxl.load_workbook(path)
    out: dict[str, list[list[str]]] = {}
    for title in book.sheetnames:
        rows = read_sheet(book[title])
        for header in volatile.get(title, ()):
            if rows and header in rows[0]:
                col = rows[0].index(header)
                for r in rows[1:]:
                    if len(r) > col and r[col]:
                        r[col] = "*"
        out[title] = rows
    return out
