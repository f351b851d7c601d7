"""Invitations: the announcement and reminder windows, changes, cancellations, once each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from samen.config import Config
from samen.stages.intake import run_intake
from samen.stages.invitations import InvitationsSummary, run_invitations
from samen.stages.selection import run_selection
from samen.testing.forms import make_response
from samen.testing.programme import (
    Event,
    add_responses,
    app_id,
    approve_current_code,
    enrol,
    meeting,
    outbox,
    run,
    sent,
    set_cells,
    tab,
    write_meetings,
)
from samen.testing.workbooks import edit_cells

DAY = date(2023, 3, 27)  # a Monday, the first collective meeting
UID = "samen-bijeenkomst-1@example.org"
MakeConfig = Callable[..., Config]
ALL = ("ambtenaar1@example.org", "ambtenaar2@example.org", "bewoner1@example.org",
       "bewoner2@example.org")

PROGRAMME = ("uitnodiging", "herinnering", "wijziging", "afgelast")


def programme(make: MakeConfig, meetings: Iterable[Mapping[str, str]],
              responses: Iterable[Mapping[str, str]] | None = None) -> Config:
    """Return a config with tandem 1 kern and tandem 2 kenniskring approved, and these meetings."""
    config = make(list(responses or [make_response(1), make_response(2)]))
    enrol(config, {1: "kern", 2: "kenniskring"})
    write_meetings(config, meetings)
    return config


def invite(config: Config, as_of: date) -> InvitationsSummary:
    """Run the invitations stage once."""
    summary: InvitationsSummary = run(config, run_invitations, as_of)
    return summary


def days(n: int, day: date = DAY) -> date:
    """Return the date n days before day (negative: after)."""
    return day - timedelta(days=n)


def mails(kind: str, nr: str, people: Iterable[str] = ALL) -> list[tuple[str, str, str]]:
    """Return the expected (kind, subject, To) of one message per person."""
    return sorted((kind, f"bijeenkomst {nr}", p) for p in people)


def test_invitations_go_from_28_days_before(workbook_config: MakeConfig) -> None:
    """29 days before nothing goes; 28 days before each invitee gets one invitation with an .ics."""
    config = programme(workbook_config, [meeting("1", DAY)])
    early = invite(config, days(29))
    assert early.invitations == 0 and early.announced == [] and sent(config, "uitnodiging") == []
    first = invite(config, days(28))
    assert first.announced == ["1"] and first.messages_sent == 4
    assert sent(config, "uitnodiging") == mails("uitnodiging", "1")
    message = next(s for s in outbox(config) if s.kind == "uitnodiging")
    assert message.event() == Event("PUBLISH", UID, 0, "CONFIRMED",
                                    datetime(2023, 3, 27, 13, tzinfo=ZoneInfo("Europe/Amsterdam")))
    assert "maandag 27 maart 2023" in message.text()
    again = invite(config, days(28))
    assert again.messages_sent == 0 and again.announced == [] and again.cells_written == 0
    rows = tab(config, "attendance")
    assert sorted((r["Bijeenkomst"], r["E-mail"], r["Rol"]) for r in rows) == [
        ("1", ALL[0], "kern"), ("1", ALL[1], "kenniskring"), ("1", ALL[2], "kern"),
        ("1", ALL[3], "kenniskring")]


def test_reminder_from_7_days_before_skips_afgemeld(workbook_config: MakeConfig) -> None:
    """8 days before no reminder; 7 days before one each, not to whoever is afgemeld; then none."""
    config = programme(workbook_config, [meeting("1", DAY)])
    invite(config, days(28))
    assert invite(config, days(8)).reminders == 0 and sent(config, "herinnering") == []
    set_cells(config, "attendance", {"E-mail": "bewoner2@example.org"}, {"Status": "afgemeld"})
    reminded = invite(config, days(7))
    assert reminded.reminders == 3 and reminded.messages_sent == 3
    assert sent(config, "herinnering") == mails("herinnering", "1", [*ALL[:2], ALL[2]])
    assert "Herinnering" in str(next(s for s in outbox(config) if s.kind == "herinnering")
                                .message["Subject"])
    quiet = invite(config, days(6))
    assert quiet.messages_sent == quiet.reminders == 0 and len(sent(config, "herinnering")) == 3


def test_reminder_attaches_the_calendar_it_promises(workbook_config: MakeConfig) -> None:
    """The reminder's text points to a calendar attachment: it has one, same UID and SEQUENCE."""
    config = programme(workbook_config, [meeting("1", DAY)])
    invite(config, days(28))
    invite(config, days(7))
    reminder = next(s for s in outbox(config) if s.kind == "herinnering")
    assert "In de bijlage vind je een agenda-uitnodiging" in reminder.text()
    event = reminder.event()
    assert event is not None and (event.method, event.uid, event.sequence) == ("PUBLISH", UID, 0)


