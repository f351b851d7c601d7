"""Benchmark 5: the whole `samen demo`, with a breakdown of where its time goes.

Three processes, each with a fresh PREFECT_HOME and no PREFECT_API_URL (so Prefect's temporary
server starts, as in `make demo` the first time):

1. `.venv/bin/samen demo --dir A` (the installed command, nothing added): the headline figure;
2. the same again on A: nothing new, nothing may change but the store (checked here);
3. the same demo on a fresh folder B in a child process that runs `samen.cli.main` with timers
   on the functions that matter (Spans, below): Prefect's start, every flow run (and the stage
   function inside it), and the I/O: workbook parse/read/save, store, ledger, outbox, rendering,
   and the people's edits between the flow runs. Targets missing from the tree are skipped, so
   the same file also measures an older tree (PYTHONPATH=<old tree>) for a before/after.

    .venv/bin/python -m bench.demo           # BENCH_DEMO_AGAIN=0 skips run 2
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT, load_average, note, prepare_env, say, table

FLOWS = ("intake", "selection", "invitations", "attendance", "report")
STAGES = {"intake": "run_intake", "selection": "run_selection", "invitations": "run_invitations",
          "attendance": "run_attendance", "report": "run_report"}
PEOPLE = ("seed_demo", "apply_delfshaven_edit", "fill_decisions", "add_approvals", "seed_meetings", "act")
# What the instrumented child times: label -> targets ("module:attribute" or "module:Class.method").
SPAWN = "samen.demo.session:start_temporary_server"
PREFECT_START = {
    # The demo spawns the server before its imports and waits for it after them; or Prefect
    # starts it inside the first flow run (and this process waits for all of its boot).
    "temporary server: waited for": ("samen.demo.session:TemporaryServer.wait_until_healthy",
                                     "prefect.server.api.server:SubprocessASGIServer.start"),
}
IO = {
    "workbook: parse .xlsx (openpyxl load)": ("openpyxl:load_workbook",),
    "workbook: read (lock, bytes, parse or kept book, tabs as text)":
        ("samen.gateways.sheets.workbook:WorkbookSheets.open_tabs",),
    "workbook: save (openpyxl, fsync, rename)": ("samen.gateways.sheets.workbook:save_atomically",),
    "store: open (engine, migration check)": ("samen.gateways.store.store:Store.__init__",
                                               "samen.gateways.store.store:Store.migrate"),
    "store: ledger reads (entries)": ("samen.gateways.store.ledger:Ledger.entries",),
    "store: ledger record (new messages)": ("samen.gateways.store.ledger:Ledger.record",),
    "messages: render + build + bytes (delivery.prepare)": ("samen.stages.delivery:prepare",),
    "  of which render (jinja2)": ("samen.rendering:Renderer.render",),
    "  of which build (EmailMessage, .ics)": ("samen.stages.delivery:build_email",),
    "send: claim + outbox file + commit per message": ("samen.stages.delivery:send_pending",),
    "  of which outbox files (write, fsync)": ("samen.gateways.mail.outbox:OutboxMail.send_raw",),
    "validation (pandera)": ("samen.schemas.form:validate_form",
                             "samen.stages.invitations:validate_meetings",
                             "samen.stages.attendance:validate_meetings"),
}


def resolvable(targets: list[str]) -> list[str]:
    """Return the targets that exist in this tree (others rename things while we measure)."""
    import importlib

    found = []
    for target in targets:
        module_name, _, path = target.partition(":")
        try:
            owner: Any = importlib.import_module(module_name)
            for part in path.split("."):
                owner = getattr(owner, part)
        except (ImportError, AttributeError):
            continue
        found.append(target)
    return found


class Spans:
    """Record the (start, end) of every call of some functions, patched where they are looked up."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float]]] = {}
        self.undo: list[tuple[Any, str, Any]] = []

    def add(self, targets: list[str]) -> None:
        """Start recording the calls of these targets."""
        for target in targets:
            self.spans[target] = []
            module_name, _, path = target.partition(":")
            owner: Any = __import__(module_name, fromlist=["_"])
            *parents, name = path.split(".")
            for part in parents:
                owner = getattr(owner, part)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            setattr(owner, name, self.wrap(original, self.spans[target]))
            self.undo.append((owner, name, original))

    @staticmethod
    def wrap(function: Any, spans: list[tuple[float, float]]) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spans.append((start, time.perf_counter()))

        return wrapper

    def restore(self) -> None:
        """Put the original functions back."""
        for owner, name, original in reversed(self.undo):
            setattr(owner, name, original)


