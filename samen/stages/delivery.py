"""Delivery: record every planned message in the ledger, then send what is not sent yet.

The ledger row is written (with the built message) before anything is sent, and each delivery is
its own durable commit; so a re-run sends only what is not yet sent, and a message whose send
was interrupted by a crash goes again with the same Message-ID and the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from samen.config import Config
from samen.domain.messages import (
    CalendarEvent,
    OutgoingMessage,
    Sender,
    message_id_for,
    message_key,
)
from samen.gateways.mail import (
    Envelope,
    MailConnectionError,
    MailError,
    MailGateway,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from samen.gateways.store import Store
from samen.gateways.store.ledger import HELD, PLANNED, Claim, NewMessage
from samen.mailbuild import MAIL_POLICY, AddressError, build_email
from samen.rendering import Renderer

log = logging.getLogger("samen.delivery")


@dataclass(frozen=True, slots=True)
class PlannedMail:
    """A message a stage wants sent: its kind, subject, recipient, version and template context."""

    kind: str
    subject: str
    to_address: str
    to_name: str
    context: Mapping[str, Any]
    version: int | str = 1
    calendar: CalendarEvent | None = None
    programme_mail: bool = False  # opt-outs apply; List-Unsubscribe is added

    @property
    def key(self) -> str:
        """Return the ledger's idempotency key."""
        return message_key(self.kind, self.subject, self.to_address, self.version)


@dataclass(frozen=True)
class ManifestRow:
    """One line of the run's manifest: who gets what, or who is held back and why."""

    kind: str
    to_address: str
    to_name: str
    subject_line: str
    key: str
    status: str  # verstuurd, gepland, wacht, tegengehouden, mislukt
    category: str  # short reason without personal data (for artifacts)
    reason: str  # full reason (for the manifest file)


@dataclass
class DeliveryReport:
    """What a delivery pass did."""

    recorded: int = 0
    sent: int = 0
    failed: int = 0
    held: int = 0
    waiting: int = 0
    stopped: str = ""
    rows: list[ManifestRow] = field(default_factory=list)


def sender_of(config: Config) -> Sender:
    """Return the configured sender."""
    m = config.mail
    return Sender(m.from_address, m.from_name, m.reply_to, m.reply_to)


def programme_context(config: Config) -> dict[str, Any]:
    """Return the template variables every message gets."""
    p = config.programme
    return {"name": p.name, "form_link": p.form_link, "retention_months": p.retention_months,
            "contact_address": config.mail.reply_to}


def deliver(
    planned: Sequence[PlannedMail],
    *,
    config: Config,
    store: Store,
    mail: MailGateway,
    renderer: Renderer,
    as_of: date,
    now: datetime,
    optouts: Collection[str] = (),
    dry_run: bool = False,
    only_new: bool = False,
) -> DeliveryReport:
    """Record new messages in the ledger and send every message not yet delivered (or only these)."""
    report = DeliveryReport()
    known = store.ledger.entries()
    new = prepare(planned, known, config, renderer, now, {o.strip().lower() for o in optouts})
    for message, row in new:
        report.rows.append(row)
        report.held += message.status == HELD
    if dry_run:
        report.waiting = sum(1 for e in known.values() if e.status == PLANNED)
        return report
    report.recorded = store.ledger.record([m for m, _r in new], now)
    send_pending(store, mail, config, as_of, now, report,
                 only={m.key for m, _r in new} if only_new else None)
    return report


def prepare(
    planned: Sequence[PlannedMail],
    known: Mapping[str, object],
    config: Config,
    renderer: Renderer,
    now: datetime,
    optouts: Collection[str],
) -> list[tuple[NewMessage, ManifestRow]]:
    """Render and build each message whose key is new; hold back opt-outs and bad addresses."""
    sender = sender_of(config)
    domain = config.mail.from_address.rsplit("@", 1)[-1]
    common = programme_context(config)
    out: list[tuple[NewMessage, ManifestRow]] = []
    seen: set[str] = set()
    for p in planned:
        key = p.key
        if key in known or key in seen:
            continue
        seen.add(key)
        context = {"programme": common, "recipient_name": p.to_name,
                   "programme_mail": p.programme_mail, **p.context}
        rendered = renderer.render(p.kind, context)
        message_id = message_id_for(key, domain)
        status, category, reason, content = PLANNED, "", "", None
        if p.programme_mail and p.to_address.strip().lower() in optouts:
            status, category, reason = HELD, "afgemeld", "staat in Afmeldingen"
        else:
            outgoing = OutgoingMessage(key, message_id, p.to_name, p.to_address, rendered,
                                       p.calendar, p.programme_mail)
            try:
                content = build_email(outgoing, sender, now=now.replace(tzinfo=UTC)).as_bytes(
                    policy=MAIL_POLICY
                )
            except AddressError as exc:
                status, category, reason = HELD, "ongeldig adres", str(exc)
        new = NewMessage(key, p.kind, p.subject, p.to_address, rendered.subject, message_id,
                         content, status, reason)
        shown = "gepland" if status == PLANNED else "tegengehouden"
        out.append((new, ManifestRow(p.kind, p.to_address, p.to_name, rendered.subject, key,
                                     shown, category, reason)))
    return out


