"""Approvals and the decisions in force."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from samen.domain.records import AuditEntry
from samen.gateways.store.store_util import write_audit
from samen.gateways.store.tables import approvals, decisions


@dataclass(frozen=True)
class Decision:
    """The decision in force for one application."""

    application_id: str
    decision: str
    approval_seq: int


@dataclass(frozen=True)
class Approval:
    """An approved code."""

    seq: int
    code: str
    decisions: dict[str, str]
    coordinators: tuple[str, ...]
    approved_on: date


class SelectionStore:
    """Approval operations on the store's engine."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use the store's engine."""
        self.engine = engine

    def decisions(self) -> dict[str, Decision]:
        """Return the decisions in force by application id."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(decisions)).mappings()
            return {r["application_id"]: Decision(r["application_id"], r["decision"],
                                                  r["approval_seq"]) for r in rows}

    def approvals(self) -> list[Approval]:
        """Return every approval, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(approvals).order_by(approvals.c.seq)).mappings()
            return [Approval(r["seq"], r["code"], dict(r["decisions"]), tuple(r["coordinators"]),
                             r["approved_on"]) for r in rows]

    def approve(
        self, code: str, covered: Mapping[str, str], coordinators: Sequence[str], day: date,
        now: datetime,
    ) -> tuple[int, list[str]]:
        """Record an approval and put its decisions in force; return its seq and the changed ids."""
        with self.engine.begin() as conn:
            # Only a code that differs from the latest approval is new: a return to an earlier
            # set of decisions is approved (and its letters sent) again.
            latest = conn.execute(sa.select(approvals.c.seq, approvals.c.code)
                                  .order_by(approvals.c.seq.desc()).limit(1)).first()
            if latest is not None and latest.code == code:
                return int(latest.seq), []
            seq = int(conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(approvals.c.seq), 0))).scalar_one()) + 1
            conn.execute(sa.insert(approvals).values(
                seq=seq, code=code, decisions=dict(covered), coordinators=list(coordinators),
                approved_on=day, approved_at=now))
            current = {r.application_id: r.decision for r in conn.execute(sa.select(decisions))}
            changed = [a for a, d in sorted(covered.items()) if current.get(a) != d]
            for app_id in changed:
                values = {"decision": covered[app_id], "approval_seq": seq, "changed_at": now}
                if app_id in current:
                    conn.execute(sa.update(decisions)
                                 .where(decisions.c.application_id == app_id).values(**values))
                else:
                    conn.execute(sa.insert(decisions).values(application_id=app_id, **values))
            entries = [AuditEntry("selection", "selection_approved", code, {
                "approval": seq, "coordinators": list(coordinators), "decided": len(covered),
                "changed": changed})]
            write_audit(conn, entries, now)
            return seq, changed
