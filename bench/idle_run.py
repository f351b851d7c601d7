"""Benchmark 4: an idle scheduled run (nothing new) of each flow on a demo-sized programme.

The demo programme (44 submissions, 8 meetings, about 2,000 messages in its ledger) is
replayed in a temp folder with the stage functions; then each flow runs again with nothing new:

- the stage function directly (`run_*` with fresh gateways, as a flow builds them): the work
  beyond Prefect, by phase; writes (cells, workbook file) and messages must be 0;
- the flow called under a running temporary Prefect server (`prefect_test_harness`): what a
  flow run adds on a long-running server;
- `samen run <flow>` as a fresh process, against that server and without one (Prefect then
  starts its own temporary server): what a scheduled run costs end to end.

    BENCH_IDLE_REPEAT=3 .venv/bin/python -m bench.idle_run
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import tempfile
import time
from datetime import date
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
    prepare_env,
    say,
    table,
    warm_imports,
)

IDLE_DAY = date(2024, 12, 2)  # after the demo's last step: nothing is due
FLOWS = ("intake", "selection", "invitations", "attendance")
IDLE_PHASES = {
    "store open": "samen.testing.programme:build_store",
    "workbook read": "samen.gateways.sheets.workbook:WorkbookSheets.open_tabs",
    "store loads": "samen.gateways.store.store:Store.load_versions",
    "ledger reads": "samen.gateways.store.ledger:Ledger.entries",
    "validation": "samen.schemas.form:validate_form",
    "meetings check": "samen.stages.invitations:validate_meetings",
    "meetings check (attendance)": "samen.stages.attendance:validate_meetings",
    "messaging": "samen.stages.messaging:deliver",
    "tab blocks": "samen.stages.messaging:tab_blocks",
    "write": "samen.gateways.sheets.workbook:WorkbookSheets.write_blocks",
}


def fingerprint(config: Any) -> dict[str, Any]:
    """Return what an idle run must leave alone: the workbook's bytes, the outbox, the ledger."""
    from samen.gateways.factory import build_store

    path = config.workbook.path
    store = build_store(config)
    try:
        ledger = len(store.ledger.entries())
    finally:
        store.close()
    outbox = config.mail.outbox_path
    return {"workbook": hashlib.sha256(path.read_bytes()).hexdigest(),
            "workbook_mtime": path.stat().st_mtime_ns,
            "outbox": sum(1 for _ in outbox.glob("*.eml")), "ledger": ledger}


def stage_of(name: str) -> Any:
    """Return the stage function of a flow."""
    from samen.stages.attendance import run_attendance
    from samen.stages.intake import run_intake
    from samen.stages.invitations import run_invitations
    from samen.stages.selection import run_selection

    return {"intake": run_intake, "selection": run_selection, "invitations": run_invitations,
            "attendance": run_attendance}[name]


def direct_runs(config: Any, repeat: int) -> list[list[Any]]:
    """Run each stage directly `repeat` times with nothing new; return table rows."""
    from samen.testing.programme import run

    rows = []
    for name in FLOWS:
        walls, cpus, breakdowns = [], [], []
        summary: Any = None
        before = fingerprint(config)
        for _ in range(repeat):
            with Phases(list(IDLE_PHASES.values())) as phases, clock() as c:
                summary = run(config, stage_of(name), IDLE_DAY)
            walls.append(c.wall)
            cpus.append(c.cpu)
            breakdowns.append({k: phases.seconds(t) for k, t in IDLE_PHASES.items()})
        after = fingerprint(config)
        changed = [k for k in before if before[k] != after[k]]
        phase = {k: statistics.median(b[k] for b in breakdowns) for k in IDLE_PHASES}
        top = ", ".join(f"{k} {v * 1000:.0f}" for k, v in sorted(phase.items(), key=lambda kv: -kv[1])
                        if v >= 0.005)
        rows.append([name, statistics.median(walls) * 1000, statistics.median(cpus) * 1000,
                     summary.cells_written, summary.messages_sent,
                     "none" if not changed else ", ".join(changed), top])
    return rows


def report_run(config: Any, repeat: int) -> list[Any] | None:
    """Run the report stage directly (if this tree has it); return a table row or None."""
    try:
        from samen.stages.report import run_report
    except ImportError:
        return None
    from samen.gateways.factory import build_sheets, build_store

    walls = []
    out = Path(tempfile.mkdtemp(prefix="samen-bench-report-")) / "report.html"
    for _ in range(repeat):
        with clock() as c:
            store, sheets = build_store(config), build_sheets(config)
            try:
                run_report(config, sheets=sheets, store=store, as_of=IDLE_DAY, out=out)
            finally:
                sheets.close()
                store.close()
        walls.append(c.wall)
    return ["report", statistics.median(walls) * 1000, float("nan"), "n/a", 0, "n/a (writes report.html)", ""]


