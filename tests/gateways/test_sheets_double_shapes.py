"""The Sheets API double answers like Google: replay recorded gspread cassettes against it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from samen.testing.a1 import Bounds, RangeError, format_range, parse_cells, split_range
from samen.testing.sheets_double import FaultPlan, SheetsDouble

CASSETTES = Path(__file__).resolve().parents[1] / "fixtures" / "cassettes"
GOOGLE = "https://sheets.googleapis.com"
# Parts of Google's answers the double does not model (theme and default cell format).
UNMODELLED_KEYS = {"defaultFormat", "spreadsheetTheme", "details"}


def sheets_interactions(name: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield the (request, response) pairs of a cassette that went to the Sheets API."""
    cassette = json.loads((CASSETTES / f"{name}.json").read_text(encoding="utf-8"))
    for interaction in cassette["interactions"]:
        if interaction["request"]["uri"].startswith(GOOGLE):
            yield interaction["request"], interaction["response"]


def set_up_recorded_spreadsheets(double: SheetsDouble, name: str) -> None:
    """Create each spreadsheet of a cassette as its first recorded metadata shows it."""
    for request, response in sheets_interactions(name):
        path = request["uri"][len(GOOGLE):].split("?")[0]
        key = path.removeprefix("/v4/spreadsheets/")
        if request["method"] != "GET" or "/" in key or key in double.spreadsheet_ids():
            continue
        status = response["status"]["code"]
        if status == 200:
            meta = json.loads(response["body"]["string"])
            props = meta["properties"]
            sheets = meta["sheets"]
            tabs: dict[str, list[list[str]]] = {s["properties"]["title"]: [] for s in sheets}
            assert all(s["properties"]["gridProperties"] == {"rowCount": 1000, "columnCount": 26}
                       for s in meta["sheets"])
            double.create_spreadsheet(props["title"], tabs, spreadsheet_id=key,
                                      locale=props["locale"], time_zone=props["timeZone"])
        elif status == 403:
            double.create_spreadsheet("private", spreadsheet_id=key, shared=False)


def request_body(request: dict[str, Any], response_body: Any) -> bytes | None:
    """Return the recorded body; give addSheet the sheetId Google chose, so later ids match."""
    if not request["body"]:
        return None
    body = json.loads(request["body"])
    replies = response_body.get("replies", []) if isinstance(response_body, dict) else []
    for sent, reply in zip(body.get("requests", []), replies, strict=False):
        if "addSheet" in sent and "addSheet" in reply:
            sent["addSheet"]["properties"]["sheetId"] = reply["addSheet"]["properties"]["sheetId"]
    return json.dumps(body).encode()


