"""The workbook backend against real .xlsx files on disk (openpyxl, filelock)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from samen.gateways.sheets.base import (
    MAX_CELL_CHARS_WORKBOOK,
    TRUNCATION_MARKER,
    CellBlock,
    SheetsError,
    TabSpec,
)
from samen.gateways.sheets.workbook import WorkbookSheets, create_workbook

FORM = TabSpec("Formulierreacties 1", ("Tijdstempel", "E-mailadres"), create=False)
REVIEW = TabSpec("Beoordeling", ("Aanmelding", "Besluit"))


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    """Return a workbook with a form tab holding one text response."""
    path = tmp_path / "samen.xlsx"
    create_workbook(path, {FORM.title: [list(FORM.headers), ["26-11-2026 14:03:11", "a@b.nl"]]})
    return path


@pytest.fixture
def sheets(book_path: Path) -> Iterator[WorkbookSheets]:
    """Yield a WorkbookSheets on book_path, closed afterwards."""
    gateway = WorkbookSheets(book_path, lock_timeout=0.2)
    yield gateway
    gateway.close()


def reopen(path: Path) -> openpyxl.Workbook:
    """Load the workbook fresh from disk, as another program would."""
    return openpyxl.load_workbook(path)


def temp_files(folder: Path) -> list[str]:
    """Return leftover temporary files of an atomic save in folder."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_open_tabs_creates_missing_tab(sheets: WorkbookSheets, book_path: Path) -> None:
    """A missing creatable tab gets its header row and is saved with the next write."""
    got = sheets.open_tabs([FORM, REVIEW])
    assert got[REVIEW.title] == [list(REVIEW.headers)]
    assert got[FORM.title][1] == ["26-11-2026 14:03:11", "a@b.nl"]
    sheets.write_blocks([])
    sheet = reopen(book_path)[REVIEW.title]
    assert [c.value for c in sheet[1]] == list(REVIEW.headers)


def test_missing_required_tab_names_present_tabs(tmp_path: Path) -> None:
    """A create=False tab that is missing raises SheetsError listing the tabs that exist."""
    path = tmp_path / "other.xlsx"
    create_workbook(path, {"Blad1": [["x"]], "Beoordeling": [["y"]]})
    gateway = WorkbookSheets(path, lock_timeout=0.2)
    with pytest.raises(SheetsError) as err:
        gateway.open_tabs([REVIEW, FORM])
    message = str(err.value)
    assert f"'{FORM.title}'" in message
    assert "['Blad1', 'Beoordeling']" in message
    assert "[tabs]" in message
    # The failed open released the lock: a new gateway can open the file at once.
    again = WorkbookSheets(path, lock_timeout=0.2)
    assert again.open_tabs([REVIEW])[REVIEW.title] == [["y"]]
    again.close()
    assert "Beoordeling" in reopen(path).sheetnames and FORM.title not in reopen(path).sheetnames


def test_values_read_as_google_shows_them(tmp_path: Path) -> None:
    """Numbers, dates and booleans read as Dutch Google text; trailing blanks are dropped."""
    path = tmp_path / "typed.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Typed"
    sheet.append(["Tijdstempel", "Aantal", "Rond", "Datum", "Half", "Ja", "Leeg"])
    sheet.append([datetime(2026, 11, 26, 14, 3, 11), 7, 7.0, date(2026, 11, 26), 1.5, True])
    sheet.append(["tekst", None, "midden"])
    # Styled empty cells make openpyxl keep trailing cells and rows that Google would drop.
    sheet.cell(row=2, column=9).font = Font(bold=True)
    sheet.cell(row=6, column=2).font = Font(bold=True)
    book.save(path)
    loaded = reopen(path)["Typed"]
    assert (loaded.max_row, loaded.max_column) == (6, 9)  # the blanks really are in the file

    gateway = WorkbookSheets(path, lock_timeout=0.2)
    rows = gateway.open_tabs([TabSpec("Typed", ())])["Typed"]
    gateway.close()
    assert rows == [
        ["Tijdstempel", "Aantal", "Rond", "Datum", "Half", "Ja", "Leeg"],
        ["26-11-2026 14:03:11", "7", "7", "26-11-2026", "1,5", "WAAR"],
        ["tekst", "", "midden"],
    ]


def test_formula_text_is_stored_as_string(sheets: WorkbookSheets, book_path: Path) -> None:
    """A value starting with '=' is written as a plain string, never as a formula."""
    link = '=HYPERLINK("http://x","y")'
    sheets.open_tabs([FORM])
    sheets.write_blocks([CellBlock(FORM.title, 3, 1, ((link, "+31 6 1234"),))])
    cell = reopen(book_path)[FORM.title]["A3"]
    assert cell.data_type == "s"
    assert cell.value == link


