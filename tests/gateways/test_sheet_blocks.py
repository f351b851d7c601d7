"""Joining cell blocks for one batch write: the same cells, in fewer rectangles."""

from __future__ import annotations

import random

from samen.gateways.sheets.base import CellBlock, stack_blocks


def written(blocks: list[CellBlock]) -> dict[tuple[str, int, int], str]:
    """Return the cells the blocks leave, writing them in order."""
    cells: dict[tuple[str, int, int], str] = {}
    for block in blocks:
        for r, row in enumerate(block.values):
            for c, value in enumerate(row):
                cells[block.tab, block.row + r, block.col + c] = value
    return cells


def test_rows_below_one_another_become_one_rectangle_per_column_group() -> None:
    blocks = []
    for row in range(2, 6):  # columns A-B and D, split by a human column C
        blocks += [CellBlock("Beoordeling", row, 1, ((f"id{row}", "x"),)),
                   CellBlock("Beoordeling", row, 4, ((f"s{row}",),))]
    stacked = stack_blocks(blocks)
    assert [b.a1_range() for b in stacked] == ["'Beoordeling'!A2:B5", "'Beoordeling'!D2:D5"]
    assert written(stacked) == written(blocks)


def test_gaps_other_tabs_and_other_widths_stay_apart() -> None:
    blocks = [CellBlock("T", 2, 1, (("a",),)), CellBlock("T", 4, 1, (("b",),)),
              CellBlock("U", 5, 1, (("c",),)), CellBlock("T", 5, 1, (("d", "e"),))]
    assert stack_blocks(blocks) == blocks


def test_overlapping_blocks_keep_their_order() -> None:
    blocks = [CellBlock("T", 2, 1, (("a",),)), CellBlock("T", 3, 1, (("b",),)),
              CellBlock("T", 2, 1, (("c",),))]
    assert stack_blocks(blocks) == blocks


def test_any_blocks_leave_the_same_cells() -> None:
    rng = random.Random(7)
    for trial in range(500):
        blocks = []
        for n in range(rng.randint(0, 12)):
            row, col, height = rng.randint(1, 6), rng.randint(1, 4), rng.randint(0, 2)
            values = tuple(tuple(f"{trial}.{n}.{i}.{j}" for j in range(rng.choice((1, 1, 2, 3))))
                           for i in range(height))
            blocks.append(CellBlock(rng.choice("TU"), row, col, values))
        assert written(stack_blocks(blocks)) == written(blocks)
