"""Faults: a flaky Sheets API and a flaky SMTP server end where a fault-free run ends.

A programme (intake, selection with decisions and approvals, invitations for one meeting,
attendance) is played twice through the Google backend: once against healthy servers, once
while the Sheets double answers 429/500 or too late on a share of calls and the SMTP server
drops connections, answers 421, greylists (450) and cuts connections right after accepting a
message. Each stage is simply run again (as the schedule would) until it succeeds.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from samen.config import Config, load_config
from samen.gateways.factory import build_store
from samen.gateways.mail import MailConnectionError
from samen.gateways.sheets.base import SheetsError
from samen.gateways.sheets.workbook import create_workbook
from samen.gateways.store.ledger import FAILED, PLANNED, SENT
from samen.stages.attendance import run_attendance
from samen.stages.intake import run_intake
from samen.stages.invitations import run_invitations
from samen.stages.selection import run_selection
from samen.testing.fault_servers import CountingFaultPlan, FaultySheetsDouble, FaultySmtpServer
from samen.testing.forms import form_table, make_response
from samen.testing.google_programme import Sheet, meetings_table, run_google, write_google_config
from samen.testing.programme import enrol, meeting, run, tab, write_meetings
from samen.testing.smtp_server import LocalSmtpServer

FORM = "Formulierreacties 1"
MEETING_DAY = date(2023, 3, 27)
RESPONSES = [make_response(n) for n in range(1, 13)] + [make_response(13, consent="Nee")]
DECISIONS = {f"SAMEN-2022-{n:03d}": ("kern" if n <= 3 else "kenniskring" if n <= 9 else "afgewezen")
             for n in range(1, 13)}
BOUNCING = "bewoner5@example.org"  # 550: the mailbox does not exist (in both runs)
GREYLISTED = {"ambtenaar4@example.org": 2, "coordinator1@example.org": 1}  # faulty run only
MAX_RUNS = 25  # runs of one stage before the test gives up


def status_of(email: str) -> str:
    """Return a fixed attendance mark per address."""
    roll = int(hashlib.sha256(email.encode()).hexdigest()[:4], 16) % 10
    return "afgemeld" if roll == 0 else "afwezig" if roll < 3 else "aanwezig"


@dataclass
class Play:
    """One programme: its spreadsheet, config, SMTP server and what the runs met."""

    sheet: Sheet
    config: Config
    server: LocalSmtpServer
    runs: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)


def pending(config: Config) -> int:
    """Return how many ledger messages are still planned."""
    store = build_store(config)
    try:
        return len(store.ledger.pending())
    finally:
        store.close()


Before = Callable[[str, int], None]  # called with the stage's name and the run's number


def until_done(play: Play, stage: Callable[..., Any], as_of: date, before: Before) -> None:
    """Run a stage again (as the schedule would) until it succeeds with nothing left to send."""
    for number in range(1, MAX_RUNS + 1):
        before(stage.__name__, number)
        play.runs[stage.__name__] += 1
        try:
            run_google(play.config, stage, as_of)
        except (SheetsError, MailConnectionError) as exc:
            play.failures[type(exc).__name__] += 1
            continue
        if not pending(play.config):
            return
    raise AssertionError(f"{stage.__name__} did not succeed in {MAX_RUNS} runs: {play.failures}")


def play_programme(play: Play, before: Before = lambda _stage, _number: None) -> None:
    """Play intake, selection (decisions, approvals), invitations and attendance."""
    sheet, config = play.sheet, play.config
    until_done(play, run_intake, date(2022, 11, 1), before)
    sheet.decide(config, DECISIONS)
    until_done(play, run_selection, date(2022, 11, 25), before)
    sheet.approve(config)
    until_done(play, run_selection, date(2022, 11, 28), before)
    until_done(play, run_invitations, MEETING_DAY - timedelta(days=28), before)
    assert sheet.complete(config, "1", status_of) == 17  # 9 tandems, but the bouncing address
    until_done(play, run_attendance, MEETING_DAY + timedelta(days=1), before)


def without_emptied(contents: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    """Return the tabs without the sign-in list's emptied rows (of refused invitations)."""
    return {**contents, "Aanwezigheid": [r for r in contents["Aanwezigheid"] if any(r)]}


