"""A programme played through the Google backend against the local Sheets API double (tests).

The coordinators' work (decisions, approvals, meetings, attendance marks) is typed into the
double's cells as a person would; the stages run through gspread with fresh gateways per run,
as a scheduled flow would build them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from google.auth.credentials import AnonymousCredentials

from samen.config import Config, load_config
from samen.domain.layouts import MEETINGS_HEADERS
from samen.gateways.factory import build_mail, build_store
from samen.gateways.sheets.google import GoogleSheets
from samen.testing.sheets_double import SheetsDouble

Stage = Callable[..., Any]
# Cells that hold the moment something happened: they differ between any two runs.
VOLATILE = {"Berichten": ("Datum",), "Te corrigeren": ("Verzoek verstuurd op",)}


def write_google_config(folder: Path, *, key: str, api_base: str, smtp_port: int, store_url: str,
                        timeout: float = 5.0, attempts: int = 5, name: str = "samen.toml",
                        daily_cap: int = 450, extra: str = "") -> Config:
    """Write a samen.toml for the double and a local SMTP relay, and load it."""
    path = folder / name
    path.write_text(
        f'[sheets]\nbackend = "google"\n\n[sheets.google]\nspreadsheet_key = "{key}"\n'
        f'api_base = "{api_base}"\ntimeout_seconds = {timeout}\nmax_attempts = {attempts}\n\n'
        f'[mail]\nbackend = "smtp"\ndaily_cap = {daily_cap}\n\n[mail.outbox]\npath = "{path.stem}-outbox"\n\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        f'timeout_seconds = 5\n\n[store]\nurl = "{store_url}"\n{extra}',
        encoding="utf-8",
    )
    return load_config(path)


def google_sheets(config: Config) -> GoogleSheets:
    """Return the Google backend of a config, retrying without real waiting."""
    g = config.google
    return GoogleSheets(g.spreadsheet_key, AnonymousCredentials(), api_base=g.api_base,
                        timeout=g.timeout_seconds, max_attempts=g.max_attempts,
                        sleep=lambda _s: None)


def run_google(config: Config, stage: Stage, as_of: date) -> Any:
    """Run a stage once through the Google backend with fresh gateways; return its summary."""
    store = build_store(config)
    sheets = google_sheets(config)
    try:
        return stage(config, sheets=sheets, store=store, mail=build_mail(config), as_of=as_of)
    finally:
        sheets.close()
        store.close()


@dataclass(frozen=True)
class Sheet:
    """One spreadsheet on the double, edited by people and read by tests."""

    double: SheetsDouble
    key: str

    def rows(self, tab: str) -> list[list[str]]:
        """Return a tab's rows as text."""
        return self.double.values(self.key, tab)

    def records(self, tab: str) -> list[dict[str, str]]:
        """Return a tab's data rows as dicts by header."""
        rows = self.rows(tab)
        if not rows:
            return []
        return [{h: (r[i] if i < len(r) else "") for i, h in enumerate(rows[0])} for r in rows[1:]]

    def type_where(self, tab: str, match: Mapping[str, str], cells: Mapping[str, str]) -> int:
        """Type cells (header -> text) into every row whose cells equal match; return how many."""
        header = self.rows(tab)[0]
        count = 0
        for number, row in enumerate(self.records(tab), start=2):
            if all(row.get(h) == v for h, v in match.items()):
                for h, v in cells.items():
                    self.double.set_values(self.key, tab, [[v]], row=number, col=header.index(h) + 1)
                count += 1
        return count

    def decide(self, config: Config, decisions: Mapping[str, str]) -> None:
        """Fill Besluit and Beoordeeld door of Beoordeling, per application id."""
        for app_id, decision in decisions.items():
            done = self.type_where(config.tabs["review"], {"Aanmelding": app_id},
                                   {"Besluit": decision,
                                    "Beoordeeld door": config.programme.coordinators[0]})
            assert done == 1, f"no review row for {app_id}"

    def approve(self, config: Config, on: str = "28-11-2022") -> str:
        """Let the needed coordinators enter the current code in Vaststelling; return the code."""
        tab = config.tabs["approval"]
        rows = self.rows(tab)
        code = next(r[5] for r in rows if len(r) > 5 and r[4] == "Huidige code")
        last = max([i for i, r in enumerate(rows, start=1) if r and r[0]] or [1])
        p = config.programme
        for offset, who in enumerate(p.coordinators[: p.approvals_needed], start=1):
            self.double.set_values(self.key, tab, [[who, on, code]], row=last + offset)
        return code

    def complete(self, config: Config, nr: str, status_of: Callable[[str], str],
                 link: str = "https://example.org/samen/materiaal") -> int:
        """Mark every invitee of a meeting, then the meeting's attendance complete; return marks."""
        tab = config.tabs["attendance"]
        marked = 0
        for row in self.records(tab):
            if row["Bijeenkomst"] == nr and not row["Status"]:
                marked += self.type_where(tab, {"Bijeenkomst": nr, "E-mail": row["E-mail"]},
                                          {"Status": status_of(row["E-mail"])})
        self.type_where(config.tabs["meetings"], {"Nr": nr},
                        {"Aanwezigheid compleet": "ja", "Materiaal": link})
        return marked

    def contents(self, volatile: Mapping[str, Iterable[str]] | None = None,
                 ) -> dict[str, list[list[str]]]:
        """Return every tab's rows with the volatile columns blanked (for comparing runs)."""
        drop = VOLATILE if volatile is None else volatile
        out: dict[str, list[list[str]]] = {}
        for tab in self.double.tab_titles(self.key):
            rows = [list(r) for r in self.rows(tab)]
            if rows:
                for header in drop.get(tab, ()):
                    if header in rows[0]:
                        col = rows[0].index(header)
                        for r in rows[1:]:
                            if len(r) > col:
                                r[col] = "*" if r[col] else ""
            out[tab] = rows
        return out


def meetings_table(meetings: Iterable[Mapping[str, str]]) -> list[list[str]]:
    """Return the Bijeenkomsten tab (header and rows) for meeting dicts by header."""
    return [list(MEETINGS_HEADERS)] + [[m.get(h, "") for h in MEETINGS_HEADERS] for m in meetings]
