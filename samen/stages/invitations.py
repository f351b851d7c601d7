"""The invitations stage: announce meetings, send changes, cancellations and reminders once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime

from samen.config import Config
from samen.domain.invitations import Announced, InvitationPlan, Send, plan_invitations
from samen.domain.layouts import (
    ATTENDANCE_HEADERS,
    ATTENDANCE_KEY,
    ATTENDANCE_PIPELINE,
    MEETINGS_HEADERS,
)
from samen.domain.meetings import Invitee, Meeting, register
from samen.domain.messages import CalendarEvent
from samen.domain.tabs import header_index, reconcile_tab
from samen.gateways.mail import MailConnectionError, MailGateway
from samen.gateways.sheets.base import SheetsGateway, TabSpec
from samen.gateways.store import Store
from samen.gateways.store.ledger import FAILED, HELD, LedgerEntry, SignalRecord
from samen.gateways.store.store import utcnow
from samen.rendering import Renderer
from samen.schemas.meetings import validate_meetings
from samen.stages.delivery import PlannedMail
from samen.stages.intake_mail import current_versions
from samen.stages.messaging import check_messaging_headers, messaging_tab_specs, run_messaging

log = logging.getLogger("samen.invitations")
FIX = "Restore the header, or remove the tab so samen creates it again."


@dataclass(frozen=True)
class InvitationsSummary:
    """What an invitations run did, in counts and meeting numbers."""

    as_of: str
    dry_run: bool
    meetings: int
    meeting_problems: int
    announced: list[str]
    changed: list[str]
    cancelled: list[str]
    invitations: int
    reminders: int
    changes: int
    cancellations: int
    messages_sent: int
    messages_held: int
    messages_waiting: int
    signals_added: int
    manifest: str
    cells_written: int

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a plain dict."""
        return asdict(self)


def meeting_subject(nr: str) -> str:
    """Return the ledger subject of a meeting's messages."""
    return f"bijeenkomst {nr}"


def invited_by_meeting(entries: Mapping[str, LedgerEntry]) -> dict[str, set[str]]:
    """Return per meeting Nr the addresses that were invited (planned or sent)."""
    out: dict[str, set[str]] = {}
    for e in entries.values():
        if e.kind == "uitnodiging" and e.status not in (HELD, FAILED):
            out.setdefault(e.subject.removeprefix("bijeenkomst "), set()).add(e.recipient.lower())
    return out


