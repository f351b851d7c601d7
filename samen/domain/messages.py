"""Messages as the domain sees them: what to send to whom, before any template or SMTP."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CalendarEvent:
    """A meeting as a calendar entry: a stable UID per meeting and a SEQUENCE per change."""

    uid: str
    sequence: int
    method: str  # PUBLISH, REQUEST or CANCEL
    summary: str
    start: datetime  # aware, in the programme's time zone
    end: datetime
    location: str
    description: str
    organizer: str  # e-mail address


@dataclass(frozen=True)
class Rendered:
    """A message rendered from its templates."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one recipient, ready to be built and sent."""

    key: str
    message_id: str
    to_name: str
    to_address: str
    rendered: Rendered
    calendar: CalendarEvent | None = None
    programme_mail: bool = True  # programme mail carries List-Unsubscribe


@dataclass(frozen=True)
class Sender:
    """Who the messages come from."""

    from_address: str
    from_name: str
    reply_to: str
    unsubscribe_address: str


def message_key(kind: str, subject: str, recipient: str, version: int | str = 1) -> str:
    """Return the ledger's idempotency key of a message (the recipient as a short hash).

    The key names no address, so it can appear in logs and Prefect artifacts.
    """
    return f"{kind}|{subject}|{recipient_ref(recipient)}|{version}"


def recipient_ref(address: str) -> str:
    """Return a short, stable reference to an address that does not reveal it."""
    return "r" + hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:12]


def message_id_for(key: str, domain: str) -> str:
    """Return the deterministic Message-ID of an idempotency key, on the sender's domain."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"
