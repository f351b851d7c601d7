"""Mail gateways against real local components: a folder, and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from samen.config import SmtpConfig
from samen.domain.messages import OutgoingMessage, Rendered, Sender, message_id_for
from samen.gateways.mail import (
    MailConnectionError,
    MailGateway,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from samen.gateways.mail.outbox import OutboxMail, outbox_name
from samen.gateways.mail.smtp import SmtpMail
from samen.mailbuild import build_email
from samen.testing.smtp_server import LocalCa, LocalSmtpServer

PASSWORD = "g3heim-wachtwoord-42"
USER = "samen"  # no '@': yagmail would make it samen@gmail.com
SENDER = Sender("samen@example.org", "Programma SAMEN", "antwoord@example.org", "afmelden@example.org")
NOW = datetime(2023, 11, 1, 9, 30, tzinfo=UTC)


def built(n: int, *, to: str = "deelnemer{i}@example.org", subject: str = "Uitnodiging ë €") -> EmailMessage:
    address = to.format(i=n)
    key = f"invite|b{n}|{address}|1"
    return build_email(OutgoingMessage(
        key=key, message_id=message_id_for(key, "example.org"), to_name=f"Deelnemer {n}",
        to_address=address, rendered=Rendered(subject, f"Hallo {n} ë €\n", f"<p>Hallo {n} ë €</p>"),
    ), SENDER, now=NOW)


def config(server: LocalSmtpServer | int, security: str = "none", username: str = "",
           timeout: float = 5.0) -> SmtpConfig:
    port = server if isinstance(server, int) else server.port
    return SmtpConfig(host="127.0.0.1", port=port, security=security, username=username,
                      password_env="SAMEN_SMTP_PASSWORD", password_block="", timeout_seconds=timeout)


@pytest.fixture(scope="module")
def ca() -> LocalCa:
    return LocalCa()


@pytest.fixture
def relay() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as server:
        yield server


@pytest.fixture
def smtp(relay: LocalSmtpServer) -> Iterator[SmtpMail]:
    gateway = SmtpMail(config(relay), None)
    gateway.open()
    yield gateway
    gateway.close()


def everything(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


# --- the outbox ---------------------------------------------------------------------------------


def test_outbox_writes_parseable_eml_files(tmp_path: Path) -> None:
    outbox: MailGateway = OutboxMail(tmp_path / "outbox")
    assert outbox.capped is False
    outbox.open()
    messages = [built(i) for i in range(3)]
    for message in messages:
        outbox.send(message)
    outbox.close()
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 3 and all(f.suffix == ".eml" for f in files)
    ids = set()
    for file in files:
        parsed = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        assert all(part.defects == [] for part in parsed.walk())
        assert parsed["Subject"] == "Uitnodiging ë €"
        ids.add(parsed["Message-ID"])
    assert ids == {m["Message-ID"] for m in messages}


def test_outbox_is_idempotent_per_message_id(tmp_path: Path) -> None:
    outbox = OutboxMail(tmp_path)
    outbox.open()
    first = built(1)
    outbox.send(first)
    again = built(1, subject="Tweede versie")
    outbox.send(again)  # a re-send after a crash: same Message-ID, same file
    (file,) = tmp_path.iterdir()
    assert file == outbox.path_for(first["Message-ID"])
    assert email.message_from_bytes(file.read_bytes(), policy=email.policy.default)["Subject"] == (
        "Tweede versie"
    )


def test_outbox_names_are_safe_and_distinct() -> None:
    names = {outbox_name(m) for m in ("<a/b@x>", "<a_b@x>", "<../../etc@x>", "<a b@x>", "<.@x>")}
    assert len(names) == 5
    assert all("/" not in n and not n.startswith(".") and n.endswith(".eml") for n in names)
    assert outbox_name("<abc123@example.org>") == "abc123@example.org.eml"
    assert len(outbox_name("<" + "x" * 500 + "@x>")) < 150


def test_outbox_refuses_a_message_without_id(tmp_path: Path) -> None:
    message = built(1)
    del message["Message-ID"]
    with pytest.raises(ValueError, match="Message-ID"):
        OutboxMail(tmp_path).send(message)


# --- SMTP: sessions and security ---------------------------------------------------------------


def test_plain_relay_delivers_over_one_connection(relay: LocalSmtpServer, smtp: SmtpMail) -> None:
    assert smtp.capped is True
    for i in range(3):
        smtp.send(built(i))
    assert [m["Subject"] for m in relay.messages] == ["Uitnodiging ë €"] * 3
    assert [r.rcpt_tos for r in relay.received] == [(f"deelnemer{i}@example.org",) for i in range(3)]
    assert {r.mail_from for r in relay.received} == {"samen@example.org"}
    assert relay.connections == 1 and relay.logins == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login_delivers_n_messages_after_one_login(ca: LocalCa, security: str) -> None:
    with LocalSmtpServer(tls=security, ca=ca, users={USER: PASSWORD}) as server:
        gateway = SmtpMail(config(server, security, USER), PASSWORD, context=ca.client_context())
        gateway.open()
        for i in range(5):
            gateway.send(built(i))
        gateway.close()
        gateway.close()  # safe twice
    assert len(server.messages) == 5
    assert server.logins == [USER]  # one login, with the user name as configured
    assert server.connections == 1 and gateway.sessions == 1
    assert server.ehlos == (2 if security == "starttls" else 1)  # EHLO again after STARTTLS


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_untrusted_certificate_fails(ca: LocalCa, security: str) -> None:
    with LocalSmtpServer(tls=security, ca=ca, users={USER: PASSWORD}) as server:
        gateway = SmtpMail(config(server, security, USER), PASSWORD)  # system CAs only
        with pytest.raises(MailConnectionError, match="not trusted") as caught:
            gateway.open()
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert server.logins == [] and server.messages == []


def test_certificate_for_another_name_fails() -> None:
    other = LocalCa(names=("mail.example.org",))
    with LocalSmtpServer(tls="starttls", ca=other, users={USER: PASSWORD}) as server:
        gateway = SmtpMail(config(server, "starttls", USER), PASSWORD, context=other.client_context())
        with pytest.raises(MailConnectionError, match="not trusted"):
            gateway.open()
    assert server.logins == []


def test_starttls_is_never_skipped(relay: LocalSmtpServer) -> None:
    gateway = SmtpMail(config(relay, "starttls", USER), PASSWORD)
    with pytest.raises(MailConnectionError, match="does not offer STARTTLS"):
        gateway.open()
    assert relay.messages == []


def test_wrong_password_fails_without_showing_it(ca: LocalCa) -> None:
    with LocalSmtpServer(tls="starttls", ca=ca, users={USER: "iets-anders"}) as server:
        gateway = SmtpMail(config(server, "starttls", USER), PASSWORD, context=ca.client_context())
        with pytest.raises(MailConnectionError, match="refused the login") as caught:
            gateway.open()
    assert PASSWORD not in everything(caught.value)
    assert "mail.smtp.password_env" in str(caught.value)
    assert server.failed_logins and server.logins == []


def test_login_without_password_names_the_setting(relay: LocalSmtpServer) -> None:
    gateway = SmtpMail(config(relay, "starttls", USER), None)
    with pytest.raises(MailConnectionError, match=re.escape("mail.smtp.password_env")):
        gateway.open()
    assert relay.connections == 0  # refused before connecting: no keyring, no prompt


def test_login_over_plain_text_is_refused(relay: LocalSmtpServer) -> None:
    with pytest.raises(MailConnectionError, match="unencrypted"):
        SmtpMail(config(relay, "none", USER), PASSWORD).open()
    assert relay.connections == 0


def test_send_before_open_is_a_programming_error(relay: LocalSmtpServer) -> None:
    with pytest.raises(RuntimeError, match="open"):
        SmtpMail(config(relay), None).send(built(1))


# --- SMTP: refusals, drops and outages ---------------------------------------------------------


@pytest.mark.parametrize(("code", "error"), [
    (550, PermanentDeliveryError), (553, PermanentDeliveryError),
    (450, TemporaryDeliveryError), (451, TemporaryDeliveryError), (452, TemporaryDeliveryError),
])
def test_refused_recipient_and_the_session_goes_on(code: int, error: type[Exception]) -> None:
    with LocalSmtpServer(failing_recipients={"deelnemer1@example.org": code}) as server:
        gateway = SmtpMail(config(server), None)
        gateway.open()
        gateway.send(built(0))
        with pytest.raises(error) as caught:
            gateway.send(built(1))
        gateway.send(built(2))
        gateway.close()
    assert getattr(caught.value, "code", None) == code
    assert "deelnemer1" not in str(caught.value)  # the server's reply names it; we do not
    assert [r.rcpt_tos for r in server.received] == [("deelnemer0@example.org",),
                                                      ("deelnemer2@example.org",)]
    assert server.connections == 1


@pytest.mark.parametrize("with_421", [False, True])
def test_dropped_connection_is_reopened_once(with_421: bool) -> None:
    with LocalSmtpServer(drop_after=1, drop_with_421=with_421) as server:
        gateway = SmtpMail(config(server), None)
        gateway.open()
        for i in range(3):
            gateway.send(built(i))
        gateway.close()
    assert [r.rcpt_tos[0] for r in server.received] == [f"deelnemer{i}@example.org" for i in range(3)]
    assert server.drops == 1 and server.connections == 2 and gateway.sessions == 2


@pytest.mark.parametrize("with_421", [False, True])
def test_second_drop_stops_the_batch(with_421: bool) -> None:
    with LocalSmtpServer(drop_after=1, drop_with_421=with_421, drop_times=2) as server:
        gateway = SmtpMail(config(server), None)
        gateway.open()
        gateway.send(built(0))
        with pytest.raises(MailConnectionError, match="again"):
            gateway.send(built(1))
        gateway.close()
    assert len(server.received) == 1 and server.drops == 2


def test_stopped_server_fails_and_a_restarted_one_works(relay: LocalSmtpServer) -> None:
    gateway = SmtpMail(config(relay), None)
    gateway.open()
    gateway.send(built(0))
    relay.stop()
    with pytest.raises(MailConnectionError, match=re.escape(f"127.0.0.1:{relay.port}")):
        gateway.send(built(1))
    with pytest.raises(MailConnectionError, match="Cannot connect"):
        SmtpMail(config(relay), None).open()
    relay.start()  # same port
    again = SmtpMail(config(relay), None)
    again.open()
    again.send(built(1))
    again.close()
    assert len(relay.messages) == 2


def test_silent_server_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts, never greets
        gateway = SmtpMail(config(listener.getsockname()[1], timeout=0.3), None)
        with pytest.raises(MailConnectionError, match="timed out"):
            gateway.open()
