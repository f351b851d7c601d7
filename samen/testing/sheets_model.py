"""The state behind the Sheets API double: spreadsheets, tabs, cells and the API's operations.

Each operation answers with the JSON Google sends (checked against recorded cassettes) or raises
`ApiError` with Google's code, message and status. The HTTP layer lives in `sheets_double`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from samen.gateways.sheets.base import MAX_CELL_CHARS_GOOGLE
from samen.testing.a1 import Bounds, RangeError, format_range, parse_cells, split_range

STATUS_NAMES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_TEXT = r'"((?:[^"]|"")*)"'
_HYPERLINK = re.compile(rf"=HYPERLINK\(\s*{_TEXT}\s*(?:[,;]\s*{_TEXT}\s*)?\)", re.I)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
Json = dict[str, Any]


class ApiError(Exception):
    """An error answer: HTTP code, Google's message and its status name."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    def body(self) -> Json:
        """Return Google's error body."""
        status = STATUS_NAMES.get(self.code, "UNKNOWN")
        return {"error": {"code": self.code, "message": self.message, "status": status}}


class Cell(NamedTuple):
    """A cell: the text Google shows, and the formula when the text is computed."""

    text: str
    formula: str | None = None


@dataclass
class Tab:
    """One sheet of a spreadsheet: a grid size and its non-empty cells by (row, col)."""

    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)

    def clone(self) -> Tab:
        """Return a copy that can be changed without touching this tab."""
        return Tab(self.sheet_id, self.title, self.rows, self.cols, dict(self.cells))

    def put(self, row: int, col: int, cell: Cell | None) -> None:
        """Set or clear a cell, growing the grid to hold it."""
        self.rows, self.cols = max(self.rows, row), max(self.cols, col)
        if cell is None or (cell.text == "" and cell.formula is None):
            self.cells.pop((row, col), None)
        else:
            self.cells[(row, col)] = cell

    def within(self, b: Bounds) -> Iterator[tuple[tuple[int, int], Cell]]:
        """Yield the non-empty cells inside closed bounds."""
        assert b.row2 is not None and b.col2 is not None
        for (r, c), cell in self.cells.items():
            if b.row1 <= r <= b.row2 and b.col1 <= c <= b.col2:
                yield (r, c), cell


