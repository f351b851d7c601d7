"""The message ledger and the signals: every planned message under its idempotency key."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from samen.gateways.store.store_util import bind_processor, insert_many
from samen.gateways.store.tables import messages, signals

PLANNED, SENT, FAILED, HELD = "planned", "sent", "failed", "held"


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
    def deliveries(self) -> Iterator[Deliveries]:
        """Hold one pooled connection for a delivery pass; claim each message on it (see Deliveries)."""
        raw = self.engine.raw_connection()
        try:
            try:
                deliveries = Deliveries(raw.dbapi_connection, self.engine.dialect)
            except BaseException:
                raw.invalidate()  # half set up (a lock or a prepared statement may be left)
                raise
            try:
                yield deliveries
            finally:
                if not deliveries.close():
                    raw.invalidate()  # broken: the pool opens a new one next time
        finally:
            raw.close()  # back to the pool, which rolls back anything left open

    def sent_on(self, day: date) -> int:
        """Return how many messages were delivered on a day (for the daily cap)."""
        q = sa.select(sa.func.count()).select_from(messages).where(messages.c.sent_day == day)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def signal_keys(self) -> set[str]:
        """Return the keys of every recorded signal."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(signals.c.key)).scalars())

    def signals(self) -> dict[str, SignalRecord]:
        """Return every recorded signal by key, oldest first."""
        columns = (signals.c.key, signals.c.kind, signals.c.subject, signals.c.explanation,
                   signals.c.raised_on)  # SignalRecord's fields in order
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*columns).order_by(signals.c.seq))
            return {record.key: record for record in itertools.starmap(SignalRecord, rows)}

    def record_signals(self, new: Sequence[SignalRecord], now: datetime) -> int:
        """Insert signals whose key is new; return how many were added."""
        if not new:
            return 0
        with self.engine.begin() as conn:
            start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(signals.c.seq), 0))).scalar_one()
            return insert_many(
                conn, signals, ("key", "seq", "kind", "subject", "explanation", "raised_on",
                                "raised_at"),
                ((s.key, start + i, s.kind, s.subject, s.explanation, s.raised_on, now)
                 for i, s in enumerate(new, start=1)),
                skip_existing="key",
            )



