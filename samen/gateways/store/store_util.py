"""Helpers shared by the store's modules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from samen.domain.records import AuditEntry
from samen.gateways.store.tables import audit_log


def write_audit(conn: sa.Connection, audit: Sequence[AuditEntry], now: datetime) -> None:
    """Append audit entries on an open transaction."""
    if audit:
        conn.execute(sa.insert(audit_log), [
            {"at": now, "actor": e.actor, "action": e.action, "subject": e.subject,
             "detail": e.detail}
            for e in audit
        ])
