"""Meetings and the people invited to them (pure records and rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from samen.gateways.store.selection import Decision
from samen.schemas.municipalities import display_name


@dataclass(frozen=True)
class Meeting:
    """One row of Bijeenkomsten, validated."""

    nr: str
    day: date
    start: time
    end: time
    title: str
    location: str
    address: str
    audience: str  # iedereen | kern
    status: str  # gepland | afgelast
    materials: str
    attendance_complete: bool

    def details(self) -> dict[str, str]:
        """Return what people are told (a change in any of these is a wijziging)."""
        return {"day": self.day.isoformat(), "start": self.start.strftime("%H:%M"),
                "end": self.end.strftime("%H:%M"), "title": self.title,
                "location": self.location, "address": self.address}

    def starts_at(self, zone: ZoneInfo) -> datetime:
        """Return the aware start moment."""
        return datetime.combine(self.day, self.start, tzinfo=zone)

    def ends_at(self, zone: ZoneInfo) -> datetime:
        """Return the aware end moment."""
        return datetime.combine(self.day, self.end, tzinfo=zone)

    def context(self) -> dict[str, object]:
        """Return the template variables of the meeting."""
        return {"nr": self.nr, "title": self.title, "date": self.day, "start": self.start,
                "end": self.end, "location": self.location, "address": self.address,
                "audience": self.audience}


@dataclass(frozen=True)
class Invitee:
    """A person in the register: one address, possibly in several tandems."""

    email: str
    name: str
    role: str  # kern if any of the tandems is kern, else kenniskring
    organisation: str
    applications: tuple[str, ...]
    sides: tuple[str, ...] = field(default=())


def register(
    in_force: Mapping[str, Decision], current: Mapping[str, Mapping[str, str]]
) -> dict[str, Invitee]:
    """Return the participants (kern and kenniskring contacts) by lower-cased address."""
    people: dict[str, Invitee] = {}
    for app_id in sorted(in_force):
        d = in_force[app_id]
        if d.decision not in ("kern", "kenniskring"):
            continue
        n = current.get(app_id, {})
        for side, kant in (("initiative", "initiatief"), ("municipality", "gemeente")):
            email = n.get(f"{side}_email", "").strip().lower()
            if not email:
                continue
            org = n.get("initiative", "") if kant == "initiatief" else (
                f"Gemeente {display_name(n.get('municipality_code', ''))}")
            known = people.get(email)
            if known is None:
                people[email] = Invitee(email, n.get(f"{side}_contact", ""), d.decision, org,
                                        (app_id,), (kant,))
            else:
                role = "kern" if "kern" in (known.role, d.decision) else "kenniskring"
                people[email] = Invitee(email, known.name, role, known.organisation,
                                        (*known.applications, app_id), (*known.sides, kant))
    return people


def audience_of(meeting: Meeting, people: Mapping[str, Invitee]) -> list[Invitee]:
    """Return the invitees of a meeting: everyone, or kern only."""
    return [p for p in people.values() if meeting.audience == "iedereen" or p.role == "kern"]
