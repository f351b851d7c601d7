"""Benchmark 3: 2,000 messages to a local SMTP server over one session.

samen's path (`send_pending`: a ledger claim and a durable commit per message, over
`SmtpMail`; the commit runs on the ledger's thread during the next message's envelope, and
the next content waits for it) against a bare smtplib loop sending the same prepared bytes to the same server.
The prepare phase (render with jinja2, build with EmailMessage, serialise) is measured apart
from the send phase, per message kind (a receipt; an invitation with its .ics).

Each round uses a fresh ledger (SQLite WAL file; PostgreSQL schema when
SAMEN_TEST_DATABASE_URL is set) and alternates bare and samen sends, so that a busy machine
disturbs both alike; the table gives the median of the rounds. The server runs in this
process (LocalSmtpServer, as the tests use it) and, as a second set-up, in its own process
(as a real server would: its parsing then does not compete for this process's GIL).

    BENCH_SEND_MESSAGES=2000 BENCH_SEND_ROUNDS=3 .venv/bin/python -m bench.sending
"""

from __future__ import annotations

import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as daytime
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    ROOT,
    Phases,
    clock,
    load_average,
    note,
    number,
    postgres_url,
    prepare_env,
    say,
    sqlite_url,
    table,
    warm_imports,
    write_config,
)

AS_OF = date(2022, 11, 1)
NOW = datetime(2022, 11, 1, 9, 0)


def planned_receipts(count: int) -> list[Any]:
    """Return `count` receipts as intake plans them (distinct applications and recipients)."""
    from samen.stages.delivery import PlannedMail

    out = []
    for n in range(1, count + 1):
        app_id = f"SAMEN-2022-{n:05d}"
        application = {"id": app_id, "initiative": f"Buurtinitiatief nummer {n}",
                       "municipality": "Utrecht", "submitted_at": datetime(2022, 9, 1, 9, 0)}
        out.append(PlannedMail("ontvangstbevestiging", app_id, f"bewoner{n}@example.org",
                               f"Bewoner {n}", {"application": application}))
    return out


def planned_invitations(count: int, config: Any) -> list[Any]:
    """Return `count` invitations to one meeting, each with its calendar entry."""
    from samen.domain.meetings import Meeting
    from samen.stages.delivery import PlannedMail
    from samen.stages.invitations import calendar_event, meeting_subject

    day = date(2023, 3, 27)
    meeting = Meeting("1", day, daytime(13), daytime(17), "Bijeenkomst 1", "Stadskantoor",
                      "Stadsplateau 1, Utrecht", "iedereen", "gepland", "", False)
    calendar = calendar_event(meeting, 0, "PUBLISH", config)
    return [PlannedMail("uitnodiging", meeting_subject("1"), f"bewoner{n}@example.org", f"Bewoner {n}",
                        {"meeting": meeting.context()}, calendar=calendar, programme_mail=True)
            for n in range(1, count + 1)]


def prepare_figures(config: Any, planned: list[Any]) -> tuple[list[Any], dict[str, tuple[float, float]]]:
    """Run samen's prepare on the planned mails; return the new messages and (wall, CPU) per step."""
    from samen.rendering import Renderer
    from samen.stages.delivery import prepare

    renderer = Renderer(config.programme.language)
    targets = {"render (jinja2)": "samen.rendering:Renderer.render",
               "build (EmailMessage, .ics)": "samen.stages.delivery:build_email",
               "serialise (as_bytes)": "email.message:Message.as_bytes"}
    with Phases(list(targets.values())) as phases, clock() as total:
        new = prepare(planned, {}, config, renderer, NOW, set())
    steps = {name: (phases.seconds(t), phases.cpu(t)) for name, t in targets.items()}
    steps["prepare (all)"] = (total.wall, total.cpu)
    return [m for m, _row in new], steps


@contextmanager
def smtp_server(in_process: bool) -> Iterator[tuple[int, Any]]:
    """Yield (port, stats) of a LocalSmtpServer here or in a child process.

    stats() returns (messages received so far, the server's CPU seconds so far or None when it
    runs in this process: then its CPU is this process's CPU minus the client thread's).
    """
    if in_process:
        from samen.testing.smtp_server import LocalSmtpServer

        with LocalSmtpServer() as server:
            yield server.port, lambda: (len(server.received), None)
        return
    proc = subprocess.Popen([PYTHON, "-m", "bench.sending", "--server"], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(os.environ))
    assert proc.stdout is not None and proc.stdin is not None
    port = int(proc.stdout.readline())
    try:
        def stats() -> tuple[int, float | None]:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("stats\n")
            proc.stdin.flush()
            count, cpu = proc.stdout.readline().split()
            return int(count), float(cpu)

        yield port, stats
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def serve_forever() -> None:
    """Child mode: run a LocalSmtpServer, print its port, answer 'stats' lines until stdin ends."""
    from samen.testing.smtp_server import LocalSmtpServer

    with LocalSmtpServer() as server:
        print(server.port, flush=True)
        for _line in sys.stdin:
            print(len(server.received), time.process_time(), flush=True)