def run_invitations(
    config: Config, *, sheets: SheetsGateway, store: Store, mail: MailGateway, as_of: date,
    dry_run: bool = False, now: datetime | None = None,
) -> InvitationsSummary:
    """Announce meetings in their window, and send changes, cancellations and reminders once."""
    t, moment, p = config.tabs, now or utcnow(), config.programme
    columns: dict[str, dict[str, int]] = {}

    def check(snapshot: Mapping[str, list[list[str]]]) -> None:
        columns["meetings"] = header_index(t["meetings"], snapshot[t["meetings"]],
                                           MEETINGS_HEADERS, FIX)
        columns["attendance"] = header_index(t["attendance"], snapshot[t["attendance"]],
                                             ATTENDANCE_HEADERS, FIX)
        check_messaging_headers(config, snapshot)

    specs = [TabSpec(t["meetings"], MEETINGS_HEADERS), TabSpec(t["attendance"], ATTENDANCE_HEADERS),
             *messaging_tab_specs(config)]
    snapshot = sheets.open_tabs(specs, check=check)
    rows = snapshot[t["meetings"]]
    checked = validate_meetings(rows, columns["meetings"])
    nr_col = columns["meetings"]["Nr"]
    listed = {r[nr_col - 1].strip() for r in rows[1:] if len(r) >= nr_col and r[nr_col - 1].strip()}
    apps = store.load_applications()
    people = register(store.selection.decisions(), current_versions(apps, store.load_versions()))
    announced = {nr: Announced(a.sequence, a.details, a.status)
                 for nr, a in store.meetings.announced().items()}
    known = store.ledger.entries()
    invited = invited_by_meeting(known)
    plan = plan_invitations(
        checked.meetings, listed, announced, people, invited,
        cancellations_by_person(snapshot[t["attendance"]], columns["attendance"]),
        as_of, p.invite_days_before, p.reminder_days_before)
    signals = [SignalRecord(k, kind, nr, text, as_of) for k, kind, nr, text in plan.signals]
    signals += [SignalRecord(f"bijeenkomst-fout|rij {pr.row}|{pr.field}|{pr.value}",
                             "Fout in Bijeenkomsten", pr.nr or f"rij {pr.row}", pr.message, as_of)
                for pr in checked.problems]
    by_nr = {m.nr: m for m in checked.meetings}
    planned = meeting_mails(plan, by_nr, announced, people, config)
    messaging = run_messaging(
        config, stage="invitations", store=store, mail=mail, renderer=Renderer(p.language),
        snapshot=snapshot, planned=planned,
        signals=signals, as_of=as_of, now=moment, dry_run=dry_run)
    if not dry_run:
        for action in plan.actions:
            store.meetings.save_announcement(action.nr, action.sequence, action.details,
                                             action.status, as_of, moment, f"meeting_{action.action}")
    sheet_rows = attendance_rows(invited_by_meeting(messaging.entries), by_nr, people)
    sheet_rows.update(refused_rows(snapshot[t["attendance"]], columns["attendance"],
                                   messaging.entries))
    blocks = [*reconcile_tab(t["attendance"], snapshot[t["attendance"]], columns["attendance"],
                             ATTENDANCE_KEY, sheet_rows).blocks, *messaging.blocks]
    if not dry_run:
        sheets.write_blocks(blocks)
    report = messaging.report

    def count(kind: str) -> int:  # new messages only: reminders are planned every day of the window
        return sum(1 for m in planned if m.kind == kind and m.key not in known)

    summary = InvitationsSummary(
        as_of=as_of.isoformat(), dry_run=dry_run, meetings=len(checked.meetings),
        meeting_problems=len(checked.problems),
        announced=[a.nr for a in plan.actions if a.action == "announce"],
        changed=[a.nr for a in plan.actions if a.action == "change"],
        cancelled=[a.nr for a in plan.actions if a.action == "cancel"],
        invitations=count("uitnodiging"), reminders=count("herinnering"),
        changes=count("wijziging"), cancellations=count("afgelast"),
        messages_sent=report.sent, messages_held=report.held, messages_waiting=report.waiting,
        signals_added=messaging.signals_added, manifest=messaging.manifest,
        cells_written=sum(len(b.values[0]) for b in blocks),
    )
    log.info("invitations: %s", summary.as_dict())
    if report.stopped:
        raise MailConnectionError(f"Sending stopped after {report.sent} messages: {report.stopped}")
    return summary


def cancellations_by_person(rows: list[list[str]], columns: Mapping[str, int]) -> dict[str, set[str]]:
    """Return per meeting Nr the addresses marked afgemeld in Aanwezigheid."""
    out: dict[str, set[str]] = {}
    nr, mail, status = columns["Bijeenkomst"], columns["E-mail"], columns["Status"]
    for r in rows[1:]:
        if len(r) >= status and r[status - 1].strip().lower() == "afgemeld":
            out.setdefault(r[nr - 1].strip(), set()).add(r[mail - 1].strip().lower())
    return out