def child(folder: str, out: str) -> None:
    """Run `samen demo --dir folder` in this process with timers; write the figures to out."""
    started = time.perf_counter()
    from samen.runtime import prepare_prefect_env

    prepare_prefect_env()
    import samen.cli

    groups: dict[str, tuple[str, ...]] = {**PREFECT_START, **IO, "spawn": (SPAWN,)}
    groups.update({f"flow {f}": (f"samen.flows.{f}:{f}",) for f in FLOWS})
    groups.update({f"stage {f}": (f"samen.flows.{f}:{s}",) for f, s in STAGES.items()})
    groups.update({f"people {p}": (f"samen.demo.runner:{p}",) for p in PEOPLE})
    groups["demo"] = ("samen.demo.runner:run_demo",)
    wanted = sorted({t for ts in groups.values() for t in ts})
    spans = Spans()
    if resolvable([SPAWN]):
        # Patch the heavy modules only once the demo has spawned Prefect's server, as the demo
        # imports them only then (so that the boot overlaps the imports).
        light = [t for t in wanted if t.startswith("samen.demo.")]
        heavy = [t for t in wanted if t not in light and not t.startswith("prefect.server")]
        spans.add(resolvable(light))
        import samen.demo.session as session

        spawn = session.start_temporary_server

        def spawn_then_patch() -> Any:
            server = spawn()
            spans.add(resolvable(heavy))
            return server

        session.start_temporary_server = spawn_then_patch  # type: ignore[assignment]
    else:
        spans.add(resolvable(wanted))
    imported = time.perf_counter() - started
    sys.argv = ["samen", "demo", "--dir", folder]
    code = 0
    try:
        samen.cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        spans.restore()
    found = {label: sorted(s for t in ts if t in spans.spans for s in spans.spans[t])
             for label, ts in groups.items()}
    # Prefect starts its temporary server inside the first flow run unless it was started before.
    start = found[next(iter(PREFECT_START))]
    flow_spans = [s for label, ss in found.items() if label.startswith("flow ") for s in ss]
    inside = sum(max(0.0, min(e, fe) - max(b, fb)) for b, e in start for fb, fe in flow_spans)
    figures = {label: {"seconds": sum(e - b for b, e in ss), "calls": len(ss)}
               for label, ss in found.items()}
    spawned = found["spawn"]
    boot = start[0][1] - spawned[0][0] if spawned and start else sum(e - b for b, e in start)
    # Between spawning the server and waiting for it the demo imports and warms up.
    overlap = start[0][0] - spawned[0][1] if spawned and start else 0.0
    demo_end = found["demo"][-1][1] if found["demo"] else 0.0
    tail = demo_end - max((e for _b, e in flow_spans), default=demo_end)
    Path(out).write_text(json.dumps({"code": code, "imports_before_main": imported, "boot": boot,
                                     "overlap": overlap, "tail": tail,
                                     "start_inside_flows": inside, "figures": figures}),
                         encoding="utf-8")


def run_process(args: list[str]) -> tuple[float, float, str]:
    """Run a command with a fresh PREFECT_HOME; return wall seconds, CPU seconds, and its stderr."""
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PREFECT_HOME=tempfile.mkdtemp(prefix="samen-bench-demo-prefect-"),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    env.pop("PREFECT_API_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, env=env, text=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return wall, cpu, proc.stdout


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file of the demo folder but the store's, with the outbox, by name."""
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith("samen.db")]
    files += list((folder / "outbox").glob("*.eml"))
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


