"""Benchmark 1: Sheets API calls per run of each stage, counted by the Sheets double.

Google backend through gspread against `SheetsDouble`, SQLite store and outbox mail in a temp
folder. Per size: intake; selection with decisions filled for all (7 kern, the rest
kenniskring), then two approvals; invitations with one meeting in its window for everyone;
attendance with everyone marked present and the list complete. Each stage runs a second
time with nothing new (the idle run). Besides the call counts the table shows what the calls
carry (request and response bytes), because the count is constant by design but the payload
is not.

Each size runs in its own process, which prints one JSON line per stage run; a size that does
not finish within BENCH_SHEETS_TIMEOUT seconds reports the runs it completed.

    BENCH_SHEETS_SIZES=50,2000,20000 .venv/bin/python -m bench.sheets_calls
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    ROOT,
    gc_time,
    load_average,
    note,
    number,
    prepare_env,
    say,
    sizes,
    table,
    warm_imports,
)

KINDS = ("spreadsheets.get", "values.batchGet", "values.batchUpdate", "spreadsheets.batchUpdate")
SHORT = {"spreadsheets.get": "get", "values.batchGet": "batchGet",
         "values.batchUpdate": "values.batchUpdate",
         "spreadsheets.batchUpdate": "spreadsheets.batchUpdate"}
INTAKE_DAY = date(2022, 11, 1)
DECIDED_DAY = date(2022, 11, 25)
APPROVED_DAY = date(2022, 11, 28)
MEETING_DAY = date(2023, 3, 27)


def measure_size(size: int, emit: Any) -> None:
    """Run the four stages on a programme of `size` submissions; emit one record per run."""
    from bench.fixtures import GoogleProgramme, count_files, decide_all
    from samen.stages.attendance import run_attendance
    from samen.stages.intake import run_intake
    from samen.stages.invitations import run_invitations
    from samen.stages.selection import run_selection
    from samen.testing.forms import make_response
    from samen.testing.programme import meeting
    from samen.testing.sheets_double import SheetsDouble

    with SheetsDouble() as double, tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        folder = Path(tmp)
        programme = GoogleProgramme(double, folder, [make_response(n) for n in range(1, size + 1)])
        outbox = programme.config.mail.outbox_path

        def run(label: str, stage: Any, as_of: date) -> Any:
            double.reset_calls()
            before = (programme.traffic.sent, programme.traffic.received, programme.traffic.seconds)
            files = count_files(outbox)
            with gc_time() as gc:
                start, cpu = time.perf_counter(), time.process_time()
                summary = programme.run(stage, as_of)
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            counts = {kind: double.count(kind) for kind in KINDS}
            other = double.count() - sum(counts.values())
            emit({"size": size, "run": label, "seconds": seconds, "cpu": cpu, "gc": gc.seconds,
                  "calls": counts, "other": other,
                  "sent_bytes": programme.traffic.sent - before[0],
                  "received_bytes": programme.traffic.received - before[1],
                  "http_seconds": programme.traffic.seconds - before[2],
                  "messages": getattr(summary, "messages_sent", 0),
                  "outbox_files": count_files(outbox) - files,
                  "cells_written": getattr(summary, "cells_written", 0)})
            return summary

        run("intake", run_intake, INTAKE_DAY)
        run("intake, idle", run_intake, INTAKE_DAY)
        decide_all(programme, kern=programme.config.programme.kern_capacity)
        run("selection (decisions filled)", run_selection, DECIDED_DAY)
        programme.approve()
        approved = run("selection (2 approvals)", run_selection, APPROVED_DAY)
        if not approved.approved:
            raise RuntimeError(f"the selection was not approved: {approved}")
        run("selection, idle", run_selection, APPROVED_DAY)
        programme.write_meetings([meeting("1", MEETING_DAY)])
        invite_day = MEETING_DAY - timedelta(days=programme.config.programme.invite_days_before)
        run("invitations (1 meeting, all invited)", run_invitations, invite_day)
        run("invitations, idle", run_invitations, invite_day)
        marked = programme.type_cells("attendance", lambda cells: {"Status": "aanwezig"}
                                      if cells.get("Bijeenkomst") == "1" else None)
        programme.type_cells("meetings", lambda cells: {"Aanwezigheid compleet": "ja",
                                                        "Materiaal": "https://example.org/m1"}
                             if cells.get("Nr") == "1" else None)
        note(f"size {size}: {marked} marked present")
        run("attendance (all present, complete)", run_attendance, MEETING_DAY + timedelta(days=1))
        run("attendance, idle", run_attendance, MEETING_DAY + timedelta(days=2))
        if double.errors:
            raise RuntimeError("the Sheets double failed:\n" + "\n".join(double.errors))


def child(size: int) -> None:
    """Measure one size and print one JSON line per run (the parent collects them)."""
    prepare_env()

    def emit(record: dict[str, Any]) -> None:
        print(json.dumps(record), flush=True)

    warm_imports()
    measure_size(size, emit)
    print(json.dumps({"size": size, "done": True}), flush=True)


def collect(size: int, timeout: float) -> tuple[list[dict[str, Any]], float, bool]:
    """Run one size in a child process; return its records, seconds taken and whether it finished."""
    records: list[dict[str, Any]] = []
    done = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-m", "bench.sheets_calls", "--one", str(size)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    errors: list[str] = []

    def read_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("done"):
                    done.set()
                else:
                    records.append(record)
                    note(f"size {size}: {record['run']} {record['seconds']:.1f} s")

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            errors.append(line)
            if line.startswith("  .. "):
                print(line, end="", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=read_out), threading.Thread(target=read_err)]
    for t in threads:
        t.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for t in threads:
        t.join()
    if proc.returncode not in (0, -9) and not done.is_set():
        raise RuntimeError(f"sheets_calls size {size} failed:\n{''.join(errors)[-4000:]}")
    return records, time.perf_counter() - start, done.is_set()


def main() -> None:
    """Measure every size and print the tables."""
    prepare_env()
    chosen = sizes("BENCH_SHEETS_SIZES", full=[50, 2000] + ([20000] if os.environ.get("BENCH_FULL") else []),
                   small=[50, 300])
    timeout = number("BENCH_SHEETS_TIMEOUT", full=3600.0, small=600.0)
    say("## 1. Sheets API calls per run (Google backend via gspread, counted by the double)\n")
    say(f"({load_average()} at start; CPU = the run's process, including the double's thread)\n")
    results: dict[int, list[dict[str, Any]]] = {}
    status: dict[int, str] = {}
    for size in chosen:
        records, seconds, finished = collect(size, timeout)
        results[size] = records
        status[size] = (f"complete in {seconds:.0f} s" if finished else
                        f"stopped after {seconds:.0f} s (timeout {timeout:.0f} s); "
                        f"{len(records)} runs measured")
    runs = list(dict.fromkeys(r["run"] for rs in results.values() for r in rs))
    legend = " · ".join(SHORT[k] for k in KINDS)
    say(f"Calls per run, as `{legend}` (other kinds: none unless shown):\n")
    rows = []
    for run in runs:
        row: list[Any] = [run]
        for size in chosen:
            rec = next((r for r in results[size] if r["run"] == run), None)
            if rec is None:
                row.append("not reached")
                continue
            text = " · ".join(str(rec["calls"][k]) for k in KINDS)
            row.append(text + (f" (+{rec['other']} other)" if rec["other"] else ""))
        rows.append(row)
    say(table(["run", *[f"{s:,} submissions".replace(",", " ") for s in chosen]], rows))
    say()
    say("What the calls carry, and what the run cost:\n")
    detail = []
    for size in chosen:
        for rec in results[size]:
            detail.append([rec["run"], size, rec["seconds"], rec["cpu"], rec["gc"], rec["http_seconds"],
                           rec["messages"],
                           rec["cells_written"], rec["sent_bytes"] / 1e6, rec["received_bytes"] / 1e6,
                           rec["seconds"] * 1000 / rec["messages"] if rec["messages"] else float("nan")])
    say(table(["run", "submissions", "seconds", "CPU s", "GC s", "in HTTP s", "messages sent",
               "cells written",
               "request MB", "response MB", "ms per message (whole run)"], detail))
    say()
    say(table(["submissions", "status"], [[s, status[s]] for s in chosen]))
    say()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        child(int(sys.argv[2]))
    else:
        main()
