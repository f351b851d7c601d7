"""Approvals of the selection and the decisions in force.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the approvals and decisions tables."""
    op.create_table(
        "approvals",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(20), nullable=False, index=True),
        sa.Column("decisions", sa.JSON, nullable=False),
        sa.Column("coordinators", sa.JSON, nullable=False),
        sa.Column("approved_on", sa.Date, nullable=False),
        sa.Column("approved_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("approval_seq", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop the selection tables."""
    op.drop_table("decisions")
    op.drop_table("approvals")
