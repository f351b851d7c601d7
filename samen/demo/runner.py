"""`samen demo`: seed a demo programme once, then run the flows on it (idempotently)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from samen.demo.programme import Step
from samen.demo.seed import (
    CORE_TANDEMS,
    DELFSHAVEN_EDIT,
    DELFSHAVEN_ROW,
    FORM_HEADERS,
    SEED_RESPONSES,
)

WORKBOOK = "programma-samen.xlsx"
CONFIG = "samen.toml"
DEMO_CONFIG = """\
# Demo configuration written by `samen demo`. Relative paths are taken from this file's folder.
# Everything not set here comes from the embedded defaults (see the README).

[sheets]
backend = "workbook"

[sheets.workbook]
path = "programma-samen.xlsx"

[mail]
backend = "outbox"

[mail.outbox]
path = "outbox"

[store]
url = "sqlite:///samen.db"
"""

Echo = Callable[[str], None]

if TYPE_CHECKING:
    from samen.config import Config


@dataclass
class Desk:
    """What a person sees and types during one human step: tabs (by key, e.g. "review") and edits."""

    config: Config
    rows: dict[str, list[list[str]]]
    edits: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)

    def edit(self, tab: str, cells: Mapping[tuple[int, int], str]) -> None:
        """Type cells (row, column; 1-based) into a tab (by key)."""
        if cells:
            self.edits.setdefault(tab, {}).update(cells)

    @property
    def changed(self) -> bool:
        """Tell whether anything was typed."""
        return any(self.edits.values())


def seed_demo(folder: Path) -> bool:
    """Create the demo folder's configuration and workbook unless they exist; return True if seeded."""
    from samen.gateways.sheets.workbook import create_workbook

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / CONFIG
    if not config.exists():
        config.write_text(DEMO_CONFIG, encoding="utf-8")
    book = folder / WORKBOOK
    if book.exists():
        return False
    rows = [list(FORM_HEADERS)] + [[r[h] for h in FORM_HEADERS] for r in SEED_RESPONSES]
    create_workbook(book, {"Formulierreacties 1": rows})
    return True


@contextmanager
def people_at_work(folder: Path, tabs: Sequence[tuple[str, tuple[str, ...]]]) -> Iterator[Desk]:
    """Open the demo workbook as a coordinator would (under its lock); save their edits at once.

    `tabs` are (key in [tabs], header row to create the tab with; empty: it must exist). Every
    human step is one read of the workbook and at most one save.
    """
    from samen.config import load_config
    from samen.gateways.sheets.base import CellBlock, TabSpec
    from samen.gateways.sheets.workbook import WorkbookSheets

    config = load_config(folder / CONFIG)
    sheets = WorkbookSheets(config.workbook.path, lock_timeout=config.workbook.lock_timeout_seconds)
    try:
        got = sheets.open_tabs([TabSpec(config.tabs[key], headers, create=bool(headers))
                                for key, headers in tabs])
        desk = Desk(config, {key: got[config.tabs[key]] for key, _headers in tabs})
        yield desk
        sheets.write_blocks([CellBlock(config.tabs[key], row, col, ((value,),))
                             for key, edits in desk.edits.items()
                             for (row, col), value in sorted(edits.items())])
    finally:
        sheets.close()


def apply_delfshaven_edit(folder: Path) -> bool:
    """Edit the Delfshaven response in place, as Google Forms does; return True if it changed."""
    with people_at_work(folder, [("form", ())]) as desk:
        rows = desk.rows["form"]
        header = rows[0]
        row_number = DELFSHAVEN_ROW + 2
        row = rows[row_number - 1]
        desk.edit("form", {(row_number, header.index(h) + 1): value
                           for h, value in DELFSHAVEN_EDIT.items() if row[header.index(h)] != value})
    return desk.changed


def fill_decisions(folder: Path) -> bool:
    """Decide every undecided review row as a coordinator would: the seven kern, others kenniskring."""
    with people_at_work(folder, [("review", ())]) as desk:
        rows = desk.rows["review"]
        header = rows[0]
        col = {h: header.index(h) + 1 for h in ("Aanmelding", "Initiatief", "Gemeente", "Besluit",
                                                 "Beoordeeld door", "Score")}
        core = {(name, code) for name, code in CORE_TANDEMS}
        edits: dict[tuple[int, int], str] = {}
        for number, row in enumerate(rows[1:], start=2):
            cells = {h: (row[c - 1] if len(row) >= c else "") for h, c in col.items()}
            if not cells["Aanmelding"] or cells["Besluit"]:
                continue
            code = cells["Gemeente"].rsplit("(", 1)[-1].rstrip(")")
            kern = (cells["Initiatief"], code) in core
            edits[(number, col["Besluit"])] = "kern" if kern else "kenniskring"
            edits[(number, col["Beoordeeld door"])] = desk.config.programme.coordinators[0]
            edits[(number, col["Score"])] = "5" if kern else "3"
        desk.edit("review", edits)
    return desk.changed


def add_approvals(folder: Path) -> bool:
    """Let the coordinators enter the current code in Vaststelling (once)."""
    with people_at_work(folder, [("approval", ())]) as desk:
        rows = desk.rows["approval"]
        code = next((r[5] for r in rows if len(r) > 5 and r[4] == "Huidige code"), "")
        if code and not any(len(r) > 2 and r[2] == code for r in rows[1:]):
            start = max(len([r for r in rows if r[:3] != ["", "", ""] and any(r[:3])]), 1) + 1
            p = desk.config.programme
            edits: dict[tuple[int, int], str] = {}
            for i, who in enumerate(p.coordinators[: p.approvals_needed]):
                edits.update({(start + i, 1): who, (start + i, 2): "28-11-2022", (start + i, 3): code})
            desk.edit("approval", edits)
    return desk.changed