@dataclass
class Spreadsheet:
    """A spreadsheet: its id, title, locale and tabs in index order."""

    spreadsheet_id: str
    title: str
    tabs: list[Tab]
    locale: str = "nl_NL"
    time_zone: str = "Europe/Amsterdam"
    shared: bool = True

    def tab(self, title: str) -> Tab | None:
        """Return the tab with this title, if any."""
        return next((t for t in self.tabs if t.title == title), None)

    def metadata(self) -> Json:
        """Return the spreadsheets.get answer (without grid data)."""
        sheets = [{"properties": {
            "sheetId": t.sheet_id, "title": t.title, "index": i, "sheetType": "GRID",
            "gridProperties": {"rowCount": t.rows, "columnCount": t.cols}}}
            for i, t in enumerate(self.tabs)]
        url = f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
        props = {"title": self.title, "locale": self.locale, "autoRecalc": "ON_CHANGE",
                 "timeZone": self.time_zone}
        return {"spreadsheetId": self.spreadsheet_id, "properties": props, "sheets": sheets,
                "spreadsheetUrl": url}

    def resolve(self, text: str) -> tuple[Tab, Bounds]:
        """Find the tab and bounds of an A1 range; a bare title means the whole tab."""
        try:
            title, cells = split_range(text)
            if title is None and cells is not None:
                tab = self.tab(cells)
                if tab is not None:
                    return tab, Bounds(1, 1, None, None)
                return self.tabs[0], parse_cells(cells)
            tab = self.tab(title or "")
            if tab is None:
                raise RangeError(text)
            return tab, parse_cells(cells) if cells else Bounds(1, 1, None, None)
        except RangeError:
            raise ApiError(400, f"Unable to parse range: {text}") from None

    # -- values API --------------------------------------------------------------------------

    def read(self, text: str, params: dict[str, str]) -> Json:
        """Answer values.get for one range."""
        tab, bounds = self.resolve(text)
        b = bounds.close(tab.rows, tab.cols)
        assert b.row2 is not None and b.col2 is not None
        if b.row2 > tab.rows or b.col2 > tab.cols:
            raise ApiError(400, f"Range ({text}) exceeds grid limits. Max rows: {tab.rows}, "
                                f"max columns: {tab.cols}")
        columns = params.get("majorDimension", "ROWS") == "COLUMNS"
        formulas = params.get("valueRenderOption") == "FORMULA"
        grid: dict[int, dict[int, str]] = {}
        for (r, c), cell in tab.within(b):
            major, minor = (c - b.col1, r - b.row1) if columns else (r - b.row1, c - b.col1)
            grid.setdefault(major, {})[minor] = cell.formula if formulas and cell.formula \
                else cell.text
        # Google drops trailing empty cells of a row and trailing empty rows.
        values = [[line.get(i, "") for i in range(max(line) + 1)] if line else []
                  for line in (grid.get(m, {}) for m in range(max(grid, default=-1) + 1))]
        answer: Json = {"range": format_range(tab.title, b),
                        "majorDimension": "COLUMNS" if columns else "ROWS"}
        if values:
            answer["values"] = values
        return answer

    def write(self, text: str, values: list[list[Any]], option: str | None,
              anchor: tuple[int, int] | None = None) -> Json:
        """Write a rectangle of values (values.update); anchor overrides the start cell."""
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        tab, bounds = self.resolve(text)
        row1, col1 = anchor or (bounds.row1, bounds.col1)
        height, width = len(values), max((len(v) for v in values), default=0)
        single = bounds.row2 == bounds.row1 and bounds.col2 == bounds.col1
        if anchor is None and not single and bounds.row2 and row1 + height - 1 > bounds.row2:
            raise ApiError(400, f"Requested writing within range [{text}], but tried writing "
                                f"to row [{row1 + height - 1}]")
        if anchor is None and not single and bounds.col2 and col1 + width - 1 > bounds.col2:
            raise ApiError(400, f"Requested writing within range [{text}], but tried writing "
                                f"to column [{col1 + width - 1}]")
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is not None:  # null leaves a cell as it is
                    tab.put(row1 + i, col1 + j, to_cell(value, option))
        answer: Json = {"spreadsheetId": self.spreadsheet_id}
        if height and width:
            answer["updatedRange"] = format_range(
                tab.title, Bounds(row1, col1, row1 + height - 1, col1 + width - 1))
        answer.update(counts(height, width, sum(len(v) for v in values)))
        return answer

    def append(self, text: str, values: list[list[Any]], option: str | None) -> Json:
        """Append rows after the table found in the range (values.append)."""
        tab, bounds = self.resolve(text)
        b = bounds.close(tab.rows, tab.cols)
        taken = [rc for rc, _ in tab.within(b)]
        answer: Json = {"spreadsheetId": self.spreadsheet_id}
        start = (b.row1, b.col1)
        if taken:
            table = Bounds(min(r for r, _ in taken), min(c for _, c in taken),
                           max(r for r, _ in taken), max(c for _, c in taken))
            answer["tableRange"] = format_range(tab.title, table)
            start = (table.row2 or 0) + 1, table.col1
        answer["updates"] = self.write(text, values, option, anchor=start)
        return answer

    def clear(self, text: str) -> str:
        """Clear a range and return it as Google reports it (values.clear)."""
        tab, bounds = self.resolve(text)
        b = bounds.close(tab.rows, tab.cols)
        for rc, _ in list(tab.within(b)):
            del tab.cells[rc]
        return format_range(tab.title, b)

    # -- spreadsheets.batchUpdate ------------------------------------------------------------

    def apply(self, i: int, request: Json) -> Json:
        """Apply one request of spreadsheets.batchUpdate and return its reply."""
        (name, payload), = request.items()
        if name == "addSheet":
            return {"addSheet": {"properties": self._add_sheet(i, payload.get("properties", {}))}}
        if name in ("deleteSheet", "updateSheetProperties", "updateCells"):
            sheet_id = (payload.get("properties") or payload.get("start") or payload.get("range")
                        or payload).get("sheetId", 0)
            tab = next((t for t in self.tabs if t.sheet_id == sheet_id), None)
            if tab is None:
                raise ApiError(400, f"Invalid requests[{i}].{name}: No grid with id: {sheet_id}")
            getattr(self, "_" + name)(i, tab, payload)
            return {}
        raise ApiError(400, f"Invalid requests[{i}]: the Sheets double does not support {name}")

    def _add_sheet(self, i: int, props: Json) -> Json:
        title = props.get("title") or f"Sheet{len(self.tabs) + 1}"
        if any(t.title.casefold() == title.casefold() for t in self.tabs):
            raise ApiError(400, f'Invalid requests[{i}].addSheet: A sheet with the name "{title}" '
                                "already exists. Please enter another name.")
        ids = {t.sheet_id for t in self.tabs}
        sheet_id = props.get("sheetId")
        if sheet_id in ids:
            raise ApiError(400, f"Invalid requests[{i}].addSheet: Sheet with id {sheet_id} "
                                "already exists.")
        while sheet_id is None or sheet_id in ids:
            sheet_id = random.randrange(1, 2**31 - 1)
        grid = props.get("gridProperties", {})
        tab = Tab(sheet_id, title, grid.get("rowCount", 1000), grid.get("columnCount", 26))
        index = min(props.get("index", len(self.tabs)), len(self.tabs))
        self.tabs.insert(index, tab)
        return {"sheetId": sheet_id, "title": title, "index": index, "sheetType": "GRID",
                "gridProperties": {"rowCount": tab.rows, "columnCount": tab.cols}}

    def _deleteSheet(self, i: int, tab: Tab, payload: Json) -> None:  # noqa: N802
        if len(self.tabs) == 1:
            raise ApiError(400, f"Invalid requests[{i}].deleteSheet: You can't remove all the "
                                "sheets in a document.")
        self.tabs.remove(tab)

    def _updateSheetProperties(self, i: int, tab: Tab, payload: Json) -> None:  # noqa: N802
        props, fields = payload["properties"], payload.get("fields", "")
        grid = props.get("gridProperties", {})
        wanted = {name: fields == "*" or name in fields for name in ("title", "Count")}
        if wanted["title"] and "title" in props:
            if any(t.title == props["title"] and t is not tab for t in self.tabs):
                raise ApiError(400, f'Invalid requests[{i}].updateSheetProperties: A sheet with '
                                    f'the name "{props["title"]}" already exists. Please enter '
                                    "another name.")
            tab.title = props["title"]
        if wanted["Count"]:
            tab.rows = grid.get("rowCount", tab.rows)
            tab.cols = grid.get("columnCount", tab.cols)
        inside = Bounds(1, 1, tab.rows, tab.cols)
        tab.cells = dict(tab.within(inside))

    def _updateCells(self, i: int, tab: Tab, payload: Json) -> None:  # noqa: N802
        if not ("userEnteredValue" in payload.get("fields", "") or payload.get("fields") == "*"):
            return  # notes, formats: not modelled
        start = payload.get("start") or {}
        area = payload.get("range") or {}
        row0 = start.get("rowIndex", area.get("startRowIndex", 0))
        col0 = start.get("columnIndex", area.get("startColumnIndex", 0))
        for r, row in enumerate(payload.get("rows", [])):
            for c, value in enumerate(row.get("values", [])):
                if row0 + r >= tab.rows or col0 + c >= tab.cols:
                    raise ApiError(400, f"Invalid requests[{i}].updateCells: Range "
                                        f"({tab.title}!R{row0 + r + 1}C{col0 + c + 1}) exceeds "
                                        f"grid limits. Max rows: {tab.rows}, max columns: "
                                        f"{tab.cols}")
                entered = value.get("userEnteredValue", {})
                (kind, raw), = entered.items() if entered else (("stringValue", ""),)
                option = "USER_ENTERED" if kind == "formulaValue" else "RAW"
                tab.put(row0 + r + 1, col0 + c + 1, to_cell(raw, option))


