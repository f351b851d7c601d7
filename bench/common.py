"""Shared helpers of the benchmarks: sizes from the environment, timers, tables, set-ups.

Benchmarks are not tests: they print figures. Sizes come from environment variables so that
`BENCH_QUICK=1 make bench` finishes in about a minute and a full run in about ten.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def prepare_env() -> None:
    """Keep Prefect's state in a throwaway folder, without analytics, before Prefect is imported."""
    if "PREFECT_HOME" not in os.environ or os.environ.get("BENCH_OWN_PREFECT_HOME"):
        os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="samen-bench-prefect-")
        os.environ["BENCH_OWN_PREFECT_HOME"] = "1"
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.pop("SAMEN_CONFIG", None)


def quick() -> bool:
    """Tell whether BENCH_QUICK asks for small sizes."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no")


def sizes(name: str, full: Sequence[int], small: Sequence[int]) -> list[int]:
    """Return the sizes of a benchmark: $name as "50,2000", else the quick or the full set."""
    text = os.environ.get(name, "").strip()
    if text:
        return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    return list(small if quick() else full)


def number(name: str, full: float, small: float) -> float:
    """Return a numeric setting from the environment, else the quick or the full default."""
    text = os.environ.get(name, "").strip()
    return float(text) if text else (small if quick() else full)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return a markdown table."""
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return fmt(value)
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float) -> str:
    """Return a number with sensible precision for a table."""
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", " ")
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def say(text: str = "") -> None:
    """Print a line at once (benchmarks run long; show progress)."""
    print(text, flush=True)


def note(text: str) -> None:
    """Print a progress note to stderr (kept out of the tables)."""
    print(f"  .. {text}", file=sys.stderr, flush=True)


class RssSampler:
    """Sample this process's resident set size every few ms in a thread; keep the peak (MB).

    ru_maxrss (and VmHWM) of a child started by a big parent report the parent's size here (the
    high-water mark survives fork + exec), so the peak is sampled instead.
    """

    def __init__(self, interval: float = 0.01) -> None:
        import threading

        self.interval = interval
        self.peak = current_rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, current_rss_mb())

    def stop(self) -> float:
        """Stop sampling; return the peak in MB."""
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_mb())
        return self.peak


def peak_rss_mb() -> float:
    """Return ru_maxrss in MB (includes a big parent's size for a forked child: see RssSampler)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Return this process's current resident set size in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Timer:
    """Accumulated wall time, CPU time of the calling thread, and call count of one function."""

    seconds: float = 0.0
    cpu: float = 0.0
    calls: int = 0


@dataclass
class Phases:
    """Time functions by patching them where they are looked up (bench-only; samen is unchanged).

    `targets` are "module:attribute" (a module-level function, looked up as a global by its
    caller) or "module:Class.method". Nested phases are fine: each keeps its own total.
    """

    targets: Sequence[str]
    timers: dict[str, Timer] = field(default_factory=dict)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def __enter__(self) -> Phases:
        for target in self.targets:
            module_name, _, path = target.partition(":")
            owner: Any = importlib.import_module(module_name)
            parts = path.split(".")
            for part in parts[:-1]:
                owner = getattr(owner, part)
            name = parts[-1]
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            timer = self.timers.setdefault(target, Timer())
            wrapped = _timed(original, timer)
            setattr(owner, name, wrapped)
            self._undo.append(functools.partial(setattr, owner, name, original))
        return self

    def __exit__(self, *exc: object) -> None:
        while self._undo:
            self._undo.pop()()

    def seconds(self, target: str) -> float:
        """Return the accumulated wall seconds of a target (0 when never called)."""
        return self.timers.get(target, Timer()).seconds

    def cpu(self, target: str) -> float:
        """Return the accumulated CPU seconds (calling thread) of a target."""
        return self.timers.get(target, Timer()).cpu

    def reset(self) -> None:
        """Zero every timer."""
        for timer in self.timers.values():
            timer.seconds, timer.cpu, timer.calls = 0.0, 0.0, 0


def _timed(function: Any, timer: Timer) -> Any:
    if isinstance(function, (staticmethod, classmethod)):
        raise TypeError("patch the underlying function of static and class methods")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            timer.seconds += time.perf_counter() - start
            timer.cpu += time.thread_time() - cpu
            timer.calls += 1

    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return wrapper


@dataclass
class Clock:
    """Wall and CPU seconds (this thread) of a block."""

    wall: float = 0.0
    cpu: float = 0.0


@contextlib.contextmanager
def clock() -> Iterator[Clock]:
    """Yield a Clock that holds the block's wall and thread-CPU seconds once it ends."""
    result = Clock()
    start, cpu = time.perf_counter(), time.thread_time()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - start
        result.cpu = time.thread_time() - cpu


