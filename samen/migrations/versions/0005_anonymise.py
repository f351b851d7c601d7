"""The key of the pseudonyms `samen anonymise` gives e-mail addresses.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table of the pseudonym key (one row, made by the first anonymise run)."""
    op.create_table(
        "pseudonym_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop the pseudonym key."""
    op.drop_table("pseudonym_keys")