def assert_same_shape(recorded: Any, answered: Any, where: str = "$") -> None:
    """Compare two JSON answers: same keys, types, lengths and values (ranges included)."""
    assert type(answered) is type(recorded), f"{where}: {answered!r} != {recorded!r}"
    if isinstance(recorded, dict):
        assert set(answered) - UNMODELLED_KEYS == set(recorded) - UNMODELLED_KEYS, where
        for key in set(recorded) - UNMODELLED_KEYS:
            assert_same_shape(recorded[key], answered[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        assert len(answered) == len(recorded), f"{where}: {answered!r} != {recorded!r}"
        for i, (r, a) in enumerate(zip(recorded, answered, strict=True)):
            assert_same_shape(r, a, f"{where}[{i}]")
    else:
        assert answered == recorded, f"{where}: {answered!r} != {recorded!r}"


def replay(double: SheetsDouble, name: str) -> int:
    """Send a cassette's Sheets requests to the double, compare answers; return the count."""
    host, port = double.base_url.removeprefix("http://").split(":")
    sent = 0
    for request, response in sheets_interactions(name):
        text = response["body"]["string"]
        recorded = json.loads(text) if text.strip() else None
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            conn.request(request["method"], request["uri"][len(GOOGLE):],
                         body=request_body(request, recorded),
                         headers={"Content-Type": "application/json"})
            answer = conn.getresponse()
            status, raw = answer.status, answer.read()
        finally:
            conn.close()
        where = f"{name} #{sent} {request['method']} {request['uri']}"
        assert status == response["status"]["code"], f"{where}: {raw!r}"
        assert_same_shape(recorded, json.loads(raw), where)
        sent += 1
    return sent


@pytest.mark.parametrize("name", [
    "ClientTest.test_access_non_existing_spreadsheet",  # 404 NOT_FOUND body
    "ClientTest.test_access_private_spreadsheet",  # 403 PERMISSION_DENIED body
    "SpreadsheetTest.test_add_del_worksheet",  # spreadsheets.get, addSheet, deleteSheet
    "SpreadsheetTest.test_values_batch_get",  # values.update, values:batchGet of A:A columns
    "WorksheetTest.test_batch_update",  # values:batchUpdate totals and responses
    "WorksheetTest.test_batch_get",  # values:batchGet with an empty cell inside a row
    "WorksheetTest.test_batch_clear",  # values:batchClear
    "WorksheetTest.test_append_row",  # values.clear, values:append, values.get of A1:1
    "WorksheetTest.test_append_row_with_empty_value_and_table_range",  # tableRange
    "WorksheetTest.test_get_all_values_title_is_a1_notation",  # 'D3' quoting, [] rows
    "WorksheetTest.test_clear",  # whole-sheet range A1:Z1000 without values
    "WorksheetTest.test_range_unbounded",  # open range A1:C -> A1:C1000
])
def test_double_answers_like_recorded_google(sheets_double: SheetsDouble, name: str) -> None:
    set_up_recorded_spreadsheets(sheets_double, name)
    assert replay(sheets_double, name) > 0


def test_user_entered_formula_is_computed_and_flagged_but_raw_stays_text(
        sheets_double: SheetsDouble) -> None:
    key = sheets_double.create_spreadsheet("t", {"Blad": []})
    link = '=HYPERLINK("http://x","y")'
    status, _ = call(sheets_double, "PUT", f"/v4/spreadsheets/{key}/values/Blad!A1"
                     "?valueInputOption=USER_ENTERED", {"values": [[link, "0612345678"]]})
    assert status == 200
    call(sheets_double, "PUT", f"/v4/spreadsheets/{key}/values/Blad!A2?valueInputOption=RAW",
         {"values": [[link, "0612345678"]]})
    assert sheets_double.values(key, "Blad") == [["y", "612345678"], [link, "0612345678"]]
    assert sheets_double.formula_cells(key, "Blad") == {"A1": link}


def test_cell_over_50000_characters_is_refused_and_changes_nothing(
        sheets_double: SheetsDouble) -> None:
    key = sheets_double.create_spreadsheet("t", {"Blad": [["keep"]]})
    status, body = call(sheets_double, "POST", f"/v4/spreadsheets/{key}/values:batchUpdate", {
        "valueInputOption": "RAW",
        "data": [{"range": "Blad!A2", "values": [["ok"]]},
                 {"range": "Blad!A3", "values": [["x" * 50_001]]}]})
    assert status == 400
    assert body["error"] == {"code": 400, "status": "INVALID_ARGUMENT", "message": (
        "Your input contains more than the maximum of 50000 characters in a single cell.")}
    assert sheets_double.values(key, "Blad") == [["keep"]]


def test_unknown_tab_and_unknown_spreadsheet_errors(sheets_double: SheetsDouble) -> None:
    key = sheets_double.create_spreadsheet("t", {"Blad": []})
    status, body = call(sheets_double, "GET", f"/v4/spreadsheets/{key}/values/%27Nope%27%21A1")
    assert (status, body["error"]["message"]) == (400, "Unable to parse range: 'Nope'!A1")
    status, body = call(sheets_double, "GET", "/v4/spreadsheets/missing")
    assert (status, body["error"]["status"]) == (404, "NOT_FOUND")


def test_writing_beyond_the_grid_grows_it(sheets_double: SheetsDouble) -> None:
    key = sheets_double.create_spreadsheet("t", {"Blad": []})
    call(sheets_double, "PUT", f"/v4/spreadsheets/{key}/values/Blad!AB1001"
         "?valueInputOption=RAW", {"values": [["far"]]})
    _, meta = call(sheets_double, "GET", f"/v4/spreadsheets/{key}")
    assert meta["sheets"][0]["properties"]["gridProperties"] == {
        "rowCount": 1001, "columnCount": 28}
    _, body = call(sheets_double, "GET", f"/v4/spreadsheets/{key}/values/Blad")
    assert body["range"] == "Blad!A1:AB1001"


def test_add_sheet_honours_sheet_id_and_refuses_duplicate_titles(
        sheets_double: SheetsDouble) -> None:
    key = sheets_double.create_spreadsheet("t", {"Blad": []})
    add = {"requests": [{"addSheet": {"properties": {"sheetId": 77, "title": "It's"}}},
                        {"updateCells": {"start": {"sheetId": 77, "rowIndex": 0, "columnIndex": 1},
                                         "rows": [{"values": [{"userEnteredValue": {
                                             "stringValue": "=1+1"}}]}],
                                         "fields": "userEnteredValue"}}]}
    status, body = call(sheets_double, "POST", f"/v4/spreadsheets/{key}:batchUpdate", add)
    assert status == 200
    assert body["replies"][0]["addSheet"]["properties"]["sheetId"] == 77
    assert sheets_double.values(key, "It's") == [["", "=1+1"]]
    _, read = call(sheets_double, "GET", f"/v4/spreadsheets/{key}/values/%27It%27%27s%27%21B1")
    assert read == {"range": "'It''s'!B1", "majorDimension": "ROWS", "values": [["=1+1"]]}
    status, body = call(sheets_double, "POST", f"/v4/spreadsheets/{key}:batchUpdate", add)
    assert status == 400
    assert body["error"]["message"] == ('Invalid requests[0].addSheet: A sheet with the name '
                                        '"It\'s" already exists. Please enter another name.')
    assert sheets_double.tab_titles(key) == ["Blad", "It's"]


def test_faulted_calls_change_nothing_and_are_counted(sheets_double: SheetsDouble) -> None:
    key = sheets_double.create_spreadsheet("t", {"Blad": []})
    sheets_double.faults = FaultPlan(rate=1.0, statuses=(429, 502), seed=3)
    statuses = set()
    for _ in range(6):
        status, _ = call(sheets_double, "PUT", f"/v4/spreadsheets/{key}/values/Blad!A1"
                         "?valueInputOption=RAW", {"values": [["x"]]}, json_answer=False)
        statuses.add(status)
    assert statuses == {429, 502}
    sheets_double.faults = None
    assert sheets_double.values(key, "Blad") == []
    assert sheets_double.count("values.update") == 6
    sheets_double.reset_calls()
    assert sheets_double.count() == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("'Te corrigeren'!A2:F9", ("Te corrigeren", "A2:F9")),
    ("'It''s'!A1", ("It's", "A1")),
    ("'It''s'", ("It's", None)),
    ("Sheet1!A2:F", ("Sheet1", "A2:F")),
    ("Sheet1", (None, "Sheet1")),
])
def test_split_range(text: str, expected: tuple[str | None, str | None]) -> None:
    assert split_range(text) == expected


