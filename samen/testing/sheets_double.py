"""A local, stateful Google Sheets API v4 double: an HTTP server on 127.0.0.1 for tests.

Drive it through gspread (rewrite https://sheets.googleapis.com to `double.base_url`), inspect
and edit its state like a human would, count calls, and inject faults: error answers (429, 5xx)
that change nothing, and slow answers that do change the state, as a timed-out call to Google
may have.

    with SheetsDouble() as double:
        key = double.create_spreadsheet("Aanmeldingen", {"Formulierreacties 1": [["Naam"]]})
        ...
        assert double.values(key, "Formulierreacties 1") == [["Naam"], ["An"]]
"""

from __future__ import annotations

import json
import random
import secrets
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from samen.gateways.sheets.base import column_letter, quote_tab
from samen.testing.sheets_model import ApiError, Cell, Json, Spreadsheet, Tab, to_cell

KINDS = (
    "spreadsheets.get", "spreadsheets.batchUpdate", "values.get", "values.batchGet",
    "values.update", "values.batchUpdate", "values.append", "values.clear", "values.batchClear",
)
_MUTATING = {"spreadsheets.batchUpdate", "values.update", "values.batchUpdate", "values.append",
             "values.clear", "values.batchClear"}
_FAULT_MESSAGES = {
    429: "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' of "
         "service 'sheets.googleapis.com' for consumer 'project_number:0'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "The request timed out. Please try again.",
}
# Google's front end answers 502 with an HTML page, not the JSON error body.
_HTML_502 = b"<!DOCTYPE html><title>Error 502 (Server Error)!!1</title><p><b>502.</b> An error."


@dataclass
class FaultPlan:
    """Random faults: with probability `rate` a call fails with one of `statuses`.

    `delay` seconds are added to every answer; `kinds` limits the plan to some call kinds.
    """

    rate: float = 0.0
    statuses: tuple[int, ...] = (429, 500)
    delay: float = 0.0
    seed: int | None = None
    kinds: frozenset[str] | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self, kind: str) -> int | None:
        """Return the status to fail this call with, or None to answer it."""
        if self.kinds is not None and kind not in self.kinds:
            return None
        return self._rng.choice(self.statuses) if self._rng.random() < self.rate else None


