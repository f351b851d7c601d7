"""`samen demo`: seed a demo programme once, then run the flows on it (idempotently)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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


def apply_delfshaven_edit(folder: Path) -> bool:
    """Edit the Delfshaven response in place, as Google Forms does; return True if it changed."""
    from samen.config import load_config
    from samen.gateways.sheets.base import CellBlock, TabSpec
    from samen.gateways.sheets.workbook import WorkbookSheets

    config = load_config(folder / CONFIG)
    tab = config.tabs["form"]
    sheets = WorkbookSheets(config.workbook.path)
    try:
        rows = sheets.open_tabs([TabSpec(tab, FORM_HEADERS, create=False)])[tab]
        header = rows[0]
        row_number = DELFSHAVEN_ROW + 2
        row = rows[row_number - 1]
        blocks = [
            CellBlock(tab, row_number, header.index(h) + 1, ((value,),))
            for h, value in DELFSHAVEN_EDIT.items()
            if row[header.index(h)] != value
        ]
        sheets.write_blocks(blocks)
        return bool(blocks)
    finally:
        sheets.close()


def fill_decisions(folder: Path) -> bool:
    """Decide every undecided review row as a coordinator would: the seven kern, others kenniskring."""
    from samen.config import load_config
    from samen.testing.workbooks import edit_cells, tab_rows

    config = load_config(folder / CONFIG)
    tab, path = config.tabs["review"], config.workbook.path
    rows = tab_rows(path, tab)
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
        edits[(number, col["Beoordeeld door"])] = config.programme.coordinators[0]
        edits[(number, col["Score"])] = "5" if kern else "3"
    if edits:
        edit_cells(path, tab, edits)
    return bool(edits)


def add_approvals(folder: Path) -> bool:
    """Let the coordinators enter the current code in Vaststelling (once)."""
    from samen.config import load_config
    from samen.testing.workbooks import edit_cells, tab_rows

    config = load_config(folder / CONFIG)
    tab, path = config.tabs["approval"], config.workbook.path
    rows = tab_rows(path, tab)
    code = next((r[5] for r in rows if len(r) > 5 and r[4] == "Huidige code"), "")
    if not code or any(len(r) > 2 and r[2] == code for r in rows[1:]):
        return False
    start = max(len([r for r in rows if r[:3] != ["", "", ""] and any(r[:3])]), 1) + 1
    edits: dict[tuple[int, int], str] = {}
    for i, who in enumerate(config.programme.coordinators[: config.programme.approvals_needed]):
        edits.update({(start + i, 1): who, (start + i, 2): "28-11-2022", (start + i, 3): code})
    edit_cells(path, tab, edits)
    return True


def seed_meetings(folder: Path) -> bool:
    """Enter the eight meetings in Bijeenkomsten (once), as the coordinators would."""
    from samen.config import load_config
    from samen.demo.programme import meeting_rows
    from samen.testing.workbooks import edit_cells, tab_rows

    config = load_config(folder / CONFIG)
    tab, path = config.tabs["meetings"], config.workbook.path
    if len(tab_rows(path, tab)) > 1:
        return False
    rows = meeting_rows()
    edit_cells(path, tab, {(r, c): v for r, row in enumerate(rows, start=1)
                           for c, v in enumerate(row, start=1) if v})
    return True


def act(folder: Path, step: Step) -> bool:
    """Do what people do on a demo day (move a meeting, send apologies, mark attendance)."""
    from samen.config import load_config
    from samen.demo.programme import MOVED_TO, excuses, pick
    from samen.testing.workbooks import edit_cells, tab_rows

    config = load_config(folder / CONFIG)
    path = config.workbook.path
    meetings_tab, sign_in = config.tabs["meetings"], config.tabs["attendance"]
    meetings = tab_rows(path, meetings_tab)
    head = meetings[0]
    number = next(i for i, r in enumerate(meetings[1:], start=2) if r and r[0] == step.nr)
    row = meetings[number - 1] + [""] * len(head)
    if step.action == "move":
        col = head.index("Datum") + 1
        if row[col - 1] == MOVED_TO:
            return False
        edit_cells(path, meetings_tab, {(number, col): MOVED_TO})
        return True
    done = head.index("Aanwezigheid compleet") + 1
    if row[done - 1] == "ja":
        return False
    rows = tab_rows(path, sign_in)
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
    if edits:
        edit_cells(path, sign_in, edits)
    if step.action == "attend":
        edit_cells(path, meetings_tab, {
            (number, done): "ja",
            (number, head.index("Materiaal") + 1): f"https://example.org/samen/bijeenkomst-{step.nr}"})
    return bool(edits) or step.action == "attend"


def run_demo(folder: Path, echo: Echo) -> None:
    """Seed the demo once and replay the programme; each human step is applied once."""
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