def test_existing_formula_is_overwritten_with_text(tmp_path: Path) -> None:
    """A formula cell whose text equals the new value is still rewritten as a string."""
    path = tmp_path / "formula.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tab"
    sheet["A1"] = "=1+1"
    sheet["B1"] = "=SUM(A1)"
    book.save(path)
    assert reopen(path)["Tab"]["A1"].data_type == "f"

    gateway = WorkbookSheets(path, lock_timeout=0.2)
    assert gateway.open_tabs([TabSpec("Tab", ())])["Tab"] == [["=1+1", "=SUM(A1)"]]
    gateway.write_blocks([CellBlock("Tab", 1, 1, (("=1+1", "klaar"),))])
    gateway.close()
    cells = reopen(path)["Tab"][1]
    assert [(c.data_type, c.value) for c in cells] == [("s", "=1+1"), ("s", "klaar")]


def test_control_characters_are_removed(sheets: WorkbookSheets, book_path: Path) -> None:
    """Characters a workbook cannot hold are dropped; tab and newline survive."""
    raw = "a\x00b\x07c\x1bd\te\nf"
    assert ILLEGAL_CHARACTERS_RE.search(raw)
    sheets.open_tabs([FORM])
    sheets.write_blocks([CellBlock(FORM.title, 3, 1, ((raw,),))])
    value = reopen(book_path)[FORM.title]["A3"].value
    assert value == "abcd\te\nf"
    assert not ILLEGAL_CHARACTERS_RE.search(value)


def test_overlong_value_is_clipped_with_marker(sheets: WorkbookSheets, book_path: Path) -> None:
    """A 40,000-character value is cut to 32,767 characters ending in the marker."""
    sheets.open_tabs([FORM])
    sheets.write_blocks([CellBlock(FORM.title, 3, 2, (("x" * 40_000,),))])
    sheets.close()
    again = WorkbookSheets(book_path, lock_timeout=0.2)
    value = again.open_tabs([FORM])[FORM.title][2][1]
    again.close()
    assert len(value) == MAX_CELL_CHARS_WORKBOOK
    assert value.endswith(TRUNCATION_MARKER)
    assert value.startswith("x" * 1000)


def test_no_save_without_change(sheets: WorkbookSheets, book_path: Path) -> None:
    """Writing identical values or no blocks leaves the file's bytes and mtime alone."""
    old = 1_000_000_000
    os.utime(book_path, (old, old))
    before = book_path.read_bytes()
    rows = sheets.open_tabs([FORM])[FORM.title]
    sheets.write_blocks([])
    sheets.write_blocks([CellBlock(FORM.title, 1, 1, tuple(tuple(r) for r in rows))])
    assert book_path.stat().st_mtime == old
    assert book_path.read_bytes() == before
    sheets.write_blocks([CellBlock(FORM.title, 2, 2, (("c@d.nl",),))])
    assert book_path.stat().st_mtime != old
    assert reopen(book_path)[FORM.title]["B2"].value == "c@d.nl"


