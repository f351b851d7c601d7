"""Concurrency: two invitations runs at once on one PostgreSQL store send every message once.

With the Google backend both runs work at the same time: the ledger's claims (SELECT ... FOR
UPDATE SKIP LOCKED) share the messages out. With the workbook backend the second run waits for
the workbook's lock (then finds everything sent), or gives up with the "in use" message.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from samen.config import Config, load_config
from samen.gateways.factory import build_store
from samen.gateways.sheets.base import SheetsError
from samen.stages.intake import run_intake
from samen.stages.invitations import InvitationsSummary, run_invitations
from samen.stages.selection import run_selection
from samen.testing.fault_servers import FaultySmtpServer, wait_for
from samen.testing.forms import form_table, make_response
from samen.testing.google_programme import Sheet, meetings_table, run_google, write_google_config
from samen.testing.programme import enrol, meeting, run, tab, write_meetings
from samen.testing.sheets_double import SheetsDouble

TANDEMS = 32  # 64 invitees
MEETING_DAY = date(2023, 3, 27)
INVITE_DAY = MEETING_DAY - timedelta(days=28)
LATER_DAY = date(2023, 6, 23)  # meeting 2, announced on its own day with a daily cap
CAP = 40
DELAY = 0.02  # seconds the SMTP server takes per message, so that the runs overlap
# PostgreSQL only (SELECT ... FOR UPDATE SKIP LOCKED); skipped with a reason when unset.
pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)]


def decisions() -> dict[int, str]:
    """Return 7 kern and the other tandems kenniskring."""
    return {n: "kern" if n <= 7 else "kenniskring" for n in range(1, TANDEMS + 1)}


@pytest.fixture
def server() -> Iterator[FaultySmtpServer]:
    """Serve SMTP on 127.0.0.1 (slow per message once the test says so)."""
    with FaultySmtpServer() as s:
        yield s


def together(*runs: Callable[[], Any]) -> list[Any]:
    """Run callables in threads started at the same moment; return results or exceptions."""
    results: list[Any] = [None] * len(runs)
    start = threading.Barrier(len(runs))

    def go(i: int) -> None:
        start.wait()
        try:
            results[i] = runs[i]()
        except Exception as exc:  # reported by the test
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(runs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def invitation_ids(server: FaultySmtpServer) -> Counter[str]:
    """Return how often each invitation's Message-ID arrived."""
    with server.lock:
        return Counter(str(r.message["Message-ID"]) for r in server.received
                       if "Uitnodiging" in str(r.message["Subject"]))


def ledger_invitations(config: Config) -> dict[str, str]:
    """Return the invitations' Message-IDs in the ledger and their status."""
    store = build_store(config)
    try:
        return {e.message_id: e.status for e in store.ledger.entries().values()
                if e.kind == "uitnodiging"}
    finally:
        store.close()


def test_two_google_runs_send_each_invitation_once(tmp_path: Path, store_url: str,
                                                   sheets_double: SheetsDouble,
                                                   server: FaultySmtpServer) -> None:
    """Two runs at once on one spreadsheet and one PostgreSQL store: 64 invitations, once each."""
    responses = [make_response(n) for n in range(1, TANDEMS + 1)]
    key = sheets_double.create_spreadsheet("Programma SAMEN", {
        "Formulierreacties 1": form_table(responses),
        "Bijeenkomsten": meetings_table([meeting("1", MEETING_DAY), meeting("2", LATER_DAY)])})
    config = write_google_config(tmp_path, key=key, api_base=sheets_double.base_url,
                                 smtp_port=server.port, store_url=store_url)
    sheet = Sheet(sheets_double, key)
    run_google(config, run_intake, date(2022, 11, 1))
    sheet.decide(config, {f"SAMEN-2022-{n:03d}": d for n, d in decisions().items()})
    run_google(config, run_selection, date(2022, 11, 28))
    sheet.approve(config)
    assert run_google(config, run_selection, date(2022, 11, 28)).approved
    server.delay = DELAY

    # Someone holds the meetings table (as a backup or a migration might) until both runs wait
    # to record the announcement: so they record it at the same moment, as they may in life.
    holder = sa.create_engine(store_url)
    try:
        with holder.connect() as conn, holder.connect() as watcher:
            conn.execute(sa.text("LOCK TABLE meetings IN EXCLUSIVE MODE"))

            def both_wait() -> bool:
                return watcher.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'meetings'::regclass "
                    "AND NOT granted")).scalar_one() == 2

            def release() -> None:
                assert wait_for(both_wait, 60), "the runs did not both reach the announcement"
                conn.commit()  # ends the transaction: the lock goes

            runs = together(lambda: run_google(config, run_invitations, INVITE_DAY),
                            lambda: run_google(config, run_invitations, INVITE_DAY), release)
    finally:
        holder.dispose()
    first, second, _released = runs
    assert isinstance(first, InvitationsSummary), first
    assert isinstance(second, InvitationsSummary), second
    sent = invitation_ids(server)
    print(f"\nconcurrent Google runs: {first.messages_sent} + {second.messages_sent} invitations "
          f"sent; delivered {len(sent)}, duplicates {sum(n - 1 for n in sent.values())}")
    assert first.messages_sent + second.messages_sent == len(sent) == 2 * TANDEMS
    assert first.messages_sent and second.messages_sent, "the runs did not overlap"
    assert set(sent.values()) == {1}
    assert ledger_invitations(config) == dict.fromkeys(sent, "sent")

    server.delay = 0
    third = run_google(config, run_invitations, INVITE_DAY)
    assert third.messages_sent == 0 and invitation_ids(server) == sent
    rows = sheet.records("Aanwezigheid")
    assert len(rows) == 2 * TANDEMS == len({r["E-mail"] for r in rows})
    invitations = [r for r in sheet.records("Berichten") if r["Soort"] == "uitnodiging"]
    assert len(invitations) == 2 * TANDEMS and {r["Status"] for r in invitations} == {"verstuurd"}

    # The daily cap holds for runs at the same time too (the invitations and attendance flows
    # are both scheduled at 9:00); while both are on, each counts again before every message,
    # so the one message another run has in flight is the most the day can go over.
    capped = write_google_config(tmp_path, key=key, api_base=sheets_double.base_url,
                                 smtp_port=server.port, store_url=store_url, daily_cap=CAP,
                                 name="cap.toml")
    day = LATER_DAY - timedelta(days=28)
    before = len(server.received)
    server.delay = DELAY
    a, b = together(lambda: run_google(capped, run_invitations, day),
                    lambda: run_google(capped, run_invitations, day))
    assert isinstance(a, InvitationsSummary) and isinstance(b, InvitationsSummary), (a, b)
    on_the_day = len(server.received) - before
    server.delay = 0
    rest = run_google(capped, run_invitations, day + timedelta(days=1))
    print(f"daily cap {CAP}, two runs at once: {a.messages_sent} + {b.messages_sent} sent, "
          f"{on_the_day} on the day; {rest.messages_sent} the next day")
    assert a.messages_sent + b.messages_sent == on_the_day <= CAP + 1
    assert on_the_day + rest.messages_sent == 2 * TANDEMS
    assert set(invitation_ids(server).values()) == {1}