@dataclass
class Round:
    """One measured send: wall, client-thread CPU and server CPU seconds, plus samen's steps."""

    wall: float
    cpu: float
    server_cpu: float
    steps: dict[str, float] = field(default_factory=dict)


@contextmanager
def measured(stats: Any) -> Iterator[Round]:
    """Measure a block's wall time, this thread's CPU and the server's CPU."""
    result = Round(0.0, 0.0, 0.0)
    _n, server_before = stats()
    process_before = time.process_time()
    with clock() as c:
        yield result
    _n, server_after = stats()
    result.wall, result.cpu = c.wall, c.cpu
    if server_before is None:  # the server is a thread of this process
        result.server_cpu = (time.process_time() - process_before) - c.cpu
    else:
        result.server_cpu = server_after - server_before


def bare_send(port: int, messages: list[tuple[bytes, str, str]]) -> None:
    """Send prepared bytes over one smtplib session."""
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        smtp.ehlo()
        for raw, sender, to in messages:
            smtp.sendmail(sender, [to], raw)
    finally:
        smtp.quit()


def samen_send(config: Any, new: list[Any], stats: Any) -> Round:
    """Record the messages in a fresh ledger, then send them with samen's send_pending."""
    from samen.gateways.factory import build_mail, build_store
    from samen.stages.delivery import DeliveryReport, send_pending

    store = build_store(config)
    try:
        with clock() as record:
            store.ledger.record(new, NOW)
        mail = build_mail(config)
        report = DeliveryReport()
        targets = {"smtp": "samen.gateways.mail.smtp:SmtpMail.send_raw",
                   "load pending": "samen.gateways.store.ledger:Ledger.pending"}
        with Phases(list(targets.values())) as phases, measured(stats) as result:
            send_pending(store, mail, config, AS_OF, NOW, report)
        if report.sent != len(new):
            raise RuntimeError(f"samen sent {report.sent} of {len(new)}: {report.stopped}")
        result.steps = {"record": record.wall, "record cpu": record.cpu}
        for name, target in targets.items():
            result.steps[name] = phases.seconds(target)
            result.steps[name + " cpu"] = phases.cpu(target)
    finally:
        store.close()
    return result


def gateway_only(config: Any, new: list[Any]) -> None:
    """Send the same bytes through SmtpMail alone (no ledger)."""
    from samen.gateways.mail import Envelope
    from samen.gateways.mail.smtp import SmtpMail

    mail = SmtpMail(config.mail.smtp, None)
    mail.open()
    try:
        for m in new:
            mail.send_raw(m.content, Envelope(m.message_id, config.mail.from_address, m.recipient))
    finally:
        mail.close()


def smtp_config(config: Any, store_url: str, port: int) -> Any:
    """Return a Config like `config` with this store and a local SMTP relay on port."""
    from dataclasses import replace

    smtp = replace(config.mail.smtp, host="127.0.0.1", port=port, security="none", username="")
    return replace(config, store_url=store_url, mail=replace(config.mail, backend="smtp", smtp=smtp))


