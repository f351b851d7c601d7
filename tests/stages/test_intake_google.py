"""Intake through gspread against the local Sheets API double: same result, constant call count."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials

from samen.config import Config, load_config
from samen.demo.seed import SEED_RESPONSES
from samen.domain.tabs import HeaderError
from samen.gateways.factory import build_mail, build_store
from samen.gateways.sheets.base import SheetsError
from samen.gateways.sheets.google import GoogleSheets
from samen.stages.intake import IntakeSummary, run_intake
from samen.testing.forms import form_table, make_response
from samen.testing.sheets_double import FaultPlan, SheetsDouble

DAY = date(2022, 11, 1)
FORM = "Formulierreacties 1"
WRITES = ("spreadsheets.batchUpdate", "values.batchUpdate", "values.append", "values.update")


@pytest.fixture
def google_setup(
    tmp_path: Path, store_url: str, sheets_double: SheetsDouble
) -> Callable[[Iterable[Mapping[str, str]]], tuple[Config, str]]:
    """Return a factory: a spreadsheet on the double holding responses, and a Config for it."""

    def make(responses: Iterable[Mapping[str, str]]) -> tuple[Config, str]:
        key = sheets_double.create_spreadsheet("Programma SAMEN", {FORM: form_table(responses)})
        (tmp_path / "samen.toml").write_text(
            f'[sheets]\nbackend = "google"\n\n[sheets.google]\nspreadsheet_key = "{key}"\n'
            f'api_base = "{sheets_double.base_url}"\n\n[store]\nurl = "{store_url}"\n',
            encoding="utf-8",
        )
        return load_config(tmp_path / "samen.toml"), key

    return make


def google_intake(config: Config, double: SheetsDouble, attempts: int = 8) -> IntakeSummary:
    """Run intake once through gspread against the double (no real waiting between retries)."""
    sheets = GoogleSheets(
        config.google.spreadsheet_key, AnonymousCredentials(), api_base=double.base_url,
        timeout=5, max_attempts=attempts, sleep=lambda _s: None,
    )
    store = build_store(config)
    try:
        return run_intake(config, sheets=sheets, store=store, mail=build_mail(config), as_of=DAY)
    finally:
        sheets.close()
        store.close()


def test_google_backend_routes_the_demo(google_setup, sheets_double: SheetsDouble) -> None:  # type: ignore[no-untyped-def]
    """The seed programme through the double: review and corrections filled, no formulas."""
    config, key = google_setup(SEED_RESPONSES)
    summary = google_intake(config, sheets_double)
    review = sheets_double.values(key, "Beoordeling")
    assert len(review) - 1 == summary.applications
    assert len({r[0] for r in review[1:]}) == summary.applications
    assert len(sheets_double.values(key, "Te corrigeren")) - 1 == summary.invalid_versions
    assert sheets_double.formula_cells(key, "Beoordeling") == {}


def test_formula_answer_stays_text_in_google(google_setup, sheets_double: SheetsDouble) -> None:  # type: ignore[no-untyped-def]
    """=HYPERLINK(...) from a form answer is written RAW: text in the sheet, not a formula."""
    answer = '=HYPERLINK("http://x","y")'
    config, key = google_setup([make_response(1, initiative=answer)])
    google_intake(config, sheets_double)
    assert sheets_double.values(key, "Beoordeling")[1][2] == answer
    assert sheets_double.formula_cells(key, "Beoordeling") == {}


@pytest.mark.parametrize("size", [20, 2000])
def test_call_count_does_not_grow_with_rows(google_setup, sheets_double: SheetsDouble, size: int) -> None:  # type: ignore[no-untyped-def]
    """A first run costs get + create tabs + batchGet + batchUpdate; an idle run only two reads."""
    rows = [make_response(n) for n in range(size)]
    rows[3] = make_response(3, consent="Nee")
    config, _key = google_setup(rows)
    sheets_double.reset_calls()
    first = google_intake(config, sheets_double)
    assert first.new_versions == size
    assert sorted(kind for _m, kind in sheets_double.calls) == sorted([
        "spreadsheets.get", "spreadsheets.batchUpdate", "values.batchGet", "values.batchUpdate",
    ])
    sheets_double.reset_calls()
    idle = google_intake(config, sheets_double)
    assert idle.new_versions == 0 and idle.cells_written == 0
    assert sorted(kind for _m, kind in sheets_double.calls) == ["spreadsheets.get", "values.batchGet"]


def test_faults_give_the_same_result(google_setup, sheets_double: SheetsDouble, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """With 30% of calls answering 429 or 500, the sheet ends as in a run without faults."""
    rows = [make_response(n) for n in range(60)] + [make_response(99, consent="Nee")]
    config, key = google_setup(rows)
    clean_key = sheets_double.create_spreadsheet("schoon", {FORM: form_table(rows)})
    sheets_double.faults = FaultPlan(rate=0.3, statuses=(429, 500), seed=7)
    failures = 0
    for _ in range(10):  # a run that gives up is simply run again (the schedule would)
        try:
            google_intake(config, sheets_double, attempts=3)
            google_intake(config, sheets_double, attempts=3)
            break
        except SheetsError:
            failures += 1
    sheets_double.faults = None
    google_intake(config, sheets_double)
    faulted_calls = [c for c in sheets_double.calls if c[1] in WRITES]
    assert faulted_calls, "the scenario must have written something"
    clean_store = tmp_path / "clean.db"
    clean = load_config_for(tmp_path, clean_key, sheets_double.base_url, f"sqlite:///{clean_store}")
    google_intake(clean, sheets_double)
    for tab in ("Beoordeling", "Te corrigeren"):
        got = sheets_double.values(key, tab)
        # "Verzoek verstuurd op" is the moment of sending, which differs between the two runs.
        assert without_send_time(got) == without_send_time(sheets_double.values(clean_key, tab))
        assert len({r[0] for r in got[1:]}) == len(got) - 1
    assert failures < 10


def load_config_for(folder: Path, key: str, base: str, store: str) -> Config:
    """Write and load a second configuration for a reference spreadsheet."""
    path = folder / "clean.toml"
    path.write_text(
        f'[sheets]\nbackend = "google"\n\n[sheets.google]\nspreadsheet_key = "{key}"\n'
        f'api_base = "{base}"\n\n[store]\nurl = "{store}"\n', encoding="utf-8",
    )
    return load_config(path)


def test_header_drift_writes_nothing_to_google(google_setup, sheets_double: SheetsDouble) -> None:  # type: ignore[no-untyped-def]
    """A missing question stops intake before any tab is created or any cell written."""
    rows = form_table([make_response(1)])
    rows[0][rows[0].index("Postcode")] = "Postcode (optioneel)"
    config, key = google_setup([])
    sheets_double.set_values(key, FORM, rows)
    sheets_double.reset_calls()
    with pytest.raises(HeaderError, match="Postcode"):
        google_intake(config, sheets_double)
    assert sheets_double.tab_titles(key) == [FORM]
    assert not [c for c in sheets_double.calls if c[1] in WRITES]


def without_send_time(rows: list[list[str]]) -> list[list[str]]:
    """Return rows without the column of the sending moment (if the tab has one)."""
    if not rows or "Verzoek verstuurd op" not in rows[0]:
        return rows
    col = rows[0].index("Verzoek verstuurd op")
    return [r[:col] + r[col + 1:] for r in rows]
