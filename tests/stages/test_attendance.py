"""Attendance: complete sign-in lists become records, follow-ups, the register and signals, once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta

from samen.config import Config
from samen.domain.messages import recipient_ref
from samen.gateways.factory import build_store
from samen.stages.attendance import AttendanceSummary, run_attendance
from samen.stages.invitations import run_invitations
from samen.testing.forms import make_response
from samen.testing.programme import enrol, meeting, outbox, run, sent, set_cells, tab, write_meetings
from samen.testing.workbooks import edit_cells

DAY = date(2023, 3, 27)
LINK = "https://example.org/samen/bijeenkomst-1"
MakeConfig = Callable[..., Config]
B1, A1, B2, A2 = ("bewoner1@example.org", "ambtenaar1@example.org", "bewoner2@example.org",
                  "ambtenaar2@example.org")
APP1, APP2 = "SAMEN-2022-001", "SAMEN-2022-002"
FOLLOW_UPS = ("bedankt", "verslag", "gemist")


def invited(make: MakeConfig, meetings: Iterable[Mapping[str, str]]) -> Config:
    """Return a config with tandem 1 kern, tandem 2 kenniskring, invited to these meetings."""
    config = make([make_response(1), make_response(2)])
    enrol(config, {1: "kern", 2: "kenniskring"})
    write_meetings(config, meetings)
    run(config, run_invitations, DAY - timedelta(days=14))
    return config


def mark(config: Config, nr: str, marks: Mapping[str, str]) -> None:
    """Type a Status per address into the meeting's rows of Aanwezigheid."""
    for address, status in marks.items():
        assert set_cells(config, "attendance", {"Bijeenkomst": nr, "E-mail": address},
                         {"Status": status}) == 1


def complete(config: Config, nr: str, link: str = LINK) -> None:
    """Mark a meeting's attendance complete and give it its Materiaal link."""
    set_cells(config, "meetings", {"Nr": nr}, {"Aanwezigheid compleet": "ja", "Materiaal": link})


def attend(config: Config, as_of: date) -> AttendanceSummary:
    """Run the attendance stage once."""
    summary: AttendanceSummary = run(config, run_attendance, as_of)
    return summary


def aanwezig(config: Config) -> dict[tuple[str, str], str]:
    """Return Deelnemers' Aanwezig by (Aanmelding, Kant)."""
    return {(r["Aanmelding"], r["Kant"]): r["Aanwezig"] for r in tab(config, "participants")}


def test_follow_ups_go_once_with_the_materials_link(workbook_config: MakeConfig) -> None:
    """bedankt, verslag and gemist go once each, with the Materiaal link; a second run sends nothing."""
    config = invited(workbook_config, [meeting("1", DAY)])
    mark(config, "1", {B1: "aanwezig", A1: "Aanwezig", B2: "afwezig", A2: "afgemeld"})
    complete(config, "1")
    first = attend(config, DAY + timedelta(days=1))
    assert first.meetings_processed == ["1"] and first.marks_recorded == 4
    assert first.follow_ups == 4 and first.messages_sent == 4
    assert sent(config, *FOLLOW_UPS) == sorted([
        ("bedankt", "bijeenkomst 1", A1), ("bedankt", "bijeenkomst 1", B1),
        ("gemist", "bijeenkomst 1", B2), ("verslag", "bijeenkomst 1", A2)])
    assert all(LINK in s.text() for s in outbox(config) if s.kind in FOLLOW_UPS)
    again = attend(config, DAY + timedelta(days=2))
    assert again.marks_recorded == again.follow_ups == again.messages_sent == again.cells_written == 0
    assert len(sent(config, *FOLLOW_UPS)) == 4
    store = build_store(config)
    try:
        records = store.meetings.attendance()
    finally:
        store.close()
    assert {k: r.status for k, r in records.items()} == {
        ("1", B1): "aanwezig", ("1", A1): "aanwezig", ("1", B2): "afwezig", ("1", A2): "afgemeld"}
    assert records[("1", B1)].applications == (APP1,) and records[("1", B1)].role == "kern"


