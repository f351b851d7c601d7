"""Hostile form input (issue "Reliability and security", item 4): intake routes it, never executes it.

A corpus of hostile rows (samen.testing.hostile) and hypothesis-generated rows go through intake on
the workbook and on the Sheets API double (through gspread), with SQLite and PostgreSQL stores.
Whatever the answers: intake does not crash, every non-empty row ends as a review row or a
correction row with its problems, no cell the pipeline writes is a formula, and every message in
the outbox parses cleanly with exactly one recipient and no injected header.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from google.auth.credentials import AnonymousCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samen.config import Config, load_config
from samen.demo.seed import FORM_HEADERS
from samen.domain.layouts import REVIEW_HEADERS
from samen.domain.tabs import HeaderError
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.gateways.sheets.google import GoogleSheets
from samen.gateways.sheets.workbook import (
    clean_text,
    create_workbook,
    read_sheet,
    save_atomically,
    set_text,
)
from samen.stages.intake import IntakeSummary, run_intake
from samen.testing.forms import HEADER_BY_SLUG, form_table, make_response
from samen.testing.hostile import BIDI, CONTROL, ZERO_WIDTH, hostile_rows
from samen.testing.sheets_double import SheetsDouble
from samen.testing.workbooks import records

DAY = date(2022, 11, 1)
FORM = "Formulierreacties 1"
OWN_TABS = ("Beoordeling", "Te corrigeren", "Berichten", "Signalen")
# The headers build_email writes; anything else in a message was injected.
MAIL_HEADERS = frozenset({
    "from", "to", "reply-to", "subject", "date", "message-id", "list-unsubscribe",
    "auto-submitted", "mime-version", "content-type", "content-transfer-encoding",
})
PART_HEADERS = frozenset({"content-type", "content-transfer-encoding", "content-disposition"})


@dataclass
class Figures:
    """What a scenario tried and how it ended."""

    rows_tried: int = 0
    review_rows: int = 0
    correction_rows: int = 0
    formulas_written: int = 0
    injected_headers: int = 0
    messages: int = 0
    seen_mail: set[str] = field(default_factory=set)

    def show(self, title: str) -> None:
        """Print the figures and assert the two that must be zero."""
        print(f"\n{title}: rows tried {self.rows_tried}, review rows {self.review_rows}, "
              f"correction rows {self.correction_rows}, messages {self.messages}, "
              f"formulas written {self.formulas_written}, injected headers {self.injected_headers}")
        assert self.formulas_written == 0 and self.injected_headers == 0


class Bench:
    """One spreadsheet backend and one store, run and inspected the same way for both backends."""

    def __init__(self, backend: str, folder: Path, store_url: str, double: SheetsDouble,
                 rows: Sequence[Sequence[str]]) -> None:
        self.backend, self.double, self.key = backend, double, ""
        book = folder / "book.xlsx"
        if backend == "workbook":
            create_workbook(book, {FORM: [list(r) for r in rows]})
            sheets = '[sheets.workbook]\npath = "book.xlsx"\n'
        else:
            self.key = double.create_spreadsheet("Programma SAMEN", {FORM: [list(r) for r in rows]})
            sheets = (f'[sheets]\nbackend = "google"\n\n[sheets.google]\nspreadsheet_key = '
                      f'"{self.key}"\napi_base = "{double.base_url}"\n')
        (folder / "samen.toml").write_text(f'{sheets}\n[store]\nurl = "{store_url}"\n',
                                           encoding="utf-8")
        self.config: Config = load_config(folder / "samen.toml")
        self.next_row = len(rows) + 1

    def run(self) -> IntakeSummary:
        """Run intake once with fresh gateways, as a flow run would."""
        if self.backend == "workbook":
            sheets = build_sheets(self.config)
        else:
            sheets = GoogleSheets(self.key, AnonymousCredentials(), api_base=self.double.base_url,
                                  timeout=5, max_attempts=2, sleep=lambda _s: None)
        store = build_store(self.config)
        try:
            return run_intake(self.config, sheets=sheets, store=store,
                              mail=build_mail(self.config), as_of=DAY)
        finally:
            sheets.close()
            store.close()

    def snapshot(self) -> tuple[dict[str, list[list[str]]], int]:
        """Return the text of every tab, and how many cells of the pipeline's tabs are no text."""
        if self.backend == "google":
            titles = self.double.tab_titles(self.key)
            return ({t: self.double.values(self.key, t) for t in titles},
                    sum(len(self.double.formula_cells(self.key, t)) for t in titles))
        book = openpyxl.load_workbook(self.config.workbook.path)
        tabs = {t: read_sheet(book[t]) for t in book.sheetnames}
        # A formula has data_type "f"; a number or date written as such would not be "s" either.
        return tabs, sum(1 for t in OWN_TABS if t in book.sheetnames for row in book[t].iter_rows()
                         for cell in row if cell.value is not None and cell.data_type != "s")

    def append(self, rows: Sequence[Sequence[str]]) -> None:
        """Add form rows below the last one, as text (as Google Forms does)."""
        if self.backend == "google":
            self.double.set_values(self.key, FORM, rows, row=self.next_row)
        else:
            path = self.config.workbook.path
            book = openpyxl.load_workbook(path)
            for r, row in enumerate(rows, start=self.next_row):
                for c, value in enumerate(row, start=1):
                    if clean_text(value):
                        set_text(book[FORM].cell(row=r, column=c), clean_text(value))
            save_atomically(book, path)
        self.next_row += len(rows)

    def outbox(self) -> Iterator[Path]:
        """Yield the .eml files in the outbox."""
        folder = self.config.mail.outbox_path
        yield from sorted(folder.glob("*.eml")) if folder.exists() else ()


