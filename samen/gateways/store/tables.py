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

# The ledger: one row per planned message under its idempotency key. status: planned (not yet
# delivered; sent by the next run), sent, failed (permanent refusal) or held (never to be sent:
# opted out, unusable address). content holds the built message, so a resend is the same bytes.
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("subject_line", sa.String(400), nullable=False),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("planned_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("sent_day", sa.Date, nullable=True, index=True),
)

signals = sa.Table(
    "signals",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("raised_on", sa.Date, nullable=False),
    sa.Column("raised_at", sa.DateTime, nullable=False),
)

# One row per approved code: the decisions it covered and who approved it.
approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(20), nullable=False, index=True),
    sa.Column("decisions", sa.JSON, nullable=False),
    sa.Column("coordinators", sa.JSON, nullable=False),
    sa.Column("approved_on", sa.Date, nullable=False),
    sa.Column("approved_at", sa.DateTime, nullable=False),
)

# The decision in force per application, and the approval that made it so.
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("approval_seq", sa.Integer, nullable=False),
    sa.Column("changed_at", sa.DateTime, nullable=False),
)

# A meeting as last announced: its calendar SEQUENCE and the details people were told.
meetings = sa.Table(
    "meetings",
    metadata,
    sa.Column("nr", sa.String(20), primary_key=True),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("announced_on", sa.Date, nullable=False),
    sa.Column("changed_at", sa.DateTime, nullable=False),
)

# Attendance per meeting per address, as recorded from a complete Aanwezigheid list.
attendance = sa.Table(
    "attendance",
    metadata,
    sa.Column("meeting_nr", sa.String(20), primary_key=True),
    sa.Column("email", sa.String(320), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("applications", sa.JSON, nullable=False),
    sa.Column("side", sa.String(20), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)

# The key of the pseudonyms `samen anonymise` gives e-mail addresses (one row): a keyed hash, so
# that a pseudonym in a shared spreadsheet does not confirm a guessed address.
pseudonym_keys = sa.Table(
    "pseudonym_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
