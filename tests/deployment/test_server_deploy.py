"""On a real `prefect server`: deploy every flow, start a worker, run intake to Completed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from samen.demo.runner import seed_demo
from samen.testing.workbooks import records, tab_rows

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
pytestmark = pytest.mark.slow


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, seconds: float) -> None:
    """Wait until the server answers its health check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"Prefect server at {url} did not become healthy in {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a background process and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def server_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Start `prefect server` on 127.0.0.1 with a temporary PREFECT_HOME; yield the CLI env."""
    port = free_port()
    home = tmp_path / "prefect-home"
    home.mkdir()
    seed_demo(tmp_path / "demo")
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false", "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "SAMEN_CONFIG": str(tmp_path / "demo" / "samen.toml"), "PREFECT_CLI_PROMPT": "false"}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_healthy(env["PREFECT_API_URL"], 120)
        yield env
    finally:
        stop(server)
        log.close()


def cli(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run a prefect CLI command from the project root; return its output (fail on error)."""
    done = subprocess.run([PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_deploy_all_and_run_intake(server_env: dict[str, str], tmp_path: Path) -> None:
    """Every deployment is listed with its schedule; a worker runs intake to Completed."""
    if shutil.which(PREFECT) is None:
        pytest.fail(f"prefect CLI not found at {PREFECT}")
    cli(server_env, "work-pool", "create", "samen", "--type", "process")
    cli(server_env, "--no-prompt", "deploy", "--all")
    listed = json.loads(cli(server_env, "deployment", "ls", "-o", "json"))
    names = {d["name"] for d in listed}
    assert names == {"intake", "selection", "invitations", "attendance", "report"}
    crons = {"intake": "*/15 * * * *", "selection": "0 * * * *", "invitations": "0 9 * * *",
             "attendance": "0 9 * * *", "report": "0 8 * * 1"}
    for name, cron in crons.items():
        schedules = cli(server_env, "deployment", "schedule", "ls", f"{name}/{name}", "-o", "json")
        assert f"cron: {cron}" in schedules, schedules
        detail = cli(server_env, "deployment", "inspect", f"{name}/{name}", "-o", "json")
        assert "Europe/Amsterdam" in detail and cron in detail, detail
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "samen"], env=server_env,
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        out = cli(server_env, "deployment", "run", "intake/intake", "--watch",
                  "--watch-timeout", "240", timeout=300)
        assert "Completed" in out, out
    finally:
        stop(worker)
        log.close()
    review = records(tab_rows(tmp_path / "demo" / "programma-samen.xlsx", "Beoordeling"))
    assert len(review) >= 38
