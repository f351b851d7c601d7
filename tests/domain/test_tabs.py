"""Reconciling a tab with its desired rows: located by key, only differing cells written."""

from __future__ import annotations

from collections.abc import Iterator

from samen.domain.tabs import reconcile_tab
from samen.gateways.sheets.base import CellBlock

ROWS = [
    ["Aanmelding", "Initiatief", "Besluit", "Signalen"],
    ["SAMEN-001", "Buurttuin", "ja", ""],
    ["SAMEN-002", "Moestuin", "", "oud signaal"],
]
COLUMNS = {"Aanmelding": 1, "Initiatief": 2, "Besluit": 3, "Signalen": 4}
DESIRED = {
    "SAMEN-001": {"Initiatief": "Buurttuin", "Signalen": ""},  # unchanged
    "SAMEN-002": {"Initiatief": "Moestuin", "Signalen": "nieuw signaal"},
    "SAMEN-003": {"Initiatief": "Speeltuin", "Signalen": ""},
}


def test_only_differing_cells_and_new_rows_are_written() -> None:
    """An unchanged row gives nothing; a changed cell its own block; a new row goes below."""
    result = reconcile_tab("Beoordeling", ROWS, COLUMNS, "Aanmelding", DESIRED,
                           initial={"Besluit": "open"})
    assert result.blocks == [
        CellBlock("Beoordeling", 3, 4, (("nieuw signaal",),)),
        CellBlock("Beoordeling", 4, 1, (("SAMEN-003", "Speeltuin", "open"),)),
    ]
    assert (result.rows_added, result.rows_changed) == (1, 1)


def test_desired_rows_may_come_one_at_a_time() -> None:
    """(key, cells) pairs from a generator give the same blocks as the mapping, each made once."""
    made: list[str] = []

    def one_at_a_time() -> Iterator[tuple[str, dict[str, str]]]:
        for key, cells in DESIRED.items():
            made.append(key)
            yield key, cells

    by_mapping = reconcile_tab("Beoordeling", ROWS, COLUMNS, "Aanmelding", DESIRED)
    by_pairs = reconcile_tab("Beoordeling", ROWS, COLUMNS, "Aanmelding", one_at_a_time())
    assert by_pairs == by_mapping
    assert made == list(DESIRED)
