"""Intake end to end on the workbook backend and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from samen.config import Config
from samen.demo.seed import DELFSHAVEN_EDIT, DELFSHAVEN_ROW, EXPECTED, SEED_RESPONSES
from samen.domain.tabs import HeaderError
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.stages.intake import IntakeSummary, run_intake
from samen.testing.forms import make_response
from samen.testing.workbooks import edit_cells, records, tab_rows

DAY = date(2022, 11, 1)
FORM = "Formulierreacties 1"
REVIEW = "Beoordeling"
CORRECTIONS = "Te corrigeren"
MakeConfig = Callable[..., Config]


def intake(config: Config, dry_run: bool = False) -> IntakeSummary:
    """Run intake once with fresh gateways, as a flow run would."""
    store = build_store(config)
    sheets = build_sheets(config)
    try:
        return run_intake(config, sheets=sheets, store=store, mail=build_mail(config), as_of=DAY,
                          dry_run=dry_run)
    finally:
        sheets.close()
        store.close()


def review(config: Config) -> list[dict[str, str]]:
    """Return the review tab's rows as dicts."""
    return records(tab_rows(config.workbook.path, REVIEW))


def corrections(config: Config) -> list[dict[str, str]]:
    """Return the corrections tab's rows as dicts."""
    return records(tab_rows(config.workbook.path, CORRECTIONS))


def test_demo_seed_routes_every_row_once(workbook_config: MakeConfig) -> None:
    """Valid applications land in review once each, invalid ones in corrections with messages."""
    config = workbook_config(SEED_RESPONSES)
    summary = intake(config)
    rows = review(config)
    ids = [r["Aanmelding"] for r in rows]
    assert len(ids) == len(set(ids)) == EXPECTED["applications"]
    assert ids[0] == "SAMEN-2022-001" and ids[-1] == f"SAMEN-2022-{len(ids):03d}"
    bad = corrections(config)
    assert len(bad) == EXPECTED["invalid_rows"] == summary.invalid_versions
    assert all(r["Status"] == "open" and r["Problemen"].startswith("Bij \"") for r in bad)
    assert any("Bedoel je Rotterdam?" in r["Problemen"] for r in bad)
    assert summary.form_rows == 44 and summary.new_applications == len(ids)


def test_second_run_changes_nothing(workbook_config: MakeConfig) -> None:
    """A run without new rows writes no cell and does not rewrite the workbook."""
    config = workbook_config(SEED_RESPONSES)
    intake(config)
    before = config.workbook.path.read_bytes()
    again = intake(config)
    assert again.new_versions == 0 and again.cells_written == 0
    assert config.workbook.path.read_bytes() == before


IDLE_RUN = """
import sys
from datetime import date
from samen.config import load_config
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.stages.intake import run_intake

config = load_config(sys.argv[1])
summary = run_intake(config, sheets=build_sheets(config), store=build_store(config),
                     mail=build_mail(config), as_of=date(2022, 11, 1))
print(summary.new_versions, summary.cells_written,
      [m for m in ("pandas", "pyarrow", "pandera") if m in sys.modules])
"""