def seed_meetings(folder: Path) -> bool:
    """Enter the eight meetings in Bijeenkomsten (once), as the coordinators would."""
    from samen.demo.programme import meeting_rows
    from samen.domain.layouts import MEETINGS_HEADERS

    with people_at_work(folder, [("meetings", MEETINGS_HEADERS)]) as desk:
        if len(desk.rows["meetings"]) <= 1:
            desk.edit("meetings", {(r, c): v for r, row in enumerate(meeting_rows(), start=1)
                                   for c, v in enumerate(row, start=1) if v})
    return desk.changed


def act(folder: Path, step: Step) -> bool:
    """Do what people do on a demo day (move a meeting, send apologies, mark attendance)."""
    from samen.demo.programme import MOVED_TO, excuses, pick

    tabs: list[tuple[str, tuple[str, ...]]] = [("meetings", ())]
    if step.action != "move":
        tabs.append(("attendance", ()))
    with people_at_work(folder, tabs) as desk:
        meetings = desk.rows["meetings"]
        head = meetings[0]
        number = next(i for i, r in enumerate(meetings[1:], start=2) if r and r[0] == step.nr)
        row = meetings[number - 1] + [""] * len(head)
        if step.action == "move":
            col = head.index("Datum") + 1
            if row[col - 1] != MOVED_TO:
                desk.edit("meetings", {(number, col): MOVED_TO})
            return desk.changed
        done = head.index("Aanwezigheid compleet") + 1
        if row[done - 1] == "ja":
            return False
        rows = desk.rows["attendance"]
        at = {h: rows[0].index(h) + 1 for h in ("Bijeenkomst", "E-mail", "Organisatie", "Status")}
        edits: dict[tuple[int, int], str] = {}
        for n, r in enumerate(rows[1:], start=2):
            cells = {h: (r[c - 1] if len(r) >= c else "") for h, c in at.items()}
            if cells["Bijeenkomst"] != step.nr or cells["Status"]:
                continue
            if step.action == "excuse" and excuses(step.nr, cells["E-mail"]):
                edits[(n, at["Status"])] = "afgemeld"
            elif step.action == "attend":
                edits[(n, at["Status"])] = pick(step.nr, cells["E-mail"], cells["Organisatie"], False)
        desk.edit("attendance", edits)
        if step.action == "attend":
            desk.edit("meetings", {
                (number, done): "ja",
                (number, head.index("Materiaal") + 1): f"https://example.org/samen/bijeenkomst-{step.nr}"})
    return desk.changed


def run_demo(folder: Path, echo: Echo) -> None:
    """Seed the demo once and replay the programme; each human step is applied once."""
    from samen.demo.session import prefect_session

    with prefect_session():
        replay_programme(folder, echo)


def replay_programme(folder: Path, echo: Echo) -> None:
    """Seed the demo once and run the programme's days as flow runs (see run_demo)."""
    from samen.config import load_config
    from samen.demo.programme import calendar
    from samen.flows.attendance import attendance
    from samen.flows.intake import intake
    from samen.flows.invitations import invitations
    from samen.flows.report import report
    from samen.flows.selection import selection

    folder = folder.resolve()
    seeded = seed_demo(folder)
    config = str(folder / CONFIG)
    echo(f"Demo in {folder} ({'nieuw aangemaakt' if seeded else 'bestaat al; niets opnieuw gezaaid'})")
    echo(f"intake: {brief(intake(config_path=config, as_of='2022-10-31'))}")
    if apply_delfshaven_edit(folder):
        echo("Reactie van Welzijnscoöperatie Delfshaven bewerkt: Gemeente = Rotterdam")
    echo(f"intake: {brief(intake(config_path=config, as_of='2022-11-01'))}")
    if fill_decisions(folder):
        echo("Besluiten ingevuld: 7 kern, de andere geldige aanmeldingen kenniskring")
    echo(f"selectie: {brief(selection(config_path=config, as_of='2022-11-25'))}")
    if add_approvals(folder):
        echo("Twee coördinatoren hebben de huidige code ingevuld bij Vaststelling")
    echo(f"selectie: {brief(selection(config_path=config, as_of='2022-11-28'))}")
    if seed_meetings(folder):
        echo("De acht bijeenkomsten staan in Bijeenkomsten")
    p = load_config(config).programme
    steps = calendar(p.invite_days_before, p.reminder_days_before)
    for step in steps:
        acted = act(folder, step) if step.action in ("move", "excuse", "attend") else False
        day = step.day.isoformat()
        if step.action in ("invite", "move"):
            echo(f"{day} uitnodigingen: {brief(invitations(config_path=config, as_of=day))}")
        elif step.action == "attend":
            echo(f"{day} aanwezigheid{' (ingevuld)' if acted else ''}: "
                 f"{brief(attendance(config_path=config, as_of=day))}")
    echo(f"Werkmap: {folder / WORKBOOK}")
    # The last day of the calendar, not today: a second demo leaves the report untouched.
    written = report(config_path=config, as_of=steps[-1].day.isoformat())
    echo(f"Rapportage: {written['path']}")


def brief(summary: dict[str, object]) -> str:
    """Return the interesting counts of a flow's summary on one line."""
    keys = ("new_applications", "invalid_versions", "approved", "announced", "changed",
            "invitations", "reminders", "changes", "meetings_processed", "messages_sent",
            "signals_added")
    return ", ".join(f"{k}={summary[k]}" for k in keys if summary.get(k))