@pytest.mark.parametrize(("text", "bounds"), [
    ("A1", Bounds(1, 1, 1, 1)), ("B2:C9", Bounds(2, 2, 9, 3)), ("A2:F", Bounds(2, 1, None, 6)),
    ("A:A", Bounds(1, 1, None, 1)), ("2:3", Bounds(2, 1, 3, None)), ("A1:1", Bounds(1, 1, 1, None)),
    ("c3:a1", Bounds(1, 1, 3, 3)),
])
def test_parse_cells(text: str, bounds: Bounds) -> None:
    assert parse_cells(text) == bounds


@pytest.mark.parametrize("text", ["", "A", "A0", "A1:B2:C3", "1A", "A1!"])
def test_parse_cells_refuses_nonsense(text: str) -> None:
    with pytest.raises(RangeError):
        parse_cells(text)


def test_format_range_quotes_like_google() -> None:
    assert format_range("Sheet1", Bounds(1, 1, 1000, 26)) == "Sheet1!A1:Z1000"
    assert format_range("D3", Bounds(1, 1, 4, 4)) == "'D3'!A1:D4"
    assert format_range("Te corrigeren", Bounds(2, 2, 2, 2)) == "'Te corrigeren'!B2"


def call(double: SheetsDouble, method: str, path: str, body: Any = None,
         json_answer: bool = True) -> tuple[int, Any]:
    """Send one raw HTTP request to the double and return (status, parsed answer)."""
    host, port = double.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        raw = answer.read()
        return answer.status, json.loads(raw) if json_answer else raw
    finally:
        conn.close()
