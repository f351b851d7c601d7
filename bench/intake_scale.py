"""Benchmark 2: intake of 1k, 10k and 100k form rows.

Three parts:

1. Validation alone (in this process). The validation step is `validate_form`: a frame of
   pyarrow-backed text in, the checks (pandera), the Dutch problems and the normalised columns
   out; beside it its parts (reading, trimming and working out the answers on all cores; the
   pandera checks; the normalised columns). Around it, as intake calls it (`validate_rows`):
   the intake rules' per-row dicts turned into columns and a frame, and the valid rows turned
   back into dicts for the store. All rows valid, and with 5% invalid rows.
2. Whole intake runs through the Sheets double (Google backend via gspread; the double serves
   from a separate process), SQLite store, outbox mail, each run in its own process (peak RSS
   is samen's own): the first run, then
   an idle second run. "First run s" is run_intake's wall time: samen's work beyond Prefect's
   start, the waits for the Sheets API included; beside it the time spent inside Sheets API calls
   (client side) and, of that, the double's own handling (Google's side: reading the request,
   JSON, its model, answering). Intake sends two receipts per new application, so the first
   run's time is split into phases (read, validate+plan, store, render+build, ledger, send,
   reconcile, write). Runs with mail are done up to BENCH_INTAKE_MAIL_MAX rows (default 1,000; all sizes
   with BENCH_FULL=1); every size also runs "without messages": `samen.stages.messaging.deliver`
   is replaced by a no-op in the benchmark process only, which gives the rest of the run; the
   table adds the measured per-message cost to project the full run.
3. The same for the workbook backend (openpyxl) up to BENCH_INTAKE_WORKBOOK_MAX rows.

Form rows spread over all 342 municipalities (BENCH_INTAKE_TOWNS=20 keeps make_response's 20).

    BENCH_INTAKE_SIZES=1000,10000,100000 .venv/bin/python -m bench.intake_scale
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    ROOT,
    Phases,
    RssSampler,
    current_rss_mb,
    gc_time,
    load_average,
    note,
    number,
    prepare_env,
    run_child,
    say,
    sizes,
    table,
    warm_imports,
)

DAY = date(2022, 11, 1)
SPREAD = os.environ.get("BENCH_INTAKE_TOWNS", "342") != "20"
PHASES = {
    "read": "samen.gateways.sheets.{backend}:{cls}.open_tabs",
    "validate+plan": "samen.stages.intake:plan_intake",
    "validate (in plan)": "samen.schemas.form:validate_form",
    "store load": "samen.gateways.store.store:Store.load_versions",
    "store save": "samen.gateways.store.store:Store.save_intake",
    "messaging (all)": "samen.stages.intake:run_messaging",
    "render+build": "samen.stages.delivery:prepare",
    "ledger record": "samen.gateways.store.ledger:Ledger.record",
    "send (outbox+ledger)": "samen.stages.delivery:send_pending",
    "  outbox write": "samen.gateways.mail.outbox:OutboxMail.send_raw",
    "ledger reads": "samen.gateways.store.ledger:Ledger.entries",
    "tab blocks (Berichten, Signalen)": "samen.stages.messaging:tab_blocks",
    "reconcile review+corrections": "samen.stages.intake:reconcile_tab",
    "write": "samen.gateways.sheets.{backend}:{cls}.write_blocks",
}


def responses(size: int, invalid_share: float = 0.0) -> list[dict[str, str]]:
    """Return form responses 1..size; every k-th one invalid in a rotating way when asked.

    Municipalities go round all 342 (make_response alone uses 20: with 100k rows every review
    row would then list ~5,000 other applications of its municipality, see the README).
    """
    from samen.schemas.municipalities import municipalities
    from samen.testing.forms import make_response

    towns = sorted(municipalities().values()) if SPREAD else []
    bad = [{"consent": "Nee"}, {"email": "geen-adres"}, {"postcode": "12AB"},
           {"municipality": "Atlantis"}, {"initiative_phone": "12345"}]
    step = int(1 / invalid_share) if invalid_share else 0
    out = []
    for n in range(1, size + 1):
        answers = dict(bad[(n // step) % len(bad)]) if step and n % step == 0 else {}
        if towns and "municipality" not in answers:
            answers["municipality"] = towns[n % len(towns)]
        out.append(make_response(n, **answers))
    return out


def field_frame(rows: list[dict[str, str]]) -> Any:
    """Return the frame `validate_rows` builds (field columns of str objects, sheet-row index)."""
    import pandas as pd

    from samen.schemas.form import FORM_FIELDS
    from samen.testing.forms import HEADER_BY_SLUG

    by_row = {n: {f: r[HEADER_BY_SLUG[f]] for f in FORM_FIELDS} for n, r in enumerate(rows, start=2)}
    index = pd.Index(list(by_row), dtype="int64")
    frame = pd.DataFrame({f: pd.Series([v[f] for v in by_row.values()], index=index, dtype=object)
                          for f in FORM_FIELDS}, index=index)
    return frame, by_row


def best_of(function: Any, repeat: int) -> float:
    """Return the best wall time of `repeat` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def validation(size: int, invalid_share: float) -> dict[str, float]:
    """Return rows/s of each validation step at one size (best of 5; 3 at 100k and more).

    The collector is paused, as intake runs validation (see samen.stages.collector).
    """
    import pandas as pd

    from samen.schemas import form
    from samen.schemas.form_values import text_series
    from samen.stages.collector import collector_paused
    from samen.stages.form_adapter import _columns, validate_rows

    rows = responses(size, invalid_share)
    _, by_row = field_frame(rows)
    repeat = 5 if size <= 10_000 else 3
    with collector_paused():
        index = pd.Index(list(by_row), dtype="int64")
        answers = dict(zip(form.FORM_FIELDS, _columns(by_row, form.FORM_FIELDS), strict=True))
        frame = pd.DataFrame({f: text_series(v, index) for f, v in answers.items()}, index=index)
        prepared, _typed, derived = form._prepare(frame)
        result = form.validate_form(frame)

        def schema() -> None:
            token = form._DERIVED.set(derived)
            try:
                with contextlib.suppress(Exception):  # SchemaErrors: the invalid rows, expected
                    form.FormResponses.validate(prepared, lazy=True)
            finally:
                form._DERIVED.reset(token)

        good = ~prepared.index.isin(list(result.problems))
        adapter = validate_rows(form.FORM_FIELDS)
        timings = {
            "rows' dicts to columns": best_of(lambda: _columns(by_row, form.FORM_FIELDS), repeat),
            "columns to frame (pyarrow text)": best_of(
                lambda: pd.DataFrame({f: text_series(v, index) for f, v in answers.items()},
                                     index=index), repeat),
            "validate_form (the step)": best_of(lambda: form.validate_form(frame), repeat),
            "  read, trim, work out": best_of(lambda: form._prepare(frame), repeat),
            "  pandera checks": best_of(schema, repeat),
            "  normalised columns": best_of(lambda: form._normalise(prepared, derived, good),
                                            repeat),
            "valid rows as dicts": best_of(lambda: result.responses(answers), repeat),
            "validate_rows (all of it)": best_of(lambda: adapter(by_row), repeat),
        }
    return {name: size / seconds for name, seconds in timings.items()}