class Deliveries:
    """Claims of a delivery pass: each claim is one transaction that ends with the message's state.

    This is the per-message hot path of sending (a claim, the cap count, the outcome and a
    durable commit for every message), so it runs fixed SQL on the pooled connection's DBAPI
    connection instead of building and compiling SQLAlchemy statements per message.

    The work runs on one background thread (the only thread that touches the connection), so
    the caller can talk to the mail server while the last message's commit is on its way:
    `claim` and `end` return futures. The caller must not hand over the next message's content
    before the future of the previous `end` is done (SmtpMail's `ready` hook does that), so at
    most one delivered message is ever without its durable commit.

    - PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED locks the row, so a concurrent run skips it.
      The outcome, COMMIT and the claim of the next message go to the server as one simple
      query of prepared statements (EXECUTE): one round trip per message (the commit's wait for
      its WAL flush included) instead of four, and no parsing or planning per message. The
      values are quoted by psycopg (sql.Literal).
      The day's count (for the cap) is the costliest part of a claim, so a pass counts only
      when another pass may have delivered since its last claim. Each pass registers for its
      whole length: it holds a shared advisory lock (per schema) and takes the next number of
      the `delivery_passes` sequence. A claim tries the lock exclusively (taken and let go at
      once): that succeeds only when no other pass is registered. It skips the count when it
      is alone, the previous claim was alone too and the sequence has not moved since (no pass
      came and went in between): then the day's count is the last one plus this pass's own
      deliveries since. Otherwise it counts in the claim's statement (READ COMMITTED: what the
      others have committed), as every claim of two passes at once does.
    - SQLite: a no-op UPDATE of the planned row takes the write lock first (a concurrent run
      waits, then sees the message sent); the day's count inside that transaction is exact.
      It is taken again only when another connection has committed since the pass's last
      claim (PRAGMA data_version, read under that lock); else it is the last count plus the
      pass's own deliveries since. The values go through the column types' bind processors
      (how SQLite stores dates).

    If the process dies while sending, the transaction never commits and the message stays
    planned (sent again by the next run with the same Message-ID and bytes); the server lets go
    of the pass's lock with the session. A claim commits when an outcome was recorded (sent,
    failed, attempt noted), else it rolls back.
    """

    def __init__(self, dbapi_conn: Any, dialect: sa.Dialect) -> None:
        """Use a DBAPI connection (no transaction open) of the store's dialect."""
        self.conn = dbapi_conn
        self.cursor = dbapi_conn.cursor()
        self.counted = 0  # claims that counted the day's deliveries (the others knew it)
        self._postgres = dialect.name == "postgresql"
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="samen-ledger")
        self._literal: Callable[[Any], Any]
        # The day's deliveries as of the last count (plus this pass's own since) and that day;
        # PostgreSQL: the sequence's number at the last claim when that claim was alone;
        # SQLite: the database's data_version at the last claim.
        self._known: int | None = None
        self._known_day: date | None = None
        self._alone_at: int | None = None
        self._version: int | None = None
        if self._postgres:
            from psycopg import sql

            self._literal = functools.lru_cache(maxsize=8)(
                lambda v: sql.Literal(v).as_string(dbapi_conn))
            dbapi_conn.autocommit = True  # BEGIN and COMMIT travel with the statements
            self._run(_POSTGRES_START)  # register the pass; prepare the statements
        else:
            # A delivery pass converts the same day and time for every message: cached.
            at = bind_processor(messages.c.sent_at, dialect, cached=True) or _same
            day = bind_processor(messages.c.sent_day, dialect, cached=True) or _same
            self._literal = (  # a bind processor's value: how SQLite stores the column
                lambda v: at(v) if isinstance(v, datetime) else day(v) if isinstance(v, date) else v)

    def claim(self, key: str, count_day: date | None = None) -> Future[Claim | None]:
        """Claim a planned message; the result is None when it is done or another run holds it.

        With count_day the claim also carries how many messages were delivered that day
        (Claim.sent_that_day), as of the claim (for the daily cap; see the class).
        """
        return self._worker.submit(self._claim, key, count_day)

    def end(self, claim: Claim | None, next_key: str | None = None,
            count_day: date | None = None) -> Future[Claim | None]:
        """End a claim: commit its outcome (rolled back without one), then claim next_key.

        The result is the claim of next_key (as `claim` gives it), or None without one. The
        future is done when the outcome is durable.
        """
        return self._worker.submit(self._end, claim, next_key, count_day)

    @contextmanager
    def claimed(self, key: str, count_day: date | None = None) -> Iterator[Claim | None]:
        """Claim a message, yield the claim, then commit its outcome and wait for that."""
        claim = self.claim(key, count_day).result()
        try:
            yield claim
        except BaseException:
            if claim is not None:
                claim.outcome = None  # rolled back
            self.end(claim).result()
            raise
        self.end(claim).result()

    def close(self) -> bool:
        """Wait for the background work, roll back an open claim, end the pass's registration
        and restore the connection.

        Return False when the connection broke (the pass has already failed with the cause).
        """
        self._worker.shutdown(wait=True)
        try:
            if self._postgres:
                from psycopg import pq

                if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                    self.cursor.execute("ROLLBACK")
                self._run(_POSTGRES_END)
                self.conn.autocommit = False
            else:
                self.conn.rollback()
            self.cursor.close()
        except Exception:
            return False
        return True

    # What follows runs on the worker thread only.

    def _claim(self, key: str, count_day: date | None) -> Claim | None:
        cur = self.cursor
        if self._postgres:
            row = self._run("BEGIN; " + self._claim_sql(key, count_day))
            return self._postgres_claim(key, count_day, row)
        cur.execute(_SQLITE_SQL["claim"], (key,))  # opens the transaction and takes the write lock
        if cur.rowcount != 1:
            return None
        if count_day is None:
            return Claim(key)
        # Under the write lock: has another connection committed since this pass's last claim?
        version = cur.execute("PRAGMA data_version").fetchone()[0]
        if self._known is None or version != self._version or count_day != self._known_day:
            cur.execute(_SQLITE_SQL["count"], (self._literal(count_day),))
            self._known, self._known_day = int(cur.fetchone()[0]), count_day
            self.counted += 1
        self._version = version
        return Claim(key, self._known)

    def _end(self, claim: Claim | None, next_key: str | None, count_day: date | None) -> Claim | None:
        outcome = claim.outcome if claim is not None else None
        if self._postgres:
            if outcome is None:
                end = "ROLLBACK"
            else:
                name, params = outcome
                end = f"EXECUTE samen_{name}({', '.join(self._literal(v) for v in params)}); COMMIT"
            if next_key is None:
                self.cursor.execute(end)
                self._delivered(outcome)
                return None
            row = self._run(f"{end}; BEGIN; {self._claim_sql(next_key, count_day)}")
            self._delivered(outcome)
            return self._postgres_claim(next_key, count_day, row)
        if outcome is not None:
            name, params = outcome
            self.cursor.execute(_SQLITE_SQL[name], tuple(self._literal(v) for v in params))
            self.conn.commit()  # the durable commit of the message's new state
            self._delivered(outcome)
        else:
            self.conn.rollback()
        return self._claim(next_key, count_day) if next_key is not None else None

    def _delivered(self, outcome: tuple[str, tuple[Any, ...]] | None) -> None:
        """Add a committed delivery on the known day to the known count."""
        if outcome is not None and outcome[0] == "sent" and self._known is not None:
            _at, day, _key = outcome[1]  # as Claim.mark_sent records it
            if day == self._known_day:
                self._known += 1

    def _postgres_claim(self, key: str, count_day: date | None, row: Any) -> Claim | None:
        if count_day is None:
            return Claim(key) if row is not None and row[0] == PLANNED else None
        if row is None:  # another pass holds the message: nothing learnt, count next time
            self._alone_at = None
            return None
        status, alone, number, count = row
        if count is not None:
            self._known, self._known_day = int(count), count_day
            self.counted += 1
        self._alone_at = int(number) if alone else None
        return Claim(key, self._known) if status == PLANNED else None

    def _claim_sql(self, key: str, count_day: date | None) -> str:
        if count_day is None:
            return f"EXECUTE samen_claim({self._literal(key)})"
        known = self._alone_at is not None and self._known_day == count_day
        return (f"EXECUTE samen_claim_count({self._literal(key)}, {self._literal(count_day)}, "
                f"{self._alone_at if known else -1})")

    def _run(self, statements: str) -> Any:
        """Run statements as one simple query; return the first row of the last one (if any)."""
        cur = self.cursor
        cur.execute(statements)
        while cur.nextset():
            pass
        return cur.fetchone() if cur.description is not None else None