@pytest.fixture
def workbook_config(tmp_path: Path, store_url: str, server: FaultySmtpServer,
                    ) -> Callable[[float], Config]:
    """Return a factory of configs (by lock timeout) on one workbook and one store."""
    from samen.gateways.sheets.workbook import create_workbook

    create_workbook(tmp_path / "book.xlsx", {"Formulierreacties 1": form_table(
        [make_response(n) for n in range(1, TANDEMS + 1)])})

    def make(lock_timeout: float) -> Config:
        path = tmp_path / f"samen-{lock_timeout}.toml"
        path.write_text(
            f'[sheets.workbook]\npath = "book.xlsx"\nlock_timeout_seconds = {lock_timeout}\n\n'
            f'[mail]\nbackend = "smtp"\n\n[mail.smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
            f'security = "none"\n\n[mail.outbox]\npath = "outbox"\n\n[store]\nurl = "{store_url}"\n',
            encoding="utf-8")
        return load_config(path)

    return make


def test_workbook_runs_wait_for_the_lock(workbook_config: Callable[[float], Config],
                                         server: FaultySmtpServer) -> None:
    """A second run waits for the first run's lock (then sends nothing), or says it is in use."""
    patient, impatient = workbook_config(60), workbook_config(0.2)
    enrol(patient, decisions())
    write_meetings(patient, [meeting("1", MEETING_DAY)])
    server.delay = DELAY
    ended: dict[str, float] = {}

    def first() -> InvitationsSummary:
        summary: InvitationsSummary = run(patient, run_invitations, INVITE_DAY)
        ended["first"] = time.monotonic()
        return summary

    def later(config: Config) -> Callable[[], Any]:
        def go() -> Any:
            # Start once the first run holds the lock and is sending.
            assert wait_for(lambda: invitation_ids(server), 60)
            started = time.monotonic()
            try:
                return run(config, run_invitations, INVITE_DAY)
            finally:
                ended[f"waited {config.workbook.lock_timeout_seconds}"] = time.monotonic() - started
        return go

    one, refused, waiting = together(first, later(impatient), later(patient))
    assert isinstance(one, InvitationsSummary) and one.messages_sent == 2 * TANDEMS
    assert isinstance(refused, SheetsError) and "is in use by another run" in str(refused)
    assert isinstance(waiting, InvitationsSummary), waiting
    assert waiting.messages_sent == 0 and waiting.cells_written == 0
    sent = invitation_ids(server)
    print(f"\nworkbook runs: first sent {one.messages_sent}; impatient run refused after "
          f"{ended['waited 0.2']:.1f} s ('in use'); patient run waited {ended['waited 60.0']:.1f} s, "
          f"sent {waiting.messages_sent}; duplicates {sum(n - 1 for n in sent.values())}")
    assert ended["waited 60.0"] > 2 * TANDEMS * DELAY / 2  # it waited for most of the sending
    assert len(sent) == 2 * TANDEMS and set(sent.values()) == {1}
    assert ledger_invitations(patient) == dict.fromkeys(sent, "sent")
    assert len(tab(patient, "attendance")) == 2 * TANDEMS
