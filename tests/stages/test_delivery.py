"""Delivery end to end: a real SMTP server on 127.0.0.1, a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from samen.config import Config, load_config
from samen.gateways.factory import build_mail
from samen.gateways.mail import Envelope, Gate, MailConnectionError, MailGateway
from samen.gateways.mail.smtp import SmtpMail
from samen.gateways.sheets.base import CellBlock
from samen.gateways.store import Store
from samen.gateways.store.ledger import Claim, LedgerEntry
from samen.rendering import COMMON_KEYS, Renderer, example_context
from samen.stages.delivery import DeliveryReport, PlannedMail, deliver
from samen.stages.messaging import MessagingResult, messaging_tab_specs, run_messaging
from samen.testing.smtp_server import LocalCa, LocalSmtpServer

KIND = "ontvangstbevestiging"
CONTEXT = {k: v for k, v in example_context(KIND).items() if k not in COMMON_KEYS}
AS_OF = date(2023, 11, 1)
RENDERER = Renderer()
Snapshot = dict[str, list[list[str]]]


class Crash(BaseException):
    """The process dies (not an Exception: nothing may catch it)."""


class PortServer(LocalSmtpServer):
    """A LocalSmtpServer on a given port: the healthy successor of a stopped server."""

    def __init__(self, port: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._port = port


@pytest.fixture
def make_config(tmp_path: Path, store_url: str) -> Callable[..., Config]:
    """Return a factory writing samen.toml for an SMTP relay (or the outbox) and the test store."""

    def make(port: int = 2525, *, backend: str = "smtp", cap: int = 450) -> Config:
        (tmp_path / "samen.toml").write_text(
            f'[mail]\nbackend = "{backend}"\ndaily_cap = {cap}\n\n[mail.outbox]\npath = "out/outbox"\n\n'
            f'[mail.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_seconds = 5\n\n'
            f'[store]\nurl = "{store_url}"\n', encoding="utf-8")
        return load_config(tmp_path / "samen.toml")

    return make


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yield the migrated test store."""
    s = Store(store_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def server() -> Iterator[LocalSmtpServer]:
    """Yield a healthy relay on 127.0.0.1."""
    with LocalSmtpServer() as s:
        yield s


def mails(n: int) -> list[PlannedMail]:
    return [mail_to(f"person{i}@example.org", f"SAMEN-2022-{i:03d}") for i in range(n)]


def mail_to(address: str, subject: str, programme_mail: bool = False) -> PlannedMail:
    return PlannedMail(KIND, subject, address, "Noëlle Bakker", CONTEXT, programme_mail=programme_mail)


def run(config: Config, store: Store, planned: Sequence[PlannedMail], *, mail: MailGateway | None = None,
        as_of: date = AS_OF, optouts: Sequence[str] = ()) -> DeliveryReport:
    return deliver(planned, config=config, store=store, mail=mail or build_mail(config), renderer=RENDERER,
                   as_of=as_of, now=datetime.combine(as_of, time(9, 30)), optouts=optouts)


def messaging(config: Config, store: Store, snapshot: Snapshot, planned: Sequence[PlannedMail],
              dry_run: bool = False) -> MessagingResult:
    return run_messaging(config, stage="test", store=store, mail=build_mail(config), renderer=RENDERER,
                         snapshot=snapshot, planned=planned, signals=[], as_of=AS_OF,
                         now=datetime(2023, 11, 1, 9, 30), dry_run=dry_run)


def empty_tabs(config: Config) -> Snapshot:
    return {spec.title: [list(spec.headers)] for spec in messaging_tab_specs(config)}


def apply_blocks(snapshot: Snapshot, blocks: Sequence[CellBlock]) -> None:
    for block in blocks:
        rows = snapshot[block.tab]
        for r, values in enumerate(block.values, start=block.row - 1):
            rows.extend([] for _ in range(r + 1 - len(rows)))
            for c, value in enumerate(values, start=block.col - 1):
                rows[r].extend("" for _ in range(c + 1 - len(rows[r])))
                rows[r][c] = value


def statuses(store: Store) -> dict[str, int]:
    return dict(Counter(e.status for e in store.ledger.entries().values()))


def entry_for(store: Store, address: str) -> LedgerEntry:
    (entry,) = [e for e in store.ledger.entries().values() if e.recipient == address and e.kind == KIND]
    return entry


def ids(*servers: LocalSmtpServer) -> list[str]:
    return [str(r.message["Message-ID"]) for s in servers for r in s.received]


def recipients(server: LocalSmtpServer) -> list[str]:
    return [to for r in server.received for to in r.rcpt_tos]


def test_interrupted_run_is_resumed_exactly_once(make_config: Callable[..., Config], store: Store) -> None:
    """Resume a run the server cut off after 4 of 10: the other 6 go, each message exactly once."""
    with LocalSmtpServer(drop_after=4, drop_times=2) as broken:
        config = make_config(broken.port)
        first = run(config, store, mails(10))
    assert (first.sent, first.waiting, broken.drops, len(broken.received)) == (4, 6, 2, 4)
    assert first.stopped and [r.category for r in first.rows if r.status == "wacht"] == ["verbinding"] * 6
    assert statuses(store) == {"sent": 4, "planned": 6}
    with PortServer(broken.port) as healthy:
        second = run(config, store, mails(10))
        third = run(config, store, mails(10))
        assert len(healthy.received) == 6
    assert (second.sent, second.waiting, second.stopped, second.recorded) == (6, 0, "", 0)
    assert (third.sent, third.recorded, third.rows) == (0, 0, [])
    assert Counter(ids(broken, healthy)) == {e.message_id: 1 for e in store.ledger.entries().values()}
    assert len(set(ids(broken, healthy))) == 10 and statuses(store) == {"sent": 10}


def test_second_run_sends_and_records_nothing(make_config: Callable[..., Config], store: Store,
                                              server: LocalSmtpServer) -> None:
    """Send the same planned list twice in a row: the second run changes nothing."""
    config = make_config(server.port)
    first = run(config, store, mails(5))
    before = store.ledger.entries()
    second = run(config, store, mails(5))
    assert (first.recorded, first.sent, len(server.received)) == (5, 5, 5)
    assert (second.recorded, second.sent, second.rows) == (0, 0, [])
    assert store.ledger.entries() == before and len(server.received) == 5


def test_crash_after_handover_resends_same_message(make_config: Callable[..., Config], store: Store,
                                                   server: LocalSmtpServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Die after the server took message 3 but before the commit: the re-run sends it again, same bytes."""
    config = make_config(server.port)
    original, calls = Claim.mark_sent, []

    def dying(self: Claim, at: datetime, day: date) -> None:
        calls.append(self.key)
        if len(calls) == 3:
            raise Crash
        original(self, at, day)

    monkeypatch.setattr(Claim, "mark_sent", dying)
    with pytest.raises(Crash):
        run(config, store, mails(10))
    monkeypatch.undo()
    assert len(server.received) == 3 and statuses(store) == {"sent": 2, "planned": 8}
    report = run(config, store, mails(10))
    assert report.sent == 8 and len(server.received) == 11 and statuses(store) == {"sent": 10}
    crashed = server.received[2]
    assert crashed.rcpt_tos == ("person2@example.org",)
    counts = Counter(ids(server))
    assert counts.pop(str(crashed.message["Message-ID"])) == 2 and set(counts.values()) == {1}
    (again,) = [r for r in server.received[3:] if r.message["Message-ID"] == crashed.message["Message-ID"]]
    assert again.raw == crashed.raw


def test_daily_cap_leaves_the_rest_for_next_days(make_config: Callable[..., Config], store: Store,
                                                 server: LocalSmtpServer) -> None:
    """Send 3 a day with daily_cap 3: the rest waits as 'daglimiet', the same day sends nothing more."""
    config = make_config(server.port, cap=3)
    day1 = run(config, store, mails(7))
    assert (day1.sent, day1.waiting) == (3, 4)
    assert sorted(r.category for r in day1.rows if r.status == "wacht") == ["daglimiet"] * 4
    later = run(config, store, mails(7))
    assert (later.sent, later.waiting, len(server.received)) == (0, 4, 3)
    day2 = run(config, store, mails(7), as_of=AS_OF + timedelta(days=1))
    assert (day2.sent, day2.waiting, len(server.received)) == (3, 1, 6)
    assert store.ledger.sent_on(AS_OF) == store.ledger.sent_on(AS_OF + timedelta(days=1)) == 3
    assert len(set(ids(server))) == 6


class OtherRunSendsFirst:
    """The SMTP gateway, and another run that delivers these messages while the session opens."""

    capped = True

    def __init__(self, inner: MailGateway, store: Store, keys: Sequence[str], day: date) -> None:
        self.inner, self.store, self.keys, self.day = inner, store, keys, day

    def open(self) -> None:
        self.inner.open()
        with self.store.ledger.deliveries() as other:
            for key in self.keys:
                with other.claimed(key, self.day) as claim:
                    assert claim is not None
                    claim.mark_sent(datetime.combine(self.day, time(9, 0)), self.day)

    def send_raw(self, raw: bytes, envelope: Envelope, ready: Gate | None = None) -> bool:
        return self.inner.send_raw(raw, envelope, ready)

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)

    def close(self) -> None:
        self.inner.close()


def test_daily_cap_counts_what_another_run_delivered_meanwhile(
        make_config: Callable[..., Config], store: Store, server: LocalSmtpServer) -> None:
    """Each claim knows the day's deliveries: another run's 2 (after this run's up-front count) leave 1."""
    config = make_config(server.port, cap=3)
    planned = mails(6)
    mail = OtherRunSendsFirst(build_mail(config), store, [planned[4].key, planned[5].key], AS_OF)
    report = run(config, store, planned, mail=mail)
    assert (report.sent, len(server.received), store.ledger.sent_on(AS_OF)) == (1, 1, 3)
    assert recipients(server) == ["person0@example.org"]
    assert {r.category for r in report.rows if r.status == "wacht"} == {"daglimiet"}
    assert statuses(store) == {"sent": 3, "planned": 3}


def test_outbox_ignores_the_daily_cap(make_config: Callable[..., Config], store: Store) -> None:
    """Write all 7 messages to the outbox although daily_cap is 3."""
    config = make_config(backend="outbox", cap=3)
    report = run(config, store, mails(7))
    assert (report.sent, report.waiting) == (7, 0)
    assert len(list(config.mail.outbox_path.glob("*.eml"))) == 7 and statuses(store) == {"sent": 7}


def test_optout_holds_programme_mail_only(make_config: Callable[..., Config], store: Store,
                                          server: LocalSmtpServer) -> None:
    """Hold programme mail to an opted-out address; other mail to that address still goes."""
    config = make_config(server.port)
    planned = [mail_to("person0@example.org", "A", programme_mail=True), mail_to("person0@example.org", "B"),
               mail_to("person1@example.org", "C", programme_mail=True)]
    report = run(config, store, planned, optouts=[" Person0@Example.org"])
    held = store.ledger.entries()[planned[0].key]
    assert (held.status, report.held, report.sent) == ("held", 1, 2)
    assert [r.category for r in report.rows if r.key == held.key] == ["afgemeld"]
    assert held.message_id not in ids(server)
    assert sorted(recipients(server)) == ["person0@example.org", "person1@example.org"]


def test_unusable_address_is_held_and_signalled_once(make_config: Callable[..., Config], store: Store,
                                                     server: LocalSmtpServer) -> None:
    """Hold unusable addresses, signal each once to every coordinator; a re-run adds nothing."""
    config = make_config(server.port)
    bad = ["geen-adres", "a@b@example.org", "x\r\nBcc: evil@example.org"]
    planned = [*(mail_to(a, f"BAD-{i}") for i, a in enumerate(bad)), *mails(2)]
    result = messaging(config, store, empty_tabs(config), planned)
    held = [r for r in result.report.rows if r.status == "tegengehouden"]
    assert [r.category for r in held] == ["ongeldig adres"] * 3
    assert {store.ledger.entries()[p.key].status for p in planned[:3]} == {"held"}
    signals = store.ledger.signals().values()
    assert [s.kind for s in signals] == ["Bericht niet bezorgd"] * 3 and result.signals_added == 3
    coordinators = config.programme.coordinators
    assert Counter(recipients(server)) == {"person0@example.org": 1, "person1@example.org": 1,
                                           **{c: 3 for c in coordinators}}
    assert not any("evil" in to for to in recipients(server))
    again = messaging(config, store, empty_tabs(config), planned)
    assert (again.signals_added, again.report.sent, len(server.received)) == (0, 0, 8)


def test_permanent_refusal_fails_one_in_the_same_session(make_config: Callable[..., Config],
                                                         store: Store) -> None:
    """Fail a 550 recipient with the (redacted) reply; deliver the others over one session."""
    with LocalSmtpServer(failing_recipients={"person2@example.org": 550}) as server:
        config = make_config(server.port)
        mail = build_mail(config)
        report = run(config, store, mails(5), mail=mail)
    assert isinstance(mail, SmtpMail) and mail.sessions == server.connections == 1
    assert (report.sent, report.failed, report.waiting) == (4, 1, 0)
    failed = entry_for(store, "person2@example.org")
    assert failed.status == "failed" and "550" in failed.reason and "person2@" not in failed.reason
    assert sorted(recipients(server)) == [f"person{i}@example.org" for i in (0, 1, 3, 4)]


def test_temporary_refusal_waits_for_a_later_run(make_config: Callable[..., Config], store: Store,
                                                 server: LocalSmtpServer) -> None:
    """Try a 450 recipient once per run (signal pass included) and deliver it once accepted."""
    config = make_config(server.port)
    server.failing_recipients["person1@example.org"] = 450
    planned = [*mails(3), mail_to("geen-adres", "BAD")]  # the bad address adds a signal pass
    first = messaging(config, store, empty_tabs(config), planned)
    waiting = entry_for(store, "person1@example.org")
    assert (first.report.sent, first.report.waiting, first.report.failed) == (4, 1, 0)
    assert (waiting.status, waiting.attempts) == ("planned", 1) and "450" in waiting.reason
    assert [r.status for r in first.report.rows if r.key == waiting.key] == ["wacht"]
    server.failing_recipients.clear()
    second = messaging(config, store, empty_tabs(config), planned)
    assert (second.report.sent, entry_for(store, "person1@example.org").status) == (1, "sent")
    assert recipients(server)[-1] == "person1@example.org"
    assert Counter(recipients(server))["person1@example.org"] == 1


def test_dry_run_records_and_sends_nothing(make_config: Callable[..., Config], store: Store,
                                           server: LocalSmtpServer) -> None:
    """Write a proef manifest without recording or sending; a run with nothing new writes none."""
    config = make_config(server.port)
    dry = messaging(config, store, empty_tabs(config), mails(3), dry_run=True)
    assert store.ledger.entries() == {} and server.received == [] and dry.report.sent == 0
    assert dry.manifest.endswith("-proef.csv")
    with open(dry.manifest, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["status"] for r in rows] == ["gepland (proef)"] * 3
    assert Path(dry.manifest).parent == config.mail.outbox_path.parent / "manifests"
    real = messaging(config, store, empty_tabs(config), mails(3))
    assert real.manifest and len(server.received) == 3
    idle = messaging(config, store, empty_tabs(config), mails(3))
    assert idle.manifest == "" and len(list(Path(dry.manifest).parent.iterdir())) == 2


def test_berichten_blocks_mirror_the_ledger_once(make_config: Callable[..., Config], store: Store,
                                                 server: LocalSmtpServer) -> None:
    """Write one Berichten row per ledger entry; once the sheet holds them, write nothing more."""
    config = make_config(server.port)
    snapshot = empty_tabs(config)
    first = messaging(config, store, snapshot, mails(3))
    assert first.blocks
    apply_blocks(snapshot, first.blocks)
    header, *rows = snapshot[config.tabs["messages"]]
    table = [dict(zip(header, row, strict=False)) for row in rows]
    assert [r["Kenmerk"] for r in table] == list(store.ledger.entries())
    assert {r["Status"] for r in table} == {"verstuurd"} and len(table) == 3
    assert table[0]["Aan"] == "person0@example.org" and table[0]["Datum"] == "01-11-2023 10:30"
    second = messaging(config, store, snapshot, mails(3))
    assert second.blocks == [] and len(server.received) == 3


def test_starttls_with_login_delivers_through_deliver(make_config: Callable[..., Config],
                                                      store: Store) -> None:
    """Deliver over STARTTLS with AUTH: one verified session, one login, every message."""
    ca = LocalCa()
    with LocalSmtpServer(tls="starttls", ca=ca, users={"samen": "g3heim-42"}) as server:
        config = make_config(server.port)
        smtp = dataclasses.replace(config.mail.smtp, security="starttls", username="samen")
        report = run(config, store, mails(3), mail=SmtpMail(smtp, "g3heim-42", context=ca.client_context()))
    assert (report.sent, report.stopped) == (3, "")
    assert (server.logins, server.connections, server.failed_logins) == (["samen"], 1, [])
    assert sorted(recipients(server)) == [f"person{i}@example.org" for i in range(3)]


class CommitWatcher:
    """The SMTP gateway, checking at each go-ahead (from another connection) that every message
    handed over before is recorded as sent: the one delivered message without a durable
    commit may only ever be the one in flight."""

    capped = True

    def __init__(self, inner: MailGateway, store_url: str) -> None:
        self.inner, self.reader = inner, Store(store_url)
        self.handed: list[str] = []
        self.unrecorded: list[tuple[str, list[str]]] = []  # (message, earlier ones not yet sent)
        self.waited = 0

    def open(self) -> None:
        self.inner.open()

    def send_raw(self, raw: bytes, envelope: Envelope, ready: Gate | None = None) -> bool:
        assert ready is not None
        watcher = self

        class Watched:
            def known(self) -> bool:
                return ready.known()

            def __call__(self) -> bool:
                watcher.waited += not ready.known()
                go = ready()
                if go:
                    sent = {e.message_id for e in watcher.reader.ledger.entries().values()
                            if e.status == "sent"}
                    missing = [m for m in watcher.handed if m not in sent]
                    if missing:
                        watcher.unrecorded.append((envelope.message_id, missing))
                return go

        handed = self.inner.send_raw(raw, envelope, Watched())
        if handed:
            self.handed.append(envelope.message_id)
        return handed

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)

    def close(self) -> None:
        self.inner.close()
        self.reader.close()


def test_content_goes_only_after_the_previous_message_is_durably_recorded(
        make_config: Callable[..., Config], store: Store, store_url: str,
        server: LocalSmtpServer) -> None:
    """The ledger commits in the background while the server takes the next envelope; the
    next content waits for that commit. Checked from a second connection at every go-ahead."""
    config = make_config(server.port)
    mail = CommitWatcher(build_mail(config), store_url)
    report = run(config, store, mails(40), mail=mail)
    assert report.sent == 40 and len(server.received) == 40
    assert len(mail.handed) == 40 and mail.unrecorded == []
    assert statuses(store) == {"sent": 40}


class DropsOnSecond(OtherRunSendsFirst):
    """Another run delivered the second message; the server then drops us twice on its envelope."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.calls = 0

    def send_raw(self, raw: bytes, envelope: Envelope, ready: Gate | None = None) -> bool:
        self.calls += 1
        if self.calls == 2:
            raise MailConnectionError("dropped again right after a reconnect")
        return self.inner.send_raw(raw, envelope, ready)


def test_a_stopped_session_stops_the_batch_also_on_a_message_another_run_sent(
        make_config: Callable[..., Config], store: Store, server: LocalSmtpServer) -> None:
    """The drop stops the batch even when the message it hit was not ours to send."""
    config = make_config(server.port)
    planned = mails(5)
    mail = DropsOnSecond(build_mail(config), store, [planned[1].key], AS_OF)
    report = run(config, store, planned, mail=mail)
    assert report.stopped and (report.sent, report.waiting, mail.calls) == (1, 3, 2)
    assert {r.category for r in report.rows if r.status == "wacht"} == {"verbinding"}
    assert statuses(store) == {"sent": 2, "planned": 3}
