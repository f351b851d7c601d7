"""GoogleSheets through gspread against the local Sheets API double: calls, text, faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import gspread
import pytest
from google.auth.credentials import AnonymousCredentials
from gspread.exceptions import APIError

from samen.gateways.sheets.base import TRUNCATION_MARKER, CellBlock, SheetsError, TabSpec
from samen.gateways.sheets.google import (
    GoogleSheets,
    RetryingHTTPClient,
    credentials_from_service_account_info,
)
from samen.testing.sheets_double import FaultPlan, SheetsDouble

FORM = "Formulierreacties 1"
REVIEW = "Te corrigeren"
SPECS = (TabSpec(FORM, ("Tijdstempel", "Naam")),
         TabSpec(REVIEW, ("Rij", "Veld", "Waarde", "Melding")),
         TabSpec("It's done", ("Besluit",)))

MakeSheets = Callable[..., GoogleSheets]


@pytest.fixture
def make_sheets(sheets_double: SheetsDouble) -> Iterator[MakeSheets]:
    """Build GoogleSheets gateways on the double (no real sleeping); close them afterwards."""
    made: list[GoogleSheets] = []
    sleeps: list[float] = []

    def make(key: str, **options: object) -> GoogleSheets:
        settings: dict[str, object] = {"api_base": sheets_double.base_url, "timeout": 5.0,
                                       "sleep": sleeps.append}
        settings.update(options)
        sheets = GoogleSheets(key, AnonymousCredentials(), **settings)  # type: ignore[arg-type]
        made.append(sheets)
        return sheets

    make.sleeps = sleeps  # type: ignore[attr-defined]
    yield make
    for sheets in made:
        sheets.close()


def form_sheet(double: SheetsDouble) -> str:
    """Create a spreadsheet with only the form's tab, as Google Forms leaves it."""
    return double.create_spreadsheet("Aanmeldingen", {FORM: [
        ["Tijdstempel", "Naam", ""], ["26-11-2026 14:03:11", "An", ""], ["", "", ""]]})


def opened(double: SheetsDouble, make_sheets: MakeSheets) -> tuple[str, GoogleSheets]:
    """Return a form sheet and a gateway that has read it (its tabs made), calls counted anew."""
    key = form_sheet(double)
    sheets = make_sheets(key)
    sheets.open_tabs(SPECS)
    double.reset_calls()
    return key, sheets


def test_open_tabs_reads_existing_tabs_with_one_get_and_one_batch_get(
        sheets_double: SheetsDouble, make_sheets: MakeSheets) -> None:
    key = sheets_double.create_spreadsheet("Aanmeldingen", {
        FORM: [["Tijdstempel", "Naam"], ["26-11-2026 14:03:11", "An", ""], [], []],
        REVIEW: [["Rij", "Veld", "Waarde", "Melding"]], "It's done": [["Besluit"]]})
    tabs = make_sheets(key).open_tabs(SPECS)
    assert tabs == {FORM: [["Tijdstempel", "Naam"], ["26-11-2026 14:03:11", "An"]],
                    REVIEW: [["Rij", "Veld", "Waarde", "Melding"]], "It's done": [["Besluit"]]}
    assert sheets_double.calls == [("GET", "spreadsheets.get"), ("GET", "values.batchGet")]


