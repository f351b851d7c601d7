"""Helpers shared by the store's modules."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from samen.domain.records import AuditEntry
from samen.gateways.store.tables import audit_log

CHUNK_ROWS = 2000  # rows per executemany in insert_many


def write_audit(conn: sa.Connection, audit: Sequence[AuditEntry], now: datetime) -> None:
    """Append audit entries on an open transaction."""
    if audit:
        insert_many(conn, audit_log, ("at", "actor", "action", "subject", "detail"),
                    ((now, e.actor, e.action, e.subject, e.detail) for e in audit))


def insert_many(conn: sa.Connection, table: sa.Table, columns: Sequence[str],
                rows: Iterable[Sequence[Any]], *, skip_existing: str | None = None) -> int:
    """INSERT rows (values in `columns` order) with a driver-level executemany per chunk.

    The values go through the column types' bind processors as SQLAlchemy would apply them
    (JSON with the store's serializer, dates as SQLite stores them), but without SQLAlchemy's
    per-row parameter handling, which was a third of an intake's store save at 100,000 rows.
    `skip_existing` names a unique column: a row whose value there is taken already is left
    out (ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike). Returns the rows inserted.
    """
    dialect = conn.dialect
    # Dates cached: a run's timestamp and day are the same value in every row.
    processors = [bind_processor(table.c[name], dialect,
                                 cached=isinstance(table.c[name].type, (sa.DateTime, sa.Date)))
                  for name in columns]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"VALUES ({', '.join([marker] * len(columns))})"
           + (f" ON CONFLICT ({skip_existing}) DO NOTHING" if skip_existing else ""))
    # In chunks: the processed values (JSON text) of 100,000 rows would take 300 MB at once.
    iterator = iter(rows)
    inserted = 0
    while chunk := list(itertools.islice(iterator, CHUNK_ROWS)):
        given = zip(*chunk, strict=True)  # column by column, so that map() runs the processors
        processed = [values if process is None else list(map(process, values))
                     for process, values in zip(processors, given, strict=True)]
        # The drivers' executemany counts the rows it inserted (sqlite3, psycopg 3.1 and later).
        inserted += conn.exec_driver_sql(sql, list(zip(*processed, strict=True))).rowcount
    return inserted


def bind_processor(column: sa.Column[Any], dialect: sa.Dialect,
                   cached: bool = False) -> Callable[[Any], Any] | None:
    """Return the function that turns a value into what the driver gets for this column.

    None when the driver takes the value as it is. `cached` remembers the last few values:
    for a column that gets the same value again and again.
    """
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not cached:
        return process
    return functools.lru_cache(maxsize=8)(process)