def test_register_shows_attendance(workbook_config: MakeConfig) -> None:
    """Deelnemers' Aanwezig counts the processed meetings each contact was invited to ("1 van 1")."""
    config = invited(workbook_config, [meeting("1", DAY)])
    mark(config, "1", {B1: "aanwezig", A1: "afgemeld", B2: "afwezig", A2: "aanwezig"})
    complete(config, "1")
    attend(config, DAY + timedelta(days=1))
    assert aanwezig(config) == {(APP1, "initiatief"): "1 van 1", (APP1, "gemeente"): "0 van 1",
                                (APP2, "initiatief"): "0 van 1", (APP2, "gemeente"): "1 van 1"}
    assert {r["Rol"] for r in tab(config, "participants")} == {"kern", "kenniskring"}


def test_nothing_happens_before_complete_and_after_the_day(workbook_config: MakeConfig) -> None:
    """A list not marked complete, or a meeting not yet past, is not processed."""
    config = invited(workbook_config, [meeting("1", DAY)])
    mark(config, "1", {B1: "aanwezig", A1: "aanwezig", B2: "aanwezig", A2: "aanwezig"})
    waiting = attend(config, DAY + timedelta(days=1))
    assert waiting.meetings_processed == [] and waiting.messages_sent == 0
    complete(config, "1")
    same_day = attend(config, DAY)
    assert same_day.meetings_processed == [] and sent(config, *FOLLOW_UPS) == []
    assert set(aanwezig(config).values()) == {""}
    assert attend(config, DAY + timedelta(days=1)).meetings_processed == ["1"]


def test_bad_marks_are_signals_and_valid_marks_are_processed(workbook_config: MakeConfig) -> None:
    """An empty Status and "misschien" are one signal each, not yet taken as absence; valid marks go."""
    config = invited(workbook_config, [meeting("1", DAY)])
    mark(config, "1", {B1: "aanwezig", A1: "misschien", A2: "afwezig"})
    complete(config, "1")
    first = attend(config, DAY + timedelta(days=1))
    assert first.bad_marks == 2 and first.marks_recorded == 2 and first.signals_added == 2
    signals = tab(config, "signals")
    assert [(s["Soort"], s["Betreft"]) for s in signals] == [("Aanwezigheid niet in te lezen", "1")] * 2
    texts = sorted(s["Toelichting"] for s in signals)
    assert any('Status "misschien" is geen keuze' in t for t in texts)
    assert any(f"bij {B2} ontbreekt de Status" in t for t in texts)
    assert sent(config, *FOLLOW_UPS) == [("bedankt", "bijeenkomst 1", B1),
                                         ("gemist", "bijeenkomst 1", A2)]
    assert attend(config, DAY + timedelta(days=2)).signals_added == 0
    mark(config, "1", {A1: "afwezig", B2: "afgemeld"})
    fixed = attend(config, DAY + timedelta(days=3))
    assert fixed.bad_marks == 0 and fixed.marks_recorded == 2 and fixed.signals_added == 1
    assert tab(config, "signals")[-1]["Soort"] == "Kerndeelnemer half aanwezig"  # only now known
    assert sorted(sent(config, *FOLLOW_UPS)) == sorted([
        ("bedankt", "bijeenkomst 1", B1), ("gemist", "bijeenkomst 1", A2),
        ("gemist", "bijeenkomst 1", A1), ("verslag", "bijeenkomst 1", B2)])


