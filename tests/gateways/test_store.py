"""The store against a real SQLite file and a real PostgreSQL schema (the store_url fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from samen.domain.records import Application, AuditEntry, ResponseVersion
from samen.gateways.store.store import Store, StoreError

TABLES = {"response_versions", "applications", "audit_log", "alembic_version"}
SEEN = datetime(2026, 11, 26, 14, 3, 11, 123456)
LONG_TEXT = "lang " * 10_000  # 50,000 characters


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yield a migrated store on the fixture's database, closed afterwards."""
    s = Store(store_url)
    s.migrate()
    yield s
    s.close()


def head_revision() -> str | None:
    """Return the newest migration's revision id."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("samen").joinpath("migrations")))
    return ScriptDirectory.from_config(cfg).get_current_head()


def version(form_row: int, number: int = 1, **changes: object) -> ResponseVersion:
    """Return a response version with Dutch, emoji and long text in its JSON fields."""
    fields: dict[str, object] = {
        "form_row": form_row, "version": number, "fingerprint": f"fp-{form_row}-{number}",
        "submitted_at": "26-11-2026 14:03:11",
        "raw": {"Naam": "Zoë de Vries 🎉", "Omschrijving": LONG_TEXT, "Leeg": ""},
        "valid": True, "normalised": {"email": "zoe@example.org", "naam": "Zoë"},
        "problems": ({"field": "Postcode", "message": "Vul een postcode in ✔"},),
        "application_id": f"SAMEN-2022-{form_row:03d}", "seen_at": SEEN,
    }
    fields.update(changes)
    return ResponseVersion(**fields)  # type: ignore[arg-type]


def app(seq: int, **changes: object) -> Application:
    """Return an application for form row seq + 1."""
    fields: dict[str, object] = {
        "id": f"SAMEN-2022-{seq:03d}", "seq": seq, "key": f"initiatief-{seq}|gemeente",
        "form_row": seq + 1, "version": 1,
    }
    fields.update(changes)
    return Application(**fields)  # type: ignore[arg-type]


def test_migrate_creates_tables_and_is_idempotent(store_url: str) -> None:
    """migrate() creates every table at head; a second call changes nothing."""
    s = Store(store_url)
    try:
        s.migrate()
        assert set(sa.inspect(s.engine).get_table_names()) >= TABLES
        s.save_intake([version(2)], [], [], [])
        s.migrate()
        with s.engine.connect() as conn:
            revisions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert revisions == [(head_revision(),)]
        assert [v.form_row for v in s.load_versions()] == [2]
    finally:
        s.close()


def test_versions_round_trip(store: Store) -> None:
    """Stored versions come back equal, JSON with ë, emoji and 50,000 chars intact, in order."""
    saved = [version(5, 2), version(3), version(5, 1, valid=False, normalised=None,
                                                 application_id=None)]
    store.save_intake(saved, [], [], [])
    loaded = store.load_versions()
    assert [(v.form_row, v.version) for v in loaded] == [(3, 1), (5, 1), (5, 2)]
    assert loaded == [saved[1], saved[2], saved[0]]
    assert len(loaded[0].raw["Omschrijving"]) == 50_000
    assert loaded[0].raw["Naam"] == "Zoë de Vries 🎉"
    assert loaded[1].normalised is None and loaded[1].valid is False


def test_loaded_normalised_answers_share_the_typed_str(store: Store) -> None:
    """An unchanged normalised answer is the typed answer's own str; escapes read back intact."""
    tricky = 'aanhalingsteken " backslash \\ tab \t regel\neinde \u2028 nul-achtig \x01 €'
    raw = {"initiative": "Buurt 🎉 " + tricky, "municipality": "'s-Hertogenbosch",
           "email": " Zoe@Example.org", "postcode": "1234ab"}
    normalised = {"initiative": "Buurt 🎉 " + tricky, "municipality_name": "'s-Hertogenbosch",
                  "municipality_code": "GM0796", "email": "zoe@example.org",
                  "postcode": "1234 AB"}
    store.save_intake([version(2, raw=raw, normalised=normalised)], [], [], [])
    loaded = store.load_versions()[0]
    assert loaded.raw == raw and loaded.normalised == normalised
    assert loaded.normalised is not None
    assert loaded.normalised["initiative"] is loaded.raw["initiative"]
    assert loaded.normalised["municipality_name"] is loaded.raw["municipality"]
    assert loaded.normalised["email"] is not loaded.raw["email"]  # differs: its own str
    assert loaded.problems == version(2).problems


def test_seen_at_defaults_to_now(store: Store) -> None:
    """A version without seen_at is stamped with the save time (naive UTC)."""
    before = datetime.now(UTC).replace(tzinfo=None)
    store.save_intake([version(2, seen_at=None)], [], [], [])
    after = datetime.now(UTC).replace(tzinfo=None)
    seen = store.load_versions()[0].seen_at
    assert seen is not None and seen.tzinfo is None
    assert before <= seen <= after


def test_applications_round_trip_and_update(store: Store) -> None:
    """New applications are inserted, changed ones updated, and loaded by sequence number."""
    store.save_intake([], [app(2), app(1)], [], [])
    assert store.load_applications() == [app(1), app(2)]
    moved = app(2, form_row=40, version=3, key="nieuwe sleutel ë")
    store.save_intake([], [], [moved], [])
    assert store.load_applications() == [app(1), moved]


