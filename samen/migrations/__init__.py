"""Alembic migrations of the store; run by Store.migrate() at the start of every run."""