def child(backend: str, size: int, with_mail: bool) -> None:
    """Run intake twice (first, idle) at one size; print one JSON line.

    Each run has its own fresh process, as a worker gives every scheduled flow run its own: the
    first run here, the idle run in a second child (`--idle`) on the same store and spreadsheet,
    so each peak RSS is that run's alone.
    """
    prepare_env()
    baseline = current_rss_mb()
    imports = warm_imports()
    after_imports = current_rss_mb()
    from bench.common import sqlite_url, write_config
    from bench.fixtures import count_files
    from samen.config import load_config

    with tempfile.TemporaryDirectory(prefix="samen-bench-") as tmp:
        folder = Path(tmp)
        setup_start = time.perf_counter()
        double: Any = None
        base_url = ""
        if backend == "google":
            # The double serves from its own process, so this process's memory is samen's own.
            double = subprocess.Popen([PYTHON, "-m", "bench.intake_scale", "--double", str(size)],
                                      cwd=ROOT, text=True, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=dict(os.environ))
            assert double.stdout is not None
            base_url, key = double.stdout.readline().split()
            config_path = write_config(folder, backend="google", store_url=sqlite_url(folder),
                                       spreadsheet_key=key, api_base=base_url)
        else:
            config_path = workbook_config(folder, responses(size))
        setup = time.perf_counter() - setup_start
        try:
            first = one_run(backend, config_path, base_url, with_mail)
            if double is not None:
                double.stdin.write("mark\n")  # the double notes its time of the first run
                double.stdin.flush()
            idle = run_child("bench.intake_scale", ["--idle", backend, str(config_path), base_url,
                                                    "1" if with_mail else "0"])
        finally:
            if double is not None:
                double.stdin.close()
                served = double.stdout.readline().split()  # the double's own seconds per run
                double.wait(timeout=120)
        outbox_files = count_files(load_config(config_path).mail.outbox_path)
    sheets_api: dict[str, float] = {}
    if backend == "google":
        sheets_api = {"first_api_seconds": first["api_seconds"],
                      "idle_api_seconds": idle["api_seconds"],
                      "first_double_seconds": float(served[0]) if served else float("nan"),
                      "idle_double_seconds": float(served[1]) if served else float("nan")}
    result = {
        **sheets_api,
        "backend": backend, "size": size, "with_mail": with_mail, "setup_seconds": setup,
        "imports_seconds": imports, "rss_start_mb": baseline, "rss_after_imports_mb": after_imports,
        "first_seconds": first["seconds"], "idle_seconds": idle["seconds"],
        "first_cpu": first["cpu"], "idle_cpu": idle["cpu"], "first_phases": first["phases"],
        "first_cpus": first["cpus"], "idle_phases": idle["phases"],
        "peak_rss_first_mb": first["peak_rss_mb"], "peak_rss_idle_mb": idle["peak_rss_mb"],
        "idle_imported_validation": idle["imported_validation"],
        "messages": first["messages"], "planned_messages": 2 * first["new_applications"],
        "outbox_files": outbox_files, "idle_messages": idle["messages"],
        "applications": first["applications"], "idle_cells": idle["cells"],
        "cells": first["cells"],
    }
    print(json.dumps(result), flush=True)