def test_a_run_with_nothing_new_does_not_import_the_validation_libraries(
    workbook_config: MakeConfig, tmp_path: Path,
) -> None:
    """pandas, pyarrow and pandera (1 s and 130 MB to import) wait until there is something to validate.

    Each run is a fresh process on a worker, so the run with nothing new goes in its own.
    """
    config = workbook_config(SEED_RESPONSES)
    intake(config)
    done = subprocess.run([sys.executable, "-c", IDLE_RUN, str(tmp_path / "samen.toml")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "0 0 []"


def test_edited_response_is_a_new_version(workbook_config: MakeConfig) -> None:
    """An edit in place (Delfshaven -> Rotterdam) makes a new valid version and resolves the correction."""
    config = workbook_config(SEED_RESPONSES)
    intake(config)
    header = tab_rows(config.workbook.path, FORM)[0]
    row = DELFSHAVEN_ROW + 2
    edit_cells(config.workbook.path, FORM,
               {(row, header.index(h) + 1): v for h, v in DELFSHAVEN_EDIT.items()})
    summary = intake(config)
    assert summary.new_versions == 1 and summary.new_applications == 1
    assert len(review(config)) == EXPECTED["applications_after_edit"]
    fixed = [r for r in corrections(config) if r["Aanmelding"] == f"Formulierrij {row}"]
    assert fixed and fixed[0]["Status"] == "opgelost"
    rotterdam = [r for r in review(config) if r["Initiatief"] == "Welzijnscoöperatie Delfshaven"]
    assert rotterdam[0]["Gemeente"] == "Rotterdam (GM0599)"


def test_human_columns_survive_an_edit(workbook_config: MakeConfig) -> None:
    """An edited response updates the pipeline's cells, keeps id and row, never touches Besluit."""
    config = workbook_config([make_response(1), make_response(2)])
    intake(config)
    header = tab_rows(config.workbook.path, REVIEW)[0]
    besluit, score = header.index("Besluit") + 1, header.index("Score") + 1
    edit_cells(config.workbook.path, REVIEW, {(2, besluit): "kern", (2, score): "4"})
    form_header = tab_rows(config.workbook.path, FORM)[0]
    description = form_header.index("Wat doet jullie initiatief?") + 1
    edit_cells(config.workbook.path, FORM, {(2, description): "Wij koken nu twee keer per week samen."})
    summary = intake(config)
    assert summary.updated_applications == 1 and summary.new_applications == 0
    first = review(config)[0]
    assert first["Aanmelding"] == "SAMEN-2022-001"
    assert first["Besluit"] == "kern" and first["Score"] == "4"
    assert "twee keer per week" in first["Samenvatting"]


def test_later_response_supersedes_and_keeps_id(workbook_config: MakeConfig) -> None:
    """A second response for the same initiative and municipality keeps the id and says so."""
    first = make_response(1, initiative="Repair Café Oost", municipality="Utrecht")
    later = make_response(5, initiative="repair café  oost", municipality="utrecht",
                          description="Een nieuwe, langere beschrijving van ons repair café.")
    config = workbook_config([first, make_response(2), later])
    intake(config)
    rows = review(config)
    assert [r["Aanmelding"] for r in rows] == ["SAMEN-2022-001", "SAMEN-2022-002"]
    assert "vervangt de eerdere inzending op formulierrij 2" in rows[0]["Signalen"]
    assert "langere beschrijving" in rows[0]["Samenvatting"]


def test_signals_same_town_same_mail_and_late(workbook_config: MakeConfig) -> None:
    """Signals: a second submission from one municipality, a shared e-mail, a late response."""
    late = make_response(3, submitted_at="31-10-2022 10:00:00", municipality="Kampen")
    config = workbook_config([
        make_response(1, municipality="Zwolle", email="zelfde@example.org"),
        make_response(2, municipality="Zwolle", email="zelfde@example.org"),
        late,
    ])
    intake(config)
    one, two, three = review(config)
    assert "Meer inzendingen uit Zwolle: ook SAMEN-2022-002." in one["Signalen"]
    assert "Hetzelfde e-mailadres staat ook bij SAMEN-2022-001." in two["Signalen"]
    assert three["Signalen"] == "Ingediend na de sluitingsdatum (30-10-2022)."


def test_header_drift_stops_before_writing(workbook_config: MakeConfig) -> None:
    """A renamed question stops the run, names missing and present headers, and writes nothing."""
    config = workbook_config([make_response(1)])
    header = tab_rows(config.workbook.path, FORM)[0]
    edit_cells(config.workbook.path, FORM, {(1, header.index("Gemeente") + 1): "Gemeente of stad"})
    before = config.workbook.path.read_bytes()
    with pytest.raises(HeaderError) as info:
        intake(config)
    message = str(info.value)
    assert "'Gemeente'" in message and "Gemeente of stad" in message and "[form.questions]" in message
    assert config.workbook.path.read_bytes() == before
    store = build_store(config)
    try:
        assert store.load_versions() == []
    finally:
        store.close()


def test_duplicate_header_stops_the_run(workbook_config: MakeConfig) -> None:
    """A question title that appears twice is a header error, not a row error."""
    config = workbook_config([make_response(1)])
    header = tab_rows(config.workbook.path, FORM)[0]
    edit_cells(config.workbook.path, FORM, {(1, len(header) + 1): "Gemeente"})
    with pytest.raises(HeaderError, match="more than once"):
        intake(config)


def test_formula_answer_stays_text(workbook_config: MakeConfig) -> None:
    """An answer like =HYPERLINK(...) is written back as text, never as a formula."""
    answer = '=HYPERLINK("http://x","y")'
    config = workbook_config([make_response(1, initiative=answer)])
    intake(config)
    book = openpyxl.load_workbook(config.workbook.path)
    cell = book[REVIEW].cell(row=2, column=3)
    assert cell.value == answer and cell.data_type == "s"


def test_empty_rows_are_skipped_and_counted(workbook_config: MakeConfig) -> None:
    """Empty rows between responses are counted, not treated as invalid responses."""
    config = workbook_config([make_response(1), {}, {}, make_response(2)])
    summary = intake(config)
    assert summary.empty_rows == 2 and summary.form_rows == 2
    assert len(review(config)) == 2 and corrections(config) == []


def test_dry_run_changes_nothing(workbook_config: MakeConfig) -> None:
    """A dry run reports what it would do and writes neither the store nor the workbook."""
    config = workbook_config([make_response(1), make_response(2, consent="Nee")])
    before = config.workbook.path.read_bytes()
    summary = intake(config, dry_run=True)
    assert summary.new_applications == 1 and summary.invalid_versions == 1
    assert config.workbook.path.read_bytes() == before
    real = intake(config)
    assert real.new_applications == 1 and real.new_versions == 2


def test_ids_follow_first_valid_version(workbook_config: MakeConfig) -> None:
    """Ids are given in the order of the first valid version, not the form row order."""
    early_but_invalid = make_response(1, consent="Nee")
    config = workbook_config([early_but_invalid, make_response(2)])
    intake(config)
    header = tab_rows(config.workbook.path, FORM)[0]
    edit_cells(config.workbook.path, FORM, {
        (2, header.index("Toestemming") + 1): "Ja",
        (2, header.index("Tijdstempel") + 1): "02-09-2022 10:00:00",
    })
    intake(config)
    rows = review(config)
    assert [r["Aanmelding"] for r in rows] == ["SAMEN-2022-001", "SAMEN-2022-002"]
    assert rows[1]["Initiatief"] == "Buurtinitiatief nummer 1"
