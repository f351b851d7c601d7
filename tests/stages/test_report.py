"""Report: one self-contained HTML page from the store and the open signals, written only on change."""

from __future__ import annotations

import base64
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from samen.config import Config, load_config
from samen.demo.programme import calendar
from samen.demo.runner import (
    CONFIG,
    act,
    add_approvals,
    apply_delfshaven_edit,
    fill_decisions,
    seed_demo,
    seed_meetings,
)
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.stages.attendance import run_attendance
from samen.stages.intake import run_intake
from samen.stages.invitations import run_invitations
from samen.stages.report import ReportSummary, run_report
from samen.stages.selection import run_selection
from samen.testing.forms import make_response
from samen.testing.workbooks import edit_cells, records, tab_rows

AS_OF = date(2023, 9, 1)
LAST_STEP = AS_OF  # meetings 1 and 2 held and processed, meeting 3 announced
SCRIPT_NAME = "<script>alert('samen')</script> Repair Café"
HEADINGS = ("Van inzending tot deelnemer", "Aanwezigheid per bijeenkomst", "Aanwezigheid per tandem",
            "Open signalen", "Berichten")
SVG_URI = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def run_stage(config: Config, stage: Callable[..., Any], day: date) -> Any:
    """Run one stage function with fresh gateways, as a flow would (without Prefect)."""
    store, sheets = build_store(config), build_sheets(config)
    try:
        return stage(config, sheets=sheets, store=store, mail=build_mail(config), as_of=day)
    finally:
        sheets.close()
        store.close()


