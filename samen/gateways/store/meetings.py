"""Meetings as announced (with their calendar SEQUENCE) and recorded attendance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from samen.domain.records import AuditEntry
from samen.gateways.store.store_util import write_audit
from samen.gateways.store.tables import attendance, meetings


@dataclass(frozen=True)
class AnnouncedMeeting:
    """What people were last told about a meeting."""

    nr: str
    sequence: int
    details: dict[str, str]
    status: str  # gepland | afgelast
    announced_on: date


@dataclass(frozen=True)
class AttendanceRecord:
    """One address's attendance at one meeting."""

    meeting_nr: str
    email: str
    status: str  # aanwezig | afgemeld | afwezig
    applications: tuple[str, ...]
    side: str
    role: str


class MeetingStore:
    """Meeting and attendance operations on the store's engine."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use the store's engine."""
        self.engine = engine

    def announced(self) -> dict[str, AnnouncedMeeting]:
        """Return every announced meeting by Nr."""
        with self.engine.connect() as conn:
            return {r["nr"]: AnnouncedMeeting(r["nr"], r["sequence"], dict(r["details"]),
                                              r["status"], r["announced_on"])
                    for r in conn.execute(sa.select(meetings)).mappings()}

    def save_announcement(
        self, nr: str, sequence: int, details: dict[str, str], status: str, day: date,
        now: datetime, action: str,
    ) -> None:
        """Record that a meeting was announced, changed or cancelled (with its new SEQUENCE)."""
        with self.engine.begin() as conn:
            values = {"sequence": sequence, "details": details, "status": status, "changed_at": now}
            # One upsert, not a look then an insert: two runs announcing a meeting at once would
            # both insert, and the second would fail after sending its invitations.
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(meetings).values(nr=nr, announced_on=day, **values)
            conn.execute(insert.on_conflict_do_update(index_elements=[meetings.c.nr], set_=values))
            write_audit(conn, [AuditEntry("invitations", action, f"bijeenkomst {nr}",
                                          {"sequence": sequence, "status": status})], now)

    def attendance(self) -> dict[tuple[str, str], AttendanceRecord]:
        """Return recorded attendance by (meeting Nr, address)."""
        with self.engine.connect() as conn:
            return {(r["meeting_nr"], r["email"]): AttendanceRecord(
                        r["meeting_nr"], r["email"], r["status"], tuple(r["applications"]),
                        r["side"], r["role"])
                    for r in conn.execute(sa.select(attendance)).mappings()}

    def record_attendance(self, records: Sequence[AttendanceRecord], now: datetime) -> None:
        """Insert or update attendance records in one transaction."""
        if not records:
            return
        with self.engine.begin() as conn:
            for r in records:
                key = (attendance.c.meeting_nr == r.meeting_nr) & (attendance.c.email == r.email)
                values = {"status": r.status, "applications": list(r.applications),
                          "side": r.side, "role": r.role, "recorded_at": now}
                if conn.execute(sa.select(attendance.c.email).where(key)).first():
                    conn.execute(sa.update(attendance).where(key).values(**values))
                else:
                    conn.execute(sa.insert(attendance).values(
                        meeting_nr=r.meeting_nr, email=r.email, **values))
            per_meeting = Counter(r.meeting_nr for r in records)  # one entry per meeting
            write_audit(conn, [AuditEntry("attendance", "attendance_recorded", f"bijeenkomst {nr}",
                                          {"records": n}) for nr, n in per_meeting.items()], now)