def test_opted_out_address_gets_no_follow_up(workbook_config: MakeConfig) -> None:
    """An address that joined Afmeldingen after the meeting is held back from its follow-up."""
    config = invited(workbook_config, [meeting("1", DAY)])
    mark(config, "1", {B1: "aanwezig", A1: "aanwezig", B2: "aanwezig", A2: "aanwezig"})
    complete(config, "1")
    edit_cells(config.workbook.path, config.tabs["optouts"], {(2, 1): A2})
    result = attend(config, DAY + timedelta(days=1))
    assert result.messages_sent == 3 and result.marks_recorded == 4
    assert A2 not in {to for _k, _s, to in sent(config, *FOLLOW_UPS)}
    assert aanwezig(config)[(APP2, "gemeente")] == "1 van 1"


def test_attendance_signals_end_to_end(workbook_config: MakeConfig) -> None:
    """Kern absent twice in a row, kern half present, kenniskring absent three times: one signal each."""
    days = [DAY, DAY + timedelta(days=7), DAY + timedelta(days=14)]
    config = invited(workbook_config, [meeting(str(n), d) for n, d in enumerate(days, start=1)])
    mark(config, "1", {B1: "afwezig", A1: "afgemeld", B2: "afwezig", A2: "aanwezig"})
    mark(config, "2", {B1: "afwezig", A1: "afwezig", B2: "afgemeld", A2: "afwezig"})
    for nr in ("1", "2"):
        complete(config, nr)
    after_two = attend(config, days[1] + timedelta(days=1))
    assert after_two.meetings_processed == ["1", "2"] and after_two.marks_recorded == 8
    store = build_store(config)
    try:
        audit = store.audit_entries("attendance_recorded")
    finally:
        store.close()
    assert sorted((a["subject"], a["detail"]["records"]) for a in audit) == [
        ("bijeenkomst 1", 4), ("bijeenkomst 2", 4)]
    assert [(s["Soort"], s["Betreft"]) for s in tab(config, "signals")] == [
        ("Kerndeelnemer twee keer afwezig", APP1)]
    mark(config, "3", {B1: "aanwezig", A1: "afwezig", B2: "afwezig", A2: "afwezig"})
    complete(config, "3")
    after_three = attend(config, days[2] + timedelta(days=1))
    assert after_three.signals_added == 2
    kinds = {s["Soort"]: s for s in tab(config, "signals")}
    assert set(kinds) == {"Kerndeelnemer twee keer afwezig", "Kerndeelnemer half aanwezig",
                          "Kenniskring drie keer afwezig"}
    assert "alleen één kant aanwezig; de gemeente ontbrak" in kinds["Kerndeelnemer half aanwezig"][
        "Toelichting"]
    assert kinds["Kenniskring drie keer afwezig"]["Betreft"] == APP2
    store = build_store(config)
    try:
        keys = set(store.ledger.signals())
    finally:
        store.close()
    assert f"kenniskring-afwezig|{recipient_ref(B2)}|3" in keys
    assert f"kenniskring-afwezig|{recipient_ref(A2)}|3" not in keys  # came to meeting 1
    coordinator_mails = [s for s in outbox(config) if s.kind == "signaal-coordinatoren"]
    assert len(coordinator_mails) == 3 * len(config.programme.coordinators)
    assert attend(config, days[2] + timedelta(days=2)).signals_added == 0


def test_follow_ups_wait_for_the_materials(workbook_config: MakeConfig) -> None:
    """Without a Materiaal link no follow-up goes; one signal says so; the link releases them."""
    config = invited(workbook_config, [meeting("1", DAY)])
    mark(config, "1", {B1: "aanwezig", A1: "aanwezig", B2: "afwezig", A2: "afgemeld"})
    complete(config, "1", link="")
    waiting = attend(config, DAY + timedelta(days=1))
    assert waiting.follow_ups == 0 and sent(config, *FOLLOW_UPS) == []
    assert [s["Soort"] for s in tab(config, "signals")].count("Materiaal ontbreekt") == 1
    complete(config, "1")
    released = attend(config, DAY + timedelta(days=2))
    assert released.follow_ups == 4 and len(sent(config, *FOLLOW_UPS)) == 4
    assert all(LINK in s.text() for s in outbox(config) if s.kind in FOLLOW_UPS)