def send_pending(
    store: Store, mail: MailGateway, config: Config, as_of: date, now: datetime,
    report: DeliveryReport, only: Collection[str] | None = None,
) -> None:
    """Send the ledger's planned messages (or those keys only) over one session, within the cap.

    Each message: claim it (one transaction, see Deliveries), which carries the day's
    deliveries when the cap applies (counted in the claim whenever another run may have sent
    meanwhile), send, record the outcome, commit durably. The ledger works on its own thread:
    while the server checks a message's envelope (MAIL FROM, RCPT TO), the previous message's
    commit and this message's claim are on their way, and the content goes only once both are
    done (the gateway asks `ready`). So no more than one delivered message is ever without its
    durable commit.
    """
    pending = [p for p in store.ledger.pending() if only is None or p[0].key in only]
    rows = {r.key: r for r in report.rows}
    if not pending:
        return
    cap = config.mail.daily_cap if mail.capped else None
    # Counted once up front so that a day already full opens no session; then each claim knows it.
    room = cap - store.ledger.sent_on(as_of) if cap is not None else len(pending)
    count_day = as_of if cap is not None else None
    opened = False

    def wait(key: str, row: ManifestRow, category: str, reason: str) -> None:
        rows[key] = _with(row, "wacht", category, reason)
        report.waiting += 1

    def may_send(claim: Claim | None) -> bool:
        """Return whether a claim allows sending: ours, and the day's cap not reached."""
        return claim is not None and (cap is None or claim.sent_that_day is None
                                      or claim.sent_that_day < cap)

    try:
        with store.ledger.deliveries() as deliveries:
            # This message's claim, asked for with the previous message's commit; None when
            # the previous message ended the pass (then nothing is claimed ahead).
            claiming: Future[Claim | None] | None = None
            for i, (entry, content) in enumerate(pending):
                row = rows.get(entry.key) or ManifestRow(
                    entry.kind, entry.recipient, "", entry.subject_line, entry.key, "gepland", "", "")
                if report.stopped:
                    wait(entry.key, row, "verbinding", report.stopped)
                    continue
                if room <= 0:
                    wait(entry.key, row, "daglimiet", _cap_reached(config))
                    continue
                if not opened:
                    try:
                        mail.open()
                    except MailConnectionError as exc:
                        report.stopped = str(exc)
                        wait(entry.key, row, "verbinding", str(exc))
                        continue
                    opened = True
                envelope = Envelope(entry.message_id, config.mail.from_address, entry.recipient)
                this = claiming if claiming is not None else deliveries.claim(entry.key, count_day)
                error: MailError | None = None
                try:
                    handed = mail.send_raw(content, envelope, _Cleared(this, may_send))
                except (PermanentDeliveryError, TemporaryDeliveryError, MailConnectionError) as exc:
                    handed, error = False, exc
                claim = this.result()
                if claim is not None and cap is not None and claim.sent_that_day is not None:
                    room = cap - claim.sent_that_day
                if isinstance(error, MailConnectionError):  # the batch stops, this one included
                    report.stopped = str(error)
                if claim is None:  # sent meanwhile, or being sent by a concurrent run
                    pass
                elif room <= 0:  # the claim ends without a change
                    wait(entry.key, row, "daglimiet", _cap_reached(config))
                elif isinstance(error, PermanentDeliveryError):
                    claim.mark_failed(error.describe())
                    rows[entry.key] = _with(row, "mislukt", "geweigerd", error.describe())
                    report.failed += 1
                elif isinstance(error, TemporaryDeliveryError):
                    claim.note_attempt(error.describe())
                    wait(entry.key, row, "tijdelijke fout", error.describe())
                elif error is not None:
                    wait(entry.key, row, "verbinding", str(error))
                elif handed:
                    claim.mark_sent(now, as_of)
                    rows[entry.key] = _with(row, "verstuurd", "", "")
                    report.sent += 1
                    room -= 1
                more = i + 1 < len(pending) and not report.stopped and room > 0
                claiming = deliveries.end(claim, pending[i + 1][0].key if more else None, count_day)
                if not more:
                    claiming.result()  # the last commit of the pass is durable before going on
                    claiming = None
    finally:
        if opened:
            mail.close()
    report.rows = list(rows.values())
    log.info("delivery: sent=%d failed=%d waiting=%d held=%d", report.sent, report.failed,
             report.waiting, report.held)


class _Cleared:
    """The gateway's go-ahead (a mail Gate): the message's claim is there, so the previous
    message's commit is durable, and the claim allows sending."""

    def __init__(self, claiming: Future[Claim | None], allows: Callable[[Claim | None], bool]) -> None:
        self.claiming, self.allows = claiming, allows

    def known(self) -> bool:
        """Return whether the claim is there already."""
        return self.claiming.done()

    def __call__(self) -> bool:
        """Wait for the claim; return whether it allows sending."""
        return self.allows(self.claiming.result())


def _cap_reached(config: Config) -> str:
    return f"daglimiet van {config.mail.daily_cap} bereikt; volgt bij de volgende run"


def _with(row: ManifestRow, status: str, category: str, reason: str) -> ManifestRow:
    return ManifestRow(row.kind, row.to_address, row.to_name, row.subject_line, row.key, status,
                       category, reason)
