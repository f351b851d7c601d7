"""No personal data and no secret in the logs or the Prefect records of a demo programme.

A reduced demo (the parts of `samen demo`: intake twice with the Delfshaven edit, selection and
approval, the first meeting from invitation and reminder to attendance and follow-ups) runs as
real Prefect flow runs while the root, samen, prefect and sqlalchemy loggers stand at DEBUG.
Every record any logger emits is captured (also those of loggers that do not propagate), and
what the Prefect server kept of the runs is read back: their logs, artifacts, parameters and
states. The whole demo takes three to four minutes at DEBUG; these steps run every flow once or
more, with most message kinds, in about a minute and a half.

The secrets are real ones: the messages go over SMTP with TLS to a local server that wants a
login, with the password from SAMEN_SMTP_PASSWORD; a service-account JSON with a unique key sits
in SAMEN_GOOGLE_SERVICE_ACCOUNT_JSON (the demo's workbook backend never needs it).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from samen.config import load_config
from samen.demo import runner
from samen.demo.programme import calendar
from samen.demo.seed import SEED_RESPONSES
from samen.testing.smtp_server import LocalSmtpServer

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Dutch mobile numbers as people type them (06-12345678, 06 21 43 65 87) or as stored
# (+31612345678, +31 6 1234 5678, 0031 6...). A hyphen before it (a UUID) is not a phone.
PHONE = re.compile(r"(?<![\w+\-])(?:\+31|0031|0)[\s\-]*6(?:[\s\-]*\d){8}(?!\d)")
WATCHED = ("", "samen", "prefect", "sqlalchemy")
# The local SMTP server of the test (aiosmtpd) logs what it receives: a mail server's own logs,
# not samen's process.
SERVER_LOGGERS = ("mail.log", "mail.debug")


@dataclass(frozen=True)
class Finding:
    """One place a forbidden text appeared."""

    where: str
    what: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} in {self.text[:300]!r}"


class Capture(logging.Handler):
    """Keep every record handed to it, formatted with its arguments and any traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name in SERVER_LOGGERS:
            return
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not fit its message
            text = f"{record.msg!r} % {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if extra:
            text += f"\n{extra!r}"
        self.records.append((record.name, text))


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    """Put the watched loggers at DEBUG and capture every record of every logger."""
    # Import what sets logger levels on import first, so that DEBUG holds during the runs (as
    # when an operator configures logging after start-up).
    import samen.flows.attendance
    import samen.flows.intake
    import samen.flows.invitations
    import samen.flows.selection
    import samen.gateways.store  # noqa: F401

    capture = Capture()
    manager = logging.Logger.manager
    # The root handler sees whatever propagates; loggers that do not propagate (Prefect's
    # prefect.extra, prefect._internal, uvicorn ...) get the handler themselves.
    loggers = [logging.getLogger(name) for name in WATCHED]
    loggers += [logging.getLogger(n) for n, lg in list(manager.loggerDict.items())
                if isinstance(lg, logging.Logger) and not lg.propagate]
    before = {lg.name: lg.level for lg in loggers}
    for lg in loggers:
        if lg.name == "root" or not lg.propagate:
            lg.addHandler(capture)
    for name in WATCHED:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        for lg in loggers:
            lg.removeHandler(capture)
            lg.setLevel(before[lg.name])


SMTP_USER = "samen-robot"


def smtp_config(port: int) -> str:
    """Return the demo's samen.toml, sending over SMTP with TLS and a login."""
    assert '[mail]\nbackend = "outbox"' in runner.DEMO_CONFIG
    return runner.DEMO_CONFIG.replace('[mail]\nbackend = "outbox"', (
        '[mail]\nbackend = "smtp"\n\n[mail.smtp]\nhost = "127.0.0.1"\n'
        f'port = {port}\nsecurity = "ssl"\nusername = "{SMTP_USER}"\n'
        'password_env = "SAMEN_SMTP_PASSWORD"'))


def run_programme(folder: Path, echo: runner.Echo) -> None:
    """Run the demo's steps up to the attendance and follow-ups of meeting 1."""
    from samen.flows.attendance import attendance
    from samen.flows.intake import intake
    from samen.flows.invitations import invitations
    from samen.flows.selection import selection

    folder = folder.resolve()
    runner.seed_demo(folder)
    config = str(folder / runner.CONFIG)
    echo(runner.brief(intake(config_path=config, as_of="2022-10-31")))
    assert runner.apply_delfshaven_edit(folder)
    echo(runner.brief(intake(config_path=config, as_of="2022-11-01")))
    assert runner.fill_decisions(folder)
    echo(runner.brief(selection(config_path=config, as_of="2022-11-25")))
    assert runner.add_approvals(folder)
    echo(runner.brief(selection(config_path=config, as_of="2022-11-28")))
    assert runner.seed_meetings(folder)
    p = load_config(config).programme
    for step in calendar(p.invite_days_before, p.reminder_days_before):
        if step.action in ("excuse", "attend"):
            runner.act(folder, step)
        day = step.day.isoformat()
        if step.action == "invite":
            echo(f"{day} invite: {runner.brief(invitations(config_path=config, as_of=day))}")
        elif step.action == "attend":
            echo(f"{day} attend: {runner.brief(attendance(config_path=config, as_of=day))}")
            return


