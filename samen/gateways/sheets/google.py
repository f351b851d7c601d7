"""The Google Sheets backend: gspread 6.2.1 with bounded retries on idempotent calls only.

A run costs three calls whatever the number of rows: one spreadsheets.get, at most one
spreadsheets:batchUpdate (missing tabs with their headers) and one values:batchGet; then at
most one values:batchUpdate. gspread's own BackOffHTTPClient never gives up and retries appends
(duplicate rows), so `RetryingHTTPClient` retries reads and overwrites only, a bounded number
of times, and names the call, the answer and the fix when it gives up.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote

import gspread
import orjson
import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEET_VALUES_BATCH_URL

from samen.gateways.sheets.base import (
    MAX_CELL_CHARS_GOOGLE,
    CellBlock,
    SheetsError,
    SnapshotCheck,
    TabSpec,
    clip_cell,
    quote_tab,
    stack_blocks,
)

GOOGLE_API = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 32.0
NEW_TAB_ROWS, NEW_TAB_COLUMNS = 1000, 26
# spreadsheets:batchUpdate requests that are safe to send twice: a repeated addSheet fails
# with "already exists" (the caller then re-reads the metadata); updateCells overwrites.
_REPEATABLE_REQUESTS = frozenset({"addSheet", "updateCells"})
_KEY_IN_URL = re.compile(r"/v4/spreadsheets/([^/:?]+)")
log = logging.getLogger(__name__)
T = TypeVar("T")


def describe_call(method: str, url: str) -> str:
    """Name a Sheets API call the way messages show it (e.g. 'values:batchGet')."""
    path = url.split("?", 1)[0]
    method = method.upper()
    if "/values" not in path:
        return "spreadsheets:batchUpdate" if path.endswith(":batchUpdate") else "spreadsheets.get"
    for suffix in (":batchGet", ":batchUpdate", ":batchClear", ":append", ":clear"):
        if path.endswith(suffix):
            return "values" + suffix
    return "values.update" if method == "PUT" else "values.get"


def is_idempotent(method: str, call: str, body: Mapping[str, Any] | None) -> bool:
    """Tell whether sending a call twice leaves the same state as sending it once."""
    if method.upper() == "GET" or call in ("values.update", "values:batchUpdate"):
        return True
    if call in ("values:clear", "values:batchClear"):
        return True
    if call == "spreadsheets:batchUpdate" and body is not None:
        names = {name for request in body.get("requests", []) for name in request}
        return bool(names) and names <= _REPEATABLE_REQUESTS
    return False  # values:append above all: a repeated append duplicates rows


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client, pointed at `api_base`, retrying idempotent calls with backoff."""

    api_base: str | None = None
    max_attempts: int = 5
    backoff_seconds: float = 0.5
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    jitter: random.Random = random.Random()

    def request(self, method: str, endpoint: str, params: Any = None, data: Any = None,
                json: Mapping[str, Any] | None = None, files: Any = None,
                headers: Any = None) -> requests.Response:
        """Send a call; retry 429/5xx, timeouts and lost connections on idempotent calls."""
        if self.api_base and endpoint.startswith(GOOGLE_API):
            # gspread copied its URL constants at import, so the host is swapped here.
            endpoint = self.api_base.rstrip("/") + endpoint[len(GOOGLE_API):]
        call = describe_call(method, endpoint)
        attempts = self.max_attempts if is_idempotent(method, call, json) else 1
        if json is not None and data is None and files is None:
            # A batch write of many rows is tens of MB of JSON: orjson writes it as UTF-8 bytes
            # some ten times faster than requests' json.dumps, and without a str copy.
            data = orjson.dumps(json)
            headers = {**(headers or {}), "Content-Type": "application/json"}
            json = None
        error: Exception | None = None
        for attempt in range(1, attempts + 1):
            try:
                return super().request(method, endpoint, params=params, data=data, json=json,
                                       files=files, headers=headers)
            except APIError as err:
                if err.response.status_code not in RETRY_STATUSES or attempts == 1:
                    raise
                outcome = f"Google Sheets answered {_answer_text(err)} to {call}"
                retry_after, error = _retry_after(err.response), err
            except (requests.ConnectionError, requests.Timeout) as err:
                if attempts == 1:
                    raise
                outcome, retry_after, error = _failure_text(err, call, self.timeout), 0.0, err
            if attempt == attempts:
                raise SheetsError(_give_up_message(outcome, attempts, endpoint)) from error
            wait = min(self.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            wait = max(wait * (0.5 + self.jitter.random()), retry_after)
            log.warning("%s (attempt %d of %d); retrying in %.1f s", outcome, attempt, attempts,
                        wait)
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def values_batch_get(self, id: str, ranges: list[str], params: Any = None) -> Any:
        """values:batchGet as gspread sends it; the answer parsed by orjson from its bytes.

        Each scheduled run reads every tab whole (at 100,000 form rows some 100 MB of JSON):
        requests' json() first decodes the bytes into a str copy, which the standard library then
        parses several times slower.
        """
        params = {**(params or {}), "ranges": ranges}
        response = self.request("get", SPREADSHEET_VALUES_BATCH_URL % id, params=params)
        return orjson.loads(response.content)


class GoogleSheets:
    """SheetsGateway on a Google spreadsheet, through gspread."""

    def __init__(self, spreadsheet_key: str, credentials: Credentials, *,
                 api_base: str | None = None,
                 timeout: float = 30.0, max_attempts: int = 5, backoff_seconds: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.key = spreadsheet_key
        self._account = getattr(credentials, "service_account_email", None)
        self._client = gspread.Client(auth=credentials, http_client=RetryingHTTPClient)
        self._client.set_timeout(timeout)
        http = self._client.http_client
        assert isinstance(http, RetryingHTTPClient)
        http.api_base = api_base
        http.max_attempts = max_attempts
        http.backoff_seconds = backoff_seconds
        http.sleep = sleep
        self._http: RetryingHTTPClient = http

    def open_tabs(
        self, specs: Sequence[TabSpec], check: SnapshotCheck | None = None
    ) -> dict[str, list[list[str]]]:
        """Read all existing tabs' values as text, check them, then create missing tabs."""
        specs = list({spec.title: spec for spec in specs}.values())
        if not specs:
            return {}
        metadata = self._call("spreadsheets.get", lambda: self._http.fetch_sheet_metadata(self.key))
        missing = self._missing(specs, metadata)
        for spec in missing:
            if not spec.create:
                present = [sheet["properties"]["title"] for sheet in metadata.get("sheets", [])]
                raise spec.missing_tab_error(present)
        existing = [spec for spec in specs if spec not in missing]
        snapshot = self._read(existing)
        for spec in missing:
            snapshot[spec.title] = [list(spec.headers)]
        if check is not None:
            check(snapshot)
        if missing:
            self._create_tabs(missing, metadata)
        return {spec.title: snapshot[spec.title] for spec in specs}

    def _read(self, specs: list[TabSpec]) -> dict[str, list[list[str]]]:
        """Read the tabs' values in one values:batchGet (no call for no tabs)."""
        if not specs:
            return {}
        params = {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"}
        ranges = [quote_tab(spec.title) for spec in specs]
        answer = self._call("values:batchGet",
                            lambda: self._http.values_batch_get(self.key, ranges, dict(params)))
        value_ranges = answer.get("valueRanges", [])
        if len(value_ranges) != len(specs):
            raise SheetsError(f"Google Sheets answered {len(value_ranges)} ranges to "
                              f"values:batchGet for {len(specs)} tabs of spreadsheet "
                              f"'{self.key}'; run again, and report it if it persists.")
        return {spec.title: [["" if cell is None else str(cell) for cell in row]
                             for row in value_range.get("values", [])]
                for spec, value_range in zip(specs, value_ranges, strict=True)}

    def write_blocks(self, blocks: Sequence[CellBlock]) -> None:
        """Write all blocks in one values:batchUpdate as RAW text; no call when blocks is empty."""
        if not blocks:
            return
        data = [{"range": block.a1_range(),
                 "values": [[clip_cell(value, MAX_CELL_CHARS_GOOGLE) for value in row]
                            for row in block.values]}
                for block in stack_blocks(blocks)]
        body = {"valueInputOption": "RAW", "data": data}
        self._call("values:batchUpdate", lambda: self._http.values_batch_update(self.key, body))

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.session.close()

    def _missing(self, specs: list[TabSpec], metadata: Mapping[str, Any]) -> list[TabSpec]:
        """Return the wanted tabs the spreadsheet lacks; refuse a title that differs in case."""
        titles = [sheet["properties"]["title"] for sheet in metadata.get("sheets", [])]
        folded = {title.casefold(): title for title in titles}
        missing = [spec for spec in specs if spec.title not in titles]
        for spec in missing:
            other = folded.get(spec.title.casefold())
            if other is not None:
                raise SheetsError(f"Spreadsheet '{self.key}' has a tab '{other}' but the run "
                                  f"expects '{spec.title}'; rename the tab to '{spec.title}'.")
        return missing

    def _create_tabs(self, missing: list[TabSpec], metadata: Mapping[str, Any],
                     recover: bool = True) -> None:
        """Add the missing tabs with their header rows in one spreadsheets:batchUpdate."""
        taken = {sheet["properties"]["sheetId"] for sheet in metadata.get("sheets", [])}
        requests_: list[dict[str, Any]] = []
        for spec in missing:
            sheet_id = _free_sheet_id(taken)
            taken.add(sheet_id)
            columns = max(NEW_TAB_COLUMNS, len(spec.headers))
            grid = {"rowCount": NEW_TAB_ROWS, "columnCount": columns}
            requests_.append({"addSheet": {"properties": {
                "sheetId": sheet_id, "title": spec.title, "gridProperties": grid}}})
            if spec.headers:
                cells = [{"userEnteredValue": {"stringValue": clip_cell(h, MAX_CELL_CHARS_GOOGLE)}}
                         for h in spec.headers]
                requests_.append({"updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                    "rows": [{"values": cells}], "fields": "userEnteredValue"}})
        body = {"requests": requests_}
        try:
            self._call("spreadsheets:batchUpdate",
                       lambda: self._http.batch_update(self.key, body), raise_400=True)
        except APIError as err:
            if not recover or "already exists" not in str(err.error.get("message", "")):
                raise self._translate(err, "spreadsheets:batchUpdate") from err
            # A retried addSheet whose first attempt did land, or a tab made meanwhile by a
            # person or another run: look again and create only what is still missing.
            log.warning("Creating tabs answered %s; reading the tab list again", err.error)
            fresh = self._call("spreadsheets.get",
                               lambda: self._http.fetch_sheet_metadata(self.key))
            still_missing = self._missing(missing, fresh)
            if still_missing:
                self._create_tabs(still_missing, fresh, recover=False)

    def _call(self, call: str, send: Callable[[], T], *, raise_400: bool = False) -> T:
        """Send one call and turn infrastructure failures into SheetsError."""
        try:
            return send()
        except APIError as err:
            if raise_400 and err.response.status_code == 400:
                raise
            raise self._translate(err, call) from err
        except (requests.ConnectionError, requests.Timeout) as err:
            raise SheetsError(f"Could not reach Google Sheets for {call} on spreadsheet "
                              f"'{self.key}' ({type(err).__name__}); check the network.") from err
        except GoogleAuthError as err:
            raise SheetsError(f"Google refused the credentials for spreadsheet '{self.key}' "
                              f"({type(err).__name__}); check the service account key in "
                              "the secret store.") from None

    def _translate(self, err: APIError, call: str) -> SheetsError:
        """Return a SheetsError that names the call, Google's answer and the fix."""
        status = err.response.status_code
        answer = _answer_text(err)
        if status == 404:
            return SheetsError(f"Google Sheets answered {answer} to {call}: no spreadsheet "
                               f"'{self.key}'; check sheets.google.spreadsheet_key in samen.toml.")
        if status == 403:
            who = f"'{self._account}'" if self._account else "the service account's e-mail"
            return SheetsError(f"Google Sheets answered {answer} to {call} for spreadsheet "
                               f"'{self.key}'; share the spreadsheet with {who} as editor.")
        if status == 401:
            return SheetsError(f"Google Sheets answered {answer} to {call} for spreadsheet "
                               f"'{self.key}'; check the service account key.")
        message = err.error.get("message", "")
        return SheetsError(f"Google Sheets answered {answer} to {call} for spreadsheet "
                           f"'{self.key}': {message}")


def credentials_from_service_account_info(
        info: Mapping[str, Any]) -> service_account.Credentials:
    """Build service-account credentials with the spreadsheets scope from a parsed JSON key."""
    missing = sorted({"client_email", "private_key", "token_uri"} - set(info))
    if missing:
        raise SheetsError(f"The service account key lacks {', '.join(missing)}; download a new "
                          "JSON key for the service account in the Google Cloud console.")
    try:
        return service_account.Credentials.from_service_account_info(
            dict(info), scopes=list(SCOPES))
    except (ValueError, TypeError) as err:
        # Never echo the key: the message names the account and the error type only.
        raise SheetsError(f"The service account key of '{info['client_email']}' is not valid "
                          f"({type(err).__name__}); download a new JSON key.") from None


def _free_sheet_id(taken: set[int]) -> int:
    """Pick a sheetId no tab uses (Google's own ids are random 31-bit numbers too)."""
    while True:
        candidate = random.randrange(1, 2**31 - 1)
        if candidate not in taken:
            return candidate


def _answer_text(err: APIError) -> str:
    """Return '429 RESOURCE_EXHAUSTED' for an error answer (HTML answers have no status)."""
    status = err.error.get("status") if err.code != -1 else None
    reason = status or err.response.reason or "error"
    return f"{err.response.status_code} {reason}"


def _failure_text(err: Exception, call: str, timeout: Any) -> str:
    """Describe a call that got no answer."""
    if isinstance(err, requests.Timeout) and not isinstance(err, requests.ConnectTimeout):
        return f"Google Sheets gave no answer to {call} within {timeout} s"
    return f"Could not reach Google Sheets for {call} ({type(err).__name__})"


def _retry_after(response: requests.Response) -> float:
    """Return the Retry-After seconds Google asked for, or 0."""
    try:
        return min(float(response.headers.get("Retry-After", 0)), MAX_BACKOFF_SECONDS)
    except ValueError:
        return 0.0


def _give_up_message(outcome: str, attempts: int, url: str) -> str:
    """Explain a call that failed on every attempt, with the fix."""
    match = _KEY_IN_URL.search(url)
    key = unquote(match.group(1)) if match else "?"
    fix = ("wait a minute and run again, or raise [sheets.google] max_attempts in samen.toml"
           if "answered 429" in outcome else
           "check the network and https://www.google.com/appsstatus, then run again; or raise "
           "[sheets.google] timeout or max_attempts in samen.toml")
    return f"{outcome} {attempts} times for spreadsheet '{key}'; {fix}."
