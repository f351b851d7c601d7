"""The file outbox: every message becomes one .eml file; nothing leaves the machine.

The safe default backend: a coordinator can open the files in a mail client to check them.
The file name comes from the Message-ID, so sending a message again (after a crash between
writing and recording it) replaces the same file instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

from samen.gateways.mail.base import Envelope, Gate, MailConnectionError

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
_MAX_STEM = 120


def outbox_name(message_id: str) -> str:
    """Return the .eml file name for a Message-ID: readable, safe on every file system."""
    core = message_id.strip().removeprefix("<").removesuffix(">")
    safe = _UNSAFE.sub("_", core).lstrip(".")[:_MAX_STEM]
    if not safe or safe != core:
        # Different IDs must never share a file once unsafe characters are replaced.
        safe = f"{safe}-{hashlib.sha256(core.encode('utf-8')).hexdigest()[:12]}"
    return f"{safe}.eml"


class OutboxMail:
    """Write each message as <folder>/<Message-ID>.eml, atomically."""

    capped: bool = False

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def open(self) -> None:
        """Create the outbox folder when it is missing."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MailConnectionError(
                f"Outbox folder '{self.folder}' cannot be created: {exc.strerror}. "
                "Set [mail.outbox] path in samen.toml to a writable folder."
            ) from exc

    def path_for(self, message_id: str) -> Path:
        """Return the file a message with this Message-ID is written to."""
        return self.folder / outbox_name(message_id)

    def send(self, message: EmailMessage) -> None:
        """Write the message to its .eml file, replacing an earlier copy of the same message."""
        self.send_raw(message.as_bytes(policy=policy.SMTP), Envelope.of(message))

    def send_raw(self, raw: bytes, envelope: Envelope, ready: Gate | None = None) -> bool:
        """Write serialized message bytes to the .eml file of its Message-ID (see MailGateway)."""
        if ready is not None and not ready():
            return False
        if not envelope.message_id:
            raise ValueError("The message has no Message-ID; build it with samen.mailbuild.build_email.")
        target = self.path_for(envelope.message_id)
        data = raw
        try:
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise MailConnectionError(
                f"Cannot write to the outbox folder '{self.folder}': {exc.strerror}. "
                "Free some space or set [mail.outbox] path in samen.toml to a writable folder."
            ) from exc
        return True

    def close(self) -> None:
        """Nothing to release: each file is complete when send() returns."""
