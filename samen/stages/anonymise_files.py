"""The ledger, the outbox and the manifests in `samen anonymise`.

A message to an anonymised person keeps its ledger row (kind, subject, status, dates, Message-ID),
so the counts stay; its recipient becomes the pseudonym and the recipient's reference in its key
follows, so a stage that plans the same message again finds it sent. Its stored content and its
.eml file in the outbox are *rewritten*, not deleted: a short message with the same Message-ID,
Date, From and Subject, To the pseudonym, saying the content was removed. So the outbox stays a
faithful copy of the ledger (one file per delivered message, the same bytes as the ledger, found
by Message-ID), while no part of the original (names, answers, addresses in any encoding, the
calendar file) survives. A message still waiting to be sent is held back instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Protocol

from samen.config import Config
from samen.domain.intake import ANONYMISED
from samen.gateways.mail.base import Envelope
from samen.gateways.mail.outbox import OutboxMail
from samen.gateways.store import Store
from samen.gateways.store.anonymise import MessageChange, SignalChange
from samen.gateways.store.ledger import HELD, PLANNED, LedgerEntry, SignalRecord
from samen.mailbuild import MAIL_POLICY
from samen.manifest import HEADER, manifest_folder, rewrite

STUB_HEADER = "X-Samen-Geanonimiseerd"
STUB_TEXT = ("De inhoud van dit bericht ({kind}) is verwijderd: de persoonsgegevens zijn "
             "geanonimiseerd na afloop van de bewaartermijn.\n")
WITHDRAWN = "geanonimiseerd voordat het verstuurd werd"
SIGNAL_MAIL = "signaal-coordinatoren"


class Refs(Protocol):
    """What the ledger side needs of the pseudonyms (samen.stages.anonymise.Pseudonyms)."""

    def lookup(self, address: str) -> str | None:
        """Return the pseudonym of an anonymised person's address, else None."""
        ...

    def sub_refs(self, text: str) -> str:
        """Return text with references to anonymised addresses pointing at their pseudonyms."""
        ...


@dataclass
class LedgerPlan:
    """The ledger and signals as they will be, and what changes."""

    messages: list[MessageChange] = field(default_factory=list)
    signals: list[SignalChange] = field(default_factory=list)
    entries: dict[str, LedgerEntry] = field(default_factory=dict)
    signal_records: dict[str, SignalRecord] = field(default_factory=dict)
    stubs: dict[str, bytes] = field(default_factory=dict)  # new key -> content after the run


@dataclass
class FilePlan:
    """The outbox files and manifests to rewrite."""

    outbox: OutboxMail
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (Message-ID, content)
    manifests: dict[Path, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Tell whether any file changes."""
        return bool(self.files or self.manifests)


def stub_message(content: bytes, recipient: str, kind: str) -> bytes:
    """Return the content that replaces a message: its headers that name no one, a short note."""
    old = BytesParser(policy=policy.default).parsebytes(content, headersonly=True)
    msg = EmailMessage()
    for header in ("Message-ID", "Date", "From", "Subject"):
        if old[header] is not None:
            msg[header] = str(old[header])
    msg["To"] = recipient
    msg[STUB_HEADER] = "ja"
    msg.set_content(STUB_TEXT.format(kind=kind))
    return msg.as_bytes(policy=MAIL_POLICY)


def ledger_plan(
    store: Store, entries: Mapping[str, LedgerEntry], signals: Mapping[str, SignalRecord],
    pseudonyms: Refs, scrub: Callable[[str], str],
) -> LedgerPlan:
    """Return the ledger's and the signals' changes: pseudonyms, references, contents."""
    plan = LedgerPlan()
    personal: set[str] = set()  # signals whose explanation named someone
    for key, s in signals.items():
        new_key, text = pseudonyms.sub_refs(key), scrub(s.explanation)
        new_key = key if new_key != key and new_key in signals else new_key
        if text != s.explanation:
            personal.add(key)
        if (new_key, text) != (key, s.explanation):
            plan.signals.append(SignalChange(key, new_key, text))
        plan.signal_records[new_key] = replace(s, key=new_key, explanation=text)
    to = {key: pseudonyms.lookup(e.recipient) for key, e in entries.items()}
    stub = {key for key, e in entries.items()
            if to[key] or (e.kind == SIGNAL_MAIL and e.subject in personal)}
    contents = store.anonymise.contents(stub)
    for key, e in entries.items():
        new_key = pseudonyms.sub_refs(key)
        new_key = key if new_key != key and new_key in entries else new_key
        recipient = to[key] or e.recipient
        status, reason = e.status, scrub(e.reason)
        if to[key] and e.status == PLANNED:
            status, reason = HELD, WITHDRAWN
        old = contents.get(key)
        content = stub_message(old, recipient, e.kind) if key in stub and old else old
        after = replace(e, key=new_key, subject=pseudonyms.sub_refs(e.subject),
                        recipient=recipient, status=status, reason=reason)
        plan.entries[new_key] = after
        if key in stub and content is not None:
            plan.stubs[new_key] = content
        if (after.key, after.subject, recipient, status, reason, content) != (
                key, e.subject, e.recipient, e.status, e.reason, old):
            plan.messages.append(MessageChange(key, new_key, after.subject, recipient, status,
                                               reason, content, content != old))
    return plan


def plan_files(
    config: Config, plan: LedgerPlan, pseudonyms: Refs, scrub: Callable[[str], str],
) -> FilePlan:
    """Return the outbox files and manifests that still hold what the ledger no longer does."""
    files = FilePlan(OutboxMail(config.mail.outbox_path))
    for key, content in plan.stubs.items():
        message_id = plan.entries[key].message_id
        path = files.outbox.path_for(message_id)
        if path.is_file() and path.read_bytes() != content:
            files.files.append((message_id, content))
    folder = manifest_folder(config.mail.outbox_path)
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or tuple(rows[0]) != HEADER:
            continue
        new = [rows[0], *(manifest_row(r, pseudonyms, scrub) for r in rows[1:])]
        if new != rows:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(new)
            files.manifests[path] = out.getvalue()
    return files


def manifest_row(row: Sequence[str], pseudonyms: Refs, scrub: Callable[[str], str]) -> list[str]:
    """Return a manifest line without the personal data of anonymised people."""
    if len(row) != len(HEADER):
        return list(row)
    kind, to, name, subject, key, status, reason = row
    p = pseudonyms.lookup(to) if to else None
    return [kind, p or to, (ANONYMISED if name else "") if p else name, subject,
            pseudonyms.sub_refs(key), status, scrub(reason)]


def write_files(files: FilePlan) -> None:
    """Rewrite the outbox files (atomically, by Message-ID) and the manifests."""
    for message_id, content in files.files:
        files.outbox.send_raw(content, Envelope(message_id, "", ""))
    for path, text in files.manifests.items():
        rewrite(path, text)
