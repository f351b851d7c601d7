"""A1 notation for the local Sheets API double: parse ranges, format them the way Google does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from samen.gateways.sheets.base import column_letter

_CELL = re.compile(r"([A-Za-z]{0,3})(\d{0,7})")
_PLAIN_TITLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Titles Google quotes although they are plain words: they read as a cell or R1C1 reference.
_LOOKS_LIKE_CELL = re.compile(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*")


class RangeError(ValueError):
    """A range the double cannot parse; the message is the text to answer with."""


@dataclass(frozen=True)
class Bounds:
    """A rectangle in 1-based rows and columns; None means open (to the grid's edge)."""

    row1: int
    col1: int
    row2: int | None
    col2: int | None

    def close(self, rows: int, cols: int) -> Bounds:
        """Return the bounds with open ends set to the grid's last row or column."""
        return Bounds(self.row1, self.col1, self.row2 or rows, self.col2 or cols)


def split_range(text: str) -> tuple[str | None, str | None]:
    """Split "'Tab'!A1:B2" into (title, cells); a text without '!' comes back unsplit."""
    if text.startswith("'"):
        i, title = 1, []
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    title.append("'")
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest == "":
                    return "".join(title), None
                if rest.startswith("!"):
                    return "".join(title), rest[1:]
                break
            title.append(text[i])
            i += 1
        raise RangeError(f"Unable to parse range: {text}")
    if "!" in text:
        title_text, cells = text.rsplit("!", 1)
        return title_text, cells
    return None, text


def parse_cells(text: str) -> Bounds:
    """Parse 'A1', 'A1:B2', 'A:A', '2:2', 'A2:F' or 'A1:1' into bounds."""
    parts = text.split(":")
    if len(parts) > 2:
        raise RangeError(text)
    ends: list[tuple[int | None, int | None]] = []
    for part in parts:
        match = _CELL.fullmatch(part)
        if match is None or not part:
            raise RangeError(text)
        letters, digits = match.group(1), match.group(2)
        if digits and int(digits) == 0:
            raise RangeError(text)
        ends.append((int(digits) if digits else None, column_index(letters) if letters else None))
    (row1, col1), (row2, col2) = ends[0], ends[-1]
    if len(parts) == 1 and (row1 is None or col1 is None):
        raise RangeError(text)
    row1, col1 = row1 or 1, col1 or 1
    # Google accepts reversed corners and normalises them.
    if row2 is not None and row2 < row1:
        row1, row2 = row2, row1
    if col2 is not None and col2 < col1:
        col1, col2 = col2, col1
    return Bounds(row1, col1, row2, col2)


def column_index(letters: str) -> int:
    """Return the 1-based index of column letters (A -> 1, AA -> 27)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


def google_title(title: str) -> str:
    """Return a title as Google writes it in answers: bare when plain, else quoted."""
    if _PLAIN_TITLE.fullmatch(title) and not _LOOKS_LIKE_CELL.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, bounds: Bounds) -> str:
    """Return "Title!A1:B2" (or "Title!A1" for one cell) for closed bounds."""
    assert bounds.row2 is not None and bounds.col2 is not None
    start = f"{column_letter(bounds.col1)}{bounds.row1}"
    end = f"{column_letter(bounds.col2)}{bounds.row2}"
    cells = start if start == end else f"{start}:{end}"
    return f"{google_title(title)}!{cells}"
