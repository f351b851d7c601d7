"""Domain records shared by the rules and the gateways (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ResponseVersion:
    """One version of one form response (a form row as it was when a run saw it)."""

    form_row: int
    version: int
    fingerprint: str
    submitted_at: str
    raw: dict[str, str]
    valid: bool
    normalised: dict[str, str] | None
    problems: tuple[dict[str, str], ...]
    application_id: str | None
    seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Application:
    """A valid application: its stable id and the response version that is current."""

    id: str
    seq: int
    key: str
    form_row: int
    version: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One state change, for the audit log: ids and counts, no personal data."""

    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)