def test_open_tabs_creates_missing_tabs_with_headers_in_one_batch_update(
        sheets_double: SheetsDouble, make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    specs = (*SPECS, TabSpec("Formules", ("=SUM(1;2)", "+31 6")))
    tabs = make_sheets(key).open_tabs(specs)
    assert sheets_double.calls == [("GET", "spreadsheets.get"),
                                   ("GET", "values.batchGet"),
                                   ("POST", "spreadsheets.batchUpdate")]
    assert sheets_double.tab_titles(key) == [FORM, REVIEW, "It's done", "Formules"]
    assert tabs[REVIEW] == [["Rij", "Veld", "Waarde", "Melding"]]
    assert tabs["It's done"] == [["Besluit"]]
    assert tabs["Formules"] == [["=SUM(1;2)", "+31 6"]]  # headers are text, never formulas
    assert sheets_double.formula_cells(key, "Formules") == {}
    sheets_double.reset_calls()
    assert make_sheets(key).open_tabs(specs) == tabs
    assert sheets_double.count("spreadsheets.batchUpdate") == 0


def test_a_failed_check_creates_no_tab(sheets_double: SheetsDouble,
                                       make_sheets: MakeSheets) -> None:
    """A header check that fails stops open_tabs before any tab is created."""
    key = form_sheet(sheets_double)
    before = sheets_double.tab_titles(key)

    def refuse(snapshot: object) -> None:
        raise SheetsError("header drift")

    with pytest.raises(SheetsError, match="header drift"):
        make_sheets(key).open_tabs((*SPECS, TabSpec("Nieuw", ("A",))), check=refuse)
    assert sheets_double.tab_titles(key) == before
    assert sheets_double.count("spreadsheets.batchUpdate") == 0


def test_write_blocks_is_one_raw_batch_update(sheets_double: SheetsDouble,
                                              make_sheets: MakeSheets) -> None:
    key, sheets = opened(sheets_double, make_sheets)
    link = '=HYPERLINK("http://x","y")'
    sheets.write_blocks([
        CellBlock(REVIEW, 2, 1, (("3", "Telefoon", "0612345678", link),)),
        CellBlock(FORM, 2, 3, (("verwerkt",), ("",))),
        CellBlock("It's done", 2, 1, (("ja",), ("nee",))),
    ])
    assert sheets_double.calls == [("POST", "values.batchUpdate")]
    assert sheets_double.values(key, REVIEW)[1] == ["3", "Telefoon", "0612345678", link]
    assert sheets_double.formula_cells(key, REVIEW) == {}  # RAW: the answer stays text
    assert sheets_double.values(key, FORM)[1] == ["26-11-2026 14:03:11", "An", "verwerkt"]
    assert sheets_double.values(key, "It's done") == [["Besluit"], ["ja"], ["nee"]]


def test_many_row_blocks_land_as_written_in_one_call(sheets_double: SheetsDouble,
                                                     make_sheets: MakeSheets) -> None:
    key, sheets = opened(sheets_double, make_sheets)
    blocks = []
    for row in range(2, 42):  # a human column (C) between the pipeline's columns
        blocks += [CellBlock(REVIEW, row, 1, ((str(row), f"veld {row}"),)),
                   CellBlock(REVIEW, row, 4, ((f"melding {row}",),))]
    sheets.write_blocks(blocks)
    assert sheets_double.calls == [("POST", "values.batchUpdate")]
    assert sheets_double.values(key, REVIEW)[1:] == [
        [str(row), f"veld {row}", "", f"melding {row}"] for row in range(2, 42)]


def test_write_blocks_without_blocks_makes_no_call(sheets_double: SheetsDouble,
                                                   make_sheets: MakeSheets) -> None:
    make_sheets(form_sheet(sheets_double)).write_blocks([])
    assert sheets_double.calls == []


def test_value_over_the_cell_limit_is_clipped_with_the_marker(
        sheets_double: SheetsDouble, make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    make_sheets(key).write_blocks([CellBlock(FORM, 2, 4, (("x" * 60_000,),))])
    stored = sheets_double.values(key, FORM)[1][3]
    assert len(stored) == 50_000
    assert stored.endswith(TRUNCATION_MARKER)


def run_three_runs(double: SheetsDouble, sheets: GoogleSheets, key: str) -> None:
    """Play three scheduled runs: read, append new review rows after the last, mark the form."""
    for run in range(3):
        tabs = sheets.open_tabs(SPECS)
        next_row = len(tabs[REVIEW]) + 1
        sheets.write_blocks([
            CellBlock(REVIEW, next_row, 1, ((str(run), "Naam", f"run {run}", "leeg"),
                                            (str(run), "Mail", "", "ontbreekt"))),
            CellBlock(FORM, 2, 3, ((f"gezien in run {run}",),)),
        ])
        double.set_values(key, FORM, [[f"{run}-11-2026 09:00:00", f"Persoon {run}"]],
                          row=3 + run)


def test_flaky_google_gives_the_same_state_as_a_calm_one(make_sheets: MakeSheets) -> None:
    results = []
    for plan in (None, FaultPlan(rate=0.3, statuses=(429, 500, 502, 503), seed=1)):
        with SheetsDouble() as double:
            key = form_sheet(double)
            double.faults = plan
            sheets = make_sheets(key, api_base=double.base_url, max_attempts=12)
            run_three_runs(double, sheets, key)
            sheets.close()
            double.faults = None
            results.append(({t: double.values(key, t) for t in double.tab_titles(key)},
                            double.count()))
    (calm, calm_calls), (flaky, flaky_calls) = results
    assert flaky == calm
    assert flaky_calls > calm_calls  # faults did happen and were retried
    review = calm[REVIEW]
    assert len(review) == 7 and len({tuple(row) for row in review}) == 7  # no duplicate rows


def test_retries_give_up_after_max_attempts_naming_the_call(
        sheets_double: SheetsDouble, make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    sheets_double.fail_next("values.batchGet", 429, times=3)
    with pytest.raises(SheetsError) as caught:
        make_sheets(key, max_attempts=3, backoff_seconds=1.0).open_tabs(SPECS[:1])
    assert str(caught.value) == (
        f"Google Sheets answered 429 RESOURCE_EXHAUSTED to values:batchGet 3 times for "
        f"spreadsheet '{key}'; wait a minute and run again, or raise [sheets.google] "
        "max_attempts in samen.toml.")
    assert sheets_double.count("values.batchGet") == 3
    waits = make_sheets.sleeps  # type: ignore[attr-defined]
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.5 and 1.0 <= waits[1] <= 3.0


def test_html_502_answer_is_retried(sheets_double: SheetsDouble,
                                    make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    sheets_double.fail_next("values.batchUpdate", 502)
    make_sheets(key).write_blocks([CellBlock(FORM, 2, 3, (("ok",),))])
    assert sheets_double.count("values.batchUpdate") == 2
    assert sheets_double.values(key, FORM)[1][2] == "ok"


def test_errors_that_a_retry_cannot_fix_are_not_retried(sheets_double: SheetsDouble,
                                                        make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    with pytest.raises(SheetsError, match=r"400 INVALID_ARGUMENT .* parse range: 'Nergens'"):
        make_sheets(key).write_blocks([CellBlock("Nergens", 1, 1, (("x",),))])
    assert sheets_double.count("values.batchUpdate") == 1


def test_append_is_never_retried(sheets_double: SheetsDouble) -> None:
    key = form_sheet(sheets_double)
    client = gspread.Client(auth=AnonymousCredentials(), http_client=RetryingHTTPClient)
    http = client.http_client
    assert isinstance(http, RetryingHTTPClient)
    http.api_base, http.sleep = sheets_double.base_url, lambda seconds: None
    sheets_double.fail_next("values.append", 500)
    try:
        with pytest.raises(APIError):
            http.values_append(key, FORM, params={"valueInputOption": "RAW"},
                               body={"values": [["dubbel?"]]})
    finally:
        http.session.close()
    assert sheets_double.count("values.append") == 1
    assert len(sheets_double.values(key, FORM)) == 2


def test_slow_answer_beyond_the_timeout_is_retried(sheets_double: SheetsDouble,
                                                   make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    sheets_double.slow_next("values.batchGet", 2.0)
    tabs = make_sheets(key, timeout=0.2).open_tabs(SPECS[:1])
    assert tabs[FORM][1] == ["26-11-2026 14:03:11", "An"]
    assert sheets_double.count("values.batchGet") == 2


def test_slow_answers_on_every_attempt_raise(sheets_double: SheetsDouble,
                                             make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    sheets_double.slow_next("spreadsheets.get", 2.0, times=2)
    with pytest.raises(SheetsError, match=(
            r"gave no answer to spreadsheets.get within 0.2 s 2 times for spreadsheet '.*'; "
            r"check the network")):
        make_sheets(key, timeout=0.2, max_attempts=2).open_tabs(SPECS)


def test_tab_creation_that_landed_but_timed_out_is_not_repeated(
        sheets_double: SheetsDouble, make_sheets: MakeSheets) -> None:
    key = form_sheet(sheets_double)
    # The first spreadsheets:batchUpdate is applied but answers too late; the retry then
    # hears "already exists", so the gateway reads the tab list again and carries on.
    sheets_double.slow_next("spreadsheets.batchUpdate", 2.0)
    tabs = make_sheets(key, timeout=0.3).open_tabs(SPECS)
    assert tabs[REVIEW] == [["Rij", "Veld", "Waarde", "Melding"]]
    assert sheets_double.tab_titles(key) == [FORM, REVIEW, "It's done"]
    assert sheets_double.count("spreadsheets.batchUpdate") == 2
    assert sheets_double.count("spreadsheets.get") == 2


def test_unknown_spreadsheet_names_the_setting(sheets_double: SheetsDouble,
                                               make_sheets: MakeSheets) -> None:
    with pytest.raises(SheetsError, match=(
            r"answered 404 NOT_FOUND to spreadsheets.get: no spreadsheet 'nope'; "
            r"check sheets.google.spreadsheet_key in samen.toml")):
        make_sheets("nope").open_tabs(SPECS)
    assert sheets_double.count("spreadsheets.get") == 1


def test_unshared_spreadsheet_says_to_share_it(sheets_double: SheetsDouble,
                                               make_sheets: MakeSheets) -> None:
    key = sheets_double.create_spreadsheet("Geheim", shared=False)
    with pytest.raises(SheetsError, match=(
            r"answered 403 PERMISSION_DENIED to spreadsheets.get for spreadsheet '.*'; share "
            r"the spreadsheet with the service account's e-mail as editor")):
        make_sheets(key).open_tabs(SPECS)
    assert sheets_double.count("spreadsheets.get") == 1


def test_tab_title_differing_in_case_is_refused(sheets_double: SheetsDouble,
                                                make_sheets: MakeSheets) -> None:
    key = sheets_double.create_spreadsheet("t", {"te corrigeren": []})
    with pytest.raises(SheetsError, match="rename the tab to 'Te corrigeren'"):
        make_sheets(key).open_tabs([TabSpec(REVIEW, ("Rij",))])


def service_account_info() -> dict[str, str]:
    """Return a made-up service account key (a fresh RSA key, no Google account behind it)."""
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "client_email": "samen@example.iam.gserviceaccount.com",
            "private_key": pem, "private_key_id": "1", "token_uri": "https://oauth2.example/t"}


def test_unshared_spreadsheet_names_the_service_account(sheets_double: SheetsDouble) -> None:
    key = sheets_double.create_spreadsheet("Geheim", shared=False)
    credentials = credentials_from_service_account_info(service_account_info())
    # A token that is still valid: google-auth sends it without asking a token server.
    credentials.token = "test-token"
    credentials.expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    sheets = GoogleSheets(key, credentials, api_base=sheets_double.base_url)
    try:
        with pytest.raises(SheetsError, match=(
                r"share the spreadsheet with 'samen@example\.iam\.gserviceaccount\.com' as")):
            sheets.open_tabs(SPECS)
    finally:
        sheets.close()


def test_credentials_from_service_account_info() -> None:
    info = service_account_info()
    pem = info["private_key"]
    credentials = credentials_from_service_account_info(info)
    assert credentials.service_account_email == info["client_email"]
    assert credentials.scopes == ["https://www.googleapis.com/auth/spreadsheets"]
    with pytest.raises(SheetsError, match="lacks client_email, token_uri") as caught:
        credentials_from_service_account_info({"private_key": pem})
    assert pem not in str(caught.value)
    with pytest.raises(SheetsError, match="not valid") as caught:
        credentials_from_service_account_info(info | {"private_key": "secret-not-a-key"})
    assert "secret-not-a-key" not in str(caught.value)
