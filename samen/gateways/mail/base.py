"""The mail interface every backend implements, and the errors a sender must tell apart.

A run opens the gateway once, sends each message (one recipient each), and closes it. The
error type tells the caller what to do with the message and with the rest of the batch:
PermanentDeliveryError (hold the message back, the address is bad), TemporaryDeliveryError
(try this message again next run) and MailConnectionError (stop the batch: the rest waits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


@dataclass(frozen=True)
class Envelope:
    """Who a serialized message goes from and to, and its Message-ID."""

    message_id: str
    mail_from: str
    rcpt_to: str

    @classmethod
    def of(cls, message: EmailMessage) -> Envelope:
        """Return the envelope of a built message (its Message-ID, From and To)."""
        sender = message["From"].addresses[0].addr_spec if message["From"] else ""
        to = message["To"].addresses[0].addr_spec if message["To"] else ""
        return cls(str(message["Message-ID"] or ""), sender, to)


class Gate(Protocol):
    """The caller's go-ahead for handing over a message's content (see MailGateway.send_raw)."""

    def known(self) -> bool:
        """Return whether the answer is there already (asking then does not wait)."""

    def __call__(self) -> bool:
        """Wait for the answer: may the content be handed over?"""


class MailGateway(Protocol):
    """Sends built messages; `capped` says whether the daily cap applies (SMTP: yes)."""

    capped: bool

    def send_raw(self, raw: bytes, envelope: Envelope, ready: Gate | None = None) -> bool:
        """Send one serialized message (as stored in the ledger) to its one recipient.

        `ready`, when given, is asked after the server accepted the envelope (sender and
        recipient) and before any of the content goes; when it says False nothing is handed
        over and send_raw returns False. This lets the caller finish its bookkeeping of the
        previous message while the server checks the envelope of this one.
        """

    def open(self) -> None:
        """Connect (and log in) once for the batch."""

    def send(self, message: EmailMessage) -> None:
        """Send one message to its one recipient."""

    def close(self) -> None:
        """Release the connection; safe to call twice."""


class MailError(RuntimeError):
    """Anything that stopped a message from being handed over."""


class DeliveryError(MailError):
    """The server refused this one message; the SMTP code says for how long."""

    def __init__(self, code: int, reply: str) -> None:
        self.code = code
        self.reply = reply
        super().__init__(self.describe())

    def describe(self) -> str:
        """Return the message text, with any address in the server's reply hidden."""
        return f"The mail server refused the message: {self.code} {redact_addresses(self.reply)}."


class PermanentDeliveryError(DeliveryError):
    """A 5xx answer for this recipient: the address is bad; do not retry."""

    def describe(self) -> str:
        """Return the message text, with any address in the server's reply hidden."""
        return (
            f"The mail server refused the recipient for good: {self.code} "
            f"{redact_addresses(self.reply)}. Check the address; the message is held back."
        )


class TemporaryDeliveryError(DeliveryError):
    """A 4xx answer for this recipient (450, 451, 452): try again next run."""

    def describe(self) -> str:
        """Return the message text, with any address in the server's reply hidden."""
        return (
            f"The mail server refused the message for now: {self.code} "
            f"{redact_addresses(self.reply)}. It stays queued for the next run."
        )


class MailConnectionError(MailError):
    """The server cannot be reached or logged into, or dropped the connection twice."""


def redact_addresses(text: str) -> str:
    """Return text with every e-mail address replaced by '<adres>' (for logs and messages)."""
    return _ADDRESS.sub("<adres>", text)


def delivery_error(code: int, reply: bytes | str) -> DeliveryError:
    """Return the error for an SMTP refusal: 5xx is permanent, anything else temporary."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    if 500 <= code <= 599:
        return PermanentDeliveryError(code, text)
    return TemporaryDeliveryError(code, text)