def test_day_of_meeting_invites_but_does_not_remind(workbook_config: MakeConfig) -> None:
    """On the day itself a new meeting is still announced, but nobody gets a reminder."""
    config = programme(workbook_config, [meeting("1", DAY)])
    invite(config, days(28))
    write_meetings(config, [meeting("1", DAY), meeting("2", DAY, Begin="18:00", Einde="20:00")])
    today = invite(config, DAY)
    assert today.announced == ["2"] and today.invitations == 4 and today.reminders == 0
    assert sent(config, "herinnering") == []
    assert sent(config, "uitnodiging") == sorted(mails("uitnodiging", "1") + mails("uitnodiging", "2"))


def test_past_unannounced_meeting_gives_signal(workbook_config: MakeConfig) -> None:
    """The day after, an announced meeting gets nothing more and a never-announced one is a signal."""
    config = programme(workbook_config, [meeting("1", DAY)])
    invite(config, days(28))
    write_meetings(config, [meeting("1", DAY), meeting("2", DAY)])
    after = invite(config, days(-1))
    assert after.invitations == after.reminders == 0 and after.announced == []
    assert after.signals_added == 1
    [signal] = tab(config, "signals")
    assert (signal["Soort"], signal["Betreft"]) == ("Bijeenkomst niet aangekondigd", "2")
    assert sent(config, "uitnodiging") == mails("uitnodiging", "1")
    assert sorted(s.to for s in outbox(config) if s.kind == "signaal-coordinatoren") == sorted(
        config.programme.coordinators)
    assert invite(config, days(-2)).signals_added == 0


def test_moved_meeting_sends_change_with_same_uid(workbook_config: MakeConfig) -> None:
    """A moved meeting: a wijziging to everyone invited, the same UID and a higher SEQUENCE."""
    config = programme(workbook_config, [meeting("1", DAY)])
    invite(config, days(28))
    later = DAY + timedelta(days=7)
    write_meetings(config, [meeting("1", later)])
    moved = invite(config, days(21))
    assert moved.changed == ["1"] and moved.changes == 4 and moved.invitations == 0
    assert sent(config, "wijziging") == mails("wijziging", "1")
    first = next(s for s in outbox(config) if s.kind == "uitnodiging" and s.to == ALL[0])
    change = next(s for s in outbox(config) if s.kind == "wijziging" and s.to == ALL[0])
    old, new = first.event(), change.event()
    assert old is not None and new is not None and new.method == "PUBLISH"
    assert old.uid == new.uid == UID and new.sequence > old.sequence
    assert new.start.date() == later and old.start.date() == DAY
    assert "De datum is nu maandag 3 april 2023." in change.text()
    assert invite(config, days(20)).messages_sent == 0
    assert len(tab(config, "attendance")) == 4


