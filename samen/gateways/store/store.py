"""The store: the pipeline's own memory (what it has seen, decided and sent)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from samen.domain.records import Application, AuditEntry, ResponseVersion
from samen.gateways.store.anonymise import AnonymiseStore
from samen.gateways.store.ledger import Ledger
from samen.gateways.store.meetings import MeetingStore
from samen.gateways.store.selection import SelectionStore
from samen.gateways.store.store_util import insert_many, write_audit
from samen.gateways.store.tables import applications, audit_log, response_versions

# At DEBUG SQLAlchemy would log bound parameters (people's addresses): keep it quiet.
logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


class _NoResultRows(logging.Filter):
    """Drop the engine's DEBUG records: they show result rows ("Row (...)": people's data).

    hide_parameters=True hides bound parameters only, and logging set up after this module is
    imported (an operator's DEBUG) overrides the level above; statements at INFO stay.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep records at INFO and above."""
        return record.levelno >= logging.INFO


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoResultRows())


class StoreError(RuntimeError):
    """The store cannot be reached or upgraded; the message names the URL (without secrets)."""


def safe_url(url: str) -> str:
    """Return the URL with any password hidden, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (how the store keeps time)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    """SQLAlchemy-backed store with domain-shaped methods."""

    def __init__(self, url: str) -> None:
        """Connect to url (sqlite:///... or postgresql+psycopg://...)."""
        self.url = url
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, hide_parameters=True, future=True,
                                       json_serializer=json_text)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.ledger = Ledger(self.engine)
        self.selection = SelectionStore(self.engine)
        self.meetings = MeetingStore(self.engine)
        self.anonymise = AnonymiseStore(self.engine)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def migrate(self) -> None:
        """Bring the schema up to the newest migration (no-op when current)."""
        script_location = str(resources.files("samen").joinpath("migrations"))
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", script_location)
        head = ScriptDirectory.from_config(cfg).get_current_head()
        try:
            with self.engine.begin() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
                if current == head:
                    return
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.OperationalError as exc:
            raise StoreError(
                f"Cannot open the store at {safe_url(self.url)}: {exc.orig}. Check [store] url "
                "in samen.toml and that the database server is running."
            ) from exc

    def load_versions(self) -> list[ResponseVersion]:
        """Return every stored response version, by form row and version.

        Memory: every scheduled run loads all versions (at 100,000 rows they were 550 MB as the
        JSON columns came back). The answers are parsed by orjson, which shares the field names
        between versions, and a normalised answer equal to the answer as typed is the same str.
        """
        rv = response_versions
        query = sa.select(
            rv.c.form_row, rv.c.version, rv.c.fingerprint, rv.c.submitted_at, _as_text(rv.c.raw),
            rv.c.valid, _as_text(rv.c.normalised), _as_text(rv.c.problems), rv.c.application_id,
            rv.c.seen_at,
        ).order_by(rv.c.form_row, rv.c.version)
        with self.engine.connect() as conn:
            return [
                ResponseVersion(
                    form_row=form_row, version=version, fingerprint=fingerprint,
                    submitted_at=submitted_at, raw=(answers := _answers(raw)), valid=bool(valid),
                    normalised=_shared(_answers(normalised), answers),
                    problems=tuple(_answers(problems)), application_id=application_id,
                    seen_at=seen_at,
                )
                for (form_row, version, fingerprint, submitted_at, raw, valid, normalised,
                     problems, application_id, seen_at) in conn.execute(query)
            ]

    def load_applications(self) -> list[Application]:
        """Return every application, by sequence number."""
        a = applications
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(a).order_by(a.c.seq)).mappings()
            return [
                Application(id=r["id"], seq=r["seq"], key=r["key"], form_row=r["form_row"],
                            version=r["version"])
                for r in rows
            ]

    def save_intake(
        self,
        versions: Sequence[ResponseVersion],
        new_apps: Sequence[Application],
        changed_apps: Sequence[Application],
        audit: Sequence[AuditEntry],
    ) -> None:
        """Record new response versions and application changes in one transaction."""
        if not (versions or new_apps or changed_apps or audit):
            return
        now = utcnow()
        with self.engine.begin() as conn:
            insert_many(conn, response_versions, _VERSION_COLUMNS,
                        (_version_row(v, now) for v in versions))
            insert_many(conn, applications, ("id", "seq", "key", "form_row", "version",
                                             "created_at", "updated_at"),
                        ((a.id, a.seq, a.key, a.form_row, a.version, now, now) for a in new_apps))
            for app in changed_apps:
                conn.execute(
                    sa.update(applications).where(applications.c.id == app.id).values(
                        key=app.key, form_row=app.form_row, version=app.version, updated_at=now
                    )
                )
            write_audit(conn, audit, now)

    def audit_entries(self, action: str | None = None) -> list[dict[str, Any]]:
        """Return audit log entries (optionally of one action), oldest first."""
        q = sa.select(audit_log).order_by(audit_log.c.id)
        if action:
            q = q.where(audit_log.c.action == action)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]


def json_text(value: Any) -> str:
    """Return a JSON column's text (orjson: an intake of 100,000 rows stores 500,000 of them)."""
    try:
        # Compact UTF-8 where json.dumps writes ", " and \u escapes: the same values read back.
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses (an integer beyond 64 bits): the standard library
        return json.dumps(value)


def _as_text(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """Select a JSON column as its text (parsed by `_answers`), under its own name."""
    return sa.cast(column, sa.Text).label(column.key)


def _answers(text: str | None) -> Any:
    """Parse a JSON column of form answers or problems (str values only, as json_text wrote them).

    orjson reads numbers beyond 64 bits as floats where json keeps them exact: fine here, as
    these columns hold text, and the standard library takes what orjson refuses.
    """
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# A normalised answer's field in the answers as typed, where the names differ.
_TYPED_FIELD = {"municipality_name": "municipality"}


def _shared(normalised: dict[str, Any] | None, raw: dict[str, Any]) -> dict[str, Any] | None:
    """Return normalised with each value equal to the typed answer replaced by that same str."""
    if normalised is None:  # an invalid version (JSON null, or SQL NULL from an older release)
        return None
    for field, value in normalised.items():
        typed = raw.get(_TYPED_FIELD.get(field, field))
        if typed == value:
            normalised[field] = typed
    return normalised


_VERSION_COLUMNS = ("form_row", "version", "fingerprint", "submitted_at", "seen_at", "raw", "valid",
                    "normalised", "problems", "application_id")


def _version_row(v: ResponseVersion, now: datetime) -> tuple[Any, ...]:
    return (v.form_row, v.version, v.fingerprint, v.submitted_at, v.seen_at or now, v.raw,
            v.valid, v.normalised, list(v.problems), v.application_id)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Set WAL with synchronous=FULL, a busy timeout and foreign keys on a new connection.

    synchronous=FULL: every commit syncs the WAL to disk before it returns, so the commit that
    marks a message sent survives a power loss or an OS crash too (as a PostgreSQL commit with
    synchronous_commit=on does). WAL with NORMAL syncs only at checkpoints: it survives a killed
    process, but a power loss can take back the last commits, and with them the record of
    messages already delivered, which the next run would then send a second time. The price is
    one fsync per commit, so one per sent message (about 0.25 ms on the development VM's quiet
    disk, 1-1.4 ms while other processes write to it).
    busy_timeout: concurrent runs wait for the write lock instead of failing.
    """
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
