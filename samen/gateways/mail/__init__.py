"""Mail gateway: one interface (MailGateway), an SMTP and a file-outbox implementation."""

from samen.gateways.mail.base import (
    DeliveryError,
    Envelope,
    MailConnectionError,
    MailError,
    MailGateway,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)

__all__ = [
    "DeliveryError",
    "Envelope",
    "MailConnectionError",
    "MailError",
    "MailGateway",
    "PermanentDeliveryError",
    "TemporaryDeliveryError",
]
