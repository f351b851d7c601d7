"""Invitation rules (pure): which meetings to announce, change or cancel, and who gets what."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from babel.dates import format_date

from samen.domain.meetings import Invitee, Meeting, audience_of


@dataclass(frozen=True)
class Announced:
    """What the store says people were last told about a meeting."""

    sequence: int
    details: dict[str, str]
    status: str


@dataclass(frozen=True)
class MeetingAction:
    """A change of a meeting's announced state: announce, change or cancel."""

    nr: str
    action: str  # announce | change | cancel
    sequence: int
    details: dict[str, str]
    status: str


@dataclass(frozen=True)
class Send:
    """One message to plan: kind, meeting, recipient; version distinguishes changes."""

    kind: str  # uitnodiging | herinnering | wijziging | afgelast
    nr: str
    email: str
    version: int
    changes: tuple[str, ...] = ()


@dataclass
class InvitationPlan:
    """What one invitations run does."""

    actions: list[MeetingAction] = field(default_factory=list)
    sends: list[Send] = field(default_factory=list)
    signals: list[tuple[str, str, str, str]] = field(default_factory=list)  # key, kind, nr, text


def plan_invitations(
    meetings: Sequence[Meeting], listed_nrs: Collection[str], announced: Mapping[str, Announced],
    people: Mapping[str, Invitee], invited: Mapping[str, Collection[str]],
    cancelled_by_person: Mapping[str, Collection[str]], as_of: date, invite_days: int,
    reminder_days: int,
) -> InvitationPlan:
    """Decide announcements, changes, cancellations, invitations and reminders for as_of."""
    plan = InvitationPlan()
    for m in meetings:
        before = announced.get(m.nr)
        invitees = audience_of(m, people)
        already = set(invited.get(m.nr, ()))
        if m.status == "afgelast":
            if before is not None and before.status != "afgelast":
                seq = before.sequence + 1
                plan.actions.append(MeetingAction(m.nr, "cancel", seq, m.details(), "afgelast"))
                plan.sends += [Send("afgelast", m.nr, e, seq) for e in sorted(already)]
            continue
        if before is None:
            if as_of < m.day - timedelta(days=invite_days):
                continue
            if as_of > m.day:
                plan.signals.append((f"niet-aangekondigd|{m.nr}", "Bijeenkomst niet aangekondigd",
                                     m.nr, f"Bijeenkomst {m.nr} ({m.title}) op "
                                     f"{m.day.strftime('%d-%m-%Y')} is voorbij en is nooit "
                                     "aangekondigd."))
                continue
            if not m.location:
                plan.signals.append((f"geen-locatie|{m.nr}", "Locatie ontbreekt", m.nr,
                                     f"Bijeenkomst {m.nr} ({m.title}) op "
                                     f"{m.day.strftime('%d-%m-%Y')} moet worden aangekondigd, "
                                     "maar heeft nog geen Locatie. Vul de locatie in; de "
                                     "uitnodiging gaat bij de volgende run."))
                continue
            plan.actions.append(MeetingAction(m.nr, "announce", 0, m.details(), "gepland"))
            sequence = 0
        else:
            sequence = before.sequence
            if before.status == "afgelast" or before.details != m.details():
                sequence += 1
                plan.actions.append(MeetingAction(m.nr, "change", sequence, m.details(), "gepland"))
                changes = describe_changes(before.details, m.details())
                plan.sends += [Send("wijziging", m.nr, e, sequence, changes) for e in sorted(already)]
        if as_of > m.day:
            continue
        new = [p.email for p in invitees if p.email not in already]
        plan.sends += [Send("uitnodiging", m.nr, e, 1) for e in new]
        if m.day - timedelta(days=reminder_days) <= as_of < m.day:
            skip = set(cancelled_by_person.get(m.nr, ())) | set(new)
            plan.sends += [Send("herinnering", m.nr, e, 1) for e in sorted(already) if e not in skip]
    present = {m.nr for m in meetings}
    for nr, before in sorted(announced.items()):
        if nr not in listed_nrs and nr not in present and before.status != "afgelast":
            seq = before.sequence + 1
            plan.actions.append(MeetingAction(nr, "cancel", seq, before.details, "afgelast"))
            plan.sends += [Send("afgelast", nr, e, seq) for e in sorted(invited.get(nr, ()))]
    return plan


def describe_changes(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[str, ...]:
    """Return the Dutch lines that say what changed (values as people read them)."""
    out: list[str] = []
    if before.get("day") != after.get("day"):
        day = format_date(date.fromisoformat(after["day"]), "full", locale="nl")
        out.append(f"De datum is nu {day}.")
    if (before.get("start"), before.get("end")) != (after.get("start"), after.get("end")):
        out.append(f"De tijd is nu {after['start']} tot {after['end']} uur.")
    if (before.get("location"), before.get("address")) != (after.get("location"), after.get("address")):
        where = ", ".join(p for p in (after.get("location"), after.get("address")) if p)
        out.append(f"De locatie is nu {where}.")
    if before.get("title") != after.get("title"):
        out.append(f"De titel is nu {after['title']}.")
    return tuple(out) or ("De bijeenkomst staat weer gepland.",)
