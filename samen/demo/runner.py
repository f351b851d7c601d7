"""`samen demo`: seed a demo programme once, then run the flows on it (idempotently)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from samen.demo.seed import DELFSHAVEN_EDIT, DELFSHAVEN_ROW, FORM_HEADERS, SEED_RESPONSES

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


def run_demo(folder: Path, echo: Echo) -> None:
    """Seed the demo once and run intake; the Delfshaven edit is applied (once) between runs."""
    from samen.flows.intake import intake

    folder = folder.resolve()
    seeded = seed_demo(folder)
    config = str(folder / CONFIG)
    echo(f"Demo in {folder} ({'nieuw aangemaakt' if seeded else 'bestaat al; niets opnieuw gezaaid'})")
    first = intake(config_path=config)
    echo(f"intake: {first}")
    if apply_delfshaven_edit(folder):
        echo("Reactie van Welzijnscoöperatie Delfshaven bewerkt: Gemeente = Rotterdam")
        second = intake(config_path=config)
        echo(f"intake na bewerking: {second}")
    echo(f"Werkmap: {folder / WORKBOOK}")