def mail_problems(path: Path) -> list[str]:
    """Return what is wrong with one .eml: defects, recipients, injected headers, a broken Subject."""
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    problems = [f"{part.get_content_type()}: {d!r}" for part in msg.walk() for d in part.defects]
    to = msg.get_all("To") or []
    if len(to) != 1 or len(to[0].addresses) != 1:
        problems.append(f"To: {to!r}")
    extra = {k.lower() for k in msg} - MAIL_HEADERS  # Bcc, Cc, anything injected
    for part in list(msg.walk())[1:]:
        extra |= {k.lower() for k in part} - PART_HEADERS
    problems += [f"header {h}" for h in sorted(extra)]
    subjects = msg.get_all("Subject") or []
    if len(subjects) != 1:
        problems.append(f"Subject: {subjects!r}")
    # Decoded values: an encoded word (=?utf-8?q?=0D=0A?=) must not smuggle a line break in either.
    problems += [f"{name}: {value!r}" for name, value in msg.items()
                 if any(ch in str(value) for ch in "\r\n\x00")]
    return problems


def check_run(bench: Bench, summary: IntakeSummary, figures: Figures) -> None:
    """Assert every non-empty row is routed, nothing is a formula, no message is broken."""
    tabs, figures.formulas_written = bench.snapshot()
    # NUL is dropped on reading (PostgreSQL cannot store it); what is left decides emptiness.
    filled = {n for n, row in enumerate(tabs[FORM][1:], start=2)
              if any(c.replace("\x00", "").strip() for c in row)}
    assert summary.empty_rows == max(filled, default=1) - 1 - len(filled)
    assert summary.form_rows == len(filled)
    store = build_store(bench.config)
    try:
        latest = {v.form_row: v for v in store.load_versions()}
    finally:
        store.close()
    assert set(latest) == filled
    review = {r["Aanmelding"] for r in records(tabs["Beoordeling"])}
    corrections = {r["Aanmelding"]: r for r in records(tabs["Te corrigeren"])}
    for n in sorted(filled):
        v = latest[n]
        if v.valid:
            assert v.application_id in review, f"valid form row {n} has no review row"
        else:
            row = corrections.get(f"Formulierrij {n}")
            assert row and row["Problemen"].strip() and row["Status"] == "open", \
                f"invalid form row {n} has no correction row with a message: {row!r}"
    assert len(review) == summary.applications
    figures.rows_tried = len(filled)
    figures.review_rows = len(review)
    figures.correction_rows = sum(r["Status"] == "open" for r in corrections.values())
    assert figures.formulas_written == 0, "a cell of the pipeline's tabs is not text"
    for path in bench.outbox():
        if path.name not in figures.seen_mail:
            figures.seen_mail.add(path.name)
            problems = mail_problems(path)
            figures.injected_headers += bool(problems)
            assert not problems, f"{path.name}: {problems}"
    figures.messages = len(figures.seen_mail)


BACKENDS = pytest.mark.parametrize("backend", ["workbook", "google"])


