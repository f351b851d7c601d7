"""Sheets gateway: one interface (SheetsGateway), a Google and a workbook implementation."""

from samen.gateways.sheets.base import (
    MAX_CELL_CHARS_GOOGLE,
    MAX_CELL_CHARS_WORKBOOK,
    CellBlock,
    SheetsError,
    SheetsGateway,
    TabSpec,
)

__all__ = [
    "MAX_CELL_CHARS_GOOGLE",
    "MAX_CELL_CHARS_WORKBOOK",
    "CellBlock",
    "SheetsError",
    "SheetsGateway",
    "TabSpec",
]
