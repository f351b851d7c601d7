"""The demo's Prefect session: its own temporary server, flow runs on it, stopped afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs in a fresh process: the session changes process-wide Prefect settings while it lasts.
SCRIPT = """
import json, os, sys
from prefect import flow
from prefect.settings import get_current_settings
from samen.demo.session import prefect_session

@flow
def hello(x: int) -> dict:
    s = get_current_settings()
    return {"x": x, "api": s.api.url, "heartbeat": s.flows.heartbeat_frequency}

with prefect_session():
    runs = [hello(1), hello(2)]
    from prefect.client.orchestration import get_client
    with get_client(sync_client=True) as client:
        names = sorted(r.name for r in client.read_flows())
import urllib.request
try:
    urllib.request.urlopen(runs[0]["api"] + "/health", timeout=5)
    alive = True
except OSError:
    alive = False
after = {"api": get_current_settings().api.url, "env": os.environ.get("PREFECT_API_URL"),
         "alive": alive}
print(json.dumps({"runs": runs, "flows": names, "after": after}))
"""


@pytest.mark.slow
def test_demo_session_runs_flows_on_its_own_temporary_server(tmp_path: Path) -> None:
    """Without PREFECT_API_URL the flow runs go to one server the session started, then stopped."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_UI_URL")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    api = result["runs"][0]["api"]
    assert api.startswith("http://127.0.0.1:") and api.endswith("/api")
    assert [r["x"] for r in result["runs"]] == [1, 2] and result["runs"][1]["api"] == api
    assert all(r["heartbeat"] is None for r in result["runs"])  # no heartbeats on a temporary server
    assert result["flows"] == ["hello"]
    assert result["after"] == {"api": None, "env": None, "alive": False}  # stopped and forgotten
    assert "Starting temporary server" not in proc.stderr  # Prefect did not start a second one
    assert "View at" not in proc.stderr  # the server serves no UI
