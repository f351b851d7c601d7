"""SmtpMail's `ready` gate: the content goes only when the caller says so, never half.

send_pending lets the server check a message's envelope (and answer DATA) while the ledger
commits the previous message; these tests hold the gateway to its side of that agreement
against a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from samen.config import SmtpConfig
from samen.gateways.mail import Envelope
from samen.gateways.mail.smtp import SmtpMail
from samen.testing.smtp_server import LocalSmtpServer


class Gate:
    """A caller's go-ahead: known at once or only after `delay` seconds; can raise."""

    def __init__(self, answer: bool, *, delay: float = 0.0, error: BaseException | None = None) -> None:
        self.answer, self.delay, self.error = answer, delay, error
        self.asked_at: float | None = None
        self.known_asked = 0

    def known(self) -> bool:
        self.known_asked += 1
        return self.delay == 0 and self.error is None

    def __call__(self) -> bool:
        self.asked_at = time.monotonic()
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.answer


def raw(n: int, body: bytes = b"Hallo\r\n") -> tuple[bytes, Envelope]:
    """Return a small serialized message n and its envelope."""
    content = (f"From: samen@example.org\r\nTo: p{n}@example.org\r\nSubject: Bericht {n}\r\n"
               f"Message-ID: <m{n}@example.org>\r\n\r\n").encode() + body
    return content, Envelope(f"<m{n}@example.org>", "samen@example.org", f"p{n}@example.org")


@pytest.fixture
def server() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as s:
        yield s


@pytest.fixture
def gateway(server: LocalSmtpServer) -> Iterator[SmtpMail]:
    g = SmtpMail(SmtpConfig(host="127.0.0.1", port=server.port, security="none", username="",
                            password_env="X", password_block="", timeout_seconds=5.0), None)
    g.open()
    yield g
    g.close()


def subjects(server: LocalSmtpServer) -> list[str]:
    return [str(m["Subject"]) for m in server.messages]


def test_a_yes_sends_the_message_whole(server: LocalSmtpServer, gateway: SmtpMail) -> None:
    """Dots at line starts survive (DATA doubles them, the server undoes it); both gate kinds."""
    body = b".een punt vooraan\r\n..twee\r\n.\r\nnog een regel zonder eind"
    assert gateway.send_raw(*raw(1, body), Gate(True)) is True
    assert gateway.send_raw(*raw(2, body), Gate(True, delay=0.05)) is True
    assert subjects(server) == ["Bericht 1", "Bericht 2"]
    for received in server.received:
        assert received.raw.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n") == body
    assert server.connections == 1 and gateway.sessions == 1


def test_a_known_no_resets_the_transaction_on_the_same_session(
        server: LocalSmtpServer, gateway: SmtpMail) -> None:
    """Answered before DATA: RSET, nothing delivered, the session goes on."""
    assert gateway.send_raw(*raw(1), Gate(False)) is False
    assert gateway.send_raw(*raw(2)) is True
    assert subjects(server) == ["Bericht 2"]
    assert server.connections == 1 and gateway.sessions == 1


def test_a_late_no_after_data_drops_the_connection_and_delivers_nothing(
        server: LocalSmtpServer, gateway: SmtpMail) -> None:
    """Answered after the server's 354: the connection goes before any content; the next
    message opens a new session, and the abandoned one never arrives."""
    late = Gate(False, delay=0.05)
    assert gateway.send_raw(*raw(1), late) is False
    assert late.known_asked == 1 and late.asked_at is not None
    assert gateway.send_raw(*raw(2)) is True
    time.sleep(0.2)  # give the server time to (wrongly) deliver an unfinished message
    assert subjects(server) == ["Bericht 2"]
    assert server.connections == 2 and gateway.sessions == 2


def test_content_waits_for_the_gate(server: LocalSmtpServer, gateway: SmtpMail) -> None:
    """Nothing arrives while the gate makes the caller wait; the message arrives after it."""
    gate = Gate(True, delay=0.5)
    sender = threading.Thread(target=gateway.send_raw, args=(*raw(1), gate))
    sender.start()
    time.sleep(0.3)
    assert server.received == []  # the envelope is in, the content is not
    sender.join(5)
    assert subjects(server) == ["Bericht 1"]


class LedgerDownError(Exception):
    """The caller's bookkeeping failed while deciding."""


def test_a_gate_that_fails_abandons_the_message_without_hanging(
        server: LocalSmtpServer, gateway: SmtpMail) -> None:
    """The caller's error comes through unchanged; no QUIT is sent mid-DATA (the server would
    take it for content and wait for more), so close() returns at once."""
    with pytest.raises(LedgerDownError):
        gateway.send_raw(*raw(1), Gate(True, delay=0.01, error=LedgerDownError("weg")))
    started = time.monotonic()
    gateway.close()
    assert time.monotonic() - started < 1.0
    time.sleep(0.2)
    assert server.received == []