class SheetsDouble:
    """A Sheets API v4 server on 127.0.0.1 with inspectable state and injectable faults."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[tuple[str, str]] = []
        self.errors: list[str] = []  # bugs of the double itself, shown by the test fixture
        self.faults: FaultPlan | None = None
        self._port = port
        self._books: dict[str, Spreadsheet] = {}
        self._failures: dict[str, list[int]] = {}
        self._slowness: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SheetsDouble:
        """Start serving in a background thread."""
        self._server = _Server(("127.0.0.1", self._port), _Handler)
        self._server.double = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name="sheets-double")
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake slow answers and join every thread."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> SheetsDouble:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """Return the server's root, e.g. http://127.0.0.1:54321."""
        assert self._server is not None, "start the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- state, as a test or a human sees it -------------------------------------------------

    def create_spreadsheet(self, title: str = "Samen test",
                           tabs: dict[str, list[list[str]]] | None = None, *,
                           spreadsheet_id: str | None = None, shared: bool = True,
                           locale: str = "nl_NL", time_zone: str = "Europe/Amsterdam") -> str:
        """Create a spreadsheet with tabs of text rows; return its id.

        shared=False makes every call answer 403, as for a sheet not shared with the account.
        """
        key = spreadsheet_id or "1" + secrets.token_urlsafe(32)[:43]
        book = Spreadsheet(key, title, [], locale, time_zone, shared)
        for index, (tab_title, rows) in enumerate((tabs or {"Sheet1": []}).items()):
            width = max((len(r) for r in rows), default=0)
            sheet_id = random.Random(f"{key}/{tab_title}").randrange(1, 2**31) if index else 0
            tab = Tab(sheet_id, tab_title, max(1000, len(rows)), max(26, width))
            book.tabs.append(tab)
            _put_text(tab, rows, 1, 1)
        with self._lock:
            self._books[key] = book
        return key

    def values(self, spreadsheet_id: str, tab: str) -> list[list[str]]:
        """Return a tab's text as a whole-tab read would (trailing empties dropped)."""
        with self._lock:
            book = self._books[spreadsheet_id]
            return book.read(quote_tab(tab), {}).get("values", [])

    def set_values(self, spreadsheet_id: str, tab: str, rows: Iterable[Iterable[str]],
                   row: int = 1, col: int = 1) -> None:
        """Type text into a tab from (row, col) on, as a person editing cells; '' clears."""
        with self._lock:
            found = self._books[spreadsheet_id].tab(tab)
            if found is None:
                raise KeyError(f"no tab {tab!r} in spreadsheet {spreadsheet_id!r}")
            _put_text(found, [list(r) for r in rows], row, col)

    def spreadsheet_ids(self) -> set[str]:
        """Return the ids of the spreadsheets the double holds."""
        with self._lock:
            return set(self._books)

    def tab_titles(self, spreadsheet_id: str) -> list[str]:
        """Return the spreadsheet's tab titles in order."""
        with self._lock:
            return [t.title for t in self._books[spreadsheet_id].tabs]

    def formula_cells(self, spreadsheet_id: str, tab: str) -> dict[str, str]:
        """Return the cells of a tab that hold a formula, as {'B2': '=HYPERLINK(...)'}."""
        with self._lock:
            found = self._books[spreadsheet_id].tab(tab)
            assert found is not None, tab
            return {f"{column_letter(c)}{r}": cell.formula
                    for (r, c), cell in sorted(found.cells.items()) if cell.formula}

    # -- calls and faults --------------------------------------------------------------------

    def reset_calls(self) -> None:
        """Forget the calls made so far."""
        with self._lock:
            self.calls.clear()

    def count(self, kind: str | None = None) -> int:
        """Return how many calls of a kind (or all calls) were made, faulted ones included."""
        with self._lock:
            return len(self.calls) if kind is None else Counter(k for _, k in self.calls)[kind]

    def fail_next(self, kind: str, status: int, times: int = 1) -> None:
        """Answer the next `times` calls of a kind with an error status (no effect on state)."""
        assert kind in KINDS, kind
        with self._lock:
            self._failures.setdefault(kind, []).extend([status] * times)

    def slow_next(self, kind: str, seconds: float, times: int = 1) -> None:
        """Delay the next `times` answers of a kind; the change is made before the delay."""
        assert kind in KINDS, kind
        with self._lock:
            self._slowness.setdefault(kind, []).extend([seconds] * times)

    # -- serving -----------------------------------------------------------------------------

    def serve(self, method: str, kind: str, key: str, target: str | None,
              params: dict[str, list[str]], body: Json) -> tuple[int, Json | bytes]:
        """Answer one call: record it, fail it (no effect) or run it atomically, maybe late."""
        with self._lock:
            self.calls.append((method, kind))
            queued, slow = self._failures.get(kind), self._slowness.get(kind)
            status = queued.pop(0) if queued else None
            if status is None and self.faults is not None:
                status = self.faults.draw(kind)
            delay = (slow.pop(0) if slow else 0.0) + (self.faults.delay if self.faults else 0.0)
        answer: tuple[int, Json | bytes]
        if status == 502:
            answer = 502, _HTML_502
        elif status is not None:
            answer = status, ApiError(status, _FAULT_MESSAGES.get(status, "Fault.")).body()
        else:
            answer = self._apply(kind, key, target, params, body)
        if delay:
            # The answer is late but the change is made: a client that timed out cannot
            # know whether its call landed, as with Google.
            self._stopping.wait(delay)
        return answer

    def _apply(self, kind: str, key: str, target: str | None, params: dict[str, list[str]],
               body: Json) -> tuple[int, Json]:
        with self._lock:
            book = self._books.get(key)
            try:
                if book is None:
                    raise ApiError(404, "Requested entity was not found.")
                if not book.shared:
                    raise ApiError(403, "The caller does not have permission")
                saved = [t.clone() for t in book.tabs] if kind in _MUTATING else book.tabs
                try:
                    return 200, _run(book, kind, target, params, body)
                except ApiError:
                    book.tabs = saved  # Google applies a request wholly or not at all
                    raise
            except ApiError as fault:
                return fault.code, fault.body()


