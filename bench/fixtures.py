"""Set-ups the benchmarks share: a programme on the Sheets double, stage runs, human edits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import write_config

FORM = "Formulierreacties 1"
MEETINGS = "Bijeenkomsten"


@dataclass
class Traffic:
    """Bytes sent to and received from the Sheets API (request bodies and response bodies)."""

    sent: int = 0
    received: int = 0
    seconds: float = 0.0  # time spent inside HTTP calls (client side, includes the double)


def google_sheets(config: Any, base_url: str, traffic: Traffic | None = None) -> Any:
    """Return GoogleSheets on the double (anonymous credentials), counting bytes if asked."""
    from google.auth.credentials import AnonymousCredentials

    from samen.gateways.sheets.google import GoogleSheets

    sheets = GoogleSheets(config.google.spreadsheet_key, AnonymousCredentials(),
                          api_base=base_url, timeout=600, max_attempts=1)
    if traffic is not None:
        session = sheets._http.session
        original = session.request

        def counting(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            import time

            start = time.perf_counter()
            response = original(method, url, *args, **kwargs)
            traffic.seconds += time.perf_counter() - start
            body: Any = response.request.body
            traffic.sent += len(body) if body else 0
            traffic.received += len(response.content)
            return response

        session.request = counting  # type: ignore[method-assign,assignment]
    return sheets


@dataclass
class GoogleProgramme:
    """A programme whose spreadsheet lives on a SheetsDouble; SQLite store and outbox in folder."""

    double: Any
    folder: Path
    responses: Sequence[Mapping[str, str]]
    store_url: str = ""
    key: str = ""
    config: Any = None
    traffic: Traffic = field(default_factory=Traffic)

    def __post_init__(self) -> None:
        from bench.common import sqlite_url
        from samen.config import load_config
        from samen.domain.layouts import MEETINGS_HEADERS
        from samen.testing.forms import form_table

        # Coordinators make Bijeenkomsten themselves (the pipeline only reads it).
        tabs = {FORM: form_table(self.responses), MEETINGS: [list(MEETINGS_HEADERS)]}
        self.key = self.double.create_spreadsheet("Programma SAMEN", tabs)
        path = write_config(self.folder, backend="google",
                            store_url=self.store_url or sqlite_url(self.folder),
                            spreadsheet_key=self.key, api_base=self.double.base_url)
        self.config = load_config(path)

    def run(self, stage: Callable[..., Any], as_of: date, **kwargs: Any) -> Any:
        """Run a stage once with fresh gateways (as a scheduled run would); return its summary."""
        from samen.gateways.factory import build_mail, build_store

        store = build_store(self.config)
        sheets = google_sheets(self.config, self.double.base_url, self.traffic)
        try:
            return stage(self.config, sheets=sheets, store=store, mail=build_mail(self.config),
                         as_of=as_of, **kwargs)
        finally:
            sheets.close()
            store.close()

    def rows(self, tab_key: str) -> list[list[str]]:
        """Return a tab's rows as the double holds them."""
        return self.double.values(self.key, self.config.tabs[tab_key])

    def type_cells(self, tab_key: str, match: Callable[[dict[str, str]], dict[str, str] | None]) -> int:
        """Type cells into the rows of a tab for which match returns {header: text}; one edit per column.

        Edits are written column by column as a person pasting a column would; return rows changed.
        """
        title = self.config.tabs[tab_key]
        rows = self.double.values(self.key, title)
        header = rows[0]
        columns: dict[str, list[str]] = {}
        changed = 0
        for number, row in enumerate(rows[1:], start=2):
            cells = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}
            wanted = match(cells) or {}
            changed += bool(wanted)
            for h in header:
                columns.setdefault(h, [""] * (len(rows) - 1))
            for h, v in wanted.items():
                columns[h][number - 2] = v
        for h, values in columns.items():
            if any(values):
                col = header.index(h) + 1
                current = [r[col - 1] if len(r) >= col else "" for r in rows[1:]]
                merged = [v or c for v, c in zip(values, current, strict=True)]
                self.double.set_values(self.key, title, [[v] for v in merged], row=2, col=col)
        return changed

    def approve(self) -> None:
        """Let the configured coordinators enter Vaststelling's current code (as the demo does)."""
        title = self.config.tabs["approval"]
        rows = self.double.values(self.key, title)
        code = next(r[5] for r in rows if len(r) > 5 and r[4] == "Huidige code")
        p = self.config.programme
        filled = [r for r in rows[1:] if r[:1] and r[0]]
        start = len(filled) + 2
        entries = [[who, "28-11-2022", code] for who in p.coordinators[: p.approvals_needed]]
        self.double.set_values(self.key, title, entries, row=start, col=1)

    def write_meetings(self, meetings: list[Mapping[str, str]]) -> None:
        """Type the Bijeenkomsten tab (header and rows)."""
        from samen.domain.layouts import MEETINGS_HEADERS

        title = self.config.tabs["meetings"]
        rows = [list(MEETINGS_HEADERS)] + [[m.get(h, "") for h in MEETINGS_HEADERS] for m in meetings]
        self.double.set_values(self.key, title, rows)


def decide_all(programme: GoogleProgramme, kern: int) -> int:
    """Decide every review row: the first `kern` kern, the others kenniskring (as the demo does)."""
    coordinator = programme.config.programme.coordinators[0]
    seen = [0]

    def decide(cells: dict[str, str]) -> dict[str, str] | None:
        if not cells.get("Aanmelding") or cells.get("Besluit"):
            return None
        seen[0] += 1
        return {"Besluit": "kern" if seen[0] <= kern else "kenniskring",
                "Beoordeeld door": coordinator, "Score": "4"}

    return programme.type_cells("review", decide)


def count_files(folder: Path, pattern: str = "*.eml") -> int:
    """Return how many files match in folder (0 when it does not exist)."""
    return sum(1 for _ in folder.glob(pattern)) if folder.exists() else 0