class Claim:
    """A message claimed for sending: record its outcome, committed when the claim ends."""

    def __init__(self, key: str, sent_that_day: int | None = None) -> None:
        """Hold the key and the day's count taken with the claim."""
        self.key = key
        self.sent_that_day = sent_that_day  # delivered on the day asked for, counted in the claim
        self.outcome: tuple[str, tuple[Any, ...]] | None = None  # committed when the claim ends

    def mark_sent(self, at: datetime, day: date) -> None:
        """Record a delivered message (the durable commit that prevents a second send)."""
        self.outcome = ("sent", (at, day, self.key))

    def mark_failed(self, reason: str) -> None:
        """Record a permanent refusal (e.g. 550): never retried."""
        self.outcome = ("failed", (reason, self.key))

    def note_attempt(self, reason: str) -> None:
        """Record a temporary failure; the message stays planned for the next run."""
        self.outcome = ("attempt", (reason, self.key))


# The statements of Deliveries: sqlite3 with ? parameters, PostgreSQL with {} for literals.
_SQLITE_SQL = {
    "claim": f"UPDATE messages SET reason = reason WHERE key = ? AND status = '{PLANNED}'",
    "count": "SELECT count(*) FROM messages WHERE sent_day = ?",
    "sent": f"UPDATE messages SET status = '{SENT}', sent_at = ?, sent_day = ?, reason = '', "
            "attempts = attempts + 1 WHERE key = ?",
    "failed": f"UPDATE messages SET status = '{FAILED}', reason = ?, attempts = attempts + 1 WHERE key = ?",
    "attempt": "UPDATE messages SET reason = ?, attempts = attempts + 1 WHERE key = ?",
}
# PostgreSQL: a pass's registration (see Deliveries) and its prepared statements, made when the
# pass starts and let go when it ends. The advisory lock's key: "SAMN" and the schema.
_PASS_LOCK = "1396788558, hashtext(current_schema())"
_POSTGRES_SQL = {
    "claim": "SELECT status FROM messages WHERE key = $1 FOR UPDATE SKIP LOCKED",
    # $3: the sequence's number at the previous claim when that one was alone, else -1.
    "claim_count": (
        f"WITH pass AS MATERIALIZED (SELECT CASE WHEN pg_try_advisory_lock({_PASS_LOCK}) "
        f"THEN pg_advisory_unlock({_PASS_LOCK}) ELSE false END AS alone, "
        "(SELECT last_value FROM delivery_passes) AS number) "
        "SELECT m.status, pass.alone, pass.number, CASE WHEN pass.alone AND pass.number = $3 "
        "THEN NULL ELSE (SELECT count(*) FROM messages WHERE sent_day = $2) END "
        "FROM messages m, pass WHERE m.key = $1 FOR UPDATE OF m SKIP LOCKED"),
    "sent": f"UPDATE messages SET status = '{SENT}', sent_at = $1, sent_day = $2, reason = '', "
            "attempts = attempts + 1 WHERE key = $3",
    "failed": f"UPDATE messages SET status = '{FAILED}', reason = $1, attempts = attempts + 1 "
              "WHERE key = $2",
    "attempt": "UPDATE messages SET reason = $1, attempts = attempts + 1 WHERE key = $2",
}
_POSTGRES_TYPES = {"claim": "text", "claim_count": "text, date, bigint",
                   "sent": "timestamp, date, text", "failed": "text, text", "attempt": "text, text"}
_POSTGRES_START = "; ".join([
    f"SELECT nextval('delivery_passes'), pg_advisory_lock_shared({_PASS_LOCK})",
    *(f"PREPARE samen_{name}({_POSTGRES_TYPES[name]}) AS {text}" for name, text in _POSTGRES_SQL.items()),
])
_POSTGRES_END = "; ".join([
    "SELECT pg_advisory_unlock_all()",  # the registration (and a lock a failed claim left)
    *(f"DEALLOCATE samen_{name}" for name in _POSTGRES_SQL),
])


def _same(value: Any) -> Any:
    return value


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
