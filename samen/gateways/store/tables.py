"""The store's tables (SQLAlchemy Core). Alembic migrations under samen/migrations create them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

response_versions = sa.Table(
    "response_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("form_row", sa.Integer, nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("submitted_at", sa.String(64), nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
    sa.Column("raw", sa.JSON, nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("normalised", sa.JSON, nullable=True),
    sa.Column("problems", sa.JSON, nullable=False),
    sa.Column("application_id", sa.String(64), nullable=True, index=True),
    sa.UniqueConstraint("form_row", "version", name="uq_response_versions_row_version"),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False, unique=True),
    sa.Column("key", sa.String(400), nullable=False, unique=True),
    sa.Column("form_row", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)
