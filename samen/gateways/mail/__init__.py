"""Mail gateway: one interface (MailGateway), an SMTP and a file-outbox implementation."""

from samen.gateways.mail.base import (
    DeliveryError,
    Envelope,
    Gate,
    MailConnectionError,
    MailError,
    MailGateway,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)

__all__ = [
    "DeliveryError",
    "Envelope",
    "Gate",
    "MailConnectionError",
    "MailError",
    "MailGateway",
    "PermanentDeliveryError",
    "TemporaryDeliveryError",
]