@BACKENDS
def test_hostile_corpus_is_routed_and_never_executed(
    backend: str, tmp_path: Path, store_url: str, sheets_double: SheetsDouble
) -> None:
    """Every hostile row ends in review or corrections; no formula, no injected header."""
    corpus = hostile_rows()
    assert len(corpus) >= 200
    bench = Bench(backend, tmp_path, store_url, sheets_double,
                  form_table(r.answers for r in corpus))
    summary = bench.run()
    figures = Figures()
    check_run(bench, summary, figures)
    assert summary.empty_rows == sum(r.empty for r in corpus)
    assert figures.rows_tried == len(corpus) - summary.empty_rows
    assert figures.review_rows + figures.correction_rows == figures.rows_tried
    assert figures.review_rows > 50 and figures.correction_rows > 50  # both paths carry payloads
    again = bench.run()
    assert again.new_versions == 0 and again.messages_sent == 0
    figures.show(f"hostile corpus on {backend}")


# Fragments hypothesis mixes into its text: formula prefixes, header breaks, invisible text.
FRAGMENTS = ("=", "+", "-", "@", "=HYPERLINK(", "=IMPORTXML(", "cmd|' /C calc'!A0", "\r\n",
             "\r\nBcc: evil@example.org", "\x00", "<script>", "&", '"', "\u202e", "@example.org",
             *ZERO_WIDTH, *BIDI, *CONTROL[:8], " ", "\t", "Ja", "Utrecht", "1234 AB")
ANSWER = st.one_of(
    st.text(),
    st.lists(st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS)), max_size=8).map("".join),
)
ROW = st.one_of(
    st.lists(ANSWER, min_size=len(FORM_HEADERS), max_size=len(FORM_HEADERS)),
    # A valid response with some answers replaced, so generated text also reaches review.
    st.tuples(st.integers(1, 10_000), st.dictionaries(st.sampled_from(list(HEADER_BY_SLUG)), ANSWER,
                                                      max_size=4))
    .map(lambda t: [make_response(t[0], **t[1])[h] for h in FORM_HEADERS]),
)


# Examples per backend and store: 60 in all. A run costs ~0.3 s whatever its size (pandera's
# report of failing checks dominates), so a few rows per example and a moderate count.
EXAMPLES = 15


@BACKENDS
def test_generated_rows_are_routed_and_never_executed(
    backend: str, tmp_path: Path, store_url: str, sheets_double: SheetsDouble
) -> None:
    """Rows of arbitrary text, appended run after run to one store, keep every guarantee."""
    bench = Bench(backend, tmp_path, store_url, sheets_double, [list(FORM_HEADERS)])
    figures = Figures()
    tried = 0

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(rows=st.lists(ROW, min_size=1, max_size=4))
    def run_rows(rows: list[list[str]]) -> None:
        nonlocal tried
        tried += len(rows)
        bench.append(rows)
        check_run(bench, bench.run(), figures)

    run_rows()
    figures.show(f"generated rows on {backend} ({tried} appended)")


def drifted_form(case: str) -> dict[str, list[list[str]]]:
    """Return tabs whose headers stop intake: a form question missing or doubled, a review column doubled."""
    rows = form_table(r.answers for r in hostile_rows()[:20])
    tabs = {FORM: rows}
    if case == "form missing":
        rows[0][rows[0].index("Postcode")] = "Postcode (optioneel)"
    elif case == "form duplicate":
        for row in rows:
            row.append(row[FORM_HEADERS.index("Website")])
    else:
        tabs["Beoordeling"] = [[*REVIEW_HEADERS, "Besluit"]]
    return tabs


@pytest.mark.parametrize(("case", "named"), [
    ("form missing", "'Postcode'"), ("form duplicate", "'Website' more than once"),
    ("review duplicate", "'Besluit' more than once"),
])
def test_header_drift_stops_before_anything_is_written(
    case: str, named: str, tmp_path: Path, store_url: str
) -> None:
    """A missing or doubled header stops the run with the header message; nothing is written."""
    book = tmp_path / "book.xlsx"
    create_workbook(book, drifted_form(case))
    (tmp_path / "samen.toml").write_text(
        f'[sheets.workbook]\npath = "book.xlsx"\n\n[store]\nurl = "{store_url}"\n', encoding="utf-8")
    config = load_config(tmp_path / "samen.toml")
    before = book.read_bytes()
    store, sheets = build_store(config), build_sheets(config)
    try:
        with pytest.raises(HeaderError, match=named):
            run_intake(config, sheets=sheets, store=store, mail=build_mail(config), as_of=DAY)
        assert store.load_versions() == [] and store.load_applications() == []
        assert store.ledger.entries() == {} and store.audit_entries() == []
    finally:
        sheets.close()
        store.close()
    assert book.read_bytes() == before
    outbox = config.mail.outbox_path
    assert not outbox.exists() or not any(outbox.iterdir())
