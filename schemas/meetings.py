"""The contract of the meetings tab ("Bijeenkomsten"): checks, Dutch problems and `Meeting`s.

`validate_meetings` takes the tab as the text Google Sheets shows (Dutch locale), trims every
cell (empty means not filled in), skips empty rows, runs the pandera model lazily and turns each
failing cell into one `MeetingProblem`. A row with any problem yields no `Meeting`. The tab is
small (tens of rows), so dates and times are parsed per value with the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from types import MappingProxyType
from typing import Final

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from samen.domain.layouts import MEETINGS_HEADERS
from samen.domain.meetings import Meeting
from samen.schemas.failures import first_failures

_NAMES = ("nr", "day", "start", "end", "title", "location", "address", "audience", "status",
          "materials", "attendance_complete")
# Field name -> header; the headers are the tab's contract in samen.domain.layouts.
MEETING_FIELDS: Final = MappingProxyType(dict(zip(_NAMES, MEETINGS_HEADERS, strict=True)))
TITLE_CHARS: Final = 200
AUDIENCES: Final = ("iedereen", "kern")
STATUSES: Final = ("gepland", "afgelast")
_YES_NO: Final = {"ja": True, "nee": False}
# d-m-jjjj is how Google shows a date cell in the nl locale; dd-mm-jjjj is how people type it.
_DATE = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")
# h:mm, hh:mm or 13.00; Google shows a time cell in the nl locale as 13:00:00.
_TIME = re.compile(r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])(?::00)?")
_URL = r"(?i)^https?://[^ \t\r\n/?#]+\.[^ \t\r\n/?#]+(?:[/?#][^ \t\r\n]*)?$"
_SHOWN_CHARS = 80

_EMPTY = "{who}, kolom {column}: niets ingevuld. {fix}"
_BAD = '{who}, kolom {column}: "{value}" {reason} {fix}'
_MESSAGES = {  # check -> (reason, fix); the fix of a not_nullable problem comes from _FILL
    "nr_unique": ("staat ook in rij {others}.", "Geef elke bijeenkomst een eigen nummer."),
    "date_valid": ("is geen datum.", "Schrijf de datum als dd-mm-jjjj, bijvoorbeeld 25-09-2023."),
    "time_valid": ("is geen tijd.", "Schrijf de tijd als uu:mm, bijvoorbeeld 13:00."),
    "end_after_start": ("ligt niet na het begin ({start}).",
                        "Zet bij Einde een tijd na Begin, of verbeter Begin."),
    "title_length": ("is te lang: {count} tekens, hoogstens {high}.", "Maak de titel korter."),
    "audience_known": ("is geen doelgroep.", "Kies iedereen of kern (leeg betekent iedereen)."),
    "status_known": ("is geen status.", "Kies gepland of afgelast (leeg betekent gepland)."),
    "materials_url": ("is geen link.", "Zet er een link in die begint met https://, of laat het leeg."),
    "yes_no": ("is geen ja of nee.", "Vul ja of nee in (leeg betekent nee)."),
}
_FILL = {
    "nr": "Geef de bijeenkomst een nummer, bijvoorbeeld 9.",
    "day": "Vul de datum in als dd-mm-jjjj, bijvoorbeeld 25-09-2023.",
    "start": "Vul de begintijd in als uu:mm, bijvoorbeeld 13:00.",
    "end": "Vul de eindtijd in als uu:mm, bijvoorbeeld 17:00.",
    "title": "Vul de titel van de bijeenkomst in.",
}
_CHECK_ORDER = ("not_nullable", "field_uniqueness", *_MESSAGES)


@dataclass(frozen=True, slots=True)
class MeetingProblem:
    """One bad cell: sheet row, the meeting's Nr as typed, the header, the value and the message."""

    row: int
    nr: str
    field: str
    value: str
    message: str


@dataclass(frozen=True)
class MeetingValidation:
    """The valid meetings in sheet order, and the problems of the other rows."""

    meetings: list[Meeting]
    problems: list[MeetingProblem]