def make_report(config: Config, out: Path, as_of: date = AS_OF) -> ReportSummary:
    """Run the report stage once with fresh gateways."""
    store, sheets = build_store(config), build_sheets(config)
    try:
        return run_report(config, sheets=sheets, store=store, as_of=as_of, out=out)
    finally:
        sheets.close()
        store.close()


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a demo programme folder run up to AS_OF (one initiative is named <script>)."""
    folder = tmp_path_factory.mktemp("programme")
    seed_demo(folder)
    config = load_config(folder / CONFIG)
    form = config.tabs["form"]
    header = tab_rows(config.workbook.path, form)[0]
    # Row 2 is the first response (Repair Café Zwolle-Zuid): a kenniskring tandem.
    edit_cells(config.workbook.path, form, {(2, header.index("Naam bewonersinitiatief") + 1): SCRIPT_NAME})
    run_stage(config, run_intake, date(2022, 10, 31))
    apply_delfshaven_edit(folder)
    run_stage(config, run_intake, date(2022, 11, 1))
    fill_decisions(folder)
    run_stage(config, run_selection, date(2022, 11, 25))
    add_approvals(folder)
    run_stage(config, run_selection, date(2022, 11, 28))
    seed_meetings(folder)
    p = config.programme
    for step in calendar(p.invite_days_before, p.reminder_days_before):
        if step.day > LAST_STEP:
            break
        if step.action in ("move", "excuse", "attend"):
            act(folder, step)
        if step.action in ("invite", "move"):
            run_stage(config, run_invitations, step.day)
        elif step.action == "attend":
            run_stage(config, run_attendance, step.day)
    return folder


@pytest.fixture
def copy(programme: Path, tmp_path: Path) -> Iterator[Config]:
    """Yield the configuration of a private copy of the programme (a test may change it)."""
    folder = tmp_path / "copy"
    shutil.copytree(programme, folder, ignore=shutil.ignore_patterns("*.lock"))
    yield load_config(folder / CONFIG)


def test_report_shows_the_funnel_and_counts(copy: Config, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    summary = make_report(copy, out)
    assert (summary.submissions, summary.valid, summary.kern, summary.kenniskring,
            summary.afgewezen, summary.undecided) == (44, 39, 7, 32, 0, 0)
    assert (summary.meetings_announced, summary.meetings_processed) == (3, 2)
    assert summary.written and summary.path == str(out)
    assert summary.messages_sent > 0 and summary.messages_failed == 0
    html = out.read_text(encoding="utf-8")
    for heading in HEADINGS:
        assert heading in html
    assert "<b>44</b><span>inzendingen</span>" in html
    assert "<b>7</b><span>kern</span>" in html
    assert "Programma SAMEN" in html and "vrijdag 1 september 2023" in html
    assert "@example.org" not in html  # the report names organisations, never people


def test_report_grid_has_a_row_per_tandem_and_a_column_per_processed_meeting(
    copy: Config, tmp_path: Path
) -> None:
    make_report(copy, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    cells = re.findall(r'<td class="c (beide|een|geen|niet)" title="[^"]+">(.)</td>', html)
    assert len(cells) == 39 * 2
    symbols = {"beide": "●", "een": "◐", "geen": "○", "niet": "–"}
    assert all(symbols[state] == symbol for state, symbol in cells)
    assert "Kern (7)" in html and "Kenniskring (32)" in html
    # Meeting 3 is announced but not processed yet.
    assert "aanwezigheid nog niet verwerkt" in html


def test_report_embeds_charts_as_valid_svg_images(copy: Config, tmp_path: Path) -> None:
    make_report(copy, tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    images = SVG_URI.findall(html)
    assert len(images) >= 2
    for data in images:
        root = ET.fromstring(base64.b64decode(data))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.findall(".//{http://www.w3.org/2000/svg}rect")
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()


def test_report_escapes_html_from_the_data(copy: Config, tmp_path: Path) -> None:
    make_report(copy, tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;samen&#39;)&lt;/script&gt; Repair Café" in html
    assert "<script" not in html.lower()


def test_second_run_leaves_the_file_untouched(copy: Config, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert make_report(copy, out).written
    before = out.read_bytes()
    os.utime(out, ns=(1_000_000_000, 1_000_000_000))  # an old mtime: any rewrite would show
    again = make_report(copy, out)
    assert not again.written
    assert out.read_bytes() == before and out.stat().st_mtime_ns == 1_000_000_000
    assert not [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    # A new day is new content: the file is replaced.
    assert make_report(copy, out, as_of=date(2023, 7, 1)).written
    assert out.read_bytes() != before


def test_report_reads_the_sheet_without_writing_it(copy: Config, tmp_path: Path) -> None:
    book = copy.workbook.path
    before, mtime = book.read_bytes(), book.stat().st_mtime_ns
    make_report(copy, tmp_path / "report.html")
    assert book.read_bytes() == before and book.stat().st_mtime_ns == mtime


def test_signals_marked_afgehandeld_leave_the_report(copy: Config, tmp_path: Path) -> None:
    tab = copy.tabs["signals"]
    rows = tab_rows(copy.workbook.path, tab)
    signals = records(rows)
    assert signals, "the programme should have raised signals by now"
    first = make_report(copy, tmp_path / "a.html").open_signals
    assert first == len(signals)
    explanation = str(escape(signals[0]["Toelichting"]))
    assert explanation in (tmp_path / "a.html").read_text(encoding="utf-8")
    # A coordinator closes the first signal (case and spaces as people type them).
    edit_cells(copy.workbook.path, tab, {(2, rows[0].index("Status") + 1): "Afgehandeld "})
    assert make_report(copy, tmp_path / "b.html").open_signals == first - 1
    html = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert f"Open signalen ({first - 1})" in html
    assert explanation not in html


def test_report_of_a_programme_without_meetings(
    workbook_config: Callable[..., Config], tmp_path: Path
) -> None:
    config = workbook_config([make_response(n) for n in range(1, 4)])
    run_stage(config, run_intake, date(2022, 10, 1))
    out = tmp_path / "out" / "report.html"
    summary = make_report(config, out, as_of=date(2022, 10, 2))
    assert (summary.submissions, summary.valid, summary.undecided, summary.kern) == (3, 3, 3, 0)
    assert (summary.meetings_announced, summary.open_signals) == (0, 0)
    html = out.read_text(encoding="utf-8")
    assert len(SVG_URI.findall(html)) == 1  # the funnel; no attendance yet
    assert "Er is nog geen bijeenkomst aangekondigd." in html
    assert "Geen open signalen" in html
    assert "Nog geen besluit" in html


def test_flow_writes_beside_the_outbox_by_default(copy: Config) -> None:
    from samen.flows.report import report

    config_path = copy.mail.outbox_path.parent / CONFIG
    result = report.fn(config_path=str(config_path), as_of="2023-09-01")
    expected = copy.mail.outbox_path.parent / "report.html"
    assert result["path"] == str(expected) and expected.is_file()
    assert result["kern"] == 7
