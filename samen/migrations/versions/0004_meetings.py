"""Meetings as announced, and attendance.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the meetings and attendance tables."""
    op.create_table(
        "meetings",
        sa.Column("nr", sa.String(20), primary_key=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("announced_on", sa.Date, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "attendance",
        sa.Column("meeting_nr", sa.String(20), primary_key=True),
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("applications", sa.JSON, nullable=False),
        sa.Column("side", sa.String(20), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop the meetings and attendance tables."""
    op.drop_table("attendance")
    op.drop_table("meetings")
