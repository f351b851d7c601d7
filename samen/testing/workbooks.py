"""Workbook helpers for tests and the demo: read a tab as text, edit cells as a person would."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import openpyxl

from samen.gateways.sheets.workbook import read_sheet


def tab_rows(path: Path, title: str) -> list[list[str]]:
    """Return a workbook tab's rows as text (as the pipeline sees them)."""
    book = openpyxl.load_workbook(path)
    return read_sheet(book[title]) if title in book.sheetnames else []


def edit_cells(path: Path, title: str, edits: Mapping[tuple[int, int], str]) -> None:
    """Edit cells (row, column; 1-based) of a workbook tab, as a person would (a new tab if missing)."""
    book = openpyxl.load_workbook(path)
    sheet = book[title] if title in book.sheetnames else book.create_sheet(title)
    for (row, col), value in edits.items():
        sheet.cell(row=row, column=col).value = value
    book.save(path)


def records(rows: list[list[str]]) -> list[dict[str, str]]:
    """Return a tab's data rows as dicts by header."""
    header = rows[0]
    return [{h: (r[i] if i < len(r) else "") for i, h in enumerate(header)} for r in rows[1:]]
