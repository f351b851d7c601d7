"""The Prefect side of `samen demo`: one server for all of the demo's flow runs, started early.

Without PREFECT_API_URL Prefect starts its temporary server inside the first flow run: the
process first imports Prefect's whole server package (FastAPI, the database layer) only to spawn
it, then waits idle while the server boots and migrates its database. The demo spawns that same
server (the command Prefect uses: uvicorn with `prefect.server.api.server:create_app`, ephemeral,
no UI) before it imports the flows, so the boot runs while this process imports Prefect, pandas
and pandera, then points Prefect at it (PREFECT_API_URL in this process's environment) until the
demo ends and stops it. If the server does not come up, Prefect starts its own as usual. With
PREFECT_API_URL set (or a profile's), the demo's flow runs go there, as every flow run does.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# What the first flow runs would import anyway: imported while the server boots instead. The
# last ones are what Prefect's first flow run and pandera's first validation import lazily.
WARM_MODULES = ("samen.flows.intake", "samen.flows.selection", "samen.flows.invitations",
                "samen.flows.attendance", "samen.flows.report", "samen.gateways.sheets.workbook",
                "prefect.artifacts", "prefect.flow_engine", "prefect.utilities.visualization",
                "fastapi.encoders", "pandera.backends.pandas.register",
                "pandera.strategies.pandas_strategies")


@dataclass
class TemporaryServer:
    """A Prefect API server process on 127.0.0.1 that lives as long as the demo."""

    process: subprocess.Popen[bytes]
    port: int
    replaced: dict[str, str | None] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        """Return the server's API address."""
        return f"http://127.0.0.1:{self.port}/api"

    def wait_until_healthy(self, timeout: float) -> bool:
        """Wait until the server answers /health; False if it exited or timeout passed first."""
        deadline = time.monotonic() + timeout
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError), direct.open(f"{self.api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return True
            time.sleep(0.1)
        return False

    def point_here(self, settings: dict[str, str]) -> None:
        """Set Prefect settings in the environment (those not set already); remember the old."""
        for name, value in settings.items():
            if name == "PREFECT_API_URL" or name not in os.environ:
                self.replaced[name] = os.environ.get(name)
                os.environ[name] = value

    def restore_environment(self) -> bool:
        """Undo point_here; True if anything changed."""
        for name, old in self.replaced.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        changed, self.replaced = bool(self.replaced), {}
        return changed

    def stop(self) -> None:
        """Stop the server (as Prefect stops its temporary server)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_temporary_server() -> TemporaryServer | None:
    """Spawn Prefect's temporary server now, unless a Prefect API is configured; None if not."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if "prefect.settings" in sys.modules and not _wants_temporary_server():
        return None  # already imported (tests, a harness): ask the settings, not the environment
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    app_dir = str(Path(next(iter(spec.submodule_search_locations))).parent)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1"}
    # The demo uses no blocks; registering Prefect's block types on a new database costs the
    # server's start about 2 s of CPU (a later server on the same PREFECT_HOME still does it).
    env.setdefault("PREFECT_API_BLOCKS_REGISTER_ON_START", "false")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"], env=env)
    return TemporaryServer(process, port)


def warm_templates(language: str = "nl") -> None:
    """Compile the message templates (of the default language) while the server boots."""
    from samen.rendering import PARTS, template_environment

    env, kinds = template_environment(language)
    for kind in kinds:
        for part in PARTS:
            env.get_template(f"email/{language}/{kind}.{part}.j2")


def _wants_temporary_server() -> bool:
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    return not settings.api.url and settings.server.ephemeral.enabled


@contextmanager
def prefect_session() -> Iterator[None]:
    """Run the demo's flows on the configured Prefect server, or on one temporary server, lean.

    On the temporary server flow runs send no heartbeats: the server lives only as long as this
    process, so nobody is there to be told about a crashed run, and Prefect 3.9 waits up to a
    second at the end of every flow run for its heartbeat thread. With a real server they stay
    on. The demo's flow runs and people's edits share one process, so the workbook is parsed once
    and then taken from memory while its bytes are unchanged (see keep_books).
    """
    server = start_temporary_server()
    try:
        for module in WARM_MODULES:
            with contextlib.suppress(ImportError):  # only a head start: the runs import it anyway
                importlib.import_module(module)
        if server is not None:
            warm_templates()
        from prefect.context import refresh_global_settings_context
        from prefect.settings import get_current_settings, temporary_settings

        from samen.gateways.sheets.workbook import keep_books

        if server is not None:
            settings = get_current_settings()
            wanted = _wants_temporary_server()
            if not (wanted and server.wait_until_healthy(settings.server.ephemeral.startup_timeout_seconds)):
                server.stop()  # configured elsewhere (a profile), or it failed: Prefect decides
                server = None
        if server is not None:
            # For every thread of this process (log and event workers too). No UI is served, so
            # no "View at" links (as with Prefect's own temporary server). The API is plain HTTP
            # on 127.0.0.1: no TLS, so no CA bundle to parse for every client Prefect makes.
            server.point_here({"PREFECT_API_URL": server.api_url, "PREFECT_UI_URL": "",
                               "PREFECT_API_TLS_INSECURE_SKIP_VERIFY": "true"})
            refresh_global_settings_context()
        with keep_books():
            if server is None and get_current_settings().api.url:
                yield
                return
            with temporary_settings(updates={"flows.heartbeat_frequency": None}):
                yield
    finally:
        if server is not None:
            stop_after_logs(server)


def stop_after_logs(server: TemporaryServer) -> None:
    """Send Prefect's queued logs and events to the server, then stop it and forget its address."""
    from prefect.context import refresh_global_settings_context
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    try:
        APILogWorker.drain_all(timeout=5)
        EventsWorker.drain_all(timeout=5)
    finally:
        server.stop()
        if server.restore_environment():
            refresh_global_settings_context()
