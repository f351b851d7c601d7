"""The message ledger and the signals: every planned message under its idempotency key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from samen.gateways.store.tables import messages, signals

PLANNED, SENT, FAILED, HELD = "planned", "sent", "failed", "held"


@dataclass(frozen=True)
class LedgerEntry:
    """One message in the ledger (without its content)."""

    key: str
    seq: int
    kind: str
    subject: str
    recipient: str
    subject_line: str
    message_id: str
    status: str
    reason: str
    attempts: int
    planned_at: datetime
    sent_at: datetime | None
    sent_day: date | None


@dataclass(frozen=True)
class NewMessage:
    """A message to record: planned with its built content, or held with a reason."""

    key: str
    kind: str
    subject: str
    recipient: str
    subject_line: str
    message_id: str
    content: bytes | None
    status: str = PLANNED
    reason: str = ""


@dataclass(frozen=True)
class SignalRecord:
    """An alert to the coordinators, recorded once."""

    key: str
    kind: str
    subject: str
    explanation: str
    raised_on: date


_COLUMNS = [c for c in messages.c if c.name != "content"]


class Ledger:
    """Ledger operations on the store's engine; each state change is its own durable commit."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use the store's engine."""
        self.engine = engine

    def entries(self) -> dict[str, LedgerEntry]:
        """Return every ledger entry by key."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*_COLUMNS).order_by(messages.c.seq)).mappings()
            return {r["key"]: _entry(r) for r in rows}

    def record(self, new: Sequence[NewMessage], now: datetime) -> int:
        """Insert messages whose key is not in the ledger yet (one transaction); return how many."""
        if not new:
            return 0
        with self.engine.begin() as conn:
            start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(messages.c.seq), 0))).scalar_one()
            rows = [
                {"key": m.key, "seq": start + i, "kind": m.kind, "subject": m.subject,
                 "recipient": m.recipient, "subject_line": m.subject_line,
                 "message_id": m.message_id, "status": m.status, "reason": m.reason,
                 "content": m.content, "attempts": 0, "planned_at": now, "sent_at": None,
                 "sent_day": None}
                for i, m in enumerate(new, start=1)
            ]
            # Count the RETURNING rows: psycopg's executemany reports rowcount -1.
            insert = _insert_ignoring_duplicates(conn, messages, "key").returning(messages.c.key)
            return len(conn.execute(insert, rows).all())

    def pending(self) -> list[tuple[LedgerEntry, bytes]]:
        """Return the messages planned but not yet delivered, oldest first, with their content."""
        q = (sa.select(*_COLUMNS, messages.c.content)
             .where(messages.c.status == PLANNED).order_by(messages.c.seq))
        with self.engine.connect() as conn:
            return [(_entry(r), bytes(r["content"] or b"")) for r in conn.execute(q).mappings()]

    @contextmanager
    def claim(self, key: str) -> Iterator[Claim | None]:
        """Claim a planned message for sending; None when it is done or another run holds it.

        The claim is one transaction that ends with the message's new state: on PostgreSQL the
        row is locked (SELECT ... FOR UPDATE SKIP LOCKED, so a concurrent run skips it), on
        SQLite the write lock is taken first (a concurrent run waits, then sees it sent). If the
        process dies while sending, the transaction never commits and the message stays planned.
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                q = sa.select(messages.c.status).where(messages.c.key == key)
                row = conn.execute(q.with_for_update(skip_locked=True)).first()
                mine = row is not None and row.status == PLANNED
            else:
                touched = conn.execute(sa.update(messages).where(
                    (messages.c.key == key) & (messages.c.status == PLANNED)
                ).values(reason=messages.c.reason))
                mine = touched.rowcount == 1
            yield Claim(conn, key) if mine else None

    def sent_on(self, day: date) -> int:
        """Return how many messages were delivered on a day (for the daily cap)."""
        q = sa.select(sa.func.count()).select_from(messages).where(messages.c.sent_day == day)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def signals(self) -> dict[str, SignalRecord]:
        """Return every recorded signal by key, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(signals).order_by(signals.c.seq)).mappings()
            return {r["key"]: SignalRecord(r["key"], r["kind"], r["subject"], r["explanation"],
                                           r["raised_on"]) for r in rows}

    def record_signals(self, new: Sequence[SignalRecord], now: datetime) -> int:
        """Insert signals whose key is new; return how many were added."""
        if not new:
            return 0
        with self.engine.begin() as conn:
            start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(signals.c.seq), 0))).scalar_one()
            rows = [{"key": s.key, "seq": start + i, "kind": s.kind, "subject": s.subject,
                     "explanation": s.explanation, "raised_on": s.raised_on, "raised_at": now}
                    for i, s in enumerate(new, start=1)]
            insert = _insert_ignoring_duplicates(conn, signals, "key").returning(signals.c.key)
            return len(conn.execute(insert, rows).all())



class Claim:
    """A message claimed for sending: record its outcome in the claiming transaction."""

    def __init__(self, conn: sa.Connection, key: str) -> None:
        """Hold the claiming connection."""
        self.conn = conn
        self.key = key

    def mark_sent(self, at: datetime, day: date) -> None:
        """Record a delivered message (the durable commit that prevents a second send)."""
        self._update(status=SENT, sent_at=at, sent_day=day, reason="",
                     attempts=messages.c.attempts + 1)

    def mark_failed(self, reason: str) -> None:
        """Record a permanent refusal (e.g. 550): never retried."""
        self._update(status=FAILED, reason=reason, attempts=messages.c.attempts + 1)

    def note_attempt(self, reason: str) -> None:
        """Record a temporary failure; the message stays planned for the next run."""
        self._update(reason=reason, attempts=messages.c.attempts + 1)

    def _update(self, **values: Any) -> None:
        self.conn.execute(sa.update(messages).where(messages.c.key == self.key).values(**values))


def _insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table, key: str) -> Any:
    """Return INSERT ... ON CONFLICT DO NOTHING for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])


def _entry(r: Any) -> LedgerEntry:
    return LedgerEntry(
        key=r["key"], seq=r["seq"], kind=r["kind"], subject=r["subject"],
        recipient=r["recipient"], subject_line=r["subject_line"], message_id=r["message_id"],
        status=r["status"], reason=r["reason"], attempts=r["attempts"],
        planned_at=r["planned_at"], sent_at=r["sent_at"],
        sent_day=r["sent_day"],
    )
