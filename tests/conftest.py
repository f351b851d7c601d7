"""Shared fixtures: stores on SQLite and (when SAMEN_TEST_DATABASE_URL is set) PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# Before anything imports Prefect: its state goes to a throwaway folder, without analytics.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="samen-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_UI_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("SAMEN_CONFIG", None)

import pytest
import sqlalchemy as sa

from samen.testing.sheets_double import SheetsDouble

PG_ENV = "SAMEN_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Run one real Prefect server (the test harness) for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


def postgres_schema_url(base: str, schema: str) -> str:
    """Return base with its search_path set to schema (each test its own schema)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield a fresh, empty store URL: a SQLite file, or a new schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'samen.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL test skipped: set {PG_ENV} (as .ci/run does) to run it")
    schema = f"samen_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sheets_double() -> Iterator[SheetsDouble]:
    """Serve a fresh Sheets API double on 127.0.0.1; fail the test if the double itself broke."""
    with SheetsDouble() as double:
        yield double
    assert not double.errors, "the Sheets double failed:\n" + "\n".join(double.errors)
