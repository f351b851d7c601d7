"""The SMTP gateway: yagmail opens the connection (TLS, login, timeout); we send over it.

yagmail's own send() logs in again for every message and rebuilds the MIME, so it is not
used: the messages come ready-built (samen.mailbuild) and go over one session per batch on
yagmail's smtplib connection, as smtplib's sendmail sends them, with one hook before the
content goes: the caller's `ready` (see MailGateway.send_raw and SmtpMail._deliver).
A dropped session (disconnect, reset, 421) is reopened once and the message sent again; a
second drop stops the batch with MailConnectionError.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import yagmail

from samen.config import SmtpConfig
from samen.gateways.mail.base import (
    Envelope,
    Gate,
    MailConnectionError,
    delivery_error,
    redact_addresses,
)

log = logging.getLogger(__name__)
PASSWORD_SETTINGS = "mail.smtp.password_env or mail.smtp.password_block"


class _SessionDroppedError(Exception):
    """The session is gone (disconnect, reset, timeout, 421): reconnect before trying again."""


class SmtpMail:
    """Send messages over one logged-in SMTP session per batch; the daily cap applies."""

    capped: bool = True

    def __init__(self, config: SmtpConfig, password: str | None, *,
                 context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._password = password
        self._context = context
        self._client: Any = None
        self.sessions = 0  # sessions opened (logins): 1 for a batch without drops
        self._aborted = False  # a message was abandoned after DATA: the next one reconnects

    @property
    def where(self) -> str:
        """Return host:port, for messages."""
        return f"{self.config.host}:{self.config.port}"

    def open(self) -> None:
        """Connect, secure and log in once; raise MailConnectionError naming the fix."""
        if self._client is None:
            self._client = self._connect()

    def send(self, message: EmailMessage) -> None:
        """Send one built message; reconnect once when the session dropped."""
        self.send_raw(message.as_bytes(policy=policy.SMTP), Envelope.of(message))

    def send_raw(self, raw: bytes, envelope: Envelope, ready: Gate | None = None) -> bool:
        """Send one serialized message; reconnect once when the session dropped (see MailGateway)."""
        message = (raw, envelope)
        if self._client is None:
            if not self._aborted:
                raise RuntimeError("SmtpMail.send() called before open(); open the gateway once per batch.")
            self._client, self._aborted = self._connect(), False
        try:
            return self._deliver(message, ready)
        except _SessionDroppedError as exc:
            log.warning("SMTP session with %s dropped (%s); reconnecting once", self.where, exc)
        self._discard(quit_first=False)
        self._client = self._connect()
        try:
            return self._deliver(message, ready)
        except _SessionDroppedError as exc:
            self._discard(quit_first=False)
            raise MailConnectionError(
                f"The SMTP server {self.where} dropped the connection again right after a "
                f"reconnect ({exc}). Stopped this batch; the unsent messages wait for the next run. "
                "Check the server's limits and logs."
            ) from None

    def close(self) -> None:
        """Say goodbye (QUIT) and close the socket; safe to call twice."""
        self._discard(quit_first=True)

    def _deliver(self, message: tuple[bytes, Envelope], ready: Gate | None) -> bool:
        """Send as smtplib's sendmail does, asking `ready` before the content goes.

        When `ready` needs time, DATA is sent first (the server's 354 "go ahead" does not
        hand anything over); if the answer is then no, the connection is dropped before any
        content, which ends the mail transaction without a message (RFC 5321, 4.1.1.4), and the
        next message reconnects. `ready` runs outside the error translation: what it raises (the
        ledger's own errors) reaches the caller unchanged.
        """
        smtp = self._client.smtp
        raw, envelope = message
        with self._translated_errors():
            _envelope(smtp, envelope, len(raw))
        if ready is not None and ready.known() and not ready():
            with self._translated_errors():
                smtp.rset()  # nothing was handed over
            return False
        with self._translated_errors():
            code, reply = smtp.docmd("data")
            if code != 354:
                _end_transaction(smtp, code)
                raise smtplib.SMTPDataError(code, reply)
        if ready is not None:
            try:
                go = ready()
            except BaseException:
                self._discard(quit_first=False)  # no QUIT: the server would take it for content
                self._aborted = True
                raise
            if not go:
                self._discard(quit_first=False)
                self._aborted = True
                return False
        with self._translated_errors():
            smtp.send(_data_block(raw))
            code, reply = smtp.getreply()
            if code != 250:
                _end_transaction(smtp, code)
                raise smtplib.SMTPDataError(code, reply)
        return True

    @contextlib.contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """Turn smtplib's and the socket's errors into a delivery error, a drop or a stop."""
        try:
            yield
        except smtplib.SMTPRecipientsRefused as exc:
            answers = list(exc.recipients.values())
            code, reply = answers[0] if answers else (0, b"")
            if any(c == 421 for c, _ in answers):
                raise _SessionDroppedError(f"421 {redact_addresses(_text(reply))}") from None
            raise delivery_error(code, reply) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused
            if exc.smtp_code == 421:
                raise _SessionDroppedError(f"421 {redact_addresses(_text(exc.smtp_error))}") from None
            raise delivery_error(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise _SessionDroppedError(str(exc) or "disconnected") from None
        except smtplib.SMTPException as exc:
            raise MailConnectionError(
                f"The SMTP server {self.where} cannot take this message: "
                f"{redact_addresses(str(exc))}. Stopped this batch."
            ) from None
        except OSError as exc:  # reset, broken pipe, timeout (SMTPException is an OSError too)
            raise _SessionDroppedError(str(exc) or type(exc).__name__) from None

    def _connect(self) -> Any:
        c = self.config
        login = bool(c.username)
        self._check_settings(login)
        kwargs: dict[str, Any] = {"timeout": c.timeout_seconds}
        if c.security == "ssl":
            # `context` reaches smtplib.SMTP_SSL; without it smtplib does not verify at all.
            kwargs.update(smtp_ssl=True, smtp_starttls=False, context=self._tls_context())
        elif c.security == "starttls":
            # yagmail calls smtp.starttls(**dict): the dict must carry a verifying context.
            kwargs.update(smtp_ssl=False, smtp_starttls={"context": self._tls_context()})
        else:
            kwargs.update(smtp_ssl=False, smtp_starttls=False)
        client = yagmail.SMTP(
            user=c.username if login else None,
            # Never None when logging in: yagmail would ask the keyring, then prompt.
            password=self._password if login else None,
            host=c.host, port=c.port, smtp_skip_login=not login,
            soft_email_validation=False, **kwargs,
        )
        # yagmail appends '@gmail.com' to a user name without '@'; log in with it as configured.
        client.user = c.username
        try:
            client.login()
        except Exception as exc:
            _release(client, quit_first=False)
            raise self._connect_error(exc) from exc
        self.sessions += 1
        log.info("SMTP session %d open with %s (%s)", self.sessions, self.where, c.security)
        return client

    def _check_settings(self, login: bool) -> None:
        c = self.config
        if not c.host:
            raise MailConnectionError(
                "Setting 'mail.smtp.host' is empty; set the SMTP server's host name in samen.toml."
            )
        if c.security == "none" and login:
            raise MailConnectionError(
                f"Setting 'mail.smtp.security' is 'none' for {self.where} but 'mail.smtp.username' is "
                "set: the password would travel unencrypted. Use security = \"starttls\" (port 587) "
                "or \"ssl\" (port 465), or clear the username for a local relay without login."
            )
        if login and not self._password:
            raise MailConnectionError(
                f"No SMTP password for {self.where} although 'mail.smtp.username' is set: put it in "
                f"the environment variable or Prefect Secret block named by {PASSWORD_SETTINGS}."
            )

    def _tls_context(self) -> ssl.SSLContext:
        return self._context if self._context is not None else ssl.create_default_context()

    def _connect_error(self, exc: Exception) -> MailConnectionError:
        where = self.where
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return MailConnectionError(
                f"The SMTP server {where} refused the login ({exc.smtp_code}). Check "
                f"'mail.smtp.username' and the password in {PASSWORD_SETTINGS}."
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return MailConnectionError(
                f"The TLS certificate of the SMTP server {where} is not trusted "
                f"({exc.verify_message}). Set 'mail.smtp.host' to the name on the server's "
                "certificate, or install the certificate authority on this machine."
            )
        if isinstance(exc, ssl.SSLError):
            return MailConnectionError(
                f"TLS with the SMTP server {where} failed ({exc.reason or exc}). Port 465 needs "
                "security = \"ssl\", port 587 needs \"starttls\"; check 'mail.smtp.port' and "
                "'mail.smtp.security'."
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError) and "AUTH" in str(exc):
            return MailConnectionError(
                f"The SMTP server {where} does not offer a login (AUTH) on this connection. Clear "
                "'mail.smtp.username' for a relay without login, or check 'mail.smtp.security'."
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return MailConnectionError(
                f"The SMTP server {where} does not offer STARTTLS. Use security = \"ssl\" if it "
                "listens on port 465; a server without TLS is only fine as a local relay "
                "(security = \"none\", no username)."
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            detail = f"{exc.smtp_code} {redact_addresses(_text(exc.smtp_error))}"
        else:
            detail = str(exc) or type(exc).__name__
        return MailConnectionError(
            f"Cannot connect to the SMTP server {where}: {detail}. Check 'mail.smtp.host', "
            "'mail.smtp.port' and 'mail.smtp.security' (port 465 needs \"ssl\", 587 \"starttls\") "
            "and the network; the unsent messages wait for the next run."
        )

    def _discard(self, *, quit_first: bool) -> None:
        client, self._client = self._client, None
        if client is not None:
            _release(client, quit_first=quit_first)


def _release(client: Any, *, quit_first: bool) -> None:
    client.is_closed = True  # keeps yagmail's __del__ from sending QUIT again
    smtp = client.smtp
    if smtp is None:
        return
    try:
        if quit_first:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _envelope(smtp: smtplib.SMTP, envelope: Envelope, size: int) -> None:
    """Send MAIL FROM and RCPT TO (as smtplib's sendmail does); raise as sendmail raises."""
    smtp.ehlo_or_helo_if_needed()
    options = [f"size={size}"] if smtp.does_esmtp and smtp.has_extn("size") else []
    code, reply = smtp.mail(envelope.mail_from, options)
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, envelope.mail_from)
    code, reply = smtp.rcpt(envelope.rcpt_to)
    if code not in (250, 251):
        _end_transaction(smtp, code)
        raise smtplib.SMTPRecipientsRefused({envelope.rcpt_to: (code, reply)})


def _data_block(raw: bytes) -> bytes:
    """Return the message as DATA sends it (as smtplib's data does): dots doubled, ending "."."""
    block = re.sub(rb"(?m)^\.", b"..", raw)
    if block[-2:] != b"\r\n":
        block += b"\r\n"
    return block + b".\r\n"


def _end_transaction(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal: close on 421 (the server is going away), else reset the transaction."""
    if code == 421:
        smtp.close()
    else:
        with contextlib.suppress(smtplib.SMTPServerDisconnected):  # as sendmail: the refusal counts
            smtp.rset()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
