"""The local workbook backend (.xlsx through openpyxl): locked, saved atomically, only on change."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
from filelock import FileLock, Timeout
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.workbook.workbook import Workbook

from samen.gateways.sheets.base import (
    MAX_CELL_CHARS_WORKBOOK,
    CellBlock,
    SheetsError,
    SnapshotCheck,
    TabSpec,
    clip_cell,
)

# Parsing the whole .xlsx is most of a run's time on a grown workbook, and a process that runs
# many flows on one file (the demo: 29 runs and its people's edits) would parse it again for every
# run. Inside keep_books() the process keeps the last books it loaded or saved, each with the
# digest of the file's bytes at that moment, and a run takes a kept book instead of parsing only
# while it holds the lock and the file's bytes are still exactly those: any change by anyone (a
# person, another process) means a fresh load. Off by default: a scheduled run is a fresh process.
KEPT_BOOKS = 2
_kept: OrderedDict[str, tuple[str, Workbook]] = OrderedDict()
_kept_guard = threading.Lock()
_keeping = 0


@contextmanager
def keep_books() -> Iterator[None]:
    """Let the runs of this block take the workbook this process last loaded or saved, if unchanged."""
    global _keeping
    with _kept_guard:
        _keeping += 1
    try:
        yield
    finally:
        with _kept_guard:
            _keeping -= 1
            if not _keeping:
                _kept.clear()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def _take_kept(path: Path, digest: str) -> Workbook | None:
    """Return (and forget) the kept book of path if it was kept for exactly these bytes."""
    with _kept_guard:
        kept = _kept.pop(str(path), None)
    return kept[1] if kept is not None and kept[0] == digest else None


def _keep(path: Path, digest: str, book: Workbook) -> None:
    with _kept_guard:
        if not _keeping:
            return
        _kept[str(path)] = (digest, book)
        _kept.move_to_end(str(path))
        while len(_kept) > KEPT_BOOKS:
            _kept.popitem(last=False)


class WorkbookSheets:
    """A .xlsx file with the same tabs and headers as the Google Sheet."""

    def __init__(self, path: Path, *, lock_timeout: float = 30.0) -> None:
        """Use the workbook at path; open_tabs locks it until close()."""
        self.path = Path(path)
        self.lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout)
        self.book: Workbook | None = None
        self.dirty = False
        # Digest of the file's bytes that self.book equals (None: unknown or changed since).
        self.digest: str | None = None

    def open_tabs(
        self, specs: Sequence[TabSpec], check: SnapshotCheck | None = None
    ) -> dict[str, list[list[str]]]:
        """Lock the workbook, read every tab as text, check it, then add missing tabs."""
        if not self.path.is_file():
            raise SheetsError(
                f"Workbook '{self.path}' does not exist. Run 'samen demo' to create one, or set "
                "[sheets.workbook] path in samen.toml to an existing .xlsx file."
            )
        try:
            self.lock.acquire()
        except Timeout:
            raise SheetsError(
                f"Workbook '{self.path}' is in use by another run (lock '{self.lock.lock_file}'). "
                "Wait for that run to finish; remove the lock file only if no run is active."
            ) from None
        remove_stale_temp_files(self.path)
        try:
            data = self.path.read_bytes()
            self.digest = _digest(data)
            self.book = _take_kept(self.path.resolve(), self.digest) or openpyxl.load_workbook(
                io.BytesIO(data))
        except Exception as exc:
            self.book, self.digest = None, None
            self.lock.release()
            raise SheetsError(
                f"Workbook '{self.path}' cannot be read ({type(exc).__name__}: {exc}). Restore it "
                "from a backup or point [sheets.workbook] path at a valid .xlsx file."
            ) from exc
        for spec in specs:
            if spec.title not in self.book.sheetnames and not spec.create:
                present = list(self.book.sheetnames)
                self.close()
                raise spec.missing_tab_error(present)
        snapshot = {
            spec.title: read_sheet(self.book[spec.title]) if spec.title in self.book.sheetnames
            else [list(spec.headers)]
            for spec in specs
        }
        if check is not None:
            check(snapshot)
        for spec in specs:
            if spec.title not in self.book.sheetnames:
                sheet = self.book.create_sheet(spec.title)
                for col, header in enumerate(spec.headers, start=1):
                    set_text(sheet.cell(row=1, column=col), header)
                self.dirty = True
        return snapshot

    def write_blocks(self, blocks: Sequence[CellBlock]) -> None:
        """Write changed cells as text and save atomically if anything changed."""
        if self.book is None:
            raise SheetsError("write_blocks called before open_tabs; this is a bug in samen.")
        for block in blocks:
            sheet = self.book[block.tab]
            for r, values in enumerate(block.values):
                for c, value in enumerate(values):
                    cell = sheet.cell(row=block.row + r, column=block.col + c)
                    text = clean_text(value)
                    if cell_text(cell.value) != text or cell.data_type == "f":
                        set_text(cell, text)
                        self.dirty = True
        if self.dirty:
            self.digest = None
            self.digest = save_atomically(self.book, self.path)
            self.dirty = False

    def close(self) -> None:
        """Release the lock (unsaved changes are dropped: nothing half-written)."""
        if self.book is not None and not self.dirty and self.digest is not None:
            _keep(self.path.resolve(), self.digest, self.book)
        self.book, self.digest = None, None
        if self.lock.is_locked:
            self.lock.release()


def clean_text(value: str) -> str:
    """Remove characters a workbook cannot hold and cut an over-long value with a marker."""
    return clip_cell(ILLEGAL_CHARACTERS_RE.sub("", value), MAX_CELL_CHARS_WORKBOOK)


def set_text(cell: object, text: str) -> None:
    """Store text in a cell as a string, never as a formula."""
    cell.value = text or None  # type: ignore[attr-defined]
    if text:
        cell.data_type = "s"  # type: ignore[attr-defined]


def read_sheet(sheet: object) -> list[list[str]]:
    """Return a sheet's rows as text, trailing empty cells and rows dropped (as Google does)."""
    rows: list[list[str]] = []
    for raw in sheet.iter_rows(values_only=True):  # type: ignore[attr-defined]
        row = [cell_text(v) for v in raw]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def cell_text(value: object) -> str:
    """Return the text Google Sheets (Dutch locale) would show for a cell value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "WAAR" if value else "ONWAAR"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.strftime("%d-%m-%Y")
        return value.strftime("%d-%m-%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value).replace(".", ",")
    return str(value)


def remove_stale_temp_files(path: Path) -> None:
    """Remove temporary files of saves that died (only call while holding the workbook's lock)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def save_atomically(book: Workbook, path: Path) -> str:
    """Save to a temporary file beside path, flush it to disk, rename over path; return its digest."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); keep the mode the workbook had, else 0644.
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    os.chmod(tmp, mode)
    try:
        book.save(tmp)
        with open(tmp, "rb+") as fh:
            digest = _digest(fh.read())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def create_workbook(path: Path, tabs: dict[str, list[list[str]]]) -> None:
    """Create a new workbook with the given tabs and rows (all text), saved atomically."""
    book = openpyxl.Workbook()
    default = book.active
    for title, rows in tabs.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value:
                    set_text(sheet.cell(row=r, column=c), clean_text(value))
    if default is not None and len(book.sheetnames) > 1:
        book.remove(default)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomically(book, path)
