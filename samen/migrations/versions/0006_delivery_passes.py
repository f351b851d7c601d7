"""A sequence that numbers the delivery passes (PostgreSQL only).

A pass takes the next number when it starts. A pass that finds itself the only one sending
counts the day's deliveries itself instead of in every claim; the number tells it whether
another pass started (and perhaps sent and ended) since its last claim. SQLite counts in every
claim (its claims hold the write lock) and needs no sequence.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the sequence on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE delivery_passes")


def downgrade() -> None:
    """Drop the sequence."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE delivery_passes")