def one_run(backend: str, config_path: Path, base_url: str, with_mail: bool,
            validation: bool = True) -> dict[str, Any]:
    """Run intake once in this process (imports warmed); return its figures.

    validation=False: the validation phase is not timed (timing it would import pandera).
    """
    from bench.fixtures import Traffic, google_sheets
    from samen.config import load_config
    from samen.gateways.factory import build_mail, build_store
    from samen.stages.delivery import DeliveryReport
    from samen.stages.intake import run_intake

    sampler = RssSampler()
    targets = {}
    for name, target in PHASES.items():
        if not validation and target.startswith("samen.schemas.form:"):
            continue
        if backend == "google":
            target = target.format(backend="google", cls="GoogleSheets")
        else:
            target = target.format(backend="workbook", cls="WorkbookSheets")
        targets[name] = target
    config = load_config(config_path)
    traffic = Traffic()

    def run() -> Any:
        if backend != "google":
            from samen.testing.programme import run as run_stage

            return run_stage(config, run_intake, DAY)
        store = build_store(config)
        sheets = google_sheets(config, base_url, traffic)
        try:
            return run_intake(config, sheets=sheets, store=store, mail=build_mail(config), as_of=DAY)
        finally:
            sheets.close()
            store.close()

    import samen.stages.messaging as messaging

    original = messaging.deliver
    if not with_mail:
        messaging.deliver = lambda planned, **kwargs: DeliveryReport()
    try:
        with Phases(list(targets.values())) as phases:
            with gc_time() as gc_pauses:
                start, cpu = time.perf_counter(), time.process_time()
                outcome = run()
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu
            phase_seconds = {name: phases.seconds(targets.get(name, "")) for name in PHASES}
            phase_seconds["GC pauses"] = gc_pauses.seconds
            phase_cpus = {name: phases.cpu(targets.get(name, "")) for name in PHASES}
    finally:
        messaging.deliver = original
    return {"seconds": seconds, "cpu": cpu, "phases": phase_seconds, "cpus": phase_cpus,
            "peak_rss_mb": sampler.stop(), "api_seconds": traffic.seconds,
            "messages": outcome.messages_sent, "new_applications": outcome.new_applications,
            "applications": outcome.applications, "cells": outcome.cells_written}