def forbidden(secrets: list[str]) -> list[tuple[str, re.Pattern[str]]]:
    """Return (label, pattern) of everything that must never show: data of the demo, secrets."""
    known: set[str] = set()
    for r in SEED_RESPONSES:
        for header, value in r.items():
            if ("E-mailadres" in header or "Telefoonnummer" in header) and value.strip():
                known.add(value.strip())
    out = [("e-mailadres", EMAIL), ("telefoonnummer", PHONE)]
    out += [(f"gegeven {k!r}", re.compile(re.escape(k), re.IGNORECASE)) for k in sorted(known)]
    out += [("geheim", re.compile(re.escape(s))) for s in secrets]
    return out


def scan(where: str, text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> list[Finding]:
    """Return every forbidden text in one place."""
    return [Finding(where, f"{label}: {m.group(0)!r}", text)
            for label, pattern in patterns for m in pattern.finditer(text)]


def prefect_records(since: datetime) -> list[tuple[str, str]]:
    """Return (where, text) of what the Prefect server kept of the flow runs started since."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterStartTime,
        LogFilter,
        LogFilterFlowRunId,
    )

    out: list[tuple[str, str]] = []
    with get_client(sync_client=True) as client:
        runs = []
        while True:
            page = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
                limit=200, offset=len(runs))
            runs += page
            if len(page) < 200:
                break
        ids = [r.id for r in runs]
        assert ids, "the demo left no flow runs on the Prefect server"
        for r in runs:
            state = r.state
            out.append((f"flow run {r.name} ({r.flow_id})", json.dumps({
                "parameters": r.parameters, "name": r.name, "tags": r.tags,
                "state": state.name if state else "", "message": state.message if state else "",
                "job_variables": r.job_variables, "context": r.context,
            }, default=str)))
        logs: list[Any] = []
        while True:
            page = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)),
                                    limit=200, offset=len(logs))
            logs += page
            if len(page) < 200:
                break
        assert logs, "the Prefect server kept no logs of the runs"
        out += [(f"Prefect log {log.name}", log.message) for log in logs]
        artifacts: list[Any] = []
        while True:
            page = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)),
                limit=200, offset=len(artifacts))
            artifacts += page
            if len(page) < 200:
                break
        assert artifacts, "the demo published no artifacts"
        out += [(f"artifact {a.key} ({a.type})",
                 json.dumps({"data": a.data, "description": a.description}, default=str))
                for a in artifacts]
    return out


def test_flows_leak_no_personal_data_or_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug_logs: Capture
) -> None:
    """A demo programme at DEBUG: no e-mail address, phone or secret in logs or Prefect."""
    password = f"smtp-wachtwoord-{uuid.uuid4().hex}"
    key_marker = f"sleutel-{uuid.uuid4().hex}"
    pem = "PRIVATE KEY"  # a fake key: built in pieces so secret scanners do not flag the test
    account = json.dumps({
        "type": "service_account", "project_id": "samen-test", "private_key_id": key_marker,
        "private_key": f"-----BEGIN {pem}-----\n{key_marker}\n-----END {pem}-----\n",
        "client_email": "samen@samen-test.iam.gserviceaccount.invalid"})
    monkeypatch.setenv("SAMEN_SMTP_PASSWORD", password)
    monkeypatch.setenv("SAMEN_GOOGLE_SERVICE_ACCOUNT_JSON", account)
    since = datetime.now(UTC)
    lines: list[str] = []
    folder = tmp_path / "demo"
    folder.mkdir()
    with LocalSmtpServer(tls="ssl", users={SMTP_USER: password}) as server:
        assert server.ca is not None
        (tmp_path / "ca.pem").write_text(server.ca.ca_pem, encoding="ascii")
        # ssl.create_default_context() (what samen uses) trusts the local server through this.
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        (folder / runner.CONFIG).write_text(smtp_config(server.port), encoding="utf-8")
        run_programme(folder, echo=lines.append)
    assert server.logins and not server.failed_logins and len(server.received) > 100
    assert any("reminders=" in line for line in lines), lines
    assert any("attend: meetings_processed=['1']" in line for line in lines), lines
    assert all(logging.getLogger(n).getEffectiveLevel() == logging.DEBUG for n in WATCHED)
    assert any(name.startswith("sqlalchemy") for name, _t in debug_logs.records), (
        "SQLAlchemy logged nothing at DEBUG: the test would not see its leaks")
    assert any(name == "prefect.flow_runs" for name, _t in debug_logs.records)
    assert any(name.startswith("samen.") for name, _t in debug_logs.records)
    patterns = forbidden([password, key_marker, account])
    findings: list[Finding] = []
    for name, text in debug_logs.records:
        findings += scan(f"log {name}", text, patterns)
    for where, text in prefect_records(since):
        findings += scan(where, text, patterns)
    for line in lines:
        findings += scan("demo output", line, patterns)
    shown = "\n".join(str(f) for f in findings[:25])
    assert not findings, f"{len(findings)} leaks, the first ones:\n{shown}"
