"""What `samen anonymise` reads from and writes to the store: one transaction for all changes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from samen.domain.records import AuditEntry
from samen.gateways.store.store_util import write_audit
from samen.gateways.store.tables import attendance, messages, pseudonym_keys, response_versions, signals


@dataclass(frozen=True)
class AttendanceRow:
    """One attendance record with the moment it was recorded."""

    meeting_nr: str
    email: str
    applications: tuple[str, ...]
    recorded_at: datetime


@dataclass(frozen=True)
class VersionChange:
    """A response version with its personal answers replaced (and its new fingerprint)."""

    form_row: int
    version: int
    fingerprint: str
    raw: dict[str, str]
    normalised: dict[str, str] | None
    problems: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class MessageChange:
    """A ledger message under its (new) key, to a pseudonym, with its content replaced."""

    key: str
    new_key: str
    subject: str
    recipient: str
    status: str
    reason: str
    content: bytes | None
    content_changed: bool


@dataclass(frozen=True)
class AttendanceChange:
    """An attendance record under a pseudonym; drop: a record of that pseudonym exists already."""

    meeting_nr: str
    email: str
    new_email: str
    drop: bool = False


@dataclass(frozen=True)
class SignalChange:
    """A signal under its new key (pseudonyms' references) with personal data left out."""

    key: str
    new_key: str
    explanation: str


@dataclass
class AnonymiseChanges:
    """Everything one anonymise run changes in the store."""

    versions: list[VersionChange] = field(default_factory=list)
    messages: list[MessageChange] = field(default_factory=list)
    attendance: list[AttendanceChange] = field(default_factory=list)
    signals: list[SignalChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Tell whether anything changes."""
        return bool(self.versions or self.messages or self.attendance or self.signals)


class AnonymiseStore:
    """Reads and the one write of `samen anonymise` on the store's engine."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use the store's engine."""
        self.engine = engine

    def pseudonym_key(self, now: datetime, create: bool = True) -> str | None:
        """Return the secret key of the pseudonyms; make it once (None when absent and not create)."""
        q = sa.select(pseudonym_keys.c.secret).where(pseudonym_keys.c.id == 1)
        with self.engine.begin() as conn:
            found = conn.execute(q).scalar_one_or_none()
            if found is not None or not create:
                return found
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            # Two first runs at once: one key wins, both use it.
            conn.execute(dialect.insert(pseudonym_keys).values(
                id=1, secret=secrets.token_hex(32), created_at=now).on_conflict_do_nothing())
            return str(conn.execute(q).scalar_one())

    def attendance_rows(self) -> list[AttendanceRow]:
        """Return every attendance record with when it was recorded."""
        with self.engine.connect() as conn:
            return [AttendanceRow(r["meeting_nr"], r["email"], tuple(r["applications"]),
                                  r["recorded_at"])
                    for r in conn.execute(sa.select(attendance)).mappings()]

    def contents(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        """Return the built message of these ledger keys (None: a message never built)."""
        wanted = sorted(set(keys))
        out: dict[str, bytes | None] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                q = sa.select(messages.c.key, messages.c.content).where(
                    messages.c.key.in_(wanted[start:start + 500]))
                out.update({r.key: bytes(r.content) if r.content is not None else None
                            for r in conn.execute(q)})
        return out

    def apply(self, changes: AnonymiseChanges, audit: Sequence[AuditEntry], now: datetime) -> None:
        """Write every change and the audit entry in one transaction."""
        if not (changes or audit):
            return
        rv = response_versions
        with self.engine.begin() as conn:
            for v in changes.versions:
                conn.execute(sa.update(rv).where(
                    (rv.c.form_row == v.form_row) & (rv.c.version == v.version)).values(
                    fingerprint=v.fingerprint, raw=v.raw, normalised=v.normalised,
                    problems=list(v.problems)))
            for m in changes.messages:
                values: dict[str, Any] = {"key": m.new_key, "subject": m.subject,
                                          "recipient": m.recipient, "status": m.status,
                                          "reason": m.reason}
                if m.content_changed:
                    values["content"] = m.content
                conn.execute(sa.update(messages).where(messages.c.key == m.key).values(**values))
            for a in changes.attendance:
                where = (attendance.c.meeting_nr == a.meeting_nr) & (attendance.c.email == a.email)
                if a.drop:
                    conn.execute(sa.delete(attendance).where(where))
                else:
                    conn.execute(sa.update(attendance).where(where).values(email=a.new_email))
            for s in changes.signals:
                conn.execute(sa.update(signals).where(signals.c.key == s.key).values(
                    key=s.new_key, explanation=s.explanation))
            write_audit(conn, audit, now)