def meeting_mails(
    plan: InvitationPlan, by_nr: Mapping[str, Meeting], announced: Mapping[str, Announced],
    people: Mapping[str, Invitee], config: Config,
) -> list[PlannedMail]:
    """Return the planned messages of the run, each with its calendar entry."""
    sequences = {nr: a.sequence for nr, a in announced.items()}
    sequences.update({a.nr: a.sequence for a in plan.actions})
    details = {nr: a.details for nr, a in announced.items()}
    details.update({a.nr: a.details for a in plan.actions})
    out: list[PlannedMail] = []
    for send in plan.sends:
        meeting = by_nr.get(send.nr) or meeting_from_details(send.nr, details[send.nr])
        sequence = send.version if send.kind in ("wijziging", "afgelast") else sequences[send.nr]
        context: dict[str, object] = {"meeting": meeting.context()}
        if send.kind == "wijziging":
            context["changes"] = list(send.changes)
        person = people.get(send.email)
        calendar = calendar_event(
            meeting, sequence, "CANCEL" if send.kind == "afgelast" else config.mail.calendar_method,
            config)
        out.append(PlannedMail(send.kind, meeting_subject(send.nr), send.email,
                               person.name if person else "", context, version=send.version,
                               calendar=calendar, programme_mail=True))
    return out


def calendar_event(meeting: Meeting, sequence: int, method: str, config: Config) -> CalendarEvent:
    """Return the calendar entry of a meeting: a stable UID per meeting, SEQUENCE per change."""
    zone = config.programme.zone
    domain = config.mail.from_address.rsplit("@", 1)[-1]
    where = ", ".join(x for x in (meeting.location, meeting.address) if x)
    return CalendarEvent(
        uid=f"samen-bijeenkomst-{meeting.nr}@{domain}", sequence=sequence, method=method,
        summary=f"{config.programme.name}: {meeting.title}", start=meeting.starts_at(zone),
        end=meeting.ends_at(zone), location=where,
        description=f"Bijeenkomst {meeting.nr} van {config.programme.name}.",
        organizer=config.mail.from_address)


def meeting_from_details(nr: str, details: Mapping[str, str]) -> Meeting:
    """Rebuild a meeting that left the sheet from what people were last told."""
    from datetime import time

    return Meeting(nr, date.fromisoformat(details["day"]), time.fromisoformat(details["start"]),
                   time.fromisoformat(details["end"]), details.get("title", ""),
                   details.get("location", ""), details.get("address", ""), "iedereen",
                   "afgelast", "", False)


def attendance_rows(
    invited: Mapping[str, set[str]], by_nr: Mapping[str, Meeting], people: Mapping[str, Invitee]
) -> dict[str, dict[str, str]]:
    """Return the sign-in list: one row per invitee per meeting (Status and Opmerking are human)."""
    out: dict[str, dict[str, str]] = {}
    for nr in sorted(invited, key=lambda n: (len(n), n)):
        if nr not in by_nr or by_nr[nr].status == "afgelast":
            continue
        for email in sorted(invited[nr]):
            person = people.get(email)
            out[f"{nr}|{email}"] = {
                "Bijeenkomst": nr, "E-mail": email, "Naam": person.name if person else "",
                "Organisatie": person.organisation if person else "",
                "Rol": person.role if person else "",
            }
    return out


def refused_rows(
    rows: list[list[str]], columns: Mapping[str, int], entries: Mapping[str, LedgerEntry]
) -> dict[str, dict[str, str]]:
    """Return emptied sign-in rows of invitees whose invitation was refused for good (5xx).

    The row was written while the invitation still waited (a stopped run, a 4xx); the person was
    never invited, so the row is emptied, as Deelnemers empties a tandem that left the register.
    """
    nr, mail = columns["Bijeenkomst"], columns["E-mail"]
    listed = {f"{r[nr - 1].strip()}|{r[mail - 1].strip()}" for r in rows[1:] if len(r) >= max(nr, mail)}
    refused = {f"{e.subject.removeprefix('bijeenkomst ')}|{e.recipient.lower()}"
               for e in entries.values() if e.kind == "uitnodiging" and e.status == FAILED}
    return {key: dict.fromkeys(ATTENDANCE_PIPELINE, "") for key in sorted(listed & refused)}


__all__ = ["InvitationsSummary", "Send", "run_invitations"]
