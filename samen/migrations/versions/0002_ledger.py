"""Message ledger and signals.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the ledger of messages and the signals table."""
    op.create_table(
        "messages",
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
    op.create_table(
        "signals",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("raised_on", sa.Date, nullable=False),
        sa.Column("raised_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop the ledger and the signals."""
    op.drop_table("signals")
    op.drop_table("messages")