def test_unique_row_version_enforced(store: Store) -> None:
    """A second version with the same (form_row, version) is refused by the database."""
    store.save_intake([version(2)], [], [], [])
    with pytest.raises(sa.exc.IntegrityError) as err:
        store.save_intake([version(2, fingerprint="other")], [], [], [])
    # hide_parameters: personal data never ends up in the error text.
    assert "zoe@example.org" not in str(err.value)
    assert [v.fingerprint for v in store.load_versions()] == ["fp-2-1"]


def test_save_intake_is_atomic(store: Store) -> None:
    """A failing insert late in save_intake leaves none of that call's rows behind."""
    store.save_intake([], [app(1)], [], [])
    audit = [AuditEntry("intake", "version_recorded", "row-2", {"n": 1})]
    with pytest.raises(sa.exc.IntegrityError):
        # The versions go in first; the duplicate application id then fails the transaction.
        store.save_intake([version(2), version(3)], [app(9, id=app(1).id, key="x")], [], audit)
    assert store.load_versions() == []
    assert store.load_applications() == [app(1)]
    assert store.audit_entries() == []


def test_empty_save_writes_nothing(store: Store) -> None:
    """save_intake with nothing to save leaves every table empty."""
    store.save_intake([], [], [], [])
    assert store.load_versions() == [] and store.load_applications() == []
    assert store.audit_entries() == []


def test_audit_entries(store: Store) -> None:
    """Audit entries come back oldest first, filterable by action, JSON detail intact."""
    store.save_intake([], [], [], [
        AuditEntry("intake", "version_recorded", "row-2", {"versie": 1, "tekst": "ë 🎉"}),
        AuditEntry("intake", "application_created", "SAMEN-2022-001"),
    ])
    store.save_intake([], [], [], [AuditEntry("coordinator", "version_recorded", "row-3")])
    entries = store.audit_entries()
    assert [e["subject"] for e in entries] == ["row-2", "SAMEN-2022-001", "row-3"]
    assert entries[0]["detail"] == {"versie": 1, "tekst": "ë 🎉"}
    assert entries[1]["detail"] == {}
    assert isinstance(entries[0]["at"], datetime)
    recorded = store.audit_entries("version_recorded")
    assert [(e["actor"], e["subject"]) for e in recorded] == [
        ("intake", "row-2"), ("coordinator", "row-3")
    ]


def test_unreachable_postgres_hides_password() -> None:
    """A PostgreSQL server that cannot be reached gives a StoreError without the password."""
    s = Store("postgresql+psycopg://samen:secret123@127.0.0.1:1/samen?connect_timeout=5")
    try:
        with pytest.raises(StoreError) as err:
            s.migrate()
    finally:
        s.close()
    message = str(err.value)
    assert "secret123" not in message
    assert "samen:***@127.0.0.1:1" in message
    assert "[store] url" in message
    assert "secret123" not in str(err.value.__cause__)


def test_unopenable_sqlite_file_gives_store_error(tmp_path: Path) -> None:
    """A SQLite path that is a folder gives a StoreError naming the URL."""
    folder = tmp_path / "db"
    folder.mkdir()
    s = Store(f"sqlite:///{folder}")
    try:
        with pytest.raises(StoreError, match="Cannot open the store") as err:
            s.migrate()
    finally:
        s.close()
    assert str(folder) in str(err.value)


def test_sqlite_pragmas_and_parent_folder(tmp_path: Path) -> None:
    """A SQLite store creates its folder and runs in WAL mode, synchronous=FULL (durable commits)."""
    path = tmp_path / "a" / "b" / "samen.db"
    s = Store(f"sqlite:///{path}")
    try:
        s.migrate()
        assert path.is_file()
        with s.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        s.close()
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 30000,
                      "foreign_keys": 1}


def test_signals_are_recorded_once_and_counted_per_new_key(store: Store) -> None:
    """record_signals adds the keys it has not seen (more than one chunk), and says how many."""
    from datetime import date

    from samen.gateways.store.ledger import SignalRecord
    from samen.gateways.store.store_util import CHUNK_ROWS

    def signal(n: int) -> SignalRecord:
        return SignalRecord(f"te-laat|SAMEN-{n:05d}", "Te laat ingediend", f"SAMEN-{n:05d}",
                            f"Toelichting {n} met ë en 🎉", date(2026, 11, 26))

    first = [signal(n) for n in range(CHUNK_ROWS + 5)]
    assert store.ledger.record_signals(first, SEEN) == CHUNK_ROWS + 5
    again = [signal(n) for n in range(CHUNK_ROWS, CHUNK_ROWS + 10)]  # 5 known, 5 new
    assert store.ledger.record_signals(again, SEEN) == 5
    assert store.ledger.record_signals(first[:3], SEEN) == 0
    recorded = store.ledger.signals()
    assert list(recorded) == [signal(n).key for n in range(CHUNK_ROWS + 10)]  # oldest first
    assert recorded[signal(7).key] == signal(7)
    assert isinstance(recorded[signal(7).key].raised_on, date)