def test_cancelled_meeting_sends_cancel_once(workbook_config: MakeConfig) -> None:
    """Status afgelast: an afgelast message with METHOD:CANCEL to everyone invited, once."""
    config = programme(workbook_config, [meeting("1", DAY)])
    invite(config, days(28))
    set_cells(config, "meetings", {"Nr": "1"}, {"Status": "afgelast"})
    cancelled = invite(config, days(10))
    assert cancelled.cancelled == ["1"] and cancelled.cancellations == 4
    assert sent(config, "afgelast") == mails("afgelast", "1")
    event = next(s for s in outbox(config) if s.kind == "afgelast").event()
    assert event is not None and (event.method, event.uid, event.sequence, event.status) == (
        "CANCEL", UID, 1, "CANCELLED")
    assert invite(config, days(9)).messages_sent == 0
    assert invite(config, days(7)).reminders == 0 and sent(config, "herinnering") == []


def test_removed_row_after_announcement_cancels(workbook_config: MakeConfig) -> None:
    """A row removed after announcement cancels the meeting as it was announced, once."""
    config = programme(workbook_config, [meeting("1", DAY), meeting("2", DAY + timedelta(days=1))])
    invite(config, days(28))
    write_meetings(config, [meeting("2", DAY + timedelta(days=1))])
    removed = invite(config, days(20))
    assert removed.cancelled == ["1"] and sent(config, "afgelast") == mails("afgelast", "1")
    event = next(s for s in outbox(config) if s.kind == "afgelast").event()
    assert event is not None and (event.method, event.uid, event.sequence) == ("CANCEL", UID, 1)
    assert event.start.date() == DAY
    assert invite(config, days(19)).messages_sent == 0


def test_meeting_without_location_waits_with_signal(workbook_config: MakeConfig) -> None:
    """No Locatie: a signal and no invitation; once it is filled, the invitations go."""
    config = programme(workbook_config, [meeting("1", DAY, Locatie="", Adres="")])
    waiting = invite(config, days(28))
    assert waiting.announced == [] and waiting.invitations == 0 and waiting.signals_added == 1
    assert [(s["Soort"], s["Betreft"]) for s in tab(config, "signals")] == [("Locatie ontbreekt", "1")]
    assert sent(config, "uitnodiging") == []
    assert invite(config, days(27)).signals_added == 0
    set_cells(config, "meetings", {"Nr": "1"}, {"Locatie": "De Nieuwe Vide"})
    filled = invite(config, days(26))
    assert filled.announced == ["1"] and sent(config, "uitnodiging") == mails("uitnodiging", "1")
    assert all("Waar: De Nieuwe Vide" in s.text() for s in outbox(config) if s.kind == "uitnodiging")


def test_late_participant_gets_upcoming_invitations_only(workbook_config: MakeConfig) -> None:
    """A tandem approved after the invitations gets those of upcoming meetings; nobody else anything."""
    second = DAY + timedelta(days=14)
    config = programme(workbook_config, [meeting("1", DAY), meeting("2", second)])
    assert invite(config, days(28, second)).announced == ["1", "2"]
    add_responses(config, [make_response(3)])
    run(config, run_intake, DAY)
    set_cells(config, "review", {"Aanmelding": app_id(3, config)},
              {"Besluit": "kenniskring", "Beoordeeld door": config.programme.coordinators[0]})
    run(config, run_selection, DAY)
    approve_current_code(config)
    assert run(config, run_selection, DAY).approved
    before = sent(config, *PROGRAMME)
    late = invite(config, days(-1))
    new = ["ambtenaar3@example.org", "bewoner3@example.org"]
    assert late.messages_sent == 2 and late.invitations == 2 and late.reminders == 0
    assert sent(config, *PROGRAMME) == sorted(
        before + mails("uitnodiging", "2", new))
    assert {r["E-mail"] for r in tab(config, "attendance") if r["Bijeenkomst"] == "2"} == {*ALL, *new}
    assert {r["E-mail"] for r in tab(config, "attendance") if r["Bijeenkomst"] == "1"} == set(ALL)