def load_average() -> str:
    """Return the 1-minute load average and the number of cores, for context."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def write_config(folder: Path, *, backend: str, store_url: str, spreadsheet_key: str = "",
                 api_base: str = "", workbook: str = "book.xlsx", mail: str = "outbox",
                 smtp_port: int = 0, daily_cap: int = 1_000_000, extra: str = "") -> Path:
    """Write a samen.toml for a benchmark and return its path."""
    lines = [f'[sheets]\nbackend = "{backend}"\n']
    if backend == "google":
        lines.append(f'[sheets.google]\nspreadsheet_key = "{spreadsheet_key}"\n'
                     f'api_base = "{api_base}"\ntimeout_seconds = 600\n')
    else:
        lines.append(f'[sheets.workbook]\npath = "{workbook}"\n')
    lines.append(f'[mail]\nbackend = "{mail}"\ndaily_cap = {daily_cap}\n')
    lines.append('[mail.outbox]\npath = "outbox"\n')
    if mail == "smtp":
        lines.append(f'[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n')
    lines.append(f'[store]\nurl = "{store_url}"\n')
    lines.append(extra)
    path = folder / "samen.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def sqlite_url(folder: Path) -> str:
    """Return the URL of a SQLite store in folder."""
    return f"sqlite:///{folder / 'samen.db'}"


PG_ENV = "SAMEN_TEST_DATABASE_URL"


@contextlib.contextmanager
def postgres_url() -> Iterator[str | None]:
    """Yield a fresh PostgreSQL schema URL when SAMEN_TEST_DATABASE_URL is set, else None."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield None
        return
    import uuid

    import sqlalchemy as sa

    schema = f"samen_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_child(module: str, args: Sequence[str], timeout: float | None = None) -> dict[str, Any]:
    """Run `python -m module args` (a fresh process, so peak memory is its own); return its JSON.

    The child prints one JSON object as its last stdout line.
    """
    env = dict(os.environ)
    proc = subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stderr[-4000:]}")
    last = [line for line in proc.stdout.splitlines() if line.strip()][-1]
    result: dict[str, Any] = json.loads(last)
    return result


def profile_top(function: Callable[[], Any], *, limit: int = 25, sort: str = "cumulative",
                path: Path | None = None) -> tuple[Any, str]:
    """Run function under cProfile; return its result and the top of the profile as text."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(function)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    if path is not None:
        stats.dump_stats(str(path))
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    return result, out.getvalue()


def warm_imports(validation: bool = True) -> float:
    """Import what a run imports lazily (pandas, pandera, icalendar, babel, jinja2); return seconds.

    A scheduled run is a fresh process, so this cost is real once per run; benchmarks that
    time the work itself pay it up front and report it separately. validation=False leaves out
    what validation imports (pandas, pyarrow, pandera): an intake run with nothing new does
    without them (the meeting stages validate their small tab on every run).
    """
    start = time.perf_counter()
    for name in ("icalendar", "babel.dates", "jinja2", "sqlalchemy", "alembic.command", "openpyxl",
                 "gspread", "yagmail", "samen.stages.intake", "samen.stages.selection",
                 "samen.mailbuild", "samen.rendering", "samen.gateways.sheets.google",
                 "samen.gateways.sheets.workbook", "samen.gateways.mail.smtp", "prefect.context",
                 "prefect.artifacts"):
        importlib.import_module(name)
    if not validation:
        return time.perf_counter() - start
    for name in ("pandas", "pandera.pandas", "pyarrow.compute", "samen.schemas.form",
                 "samen.schemas.meetings", "samen.stages.invitations", "samen.stages.attendance"):
        importlib.import_module(name)
    # First calls build the pandera schema and compile templates: pay that here too.
    import pandas as pd

    from samen.schemas.form import FORM_FIELDS, validate_form
    from samen.testing.forms import HEADER_BY_SLUG, make_response

    answers = make_response(1)
    validate_form(pd.DataFrame([{f: answers[HEADER_BY_SLUG[f]] for f in FORM_FIELDS}], index=[2]))
    return time.perf_counter() - start


@dataclass
class GcTime:
    """Seconds spent in the cyclic garbage collector, and collections per generation."""

    seconds: float = 0.0
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])


@contextlib.contextmanager
def gc_time() -> Iterator[GcTime]:
    """Yield a GcTime that accumulates the collector's pauses during the block (gc.callbacks)."""
    import gc

    result = GcTime()
    started: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            result.seconds += time.perf_counter() - started.pop()
            result.collections[info["generation"]] += 1

    gc.callbacks.append(callback)
    try:
        yield result
    finally:
        gc.callbacks.remove(callback)
