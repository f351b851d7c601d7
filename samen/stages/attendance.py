"""The attendance stage: process complete sign-in lists, send follow-ups once, update the register."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime

from samen.config import Config
from samen.domain.attendance import TandemSide, attendance_ratio, attendance_signals, read_marks
from samen.domain.layouts import (
    ATTENDANCE_HEADERS,
    MEETINGS_HEADERS,
    PARTICIPANTS_HEADERS,
    PARTICIPANTS_KEY,
)
from samen.domain.meetings import Invitee, Meeting, register
from samen.domain.tabs import header_index, reconcile_tab
from samen.gateways.mail import MailConnectionError, MailGateway
from samen.gateways.sheets.base import SheetsGateway, TabSpec
from samen.gateways.store import Store
from samen.gateways.store.ledger import SignalRecord
from samen.gateways.store.meetings import AnnouncedMeeting, AttendanceRecord
from samen.gateways.store.store import utcnow
from samen.rendering import Renderer
from samen.schemas.meetings import validate_meetings
from samen.stages.delivery import PlannedMail
from samen.stages.intake_mail import current_versions
from samen.stages.invitations import meeting_subject
from samen.stages.messaging import check_messaging_headers, messaging_tab_specs, run_messaging

log = logging.getLogger("samen.attendance")
FIX = "Restore the header, or remove the tab so samen creates it again."
FOLLOW_UP = {"aanwezig": "bedankt", "afgemeld": "verslag", "afwezig": "gemist"}


@dataclass(frozen=True)
class AttendanceSummary:
    """What an attendance run did, in counts and meeting numbers."""

    as_of: str
    dry_run: bool
    meetings_processed: list[str]
    marks_recorded: int
    bad_marks: int
    follow_ups: int
    messages_sent: int
    messages_waiting: int
    signals_added: int
    manifest: str
    cells_written: int

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a plain dict."""
        return asdict(self)


def run_attendance(
    config: Config, *, sheets: SheetsGateway, store: Store, mail: MailGateway, as_of: date,
    dry_run: bool = False, now: datetime | None = None,
) -> AttendanceSummary:
    """Record attendance of past meetings marked complete, send follow-ups, raise signals."""
    t, moment = config.tabs, now or utcnow()
    columns: dict[str, dict[str, int]] = {}

    def check(snapshot: Mapping[str, list[list[str]]]) -> None:
        for key, headers in (("meetings", MEETINGS_HEADERS), ("attendance", ATTENDANCE_HEADERS),
                             ("participants", PARTICIPANTS_HEADERS)):
            columns[key] = header_index(t[key], snapshot[t[key]], headers, FIX)
        check_messaging_headers(config, snapshot)

    specs = [TabSpec(t["meetings"], MEETINGS_HEADERS), TabSpec(t["attendance"], ATTENDANCE_HEADERS),
             TabSpec(t["participants"], PARTICIPANTS_HEADERS), *messaging_tab_specs(config)]
    snapshot = sheets.open_tabs(specs, check=check)
    meetings = validate_meetings(snapshot[t["meetings"]], columns["meetings"]).meetings
    announced = store.meetings.announced()
    due = [m for m in sorted(meetings, key=lambda m: (m.day, m.start))
           if m.attendance_complete and m.status == "gepland" and as_of > m.day
           and m.nr in announced]
    people = register(store.selection.decisions(),
                      current_versions(store.load_applications(), store.load_versions()))
    recorded = store.meetings.attendance()
    known = store.ledger.entries()
    new: list[AttendanceRecord] = []
    signals: list[SignalRecord] = []
    bad = 0
    for m in due:
        for mark in read_marks(snapshot[t["attendance"]], columns["attendance"], m.nr):
            if mark.problem:
                bad += 1
                signals.append(SignalRecord(f"aanwezigheid|{m.nr}|rij {mark.row}",
                                            "Aanwezigheid niet in te lezen", m.nr, mark.problem,
                                            as_of))
                continue
            person = people.get(mark.email)
            before = recorded.get((m.nr, mark.email))
            record = AttendanceRecord(m.nr, mark.email, mark.status,
                                      person.applications if person else (),
                                      ",".join(person.sides) if person else "",
                                      person.role if person else "")
            if before != record:
                new.append(record)
    if not dry_run:
        store.meetings.record_attendance(new, moment)
    status = {**{k: r.status for k, r in recorded.items()},
              **{(r.meeting_nr, r.email): r.status for r in new}}
    order = sorted({nr for nr, _e in status}, key=lambda nr: _day_of(nr, announced))
    invited: dict[str, set[str]] = {}
    for nr, email in status:
        invited.setdefault(nr, set()).add(email)
    # An unreadable mark is no absence: judge only the meetings before the first unreadable list.
    unreadable = [m.nr for m in due if any(s.subject == m.nr for s in signals)]
    judged = [nr for nr in order
              if not unreadable or _day_of(nr, announced) < _day_of(unreadable[0], announced)]
    signals += attendance_signal_records(judged, status, invited, people, store, as_of)
    by_nr = {m.nr: m for m in meetings}
    planned = [
        PlannedMail(FOLLOW_UP[s], meeting_subject(nr), email,
                    people[email].name if email in people else "",
                    {"meeting": by_nr[nr].context(), "materials_link": by_nr[nr].materials},
                    programme_mail=True)
        for (nr, email), s in sorted(status.items())
        if nr in by_nr and by_nr[nr] in due and by_nr[nr].materials
    ]
    # A follow-up without the materials would be sent once and never again with the link: wait
    # for Materiaal, and tell the coordinators what is waiting.
    signals += [SignalRecord(f"geen-materiaal|{m.nr}", "Materiaal ontbreekt", m.nr,
                             f"De aanwezigheid van bijeenkomst {m.nr} is compleet, maar bij "
                             "Materiaal staat nog geen link. De bedankjes en verslagen gaan "
                             "zodra de link er staat.", as_of)
                for m in due if not m.materials]
    messaging = run_messaging(
        config, stage="attendance", store=store, mail=mail,
        renderer=Renderer(config.programme.language), snapshot=snapshot, planned=planned,
        signals=signals, as_of=as_of, now=moment, dry_run=dry_run)
    blocks = [*reconcile_tab(t["participants"], snapshot[t["participants"]],
                             columns["participants"], PARTICIPANTS_KEY,
                             register_attendance(snapshot[t["participants"]],
                                                 columns["participants"], order, status,
                                                 invited)).blocks,
              *messaging.blocks]
    if not dry_run:
        sheets.write_blocks(blocks)
    report = messaging.report
    summary = AttendanceSummary(
        as_of=as_of.isoformat(), dry_run=dry_run, meetings_processed=[m.nr for m in due],
        marks_recorded=len(new), bad_marks=bad,
        follow_ups=sum(1 for p in planned if p.key not in known),  # new ones, not every run's
        messages_sent=report.sent, messages_waiting=report.waiting,
        signals_added=messaging.signals_added, manifest=messaging.manifest,
        cells_written=sum(len(b.values[0]) for b in blocks))
    log.info("attendance: %s", summary.as_dict())
    if report.stopped:
        raise MailConnectionError(f"Sending stopped after {report.sent} messages: {report.stopped}")
    return summary