def flow_runs(config_path: Path, repeat: int) -> tuple[list[list[Any]], float, str]:
    """Call each flow under a temporary Prefect server; return rows, server start seconds, API URL."""
    from prefect.testing.utilities import prefect_test_harness

    import samen.flows.attendance
    import samen.flows.intake
    import samen.flows.invitations
    import samen.flows.selection

    flows = {"intake": samen.flows.intake.intake, "selection": samen.flows.selection.selection,
             "invitations": samen.flows.invitations.invitations,
             "attendance": samen.flows.attendance.attendance}
    rows: list[list[Any]] = []
    start = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=90):
        started = time.perf_counter() - start
        from prefect.settings import PREFECT_API_URL

        api = str(PREFECT_API_URL.value())
        for name, flow in flows.items():
            times = []
            for _ in range(repeat + 1):
                with clock() as c:
                    result = flow(config_path=str(config_path), as_of=IDLE_DAY.isoformat())
                times.append(c.wall)
            rows.append([name, times[0] * 1000, statistics.median(times[1:]) * 1000,
                         result.get("cells_written"), result.get("messages_sent")])
        processes = process_runs(config_path, api)
    return rows, started, processes


def process_runs(config_path: Path, api: str) -> Any:
    """Time `samen run <flow>` as fresh processes, with PREFECT_API_URL set and without."""
    out = []
    samen = str(Path(PYTHON).parent / "samen")
    for name in FLOWS:
        row: list[Any] = [name]
        for with_server in (True, False):
            env = dict(os.environ, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
            if with_server:
                env["PREFECT_API_URL"] = api
            else:
                env.pop("PREFECT_API_URL", None)
            start = time.perf_counter()
            proc = subprocess.run([samen, "run", name, "--config", str(config_path),
                                   "--as-of", IDLE_DAY.isoformat()], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=300)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(f"samen run {name} failed:\n{proc.stderr[-3000:]}")
            row.append(seconds)
            note(f"samen run {name} ({'server' if with_server else 'no server'}): {seconds:.1f} s")
        out.append(row)
    return out


def import_cost() -> list[list[Any]]:
    """Return the seconds a fresh process spends importing samen's flows (and Prefect)."""
    rows = []
    for label, code in (
        ("python -c pass", "pass"),
        ("import samen.stages.* (no Prefect)",
         "import samen.stages.intake, samen.stages.selection, samen.stages.invitations, "
         "samen.stages.attendance"),
        ("import samen.flows.* (Prefect)",
         "import samen.flows.intake, samen.flows.selection, samen.flows.invitations, "
         "samen.flows.attendance"),
    ):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([PYTHON, "-c", code], cwd=ROOT, check=True, env=dict(os.environ))
            times.append(time.perf_counter() - start)
        rows.append([label, statistics.median(times)])
    return rows


def main() -> None:
    """Replay the demo, then time idle runs; print the tables."""
    prepare_env()
    warm_imports()
    from bench.demo_replay import replayed

    repeat = int(number("BENCH_IDLE_REPEAT", full=3, small=1))
    say("## 4. Idle scheduled run (nothing new) on the demo programme\n")
    reuse = os.environ.get("BENCH_DEMO_DIR")
    if reuse and (Path(reuse) / "samen.toml").exists():
        from samen.config import load_config

        demo_dir = Path(reuse)  # a demo folder replayed before (to iterate quickly)
        config = load_config(demo_dir / "samen.toml")
    else:
        demo_dir = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="samen-bench-demo-")) / "demo"
        note("replaying the demo programme (stage functions, no Prefect)")
        config = replayed(demo_dir).config
    fp = fingerprint(config)
    say(f"Programme: the demo replayed ({fp['ledger']} messages in the ledger, {fp['outbox']} in the "
        f"outbox); idle day {IDLE_DAY}; {load_average()}.\n")
    rows = direct_runs(config, repeat)
    extra = report_run(config, repeat)
    if extra:
        rows.append(extra)
    say(f"Stage function alone (fresh gateways, median of {repeat}):\n")
    say(table(["flow", "wall ms", "CPU ms", "cells written", "messages", "changed files/ledger",
               "largest phases (ms)"], rows))
    say()
    note("starting a temporary Prefect server")
    config_path = demo_dir / "samen.toml"
    frows, started, processes = flow_runs(config_path, repeat)
    say(f"Flow call under a running temporary server (server start: {started:.1f} s):\n")
    say(table(["flow", "first call ms", f"next calls ms (median of {repeat})", "cells written",
               "messages"], frows))
    say()
    say("A fresh `samen run <flow>` process (import, config, flow run, exit):\n")
    say(table(["flow", "with PREFECT_API_URL (running server) s",
               "without (temporary server) s"], processes))
    say()
    say("Import cost of a fresh process:\n")
    say(table(["what", "seconds"], import_cost()))
    say()


if __name__ == "__main__":
    main()