def test_crash_during_save_keeps_original(
    sheets: WorkbookSheets, book_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that dies halfway leaves the original file intact and no temporary file."""
    before = book_path.read_bytes()

    def crash(self: object, filename: str) -> None:
        Path(filename).write_bytes(b"half a zip")
        raise OSError("disk full")

    sheets.open_tabs([FORM])
    monkeypatch.setattr(openpyxl.Workbook, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        sheets.write_blocks([CellBlock(FORM.title, 2, 2, (("c@d.nl",),))])
    monkeypatch.undo()
    assert book_path.read_bytes() == before
    assert temp_files(book_path.parent) == []
    assert reopen(book_path)[FORM.title]["B2"].value == "a@b.nl"


def test_save_keeps_file_mode(sheets: WorkbookSheets, book_path: Path) -> None:
    """The atomic save keeps the workbook's permission bits instead of mkstemp's 0600."""
    book_path.chmod(0o640)
    sheets.open_tabs([FORM])
    sheets.write_blocks([CellBlock(FORM.title, 2, 2, (("c@d.nl",),))])
    assert book_path.stat().st_mode & 0o777 == 0o640
    assert temp_files(book_path.parent) == []


def test_lock_blocks_second_run_until_close(sheets: WorkbookSheets, book_path: Path) -> None:
    """A second gateway on the same file fails with 'in use' until the first closes."""
    sheets.open_tabs([FORM])
    second = WorkbookSheets(book_path, lock_timeout=0.2)
    with pytest.raises(SheetsError, match="in use") as err:
        second.open_tabs([FORM])
    assert str(book_path) in str(err.value)
    sheets.close()
    assert second.open_tabs([FORM])[FORM.title][1][1] == "a@b.nl"
    second.close()


def test_missing_workbook_names_path_and_fix(tmp_path: Path) -> None:
    """Opening a workbook that does not exist names the path and how to fix it."""
    path = tmp_path / "nowhere" / "samen.xlsx"
    with pytest.raises(SheetsError) as err:
        WorkbookSheets(path, lock_timeout=0.2).open_tabs([FORM])
    message = str(err.value)
    assert str(path) in message
    assert "samen demo" in message and "[sheets.workbook] path" in message
    assert not path.parent.exists()


def test_corrupt_workbook_is_reported_and_unlocked(tmp_path: Path) -> None:
    """A file that is not a valid .xlsx gives a SheetsError and does not keep the lock."""
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    for _ in range(2):  # the second attempt would time out if the lock were still held
        with pytest.raises(SheetsError, match="cannot be read") as err:
            WorkbookSheets(path, lock_timeout=0.2).open_tabs([FORM])
        assert str(path) in str(err.value)


def test_write_before_open_is_an_error(book_path: Path) -> None:
    """write_blocks without open_tabs raises instead of writing to nothing."""
    with pytest.raises(SheetsError, match="before open_tabs"):
        WorkbookSheets(book_path).write_blocks([])


def test_create_workbook_round_trip(tmp_path: Path) -> None:
    """create_workbook writes text tabs that open_tabs reads back unchanged, no default sheet."""
    path = tmp_path / "sub" / "new.xlsx"
    tabs = {
        "Formulierreacties 1": [["Tijdstempel", "Telefoon"], ["26-11-2026 14:03:11", "0612345678"]],
        "Te corrigeren": [["Rij", "Formule"], ["2", "=1+1"], [], ["4", "", "Zoë 🎉"]],
    }
    create_workbook(path, tabs)
    assert reopen(path).sheetnames == list(tabs)
    assert reopen(path)["Te corrigeren"]["B2"].data_type == "s"
    gateway = WorkbookSheets(path, lock_timeout=0.2)
    got = gateway.open_tabs([TabSpec(t, ()) for t in tabs])
    gateway.close()
    assert got == tabs


def test_stale_temp_files_of_a_killed_save_are_removed(tmp_path: Path) -> None:
    """A temporary file left by a save that died is removed by the next run that holds the lock."""
    from samen.gateways.sheets.workbook import WorkbookSheets, create_workbook

    path = tmp_path / "book.xlsx"
    create_workbook(path, {"Formulierreacties 1": [["Tijdstempel"]]})
    stale = tmp_path / ".book.xlsx.abc123.tmp"
    stale.write_bytes(b"half a zip")
    sheets = WorkbookSheets(path)
    try:
        sheets.open_tabs([])
    finally:
        sheets.close()
    assert not stale.exists() and path.exists()


def count_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count openpyxl.load_workbook calls from now on (one element per call)."""
    calls: list[int] = []
    real = openpyxl.load_workbook

    def counting(*args: object, **kwargs: object) -> openpyxl.Workbook:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    return calls


def write_once(path: Path, value: str) -> list[list[str]]:
    """Open the form tab, write B2, close; return the rows read before the write."""
    gateway = WorkbookSheets(path, lock_timeout=0.2)
    try:
        rows = gateway.open_tabs([FORM])[FORM.title]
        gateway.write_blocks([CellBlock(FORM.title, 2, 2, ((value,),))])
        return rows
    finally:
        gateway.close()


def test_kept_book_is_reused_only_while_the_file_is_unchanged(
    book_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside keep_books a run takes the book saved last; a change by another program reloads."""
    from samen.gateways.sheets.workbook import keep_books

    loads = count_loads(monkeypatch)
    with keep_books():
        write_once(book_path, "c@d.nl")
        assert write_once(book_path, "e@f.nl")[1] == ["26-11-2026 14:03:11", "c@d.nl"]
        assert len(loads) == 1  # the second run took the book saved by the first
        # Another program (a person in Excel) changes the file: the next run reads it afresh.
        other = reopen(book_path)
        other[FORM.title]["A2"] = "27-11-2026 09:00:00"
        other.save(book_path)
        assert write_once(book_path, "g@h.nl")[1] == ["27-11-2026 09:00:00", "e@f.nl"]
        assert len(loads) == 3
    # Outside keep_books every run loads the file, as a fresh process would.
    write_once(book_path, "i@j.nl")
    write_once(book_path, "k@l.nl")
    assert len(loads) == 5
    assert reopen(book_path)[FORM.title]["B2"].value == "k@l.nl"


def test_kept_book_is_dropped_after_a_failed_save(
    book_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A book whose save failed holds changes the file lacks: the next run loads the file."""
    from samen.gateways.sheets.workbook import keep_books

    with keep_books():
        write_once(book_path, "c@d.nl")
        gateway = WorkbookSheets(book_path, lock_timeout=0.2)
        gateway.open_tabs([FORM, REVIEW])  # creates a tab in memory: unsaved from here on
        monkeypatch.setattr(openpyxl.Workbook, "save", lambda *_a: (_ for _ in ()).throw(OSError("vol")))
        with pytest.raises(OSError, match="vol"):
            gateway.write_blocks([CellBlock(FORM.title, 2, 2, (("x@y.nl",),))])
        gateway.close()
        monkeypatch.undo()
        loads = count_loads(monkeypatch)
        rows = write_once(book_path, "e@f.nl")
        assert loads and rows[1] == ["26-11-2026 14:03:11", "c@d.nl"]
        assert REVIEW.title not in reopen(book_path).sheetnames