@pytest.fixture
def double() -> Iterator[FaultySheetsDouble]:
    """Serve a Sheets double that can be made slow and faulty."""
    with FaultySheetsDouble(slow_rate=0.0, slow_seconds=0.8, seed=11) as d:
        yield d
    assert not d.errors, "the Sheets double failed:\n" + "\n".join(d.errors)


def new_play(folder: Path, double: FaultySheetsDouble, server: LocalSmtpServer, name: str,
             timeout: float = 0.5) -> Play:
    """Create a spreadsheet with the form responses and the meeting, and a config for it."""
    key = double.create_spreadsheet(name, {
        FORM: form_table(RESPONSES), "Bijeenkomsten": meetings_table([meeting("1", MEETING_DAY)])})
    config = write_google_config(folder, key=key, api_base=double.base_url, smtp_port=server.port,
                                 store_url=f"sqlite:///{folder / name}.db", timeout=timeout,
                                 attempts=3, name=f"{name}.toml")
    return Play(Sheet(double, key), config, server)


def test_faulty_servers_end_like_healthy_ones(tmp_path: Path, double: FaultySheetsDouble) -> None:
    """Same sheet, same messages (each once but the cut-off ones), 550 failed and signalled."""
    with LocalSmtpServer(failing_recipients={BOUNCING: 550}) as healthy:
        clean = new_play(tmp_path, double, healthy, "schoon", timeout=10)
        play_programme(clean)
    assert sum(clean.runs.values()) == 5 and not clean.failures

    faults = CountingFaultPlan(rate=0.3, statuses=(429, 500), seed=5)
    smtp_faults: Counter[str] = Counter()
    forced: list[str] = []
    with FaultySmtpServer(failing_recipients={BOUNCING: 550}, greylist=GREYLISTED,
                          cut_rate=0.08, seed=3) as server:
        faulty = new_play(tmp_path, double, server, "storing")
        rng = server.rng

        def inject(stage: str, number: int) -> None:
            """Before each run: SMTP drops (socket closed or 421) after a few messages; and once
            each, a tab creation that lands but answers late, a write that fails after the
            messages went, and an SMTP server that is down."""
            smtp_faults["421" if server.drop_with_421 else "drop"] += server.drops
            server.start()  # again, if it was down (a no-op when it runs)
            with server.lock:
                server.drop_after = len(server.received) + rng.randint(0, 8)
                server.drops = 0
                server.drop_times = rng.choice((1, 1, 2))
                server.drop_with_421 = rng.random() < 0.5
            if number > 1:
                return
            if stage == "run_intake":
                double.slow_next("spreadsheets.batchUpdate", 0.8)
                forced.append("tab creation landed late")
            elif stage == "run_invitations":
                double.fail_next("values.batchUpdate", 500, times=3)
                forced.append("sheet write failed 3 times after sending")
            elif stage == "run_attendance":
                server.stop()
                forced.append("SMTP server down")

        double.faults, double.slow_rate = faults, 0.1
        play_programme(faulty, inject)
        double.faults, double.slow_rate = None, 0.0
        inject("", 0)
        smtp_faults.update(cut=len(server.cut_ids), greylisted=server.greylisted,
                           refused_550=server.refused[550])

    print(f"\nSheets faults injected: {dict(faults.injected)} error answers, "
          f"{sum(double.slowed.values())} slow answers {dict(double.slowed)}")
    print(f"SMTP faults injected: {dict(smtp_faults)}; forced once each: {forced}")
    print(f"stage runs: {dict(faulty.runs)}; failed runs: {dict(faulty.failures)}")
    assert faults.injected[429] and faults.injected[500] and sum(double.slowed.values())
    assert all(smtp_faults[k] for k in ("drop", "421", "cut", "greylisted", "refused_550"))
    assert faulty.failures["SheetsError"] and faulty.failures["MailConnectionError"]

    # The spreadsheet ends as the healthy run's, but for the moments of sending; a sign-in row
    # written while the 550 invitation still waited (a stopped run) is emptied, not removed.
    assert without_emptied(faulty.sheet.contents()) == clean.sheet.contents()
    emptied = sum(not any(r) for r in faulty.sheet.rows("Aanwezigheid"))

    # The same messages were delivered; only a message whose connection was cut after DATA
    # arrived twice, then with the same Message-ID and the same bytes.
    got = Counter(str(r.message["Message-ID"]) for r in server.received)
    want = Counter(str(r.message["Message-ID"]) for r in healthy.received)
    assert set(got) == set(want) and set(want.values()) == {1}
    twice = {mid: n for mid, n in got.items() if n > 1}
    assert set(twice) <= set(server.cut_ids) and set(twice.values()) <= {2}
    for mid in twice:
        raws = {r.raw for r in server.received if str(r.message["Message-ID"]) == mid}
        assert len(raws) == 1, f"{mid} arrived twice with different bytes"
    print(f"messages delivered: {len(got)}; twice (cut after DATA): {len(twice)}; lost: "
          f"{len(set(want) - set(got))}; sign-in rows emptied after a 550: {emptied}")

    # A 550 fails that address's messages (and signals each), and only those.
    store = build_store(faulty.config)
    try:
        entries = store.ledger.entries().values()
        failed = [e for e in entries if e.status == FAILED]
        assert failed and {e.recipient for e in failed} == {BOUNCING}
        assert all("550" in e.reason for e in failed)
        assert {e.status for e in entries if e.recipient != BOUNCING} <= {SENT}
        assert not [e for e in entries if e.status == PLANNED]
        signals = [s for s in store.ledger.signals().values() if s.kind == "Bericht niet bezorgd"]
        assert sorted(s.key for s in signals) == sorted(f"niet-bezorgd|{e.key}" for e in failed)
    finally:
        store.close()
    signal_rows = faulty.sheet.records("Signalen")
    assert sum(r["Soort"] == "Bericht niet bezorgd" for r in signal_rows) == len(failed)


