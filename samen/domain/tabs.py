"""Table rules shared by every stage: header checks and reconciling a tab with its desired rows.

The pipeline computes what its own columns should say and writes only the cells that differ,
so an idle run writes nothing and a human column is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from samen.gateways.sheets.base import (
    MAX_CELL_CHARS_WORKBOOK,
    CellBlock,
    SheetsError,
    clip_cell,
)

# Control characters a workbook cannot hold (tab and newline are fine in a cell).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class HeaderError(SheetsError):
    """A tab's header row lacks a column the pipeline needs, or names one twice."""


def sheet_text(value: str) -> str:
    """Return value as any backend will store it: no control characters, clipped to a cell."""
    if not value.isprintable():  # printable text has no control characters: most cells
        value = _CONTROL.sub("", value)
    return clip_cell(value, MAX_CELL_CHARS_WORKBOOK)


def header_index(
    tab: str, rows: Sequence[Sequence[str]], required: Sequence[str], fix: str
) -> dict[str, int]:
    """Return header -> 1-based column for the required headers, or raise a HeaderError."""
    header = [h.strip() for h in rows[0]] if rows else []
    seen: dict[str, int] = {}
    doubles: list[str] = []
    for col, name in enumerate(header, start=1):
        if not name:
            continue
        if name in seen:
            doubles.append(name)
        else:
            seen[name] = col
    missing = [h for h in required if h not in seen]
    present = [h for h in header if h]
    if missing:
        raise HeaderError(
            f"Tab '{tab}' has no column {', '.join(repr(m) for m in missing)}; expected "
            f"columns: {list(required)}; present columns: {present}. {fix}"
        )
    twice = [d for d in doubles if d in required]
    if twice:
        raise HeaderError(
            f"Tab '{tab}' has the column {', '.join(repr(d) for d in twice)} more than once; "
            f"present columns: {present}. Rename or remove the extra column, then run again."
        )
    return {h: seen[h] for h in required}


@dataclass(frozen=True)
class Reconciliation:
    """What reconciling one tab produced: the blocks to write and what they do."""

    blocks: list[CellBlock]
    rows_added: int
    rows_changed: int


def reconcile_tab(
    tab: str,
    rows: Sequence[Sequence[str]],
    columns: Mapping[str, int],
    key_header: str | tuple[str, ...],
    desired: Mapping[str, Mapping[str, str]] | Iterable[tuple[str, Mapping[str, str]]],
    initial: Mapping[str, str] | None = None,
) -> Reconciliation:
    """Return the cell blocks that make the pipeline's columns say what desired says.

    desired maps a row key (the value in key_header, or the values of several key headers joined
    with "|", whose cells the desired row then names) to the pipeline-owned cells of that row; it
    may also be (key, cells) pairs with distinct keys, taken one at a time.
    Rows are located by key; new keys are appended below the last row. Only headers named in
    desired rows are written, so human columns are never touched; `initial` gives values for
    cells of new rows only (such as a human Status column that starts as "open").
    """
    key_cols = [columns[h] for h in ((key_header,) if isinstance(key_header, str) else key_header)]
    located: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        parts = [row[c - 1].strip() if len(row) >= c else "" for c in key_cols]
        key = "|".join(parts) if all(parts) else ""
        if key and key not in located:
            located[key] = number
    next_row = max(len(rows) + 1, 2)
    blocks: list[CellBlock] = []
    added = changed = 0
    single_key = isinstance(key_header, str)
    runs: dict[tuple[int, ...], list[tuple[int, ...]]] = {}  # changed columns -> adjacent runs
    for key, cells in desired.items() if isinstance(desired, Mapping) else desired:
        wanted = {columns[h]: sheet_text(v) for h, v in cells.items()}
        if single_key:
            wanted[key_cols[0]] = key
        found = located.get(key)
        if found is None:
            number, next_row = next_row, next_row + 1
            added += 1
            for header, value in (initial or {}).items():
                wanted.setdefault(columns[header], value)
            diff = {col: text for col, text in wanted.items() if text}  # a new row is empty
        else:
            number = found
            current = rows[number - 1]
            diff = {
                col: text for col, text in wanted.items()
                if (current[col - 1] if len(current) >= col else "") != text
            }
            if not diff:
                continue
            changed += 1
        order = tuple(sorted(diff))
        if order not in runs:
            runs[order] = _adjacent_runs(order)
        blocks.extend(CellBlock(tab, number, run[0], (tuple(diff[c] for c in run),))
                      for run in runs[order])
    return Reconciliation(blocks=blocks, rows_added=added, rows_changed=changed)


def _adjacent_runs(columns: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Split sorted column numbers into runs of adjacent ones: (1, 2, 5) -> [(1, 2), (5,)]."""
    out: list[list[int]] = []
    for col in columns:
        if out and col == out[-1][-1] + 1:
            out[-1].append(col)
        else:
            out.append([col])
    return [tuple(run) for run in out]


def contiguous_blocks(tab: str, row: int, cells: Mapping[int, str]) -> list[CellBlock]:
    """Group one row's changed cells into blocks of adjacent columns."""
    blocks: list[CellBlock] = []
    run: list[str] = []
    start = prev = 0
    for col in sorted(cells):
        if run and col == prev + 1:
            run.append(cells[col])
        else:
            if run:
                blocks.append(CellBlock(tab, row, start, (tuple(run),)))
            run, start = [cells[col]], col
        prev = col
    if run:
        blocks.append(CellBlock(tab, row, start, (tuple(run),)))
    return blocks
