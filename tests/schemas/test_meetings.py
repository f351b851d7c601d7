"""The meetings tab's contract: the SAMEN programme parses, bad cells give one Dutch problem each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time

import pytest

from samen.domain.layouts import MEETINGS_HEADERS
from samen.domain.meetings import Meeting
from samen.schemas.meetings import (
    MEETING_FIELDS,
    MeetingProblem,
    MeetingValidation,
    validate_meetings,
)

COLUMNS = {header: n for n, header in enumerate(MEETINGS_HEADERS, start=1)}
GOOD = {
    "Nr": "9", "Datum": "25-09-2023", "Begin": "13:00", "Einde": "17:00",
    "Titel": "Bijeenkomst Kenniskring", "Locatie": "Buurthuis De Linde",
    "Adres": "Lindelaan 1, Utrecht", "Doelgroep": "iedereen", "Status": "gepland",
    "Materiaal": "", "Aanwezigheid compleet": "",
}
# Programma SAMEN (programme.md); the venues not published are invented: a cell as Google shows it
# (27-3-2023), as typed (25-09-2023), times as 13:00 or 13.00.
SAMEN = [
    ["1", "27-3-2023", "13:00", "17:00", "Eerste bijeenkomst", "Wijkcentrum De Boog",
     "Boogstraat 12, Utrecht", "iedereen", "gepland", "https://voorbeeld.nl/verslag-1.pdf", "ja"],
    ["2", "23-6-2023", "13:00", "17:00", "Bijeenkomst op het StadmakersCongres",
     "StadmakersCongres", "Haarlem", "Iedereen", "", "", "Ja"],
    ["3", "25-09-2023", "13.00", "17.00", "Derde bijeenkomst", "Stadhuis Zwolle", "", "", "", "",
     "nee"],
    ["4", "27-11-2023", "13:00", "17:00", "Vierde bijeenkomst", "Het Klooster", "Amersfoort",
     "", "", "", ""],
    ["5", "8-3-2024", "13:00", "17:00", "Op bezoek in Tynaarlo", "Stichting Plaats de Wereld",
     "Tynaarlo", "iedereen", "gepland", "", ""],
    ["6", "27-05-2024", "13:00", "17:00", "Zesde bijeenkomst", "Buurthuis De Linde",
     "Lindelaan 1, Utrecht", "", "", "", ""],
    ["7", "23-9-2024", "13:00", "17:00", "Zevende bijeenkomst", "Bibliotheek Kampen", "Kampen"],
    ["8", "25-11-2024", "13:00", "17:00", "Afsluiting Programma SAMEN", "Het Klooster",
     "Amersfoort", "iedereen", "gepland"],
]


def validate(*rows: Sequence[str], columns: Mapping[str, int] = COLUMNS) -> MeetingValidation:
    """Validate the tab: the header row, then the given rows."""
    return validate_meetings([list(MEETINGS_HEADERS), *rows], columns)


def row(**changes: str) -> list[str]:
    """Return GOOD with some cells changed (keyword = header without spaces)."""
    cells = {**GOOD, **{header: changes[header.replace(" ", "_")] for header in MEETINGS_HEADERS
                        if header.replace(" ", "_") in changes}}
    return [cells[header] for header in MEETINGS_HEADERS]


def only_problem(result: MeetingValidation) -> MeetingProblem:
    """Return the one problem, failing when there is no problem, or more, or a meeting."""
    assert result.meetings == []
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def test_fields_follow_the_layout_headers() -> None:
    assert tuple(MEETING_FIELDS.values()) == MEETINGS_HEADERS
    assert list(MEETING_FIELDS) == ["nr", "day", "start", "end", "title", "location", "address",
                                    "audience", "status", "materials", "attendance_complete"]


def test_the_eight_samen_meetings_parse() -> None:
    result = validate(*SAMEN)
    assert result.problems == []
    assert [m.nr for m in result.meetings] == [str(n) for n in range(1, 9)]
    assert [m.day for m in result.meetings] == [
        date(2023, 3, 27), date(2023, 6, 23), date(2023, 9, 25), date(2023, 11, 27),
        date(2024, 3, 8), date(2024, 5, 27), date(2024, 9, 23), date(2024, 11, 25),
    ]
    # maandag, except the StadmakersCongres and Tynaarlo (vrijdag)
    assert [m.day.weekday() for m in result.meetings] == [0, 4, 0, 0, 4, 0, 0, 0]
    assert {(m.start, m.end) for m in result.meetings} == {(time(13), time(17))}
    assert {m.audience for m in result.meetings} == {"iedereen"}
    assert {m.status for m in result.meetings} == {"gepland"}
    assert [m.attendance_complete for m in result.meetings] == [True, True] + [False] * 6
    assert result.meetings[0] == Meeting(
        nr="1", day=date(2023, 3, 27), start=time(13), end=time(17), title="Eerste bijeenkomst",
        location="Wijkcentrum De Boog", address="Boogstraat 12, Utrecht", audience="iedereen",
        status="gepland", materials="https://voorbeeld.nl/verslag-1.pdf", attendance_complete=True,
    )
    assert result.meetings[6].address == "Kampen"  # a row Google cut short after its last cell
    assert result.meetings[6].materials == ""


@pytest.mark.parametrize(("column", "value"), [
    ("Nr", ""),
    ("Datum", ""), ("Datum", "31-02-2023"), ("Datum", "29-02-2023"), ("Datum", "2023-03-27"),
    ("Datum", "27 maart 2023"), ("Datum", "27-3-23"), ("Datum", "0-1-2024"), ("Datum", "1-13-2024"),
    ("Begin", ""), ("Begin", "25:00"), ("Begin", "13"), ("Begin", "1300"), ("Begin", "13:60"),
    ("Begin", "1 uur"), ("Einde", ""), ("Einde", "17:0"), ("Einde", "17:00:30"),
    ("Titel", ""), ("Titel", "x" * 201),
    ("Doelgroep", "alle"), ("Doelgroep", "kern en kenniskring"),
    ("Status", "verzet"), ("Status", "uitgesteld"),
    ("Materiaal", "www.voorbeeld.nl"), ("Materiaal", "ftp://voorbeeld.nl/a.pdf"),
    ("Materiaal", "https://"), ("Materiaal", "https://voorbeeld.nl/mijn verslag.pdf"),
    ("Aanwezigheid compleet", "misschien"), ("Aanwezigheid compleet", "yes"),
])
def test_a_bad_cell_gives_one_problem_naming_column_and_value(column: str, value: str) -> None:
    problem = only_problem(validate(row(**{column.replace(" ", "_"): value})))
    assert (problem.row, problem.field, problem.value) == (2, column, value)
    assert problem.nr == ("" if column == "Nr" else "9")
    assert problem.message.startswith("Rij 2, " if column == "Nr" else "Bijeenkomst 9, ")
    assert f"kolom {column}: " in problem.message
    if value:
        assert f'"{value[:40]}' in problem.message
    else:
        assert "niets ingevuld" in problem.message


def test_a_bad_date_is_explained_with_an_example() -> None:
    problem = only_problem(validate(row(Nr="3", Datum="31-02-2023")))
    assert problem.message == (
        'Bijeenkomst 3, kolom Datum: "31-02-2023" is geen datum. '
        "Schrijf de datum als dd-mm-jjjj, bijvoorbeeld 25-09-2023."
    )


def test_a_long_title_says_how_long() -> None:
    problem = only_problem(validate(row(Titel="t" * 250)))
    assert "250 tekens, hoogstens 200" in problem.message
    assert problem.value == "t" * 250


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("Datum", " 1-1-2024 ", date(2024, 1, 1)), ("Datum", "01-01-2024", date(2024, 1, 1)),
    ("Datum", "29-2-2024", date(2024, 2, 29)),
    ("Begin", "9:30", time(9, 30)), ("Begin", "09.30", time(9, 30)),
    ("Begin", "13:00:00", time(13)), ("Einde", "23:59", time(23, 59)),
    ("Titel", "x" * 200, "x" * 200), ("Titel", "  Afsluiting  ", "Afsluiting"),
    ("Locatie", "", ""), ("Adres", "", ""),
    ("Doelgroep", "", "iedereen"), ("Doelgroep", "KERN", "kern"), ("Doelgroep", "Iedereen", "iedereen"),
    ("Status", "", "gepland"), ("Status", "Afgelast", "afgelast"),
    ("Materiaal", "HTTP://voorbeeld.nl", "HTTP://voorbeeld.nl"),
    ("Materiaal", "https://drive.google.com/file/d/abc?usp=sharing",
     "https://drive.google.com/file/d/abc?usp=sharing"),
    ("Aanwezigheid compleet", "", False), ("Aanwezigheid compleet", "JA", True),
    ("Aanwezigheid compleet", "Nee", False),
])
def test_good_values_are_normalised(column: str, value: str, expected: object) -> None:
    result = validate(row(**{column.replace(" ", "_"): value}))
    assert result.problems == []
    [meeting] = result.meetings
    field = {header: field for field, header in MEETING_FIELDS.items()}[column]
    assert getattr(meeting, field) == expected


def test_a_duplicate_nr_is_a_problem_on_every_row_and_no_meeting() -> None:
    result = validate(row(Nr="3"), row(Nr="4"), row(Nr="3", Begin="25:00"), row(Nr="3"))
    assert [m.nr for m in result.meetings] == ["4"]
    duplicates = [p for p in result.problems if p.field == "Nr"]
    assert [(p.row, p.nr, p.value) for p in duplicates] == [(2, "3", "3"), (4, "3", "3"), (5, "3", "3")]
    assert duplicates[0].message == (
        'Bijeenkomst 3 (rij 2), kolom Nr: "3" staat ook in rij 4 en 5. '
        "Geef elke bijeenkomst een eigen nummer."
    )
    [other] = [p for p in result.problems if p.field != "Nr"]
    assert (other.row, other.field) == (4, "Begin")
    assert other.message.startswith("Bijeenkomst 3 (rij 4), kolom Begin:")


@pytest.mark.parametrize(("begin", "einde"), [("13:00", "12:00"), ("13:00", "13:00"), ("9.30", "9:29")])
def test_an_end_not_after_the_begin_is_a_problem_on_einde(begin: str, einde: str) -> None:
    problem = only_problem(validate(row(Begin=begin, Einde=einde)))
    assert (problem.field, problem.value) == ("Einde", einde)
    assert problem.message == (
        f'Bijeenkomst 9, kolom Einde: "{einde}" ligt niet na het begin ({begin}). '
        "Zet bij Einde een tijd na Begin, of verbeter Begin."
    )


def test_an_unreadable_begin_is_not_also_compared_with_einde() -> None:
    problem = only_problem(validate(row(Begin="later", Einde="12:00")))
    assert problem.field == "Begin"


def test_empty_rows_are_skipped_and_rows_keep_their_sheet_number() -> None:
    result = validate(row(Nr="1"), [], [""] * 11, ["  ", "", "\u00a0"], row(Nr="2", Datum="x"))
    assert [m.nr for m in result.meetings] == ["1"]
    assert [(p.row, p.field) for p in result.problems] == [(6, "Datum")]


def test_a_row_with_several_problems_lists_them_in_column_order() -> None:
    result = validate(row(Nr="", Datum="", Status="weg", Titel=""))
    assert result.meetings == []
    assert [p.field for p in result.problems] == ["Nr", "Datum", "Titel", "Status"]
    assert all(p.message.startswith("Rij 2, kolom ") for p in result.problems)


def test_columns_may_be_in_any_order_between_other_columns() -> None:
    headers = ["Opmerking", *reversed(MEETINGS_HEADERS)]
    columns = {header: n for n, header in enumerate(headers, start=1) if header != "Opmerking"}
    cells = dict(zip(MEETINGS_HEADERS, SAMEN[7], strict=False))
    tab = [headers, ["notitie", *(cells.get(h, "") for h in reversed(MEETINGS_HEADERS))]]
    [meeting] = validate_meetings(tab, columns).meetings
    assert (meeting.nr, meeting.day, meeting.title) == ("8", date(2024, 11, 25),
                                                        "Afsluiting Programma SAMEN")


def test_an_empty_tab_has_no_meetings_and_no_problems() -> None:
    assert validate_meetings([list(MEETINGS_HEADERS)], COLUMNS) == MeetingValidation([], [])
    assert validate_meetings([], COLUMNS) == MeetingValidation([], [])


def test_a_missing_column_is_an_error_that_names_it() -> None:
    columns = {header: n for header, n in COLUMNS.items() if header != "Einde"}
    with pytest.raises(ValueError, match=r"no column\(s\) \['Einde'\].*Restore the header"):
        validate(row(), columns=columns)