def _run(book: Spreadsheet, kind: str, target: str | None, params: dict[str, list[str]],
         body: Json) -> Json:
    """Run one API call on a spreadsheet and return the answer body."""
    one = {k: v[-1] for k, v in params.items()}
    key = {"spreadsheetId": book.spreadsheet_id}
    option = one.get("valueInputOption") or body.get("valueInputOption")
    if kind == "spreadsheets.get":
        return book.metadata()
    if kind == "values.get":
        return book.read(target or "", one)
    if kind == "values.batchGet":
        ranges = params.get("ranges", [])
        return key | ({"valueRanges": [book.read(r, one) for r in ranges]} if ranges else {})
    if kind == "values.update":
        return book.write(target or "", body.get("values", []), option)
    if kind == "values.batchUpdate":
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        data = body.get("data", [])
        answers = [book.write(d["range"], d.get("values", []), option) for d in data]
        return key | _totals(book, answers) | ({"responses": answers} if answers else {})
    if kind == "values.append":
        return book.append(target or "", body.get("values", []), option)
    if kind == "values.clear":
        return key | {"clearedRange": book.clear(target or "")}
    if kind == "values.batchClear":
        return key | {"clearedRanges": [book.clear(r) for r in body.get("ranges", [])]}
    if kind == "spreadsheets.batchUpdate":
        return key | {"replies": [book.apply(i, r) for i, r in enumerate(body.get("requests", []))]}
    raise ApiError(404, "Method not found.")


def _totals(book: Spreadsheet, answers: list[Json]) -> Json:
    """Sum a values:batchUpdate's answers the way Google does (distinct rows and columns)."""
    rows: set[tuple[str, int]] = set()
    cols: set[tuple[str, int]] = set()
    for answer in answers:
        if "updatedRange" in answer:
            tab, bounds = book.resolve(answer["updatedRange"])
            rows.update((tab.title, r) for r in range(bounds.row1, (bounds.row2 or 0) + 1))
            cols.update((tab.title, c) for c in range(bounds.col1, (bounds.col2 or 0) + 1))
    pairs = (("Rows", len(rows)), ("Columns", len(cols)),
             ("Cells", sum(a.get("updatedCells", 0) for a in answers)),
             ("Sheets", len({t for t, _ in rows})))
    return {f"totalUpdated{name}": n for name, n in pairs if n}


def _route(method: str, path: str) -> tuple[str, str, str | None]:
    """Return (kind, spreadsheet id, range) for a request path, or raise LookupError."""
    prefix = "/v4/spreadsheets/"
    if not path.startswith(prefix):
        raise LookupError(path)
    rest = path[len(prefix):]
    key, has_values, tail = rest.partition("/values")
    if not has_values:
        if method == "POST" and rest.endswith(":batchUpdate"):
            return "spreadsheets.batchUpdate", unquote(rest[: -len(":batchUpdate")]), None
        if method == "GET" and "/" not in rest and ":" not in rest:
            return "spreadsheets.get", unquote(rest), None
        raise LookupError(path)
    batch = {("GET", ":batchGet"): "values.batchGet", ("POST", ":batchClear"): "values.batchClear",
             ("POST", ":batchUpdate"): "values.batchUpdate"}
    if (method, tail) in batch:
        return batch[method, tail], unquote(key), None
    if tail.startswith("/") and len(tail) > 1:
        target = tail[1:]
        for suffix, kind in ((":append", "values.append"), (":clear", "values.clear")):
            if method == "POST" and target.endswith(suffix):
                return kind, unquote(key), unquote(target[: -len(suffix)])
        plain = {"GET": "values.get", "PUT": "values.update"}
        if method in plain:
            return plain[method], unquote(key), unquote(target)
    raise LookupError(path)


def _put_text(tab: Tab, rows: list[list[str]], row: int, col: int) -> None:
    for i, line in enumerate(rows):
        for j, text in enumerate(line):
            tab.put(row + i, col + j, to_cell(text, "RAW"))


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # join handler threads on close: no thread outlives a test
    block_on_close = True
    double: SheetsDouble

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up on a slow answer: expected in timeout tests
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def _answer(self, method: str) -> None:
        double = self.server.double
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            kind, key, target = _route(method, url.path)
            params = parse_qs(url.query, keep_blank_values=True)
            body = json.loads(raw) if raw.strip() else {}
            status, answer = double.serve(method, kind, key, target, params, body)
        except LookupError:
            status, answer = 404, ApiError(404, f"Method not found: {url.path}").body()
        except Exception:
            double.errors.append(traceback.format_exc())
            status, answer = 500, ApiError(500, "The double failed; see double.errors").body()
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        kind_of = "text/html" if isinstance(answer, bytes) else "application/json"
        self.send_header("Content-Type", f"{kind_of}; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


__all__ = ["KINDS", "Cell", "FaultPlan", "SheetsDouble"]