def test_opt_out_gets_no_invitation_or_reminder(workbook_config: MakeConfig) -> None:
    """An address in Afmeldingen is held back (in the manifest), not invited, not reminded."""
    config = programme(workbook_config, [meeting("1", DAY)])
    edit_cells(config.workbook.path, config.tabs["optouts"],
               {(2, 1): "Bewoner2@Example.org", (2, 2): "01-03-2023", (2, 3): "geen tijd"})
    first = invite(config, days(28))
    assert first.messages_sent == 3 and first.messages_held == 1
    assert sent(config, "uitnodiging") == mails("uitnodiging", "1", [*ALL[:3]])
    manifest = Path(first.manifest).read_text(encoding="utf-8")
    held = [line for line in manifest.splitlines() if "bewoner2@example.org" in line]
    assert len(held) == 1 and "tegengehouden" in held[0] and "Afmeldingen" in held[0]
    assert "bewoner2@example.org" not in {r["E-mail"] for r in tab(config, "attendance")}
    reminded = invite(config, days(7))
    assert reminded.messages_sent == 3 and reminded.reminders == 3 and reminded.invitations == 0
    assert sent(config, "herinnering") == mails("herinnering", "1", [*ALL[:3]])
    assert all(s.to != "bewoner2@example.org" for s in outbox(config) if s.kind in PROGRAMME)


def test_address_in_two_tandems_gets_one_message(workbook_config: MakeConfig) -> None:
    """An address that is the contact of two tandems gets one invitation and one reminder."""
    shared = make_response(2, initiative_email="bewoner1@example.org")
    config = programme(workbook_config, [meeting("1", DAY)], [make_response(1), shared])
    invite(config, days(28))
    invite(config, days(7))
    people = ["ambtenaar1@example.org", "ambtenaar2@example.org", "bewoner1@example.org"]
    assert sent(config, "uitnodiging") == mails("uitnodiging", "1", people)
    assert sent(config, "herinnering") == mails("herinnering", "1", people)
    rows = [r for r in tab(config, "attendance") if r["E-mail"] == "bewoner1@example.org"]
    assert len(rows) == 1 and rows[0]["Rol"] == "kern"


def test_attendance_human_cells_are_never_overwritten(workbook_config: MakeConfig) -> None:
    """Status and Opmerking stay as typed, also when the pipeline rewrites the row's own cells."""
    config = programme(workbook_config, [meeting("1", DAY)])
    invite(config, days(28))
    set_cells(config, "attendance", {"E-mail": "bewoner1@example.org"},
              {"Status": "afgemeld", "Opmerking": "ziek", "Naam": ""})
    set_cells(config, "attendance", {"E-mail": "ambtenaar2@example.org"},
              {"Status": "Aanwezig", "Opmerking": "komt later"})
    again = invite(config, days(27))
    assert again.cells_written == 1
    rows = {r["E-mail"]: r for r in tab(config, "attendance")}
    assert len(rows) == 4 and rows["bewoner1@example.org"]["Naam"] == "Bewoner 1"
    assert (rows["bewoner1@example.org"]["Status"], rows["bewoner1@example.org"]["Opmerking"]) == (
        "afgemeld", "ziek")
    assert (rows["ambtenaar2@example.org"]["Status"],
            rows["ambtenaar2@example.org"]["Opmerking"]) == ("Aanwezig", "komt later")
    write_meetings(config, [meeting("1", DAY, Titel="Kennismaken")])
    invite(config, days(26))
    assert tab(config, "attendance") == list(rows.values())


def test_kern_meeting_invites_kern_tandems_only(workbook_config: MakeConfig) -> None:
    """Doelgroep kern: only the contacts of kern tandems are invited and listed."""
    config = programme(workbook_config, [meeting("1", DAY, Doelgroep="kern")])
    result = invite(config, days(28))
    assert result.invitations == 2 and sent(config, "uitnodiging") == mails("uitnodiging", "1", [
        "ambtenaar1@example.org", "bewoner1@example.org"])
    assert {r["Rol"] for r in tab(config, "attendance")} == {"kern"}
    assert all("alleen de proeftuinen" in s.text() for s in outbox(config) if s.kind == "uitnodiging")