def _day_of(nr: str, announced: Mapping[str, AnnouncedMeeting]) -> tuple[str, str]:
    meeting = announced.get(nr)
    return (meeting.details.get("day", "") if meeting else "", nr)


def attendance_signal_records(
    order: list[str], status: Mapping[tuple[str, str], str], invited: Mapping[str, set[str]],
    people: Mapping[str, Invitee], store: Store, as_of: date,
) -> list[SignalRecord]:
    """Return the attendance signals as records."""
    current = current_versions(store.load_applications(), store.load_versions())
    tandems = [
        TandemSide(app_id, current[app_id].get("initiative_email", "").lower(),
                   current[app_id].get("municipality_email", "").lower())
        for app_id, d in sorted(store.selection.decisions().items())
        if d.decision == "kern" and app_id in current
    ]
    kenniskring = {email: ", ".join(p.applications)
                   for email, p in people.items() if p.role == "kenniskring"}
    return [SignalRecord(k, kind, subject, text, as_of)
            for k, kind, subject, text in attendance_signals(order, status, tandems, kenniskring,
                                                              invited)]


def register_attendance(
    rows: list[list[str]], columns: Mapping[str, int], order: list[str],
    status: Mapping[tuple[str, str], str], invited: Mapping[str, set[str]],
) -> dict[str, dict[str, str]]:
    """Return the Aanwezig cell of every existing Deelnemers row ("3 van 4")."""
    a, k, e = columns["Aanmelding"], columns["Kant"], columns["E-mail"]
    out: dict[str, dict[str, str]] = {}
    for r in rows[1:]:
        if len(r) < max(a, k, e) or not (r[a - 1] and r[k - 1] and r[e - 1]):
            continue
        ratio = attendance_ratio(r[e - 1].strip().lower(), order, status, invited)
        if ratio:
            out[f"{r[a - 1].strip()}|{r[k - 1].strip()}"] = {"Aanwezig": ratio}
    return out


__all__ = ["AttendanceSummary", "Meeting", "run_attendance"]