def idle_child(backend: str, config_path: str, base_url: str, with_mail: bool) -> None:
    """Child mode: the idle run in a fresh process; print one JSON line.

    Its imports are warmed without the validation libraries, which a run with nothing new does
    not import: `imported_validation` tells whether it did after all.
    """
    prepare_env()
    warm_imports(validation=False)
    figures = one_run(backend, Path(config_path), base_url, with_mail, validation=False)
    figures["imported_validation"] = "pandas" in sys.modules
    print(json.dumps(figures), flush=True)


def serve_double(size: int) -> None:
    """Child mode: serve a spreadsheet of `size` responses; print 'base_url key'; stop at EOF.

    A line on stdin marks the end of the first run; at EOF it prints the seconds the double spent
    handling requests (reading, JSON, the model, answering) before and after the mark: the time
    Google would spend, which the intake waits for.
    """
    prepare_env()
    import threading

    from bench.fixtures import FORM
    from samen.testing import sheets_double
    from samen.testing.forms import form_table

    spent = [0.0, 0.0]
    period = [0]
    guard = threading.Lock()
    answer = sheets_double._Handler._answer

    def timed(handler: Any, method: str) -> None:
        start = time.perf_counter()
        try:
            answer(handler, method)
        finally:
            with guard:
                spent[period[0]] += time.perf_counter() - start

    sheets_double._Handler._answer = timed  # type: ignore[method-assign]
    with sheets_double.SheetsDouble() as double:
        key = double.create_spreadsheet("Programma SAMEN", {FORM: form_table(responses(size))})
        print(double.base_url, key, flush=True)
        for _line in sys.stdin:
            period[0] = 1
        if double.errors:
            print("\n".join(double.errors), file=sys.stderr)
    print(spent[0], spent[1], flush=True)


def workbook_config(folder: Path, rows: list[dict[str, str]]) -> Path:
    """Write a workbook holding the responses and return the path of a config that uses it."""
    from bench.common import sqlite_url, write_config
    from samen.gateways.sheets.workbook import create_workbook
    from samen.testing.forms import form_table

    create_workbook(folder / "book.xlsx", {"Formulierreacties 1": form_table(rows)})
    return write_config(folder, backend="workbook", store_url=sqlite_url(folder))