def main() -> None:
    """Run the demo three times (plain, again, timed); print the figures."""
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    prepare_env()
    samen = str(Path(PYTHON).parent / "samen")
    say("## 5. The whole `samen demo`\n")
    say(f"({load_average()} at start)\n")
    with tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        plain = Path(tmp) / "demo"
        note("running samen demo on a new folder")
        total, cpu, out = run_process([samen, "demo", "--dir", str(plain)])
        messages = sum(int(m) for m in re.findall(r"messages_sent=(\d+)", out))
        again = again_cpu = float("nan")
        unchanged = "not run"
        if os.environ.get("BENCH_DEMO_AGAIN", "1") != "0":
            note("running samen demo again on the same folder (nothing new)")
            before = snapshot(plain)
            again, again_cpu, _out = run_process([samen, "demo", "--dir", str(plain)])
            unchanged = "yes" if snapshot(plain) == before else "NO: files changed"
        note("running the demo on a new folder with timers (a child process)")
        figures_file = Path(tmp) / "figures.json"
        timed_total, timed_cpu, _out = run_process(
            [PYTHON, "-m", "bench.demo", "--child", str(Path(tmp) / "timed"), str(figures_file)])
        result = json.loads(figures_file.read_text(encoding="utf-8"))
    say(f"`samen demo` on a new folder: **{total:.1f} s** ({cpu:.1f} s CPU incl. Prefect's server "
        f"process; {messages} messages); again on the same folder (nothing new): **{again:.1f} s** "
        f"({again_cpu:.1f} s CPU), files unchanged: {unchanged}. With timers: {timed_total:.1f} s "
        f"({timed_cpu:.1f} s CPU); {load_average()} at the end.\n")
    say(report(result, timed_total))


def report(result: dict[str, Any], total: float) -> str:
    """Return the breakdown tables of the timed run."""
    f = result["figures"]

    def sec(label: str) -> float:
        return float(f.get(label, {}).get("seconds", 0.0))

    def calls(label: str) -> int:
        return int(f.get(label, {}).get("calls", 0))

    inside = float(result.get("start_inside_flows", 0.0))
    flows = sum(sec(f"flow {name}") for name in FLOWS) - inside
    people = sum(sec(f"people {p}") for p in PEOPLE)
    start = sum(sec(label) for label in PREFECT_START)
    demo = sec("demo")
    overlap, tail = float(result.get("overlap", 0.0)), float(result.get("tail", 0.0))
    lines = ["Where the timed run's wall time goes:\n", table(["part", "seconds", "calls"], [
        ["process start: Python, imports of samen and Prefect (before the demo begins)",
         total - demo, ""],
        ["imports and template warm-up while Prefect's server boots", overlap, ""],
        ["Prefect's temporary server: waited for (its boot took "
         f"{float(result.get('boot', float('nan'))):.1f} s)", start, ""],
        ["flow runs (Prefect's call incl. the stage; without the server's start)", flows,
         sum(calls(f"flow {n}") for n in FLOWS)],
        ["people's edits and seeding between the runs", people,
         sum(calls(f"people {p}") for p in PEOPLE)],
        ["after the last flow run (send Prefect's last logs, stop the server)", tail, ""],
        ["rest (printing, config)", demo - flows - people - start - overlap - tail, ""],
        ["total (wall, measured from outside)", total, ""],
    ]), "", "Per flow (seconds summed over its runs):\n"]
    rows = []
    for i, name in enumerate(FLOWS):
        runs, whole, stage = calls(f"flow {name}"), sec(f"flow {name}"), sec(f"stage {name}")
        whole -= inside if i == 0 else 0.0  # the first flow (intake) waited for the server
        rows.append([name, runs, whole, stage, whole - stage,
                     (whole - stage) / runs if runs else float("nan")])
    lines += [table(["flow", "runs", "total s", "stage function s", "Prefect + gateways s",
                     "per run s"], rows), "", "I/O and the heavier work inside (all runs and "
              "people's edits together; nested rows are part of the row above them):\n"]
    lines.append(table(["what", "seconds", "calls"], [[label, sec(label), calls(label)] for label in IO]))
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
