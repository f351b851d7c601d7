"""Attendance rules (pure): reading a sign-in list, the attendance signals and the register ratio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from samen.domain.attendance import TandemSide, attendance_ratio, attendance_signals, read_marks
from samen.domain.layouts import ATTENDANCE_HEADERS
from samen.domain.messages import recipient_ref

COLUMNS = {h: i for i, h in enumerate(ATTENDANCE_HEADERS, start=1)}
HEADER = list(ATTENDANCE_HEADERS)
INI, GEM = "bewoner1@example.org", "ambtenaar1@example.org"
KK = "bewoner2@example.org"
TANDEM = TandemSide("SAMEN-2022-001", INI, GEM)
Status = dict[tuple[str, str], str]


def row(nr: str, address: str, status: str = "", note: str = "") -> list[str]:
    """Return an Aanwezigheid row as the sheet shows it (trailing empty cells dropped)."""
    cells = [nr, "Naam", address, "Organisatie", "kern", status, note]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def kern(marks: Mapping[str, tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """Return the signals of tandem 1 given per meeting (initiative status, municipality status)."""
    status: Status = {}
    for nr, (ini, gem) in marks.items():
        status.update({(nr, INI): ini, (nr, GEM): gem})
    invited = {nr: {INI, GEM} for nr in marks}
    return attendance_signals(list(marks), status, [TANDEM], {}, invited)


def circle(marks: Sequence[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """Return the signals of one kenniskring address given (meeting, status) pairs in order."""
    status: Status = {(nr, KK): s for nr, s in marks}
    invited = {nr: {KK} for nr, _s in marks}
    return attendance_signals([nr for nr, _s in marks], status, [], {KK: "SAMEN-2022-002"}, invited)


def test_read_marks_takes_one_meeting_lowercased() -> None:
    """Marks of the meeting asked for only, status and address lower-cased, with sheet row numbers."""
    rows = [HEADER, row("1", "Bewoner1@Example.org", " Aanwezig "), row("2", INI, "afwezig"),
            row("1", GEM, "afgemeld", "ziek"), row("1", "", "aanwezig")]
    marks = read_marks(rows, COLUMNS, "1")
    assert [(m.row, m.email, m.status, m.problem) for m in marks] == [
        (2, INI, "aanwezig", ""), (4, GEM, "afgemeld", "")]


def test_read_marks_names_empty_and_unknown_status() -> None:
    """An empty Status and "misschien" give no status but a Dutch problem naming the row."""
    rows = [HEADER, row("1", INI), row("1", GEM, "misschien")]
    empty, maybe = read_marks(rows, COLUMNS, "1")
    assert empty.status == "" and empty.problem.startswith(f"Rij 2: bij {INI} ontbreekt de Status.")
    assert maybe.status == "" and maybe.problem.startswith('Rij 3: Status "misschien" is geen keuze')


def test_kern_absent_twice_in_a_row_is_signalled() -> None:
    """A kern tandem of which nobody came to two meetings in a row gives one signal at the second."""
    [signal] = kern({"1": ("afwezig", "afgemeld"), "2": ("afwezig", "afwezig")})
    key, kind, subject, text = signal
    assert (key, kind, subject) == ("kern-afwezig|SAMEN-2022-001|2",
                                    "Kerndeelnemer twee keer afwezig", "SAMEN-2022-001")
    assert "bijeenkomst 1 en 2" in text


def test_kern_absent_with_a_meeting_between_is_not_signalled() -> None:
    """Absent, present, absent: not twice in a row; absent once: nothing either."""
    assert kern({"1": ("afwezig", "afwezig"), "2": ("aanwezig", "aanwezig"),
                 "3": ("afwezig", "afwezig")}) == []
    assert kern({"1": ("afwezig", "afwezig")}) == []


def test_kern_row_skips_meetings_the_tandem_was_not_invited_to() -> None:
    """A meeting without the tandem (such as one it was not invited to) does not break the row."""
    status = {("1", INI): "afwezig", ("1", GEM): "afwezig", ("3", INI): "afwezig",
              ("3", GEM): "afwezig", ("2", KK): "aanwezig"}
    invited = {"1": {INI, GEM}, "2": {KK}, "3": {INI, GEM}}
    signals = attendance_signals(["1", "2", "3"], status, [TANDEM], {}, invited)
    assert [s[0] for s in signals] == ["kern-afwezig|SAMEN-2022-001|3"]


def test_kern_half_present_names_the_missing_side() -> None:
    """Only one side came: a signal naming the side that was missing; both came: none."""
    [gemeente] = kern({"1": ("aanwezig", "afwezig")})
    assert gemeente[0] == "een-kant|SAMEN-2022-001|1" and gemeente[1] == "Kerndeelnemer half aanwezig"
    assert gemeente[3].endswith("alleen één kant aanwezig; de gemeente ontbrak.")
    [initiatief] = kern({"1": ("afgemeld", "aanwezig")})
    assert initiatief[3].endswith("het initiatief ontbrak.")
    assert kern({"1": ("aanwezig", "aanwezig"), "2": ("aanwezig", "aanwezig")}) == []


def test_kenniskring_absent_three_times_is_signalled() -> None:
    """A kenniskring address at none of its last three meetings: one signal keyed by the third."""
    [signal] = circle([("1", "afwezig"), ("2", "afgemeld"), ("3", "afwezig")])
    assert signal[0] == f"kenniskring-afwezig|{recipient_ref(KK)}|3"
    assert (signal[1], signal[2]) == ("Kenniskring drie keer afwezig", "SAMEN-2022-002")
    assert "(1, 2, 3)" in signal[3] and KK not in signal[3]


def test_kenniskring_not_signalled_when_present_once_or_too_few() -> None:
    """Present at one of the last three, or invited to only two meetings: no signal."""
    assert circle([("1", "afwezig"), ("2", "aanwezig"), ("3", "afwezig")]) == []
    assert circle([("1", "afwezig"), ("2", "afwezig")]) == []
    later = circle([("1", "aanwezig"), ("2", "afwezig"), ("3", "afwezig"), ("4", "afwezig")])
    assert [s[0] for s in later] == [f"kenniskring-afwezig|{recipient_ref(KK)}|4"]


def test_kenniskring_rule_counts_only_meetings_of_that_address() -> None:
    """Meetings the address was not invited to (kern only) do not count as missed."""
    status = {("1", KK): "afwezig", ("3", KK): "afwezig", ("2", INI): "aanwezig"}
    invited = {"1": {KK}, "2": {INI}, "3": {KK}}
    assert attendance_signals(["1", "2", "3"], status, [], {KK: "SAMEN-2022-002"}, invited) == []


def test_attendance_ratio_counts_invited_meetings() -> None:
    """ "1 van 2" over the meetings the address was invited to; empty when it was at none."""
    status = {("1", INI): "aanwezig", ("2", INI): "afgemeld", ("2", GEM): "aanwezig"}
    invited = {"1": {INI}, "2": {INI, GEM}}
    assert attendance_ratio(INI, ["1", "2"], status, invited) == "1 van 2"
    assert attendance_ratio(GEM, ["1", "2"], status, invited) == "1 van 1"
    assert attendance_ratio(KK, ["1", "2"], status, invited) == ""