def main() -> None:
    """Measure validation and whole runs; print the tables."""
    prepare_env()
    chosen = sizes("BENCH_INTAKE_SIZES", full=[1000, 10_000, 100_000], small=[1000, 10_000])
    full = bool(os.environ.get("BENCH_FULL"))
    mail_max = number("BENCH_INTAKE_MAIL_MAX", full=float("inf") if full else 1000, small=1000)
    book_max = number("BENCH_INTAKE_WORKBOOK_MAX", full=100_000 if full else 10_000, small=1000)
    say("## 2. Intake at scale\n")
    say(f"({load_average()} at start)\n")
    warm_imports()
    say("Validation alone, rows per second (best of 5; 100k: of 3):\n")
    names: list[str] = []
    val_rows = []
    for share in (0.0, 0.05):
        for size in chosen:
            note(f"validation {size} rows, {share:.0%} invalid")
            figures = validation(size, share)
            names = list(figures)
            val_rows.append([f"{size:,}".replace(",", " "), f"{share:.0%}",
                             *[figures[n] for n in names]])
    say(table(["rows", "invalid", *names], val_rows))
    say()
    runs: list[dict[str, Any]] = []
    failed: list[list[Any]] = []
    for backend, limit in (("google", float("inf")), ("workbook", book_max)):
        for size in chosen:
            if size > limit:
                continue
            for with_mail in (True, False):
                if with_mail and size > mail_max:
                    continue
                note(f"intake {backend} {size} rows, {'with' if with_mail else 'without'} messages")
                try:
                    runs.append(run_child("bench.intake_scale",
                                          ["--child", backend, str(size), "1" if with_mail else "0"]))
                except RuntimeError as exc:  # e.g. killed by the kernel's OOM killer (-9)
                    failed.append([backend, size, "yes" if with_mail else "no mail",
                                   str(exc).splitlines()[0]])
    per_message, per_message_cpu = {}, {}
    for r in runs:
        if r["with_mail"] and r["messages"]:
            per_message[r["backend"]] = r["first_phases"]["messaging (all)"] / r["messages"]
            per_message_cpu[r["backend"]] = r["first_cpus"]["messaging (all)"] / r["messages"]
    say("Whole intake runs (first run: all rows new; idle: the same again). 'no mail' = "
        "`messaging.deliver` stubbed in the benchmark process; 'projected' adds the measured "
        "messaging cost per message × 2 receipts per application:\n")
    rows = []
    for r in runs:
        cost = per_message.get(r["backend"], float("nan"))
        projected = (r["first_seconds"] if r["with_mail"] else
                     r["first_seconds"] + cost * r["planned_messages"])
        nan = float("nan")
        rows.append([r["backend"], r["size"], "yes" if r["with_mail"] else "no mail",
                     r["first_seconds"], r["first_cpu"], r.get("first_api_seconds", nan),
                     r.get("first_double_seconds", nan), r["size"] / r["first_seconds"],
                     r["messages"], projected, r["idle_seconds"], r["idle_cpu"],
                     r["peak_rss_first_mb"], r["peak_rss_idle_mb"], r["rss_after_imports_mb"]])
    say(table(["backend", "rows", "mail", "first run s", "CPU s", "in Sheets API calls s",
               "of which the double's own s", "rows/s", "messages", "projected s (with mail)",
               "idle run s", "idle CPU s", "peak RSS first run MB", "peak RSS idle run MB",
               "RSS after imports MB"], rows))
    say(f"\n(first run s = run_intake's wall time: samen's work beyond Prefect's start, waiting for "
        f"the Sheets API included. CPU and peak RSS = the intake process alone: the Sheets double "
        f"serves from its own process; 'in Sheets API calls' = wall time inside HTTP calls (client "
        f"side), 'the double's own' = the double's handling of them (Google's side). Each run has "
        f"its own process, as a worker gives each scheduled flow run. "
        f"{load_average()} at the end.)\n")
    if failed:
        say(table(["backend", "rows", "mail", "failed"], failed))
    say()
    say("Where the first run's time goes (seconds; phases nest: 'messaging (all)' holds render+build, "
        "ledger and send):\n")
    phase_names = list(runs[0]["first_phases"]) if runs else []
    prows = []
    for r in runs:
        label = f"{r['backend']} {r['size']} {'mail' if r['with_mail'] else 'no mail'}"
        prows.append([label, r["first_seconds"], *[r["first_phases"][p] for p in phase_names]])
    say(table(["run", "total", *phase_names], prows))
    say()
    say("Idle run (nothing new), seconds by phase:\n")
    irows = []
    for r in runs:
        if not r["with_mail"]:
            continue
        label = f"{r['backend']} {r['size']}"
        irows.append([label, r["idle_seconds"], *[r["idle_phases"][p] for p in phase_names]])
    if not irows:
        irows = [[f"{r['backend']} {r['size']}", r["idle_seconds"],
                  *[r["idle_phases"][p] for p in phase_names]] for r in runs]
    say(table(["run", "total", *phase_names], irows))
    say()
    if per_message:
        say(table(["backend", "messaging ms per message, wall (render, build, ledger, outbox write, "
                   "commit)", "of which CPU ms (this thread)"],
                  [[b, c * 1000, per_message_cpu[b] * 1000] for b, c in per_message.items()]))
        say()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1")
    elif len(sys.argv) == 6 and sys.argv[1] == "--idle":
        idle_child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1")
    elif len(sys.argv) == 3 and sys.argv[1] == "--double":
        serve_double(int(sys.argv[2]))
    else:
        main()
