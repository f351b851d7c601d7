"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), with TLS, AUTH and injectable faults.

    with LocalSmtpServer() as server:
        SmtpMail(SmtpConfig(host="127.0.0.1", port=server.port, security="none", ...), None)...
        assert server.messages[0]["Subject"] == "..."

TLS uses a throwaway certificate authority made with `cryptography` (LocalCa): the server gets a
certificate for 127.0.0.1 and localhost, the client trusts it through `ca.client_context()`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOST = "127.0.0.1"
_REPLIES = {
    550: "5.1.1 Mailbox unavailable",
    551: "5.1.6 User not local",
    552: "5.2.2 Mailbox full",
    553: "5.1.3 Mailbox name not allowed",
    450: "4.2.1 Mailbox busy, try again later",
    451: "4.3.0 Local error in processing",
    452: "4.5.3 Too many recipients",
    421: "4.3.2 Service not available, closing transmission channel",
}


@dataclass(frozen=True)
class Received:
    """One message the server accepted, with its envelope."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class LocalCa:
    """A throwaway certificate authority and a server certificate signed by it."""

    def __init__(self, names: Sequence[str] = (HOST, "localhost")) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "samen test CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        alt: list[x509.GeneralName] = []
        for name in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self._cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        self._key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def server_context(self) -> ssl.SSLContext:
        """Return a server-side context presenting the signed certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory(prefix="samen-tls-") as folder:
            cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
            cert.write_bytes(self._cert_pem)
            key.write_bytes(self._key_pem)
            context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Return a verifying client context that trusts this CA (and only this CA)."""
        return ssl.create_default_context(cadata=self.ca_pem)


class _Controller(Controller):
    def __init__(self, owner: LocalSmtpServer, **kwargs: Any) -> None:
        super().__init__(_Handler(owner), **kwargs)
        self.owner = owner

    def factory(self) -> SMTP:
        """Create the protocol of one connection, and count the connection."""
        with self.owner.lock:
            self.owner.connections += 1
        smtp = super().factory()
        if self.owner.tls == "ssl":
            # aiosmtpd only counts STARTTLS as TLS for AUTH; the whole connection is TLS here.
            smtp._auth_require_tls = False
        return smtp

    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before aiosmtpd's readiness probe connects.
        server: Any = self.server
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    """aiosmtpd hooks (names fixed by aiosmtpd): record, refuse or drop as the owner says."""

    def __init__(self, owner: LocalSmtpServer) -> None:
        self.owner = owner

    async def handle_EHLO(self, server: SMTP, session: Any, envelope: Any, hostname: str,  # noqa: N802
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.owner.lock:
            self.owner.ehlos += 1
        return responses

    async def handle_MAIL(self, server: SMTP, session: Any, envelope: Any, address: str,  # noqa: N802
                          mail_options: list[str]) -> str:
        owner = self.owner
        with owner.lock:
            drop = (owner.drop_after is not None and len(owner.received) >= owner.drop_after
                    and owner.drops < owner.drop_times)
            if drop:
                owner.drops += 1
        if drop and owner.drop_with_421:
            return f"421 {_REPLIES[421]}"
        if drop:
            assert server.transport is not None
            server.transport.abort()  # type: ignore[attr-defined]
            return "451 4.3.0 connection dropped"  # never reaches the client
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        code = self.owner.failing_recipients.get(address.lower())
        if code is not None:
            # Like real servers, the reply names the address.
            return f"{code} {_REPLIES.get(code, 'Recipient rejected by the test server')} {address}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        with self.owner.lock:
            self.owner.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, raw)
            )
        return "250 2.0.0 Message accepted for delivery"


class LocalSmtpServer:
    """An SMTP server on 127.0.0.1: records messages, counts connections, logins and EHLOs."""

    def __init__(
        self,
        *,
        tls: str = "none",
        ca: LocalCa | None = None,
        users: Mapping[str, str] | None = None,
        failing_recipients: Mapping[str, int] | None = None,
        drop_after: int | None = None,
        drop_with_421: bool = False,
        drop_times: int = 1,
    ) -> None:
        if tls not in ("none", "starttls", "ssl"):
            raise ValueError(f"tls must be none, starttls or ssl, got {tls!r}")
        if tls != "none" and ca is None:
            ca = LocalCa()
        self.tls = tls
        self.ca = ca
        self.users = dict(users or {})
        self.failing_recipients = {k.lower(): v for k, v in (failing_recipients or {}).items()}
        self.drop_after = drop_after  # drop the connection at a MAIL once n messages arrived
        self.drop_with_421 = drop_with_421  # ... by answering 421 instead of closing the socket
        self.drop_times = drop_times  # ... this many times in all
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.connections = 0
        self.ehlos = 0
        self.drops = 0
        self.logins: list[str] = []  # user names that logged in
        self.failed_logins: list[str] = []
        self._port = 0
        self._controller: _Controller | None = None

    @property
    def port(self) -> int:
        """Return the port the server listens on (fixed after the first start)."""
        return self._port

    @property
    def messages(self) -> list[EmailMessage]:
        """Return the received messages, parsed with email.policy.default."""
        with self.lock:
            return [r.message for r in self.received]

    def start(self) -> None:
        """Start listening (again on the same port after stop())."""
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {"hostname": HOST, "port": self._port, "server_hostname": "localhost"}
        if self.tls != "none":
            assert self.ca is not None
            key = "tls_context" if self.tls == "starttls" else "ssl_context"
            kwargs[key] = self.ca.server_context()
            kwargs["require_starttls"] = self.tls == "starttls"
        if self.users:
            kwargs.update(auth_required=True, authenticator=self._authenticate)
        controller = _Controller(self, **kwargs)
        controller.start()
        with self.lock:
            self.connections = 0  # not the readiness probe of start()
        self._port = controller.port
        self._controller = controller

    def stop(self) -> None:
        """Stop listening and cut every open connection."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LocalSmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _authenticate(self, server: SMTP, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            ok = self.users.get(user) == auth_data.password.decode("utf-8", "replace")
            with self.lock:
                (self.logins if ok else self.failed_logins).append(user)
            return AuthResult(success=ok, handled=False)  # handled=True would send no reply
        return AuthResult(success=False, handled=False)