def main() -> None:
    """Measure prepare and send; print the tables."""
    prepare_env()
    warm_imports()
    from samen.config import load_config

    count = int(number("BENCH_SEND_MESSAGES", full=2000, small=500))
    rounds = int(number("BENCH_SEND_ROUNDS", full=3, small=2))
    say(f"## 3. Sending {count:,} messages over one SMTP session\n".replace(",", " "))
    say(f"({load_average()} at start)\n")
    with tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        folder = Path(tmp)
        config = load_config(write_config(folder, backend="workbook", store_url=sqlite_url(folder),
                                          mail="smtp", smtp_port=25))
        receipts = planned_receipts(count)
        invitations = planned_invitations(min(count, 500), config)
        prepare_figures(config, receipts[:20])  # first-use costs (template compile) out of the way
        new, receipt_steps = prepare_figures(config, receipts)
        inv_new, invitation_steps = prepare_figures(config, invitations)
        say("Prepare phase, ms per message (CPU of this thread; wall in brackets). No I/O: "
            "render, build, serialise:\n")
        names = list(receipt_steps)

        def cells(steps: dict[str, tuple[float, float]], n: int) -> list[str]:
            return [f"{steps[k][1] * 1000 / n:.2f} ({steps[k][0] * 1000 / n:.2f})" for k in names]

        say(table(["kind", "messages", *names, "bytes per message"], [
            ["ontvangstbevestiging (text+html)", len(receipts), *cells(receipt_steps, len(receipts)),
             statistics.mean(len(m.content) for m in new)],
            ["uitnodiging (text+html+.ics ×2)", len(invitations),
             *cells(invitation_steps, len(invitations)),
             statistics.mean(len(m.content) for m in inv_new)],
        ]))
        say()
        messages = [(m.content, config.mail.from_address, m.recipient) for m in new]
        stores: list[tuple[str, str]] = [("SQLite (WAL, synchronous=FULL)", "sqlite")]
        if os.environ.get("SAMEN_TEST_DATABASE_URL"):
            stores.append(("PostgreSQL", "pg"))
        rows, model, details = [], [], []
        for in_process in (True, False):
            where = "server in this process" if in_process else "server in its own process"
            with smtp_server(in_process) as (port, stats):
                bare_send(port, messages[:50])  # warm the server and the client
                for label, kind in stores:
                    bare, gateway, samen = [], [], []
                    for r in range(rounds):
                        note(f"{where}, {label}, round {r + 1} ({load_average()})")
                        with measured(stats) as b:
                            bare_send(port, messages)
                        bare.append(b)
                        with measured(stats) as g:
                            gateway_only(smtp_config(config, sqlite_url(folder), port), new)
                        gateway.append(g)
                        if kind == "pg":
                            with postgres_url() as url:
                                assert url is not None
                                samen.append(samen_send(smtp_config(config, url, port), new, stats))
                        else:
                            db = Path(tempfile.mkdtemp(prefix="samen-bench-db-", dir=folder))
                            samen.append(samen_send(smtp_config(config, sqlite_url(db), port), new, stats))

                    def med(items: list[Round], attr: str) -> float:
                        return statistics.median(getattr(i, attr) for i in items)

                    bw, gw, sw = med(bare, "wall"), med(gateway, "wall"), med(samen, "wall")
                    rows.append([where, label, count / bw, count / gw, count / sw, f"{bw / sw:.0%}",
                                 "yes" if bw / sw >= 0.8 else "no"])
                    # With a core each for client and server and no other load, a message takes
                    # about client CPU + server CPU (they alternate): the contention-free estimate.
                    b_est = (med(bare, "cpu") + med(bare, "server_cpu")) / count
                    s_est = (med(samen, "cpu") + med(samen, "server_cpu")) / count
                    model.append([where, label, med(bare, "cpu") * 1000 / count,
                                  med(samen, "cpu") * 1000 / count, med(bare, "server_cpu") * 1000 / count,
                                  1 / b_est, 1 / s_est, f"{b_est / s_est:.0%}"])
                    steps = {k: statistics.median(s.steps[k] for s in samen) for k in samen[0].steps}
                    rest = sw - steps["smtp"] - steps["load pending"]
                    rest_cpu = med(samen, "cpu") - steps["smtp cpu"] - steps["load pending cpu"]
                    details.append([where, label, *[f"{steps[k + ' cpu'] * 1000 / count:.2f} "
                                                    f"({steps[k] * 1000 / count:.2f})"
                                                    for k in ("record", "load pending", "smtp")],
                                    f"{rest_cpu * 1000 / count:.2f} ({rest * 1000 / count:.2f})",
                                    f"{med(samen, 'cpu') * 1000 / count:.2f} ({sw * 1000 / count:.2f})",
                                    f"{med(bare, 'cpu') * 1000 / count:.2f} ({bw * 1000 / count:.2f})"])
                total, _cpu = stats()
                note(f"{where}: server received {total} messages")
        say(f"Send phase (prepared bytes → server), messages per second, measured (wall, median of "
            f"{rounds} rounds; {load_average()} at the end):\n")
        say(table(["set-up", "ledger", "bare smtplib", "SmtpMail alone", "samen send_pending",
                   "samen / bare", "≥ 80%?"], rows))
        say()
        say("Contention-free estimate from CPU time (client thread + server), ms per message and "
            "msgs/s; PostgreSQL's commit wait (fsync in the server process) is not CPU and not in it:\n")
        say(table(["set-up", "ledger", "bare client CPU ms", "samen client CPU ms", "server CPU ms",
                   "bare msgs/s (est.)", "samen msgs/s (est.)", "samen / bare (est.)"], model))
        say()
        say("samen's send phase per message, ms CPU (wall): ledger record (one transaction before "
            "sending), load pending, SMTP exchange (with the wait for the previous message's "
            "commit: the ledger commits on its own thread while the server takes the next "
            "envelope), the loop (the rest):\n")
        say(table(["set-up", "ledger", "record", "load pending", "smtp", "loop (the rest)",
                   "send_pending total", "bare smtplib total"], details))
        say()


if __name__ == "__main__":
    if sys.argv[1:] == ["--server"]:
        serve_forever()
    else:
        main()