def parse_date(text: str) -> date | None:
    """Return the date of a d-m-jjjj or dd-mm-jjjj text, None when it is not a real date."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:  # 31-02-2023, 0-1-2023: shaped like a date but not one
        return None


def parse_time(text: str) -> time | None:
    """Return the time of an h:mm, hh:mm, hh.mm or hh:mm:00 text, None when it is not one."""
    match = _TIME.fullmatch(text)
    return None if match is None else time(int(match[1]), int(match[2]))


class MeetingRows(pa.DataFrameModel):
    """The meetings tab by field name: trimmed text, NA for an empty cell."""

    nr: Series[str] = pa.Field(nullable=False, unique=True)
    day: Series[str] = pa.Field(nullable=False)
    start: Series[str] = pa.Field(nullable=False)
    end: Series[str] = pa.Field(nullable=False)
    title: Series[str] = pa.Field(nullable=False)
    location: Series[str] = pa.Field(nullable=True)
    address: Series[str] = pa.Field(nullable=True)
    audience: Series[str] = pa.Field(nullable=True)
    status: Series[str] = pa.Field(nullable=True)
    materials: Series[str] = pa.Field(nullable=True)
    attendance_complete: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True

    @pa.check("day")
    def date_valid(cls, values: Series[str]) -> Series[bool]:
        """Accept a real date written d-m-jjjj or dd-mm-jjjj."""
        return values.map(parse_date).notna()

    @pa.check("start", "end")
    def time_valid(cls, values: Series[str]) -> Series[bool]:
        """Accept a time written h:mm, hh:mm, hh.mm or hh:mm:00."""
        return values.map(parse_time).notna()

    @pa.check("title")
    def title_length(cls, values: Series[str]) -> Series[bool]:
        """Accept a title of at most TITLE_CHARS characters."""
        return values.str.len() <= TITLE_CHARS

    @pa.check("audience")
    def audience_known(cls, values: Series[str]) -> Series[bool]:
        """Accept iedereen or kern in any case."""
        return values.str.lower().isin(AUDIENCES)

    @pa.check("status")
    def status_known(cls, values: Series[str]) -> Series[bool]:
        """Accept gepland or afgelast in any case."""
        return values.str.lower().isin(STATUSES)

    @pa.check("materials")
    def materials_url(cls, values: Series[str]) -> Series[bool]:
        """Accept an http(s) link with a dotted host."""
        return values.str.contains(_URL, regex=True)

    @pa.check("attendance_complete")
    def yes_no(cls, values: Series[str]) -> Series[bool]:
        """Accept ja or nee in any case."""
        return values.str.lower().isin(list(_YES_NO))

    @pa.dataframe_check
    @classmethod
    def end_after_start(cls, frame: pd.DataFrame) -> Series[bool]:
        """Flag rows whose end time is not after their start time (both readable)."""
        start = frame["start"].map(parse_time, na_action="ignore")
        end = frame["end"].map(parse_time, na_action="ignore")
        known = start.notna() & end.notna()
        return ~known | (end.where(known, time()) > start.where(known, time()))


def validate_meetings(rows: Sequence[Sequence[str]], columns: Mapping[str, int]) -> MeetingValidation:
    """Validate the meetings tab (row 1 the header) into meetings and Dutch problems."""
    frame = _prepare(rows, columns)
    problems: list[MeetingProblem] = []
    try:
        MeetingRows.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems = _problems(errors, frame)
    bad = {problem.row for problem in problems}
    good = frame[~frame.index.isin(list(bad))].astype(object).where(frame.notna(), "")
    meetings = [_meeting(record) for record in good.to_dict("records")]
    return MeetingValidation(meetings=meetings, problems=problems)


def _prepare(rows: Sequence[Sequence[str]], columns: Mapping[str, int]) -> pd.DataFrame:
    missing = [header for header in MEETINGS_HEADERS if columns.get(header, 0) < 1]
    if missing:
        raise ValueError(
            f"Tab 'Bijeenkomsten' has no column(s) {missing} (got {dict(columns)}); expected "
            f"1-based column numbers for {list(MEETINGS_HEADERS)}. Restore the header in the tab."
        )
    positions = {field: columns[header] - 1 for field, header in MEETING_FIELDS.items()}
    records: list[dict[str, str]] = []
    numbers: list[int] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {f: str(row[i]).strip() if i < len(row) else "" for f, i in positions.items()}
        if any(cells.values()):  # an empty row is a gap in the tab, not a meeting
            records.append(cells)
            numbers.append(number)
    index = pd.Index(numbers, dtype="int64")
    frame = pd.DataFrame(records, index=index, columns=list(positions), dtype="str")
    return frame.where(frame != "")


def _problems(errors: pa.errors.SchemaErrors, frame: pd.DataFrame) -> list[MeetingProblem]:
    chosen = first_failures(errors, list(MEETING_FIELDS), _CHECK_ORDER, ("end_after_start", "end"),
                            "Meetings")
    text = frame.astype(object).where(frame.notna(), "")
    problems = []
    for row, field, check in zip(chosen["row"].tolist(), chosen["field"], chosen["check"],
                                 strict=True):
        cells = text.loc[row]
        message = _message(check, field, cells, text, row)
        problems.append(MeetingProblem(row, cells["nr"], MEETING_FIELDS[field], cells[field], message))
    return problems


def _message(check: str, field: str, cells: pd.Series, text: pd.DataFrame, row: int) -> str:
    nr, value, column = cells["nr"], cells[field], MEETING_FIELDS[field]
    others = [str(r) for r in text.index[text["nr"] == nr] if r != row] if nr else []
    # Rows that share a Nr are told apart by their row number.
    who = f"Bijeenkomst {nr} (rij {row})" if others else f"Bijeenkomst {nr}" if nr else f"Rij {row}"
    if check == "not_nullable":
        return _EMPTY.format(who=who, column=column, fix=_FILL[field])
    check = "nr_unique" if check == "field_uniqueness" else check
    reason, fix = _MESSAGES[check]
    reason = reason.format(others=" en ".join(others), start=cells["start"], count=len(value),
                           high=TITLE_CHARS)
    return _BAD.format(who=who, column=column, value=_shown(value), reason=reason, fix=fix)


def _shown(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _SHOWN_CHARS else flat[: _SHOWN_CHARS - 1] + "…"


def _meeting(cells: Mapping[str, str]) -> Meeting:
    day, start, end = parse_date(cells["day"]), parse_time(cells["start"]), parse_time(cells["end"])
    assert day is not None and start is not None and end is not None  # the model checked them
    return Meeting(
        nr=cells["nr"], day=day, start=start, end=end, title=cells["title"],
        location=cells["location"], address=cells["address"],
        audience=cells["audience"].lower() or "iedereen",
        status=cells["status"].lower() or "gepland",
        materials=cells["materials"],
        attendance_complete=_YES_NO.get(cells["attendance_complete"].lower(), False),
    )
