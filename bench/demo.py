"""Benchmark 5: the whole `samen demo`, with a breakdown of where its time goes.

Runs `.venv/bin/samen demo --dir <tmp>` as a subprocess (fresh PREFECT_HOME, no
PREFECT_API_URL: Prefect starts its temporary server) and timestamps every line it prints:
the demo's own lines (stdout) and Prefect's "Beginning flow run" / "Finished" lines (stderr).
That gives Prefect's start and each flow run's duration. The same programme is then replayed in
this process with the stage functions (bench.demo_replay), which splits each flow's work into
workbook I/O, validation, rendering, sending and the ledger.

    .venv/bin/python -m bench.demo
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT, load_average, note, prepare_env, say, table, warm_imports

BEGIN = re.compile(r"Beginning flow run '([^']+)' for flow '([^']+)'")
FINISHED = re.compile(r"Finished in state (\w+)")


def run_demo_process(folder: Path) -> tuple[float, list[tuple[float, str, str]], int]:
    """Run `samen demo`; return total seconds, (seconds since start, stream, line) and exit code."""
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PREFECT_HOME=tempfile.mkdtemp(prefix="samen-bench-demo-prefect-"),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    env.pop("PREFECT_API_URL", None)
    samen = str(Path(PYTHON).parent / "samen")
    lines: list[tuple[float, str, str]] = []
    lock = threading.Lock()
    start = time.perf_counter()
    proc = subprocess.Popen([samen, "demo", "--dir", str(folder)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def read(stream: Any, name: str) -> None:
        for line in stream:
            with lock:
                lines.append((time.perf_counter() - start, name, line.rstrip("\n")))

    threads = [threading.Thread(target=read, args=(proc.stdout, "out")),
               threading.Thread(target=read, args=(proc.stderr, "err"))]
    for t in threads:
        t.start()
    code = proc.wait()
    total = time.perf_counter() - start
    for t in threads:
        t.join()
    lines.sort()
    return total, lines, code


def analyse(total: float, lines: list[tuple[float, str, str]]) -> dict[str, Any]:
    """Return Prefect's start, each flow run's span, and the time between flow runs."""
    first_out = next((t for t, s, _l in lines if s == "out"), 0.0)
    runs: list[tuple[str, float, float]] = []
    current: tuple[str, float] | None = None
    for t, stream, line in lines:
        if stream != "err":
            continue
        begun = BEGIN.search(line)
        if begun:
            current = (begun.group(2), t)
            continue
        finished = FINISHED.search(line)
        if finished and current is not None:
            runs.append((current[0], current[1], t))
            current = None
    first_begin = runs[0][1] if runs else float("nan")
    last_end = runs[-1][2] if runs else float("nan")
    inside = sum(end - begin for _f, begin, end in runs)
    between = (last_end - first_begin) - inside if runs else float("nan")
    return {"first_out": first_out, "first_begin": first_begin, "last_end": last_end,
            "runs": runs, "inside": inside, "between": between, "after": total - last_end}


def main() -> None:
    """Run the demo as a process, then replay it here; print the tables."""
    prepare_env()
    say("## 5. The whole `samen demo`\n")
    say(f"({load_average()} at start)\n")
    with tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        note("running samen demo (a subprocess; about 2-3 minutes)")
        total, lines, code = run_demo_process(Path(tmp) / "demo")
        if code != 0:
            raise RuntimeError("samen demo failed:\n" + "\n".join(text for _t, _s, text in lines[-40:]))
        again_total = float("nan")
        if os.environ.get("BENCH_DEMO_AGAIN", "1") != "0":
            note("running samen demo again on the same folder (nothing new)")
            again_total, _again_lines, _code = run_demo_process(Path(tmp) / "demo")
    a = analyse(total, lines)
    per_flow: dict[str, list[float]] = defaultdict(list)
    for flow, begin, end in a["runs"]:
        per_flow[flow].append(end - begin)
    messages = sum(int(m) for _t, s, line in lines if s == "out"
                   for m in re.findall(r"messages_sent=(\d+)", line))
    say(f"`samen demo` on a new folder: **{total:.1f} s** in all ({len(a['runs'])} flow runs, "
        f"{messages} messages); a second `samen demo` on the same folder (nothing new): "
        f"**{again_total:.1f} s**.\n")
    say(table(["part of the process", "seconds", "how measured"], [
        ["start: imports, config, seeding, until the first flow run begins (incl. Prefect's "
         "temporary server)", a["first_begin"], "first 'Beginning flow run' line"],
        ["  of which before the demo's first line (imports, seed workbook)", a["first_out"],
         "first stdout line"],
        ["inside flow runs (Beginning → Finished)", a["inside"], "sum over flow runs"],
        ["between flow runs (human steps on the workbook, flow-run set-up, printing)", a["between"],
         "rest between first Beginning and last Finished"],
        ["after the last flow run (stopping the server, exit)", a["after"], "last Finished → exit"],
    ]))
    say()
    note("replaying the demo in this process with the stage functions (no Prefect)")
    warm_imports()
    from bench.demo_replay import BREAKDOWN, replayed

    replay = replayed(Path(tempfile.mkdtemp(prefix="samen-bench-demo-")) / "demo")
    direct: dict[str, list[float]] = defaultdict(list)
    cats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    msgs: dict[str, int] = defaultdict(int)
    human = 0.0
    for step in replay.steps:
        if step.flow:
            direct[step.flow].append(step.wall)
            msgs[step.flow] += step.messages
            for k, v in step.breakdown.items():
                cats[step.flow][k] += v
        else:
            human += step.wall
    rows = []
    for flow in ("intake", "selection", "invitations", "attendance"):
        spans = per_flow.get(flow, [])
        d = direct.get(flow, [])
        rows.append([flow, len(spans), sum(spans), sum(d), sum(spans) - sum(d),
                     (sum(spans) - sum(d)) / len(spans) if spans else float("nan"), msgs[flow]])
    say("Per flow: time inside the demo's flow runs vs the same stage functions called directly "
        "(the difference is Prefect's per-run work: flow-run records, logs, artifacts):\n")
    say(table(["flow", "runs", "in flow runs s", "stage functions s", "Prefect overhead s",
               "overhead per run s", "messages"], rows))
    say()
    names = list(BREAKDOWN)
    brows = []
    for flow in ("intake", "selection", "invitations", "attendance"):
        total_flow = sum(direct.get(flow, []))
        accounted = sum(cats[flow][n] for n in names if n != "human edits (openpyxl load+save)")
        brows.append([flow, total_flow, *[cats[flow][n] for n in names
                                          if n != "human edits (openpyxl load+save)"],
                      total_flow - accounted])
    say("Stage functions by phase (seconds, summed over the demo's runs; 'rest' = planning, "
        "reconciling tabs and everything not listed):\n")
    say(table(["flow", "total", *[n for n in names if n != "human edits (openpyxl load+save)"], "rest"],
              brows))
    say()
    say(f"Human steps of the demo (workbook edits by the demo helpers, openpyxl load+save each): "
        f"{human:.1f} s over {sum(1 for s in replay.steps if not s.flow)} steps.\n")


if __name__ == "__main__":
    main()