def test_refused_invitation_leaves_the_sign_in_list(tmp_path: Path) -> None:
    """An invitation that waited (450) got its sign-in row; refused for good (550), it is emptied."""
    with FaultySmtpServer() as server:
        create_workbook(tmp_path / "book.xlsx",
                        {FORM: form_table([make_response(1), make_response(2)])})
        (tmp_path / "samen.toml").write_text(
            f'[sheets.workbook]\npath = "book.xlsx"\n\n[mail]\nbackend = "smtp"\n\n'
            f'[mail.smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n\n'
            f'[store]\nurl = "sqlite:///{tmp_path / "samen.db"}"\n', encoding="utf-8")
        config = load_config(tmp_path / "samen.toml")
        enrol(config, {1: "kern", 2: "kenniskring"})
        write_meetings(config, [meeting("1", MEETING_DAY)])
        day = MEETING_DAY - timedelta(days=28)
        server.greylist["bewoner1@example.org"] = 1  # the next try answers 450
        first = run(config, run_invitations, day)
        listed = sorted(r["E-mail"] for r in tab(config, "attendance") if r["E-mail"])
        assert (first.messages_sent, first.messages_waiting) == (3, 1)
        assert "bewoner1@example.org" in listed
        server.failing_recipients["bewoner1@example.org"] = 550
        run(config, run_invitations, day)
    rows = tab(config, "attendance")
    assert sorted(r["E-mail"] for r in rows if r["E-mail"]) == [
        a for a in listed if a != "bewoner1@example.org"]
    assert [r for r in rows if not r["E-mail"]] == [dict.fromkeys(rows[0], "")]
    signals = [r for r in tab(config, "signals") if r["Soort"] == "Bericht niet bezorgd"]
    assert [r["Betreft"] for r in signals] == ["bijeenkomst 1"]
