"""The sheets interface every backend implements, in domain-shaped terms.

A run talks to the spreadsheet in exactly three moves, whatever the number of rows:
`open_tabs` (read the metadata once, create missing tabs with their headers in one call,
read every wanted tab's values in one batch), then at most one `write_blocks` (one batch
write of every changed cell, as RAW text). Every cell is handed over as the text Google Sheets
shows for it, so the logic never depends on the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_CELL_CHARS_GOOGLE = 50_000
MAX_CELL_CHARS_WORKBOOK = 32_767
TRUNCATION_MARKER = " […ingekort: volledige tekst staat in de database]"


class SheetsError(RuntimeError):
    """Broken infrastructure or a broken spreadsheet: the message names the value and the fix."""


@dataclass(frozen=True)
class TabSpec:
    """A tab the run wants: its title and the header row to create it with when missing.

    A tab with create=False (the form tab Google Forms writes) must exist already; a backend
    raises missing_tab_error() for it instead of creating it.
    """

    title: str
    headers: tuple[str, ...]
    create: bool = True

    def missing_tab_error(self, present: Sequence[str]) -> SheetsError:
        """Return the error for a required tab that is not in the spreadsheet."""
        return SheetsError(
            f"Tab '{self.title}' is not in the spreadsheet; present tabs: {list(present)}. "
            "Set the right tab name under [tabs] in samen.toml (for the form: the tab Google "
            "Forms writes its responses to)."
        )


@dataclass(frozen=True)
class CellBlock:
    """A rectangle of text values to write, starting at a 1-based (row, column) of a tab."""

    tab: str
    row: int
    col: int
    values: tuple[tuple[str, ...], ...]

    def a1_range(self) -> str:
        """Return the block's A1 range, quoted the way the Sheets API wants it."""
        height = len(self.values)
        width = max((len(r) for r in self.values), default=1)
        start = f"{column_letter(self.col)}{self.row}"
        end = f"{column_letter(self.col + width - 1)}{self.row + height - 1}"
        return f"{quote_tab(self.tab)}!{start}:{end}"


SnapshotCheck = Callable[[Mapping[str, list[list[str]]]], None]


class SheetsGateway(Protocol):
    """What the flows need of a spreadsheet."""

    def open_tabs(
        self, specs: Sequence[TabSpec], check: SnapshotCheck | None = None
    ) -> dict[str, list[list[str]]]:
        """Read all tabs' values as text, then create missing tabs with their headers.

        Returns per tab title the rows as lists of strings (row 1 = header), trailing empty
        cells and rows dropped, as Google returns them; a tab about to be created appears as
        its header row. `check` sees that snapshot before any tab is created, so a header
        error stops the run before anything is written.
        """
        ...

    def write_blocks(self, blocks: Sequence[CellBlock]) -> None:
        """Write all blocks in one batch as RAW text; no call at all when blocks is empty."""
        ...

    def close(self) -> None:
        """Release locks and connections."""
        ...


def column_letter(index: int) -> str:
    """Return the A1 column letters of a 1-based column index (1 -> A, 27 -> AA)."""
    if index < 1:
        raise ValueError(f"column index must be >= 1, got {index}")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def quote_tab(title: str) -> str:
    """Quote a tab title for A1 notation ('Te corrigeren'!A1)."""
    return "'" + title.replace("'", "''") + "'"


def clip_cell(value: str, limit: int) -> str:
    """Cut a value longer than a cell holds, with a visible marker (the store keeps it whole)."""
    if len(value) <= limit:
        return value
    return value[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER


def stack_blocks(blocks: Sequence[CellBlock]) -> list[CellBlock]:
    """Join blocks that continue one another one row down, equally wide, into one rectangle.

    A tab's new rows (one block per row, or two when a human column splits them) become a few
    rectangles instead of a range per row, so a batch write stays small however many rows it
    adds. Blocks that overlap are returned as they are: their order decides which value stays.
    """
    if _overlap(blocks):
        return list(blocks)
    runs: list[list[CellBlock]] = []
    ends: dict[tuple[str, int, int, int], int] = {}  # (tab, col, width, next row) -> run
    for block in blocks:
        width = len(block.values[0]) if block.values else 0
        if width == 0 or any(len(r) != width for r in block.values):
            runs.append([block])  # empty or ragged: written as it is
            continue
        at = ends.pop((block.tab, block.col, width, block.row), None)
        if at is None:
            at = len(runs)
            runs.append([])
        runs[at].append(block)
        ends[block.tab, block.col, width, block.row + len(block.values)] = at
    return [run[0] if len(run) == 1 else
            CellBlock(run[0].tab, run[0].row, run[0].col, tuple(r for b in run for r in b.values))
            for run in runs]


def _overlap(blocks: Sequence[CellBlock]) -> bool:
    """Tell whether two blocks write a cell in common."""
    taken: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for block in blocks:
        for offset, row in enumerate(block.values):
            start, end = block.col, block.col + len(row)
            spans = taken.setdefault((block.tab, block.row + offset), [])
            if any(s < end and start < e for s, e in spans):
                return True
            spans.append((start, end))
    return False


def pad_rows(rows: Mapping[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    """Return a copy with every row as a list of str (defensive against None cells)."""
    return {t: [["" if c is None else str(c) for c in r] for r in rs] for t, rs in rows.items()}