def to_cell(value: Any, option: str) -> Cell | None:
    """Turn a written value into the cell Google keeps (RAW: text; USER_ENTERED: parsed)."""
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, int | float):
        text = number_text(value)
    else:
        text = str(value)
    if len(text) > MAX_CELL_CHARS_GOOGLE:
        raise ApiError(400, "Your input contains more than the maximum of 50000 characters in a "
                            "single cell.")
    if option == "USER_ENTERED" and isinstance(value, str):
        if text.startswith("'"):
            return Cell(text[1:])
        if text.startswith("=") and len(text) > 1:
            return Cell(compute(text), formula=text)
        if _NUMBER.fullmatch(text):
            return Cell(number_text(float(text)))  # '0612345678' loses its zero, like Google
    return Cell(text) if text else None


def compute(formula: str) -> str:
    """Return the text a few simple formulas show; '#NAME?' for the rest."""
    link = _HYPERLINK.fullmatch(formula)
    if link:
        return (link.group(2) if link.group(2) is not None else link.group(1)).replace('""', '"')
    if re.fullmatch(r'="(?:[^"]|"")*"', formula):
        return formula[2:-1].replace('""', '"')
    if _NUMBER.fullmatch(formula[1:]):
        return number_text(float(formula[1:]))
    return "#NAME?"


def number_text(value: float) -> str:
    """Format a number as Google's default format shows it."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def counts(rows: int, cols: int, cells: int, prefix: str = "updated") -> Json:
    """Return update counters; Google leaves out the ones that are zero."""
    pairs = (("Rows", rows), ("Columns", cols), ("Cells", cells))
    return {f"{prefix}{name}": n for name, n in pairs if n}
