"""Run a stage in a child process that a test kills (SIGKILL) at a chosen point.

Importing samen's stages takes a few seconds (Prefect alone about three), too long to start a
fresh interpreter for every one of dozens of kills. So the children come from a multiprocessing
forkserver that imported this module (and with it everything a stage needs) once: each child is
a fresh fork of that server, a separate process with its own gateways, connections and locks,
that dies the way a flow process dies when killed.

A child can be told to stop at a pause point (it creates the file `<signal_dir>/<point>`, then
sleeps) so that the test kills it exactly there:

- `save-half`: the workbook's temporary file is half written;
- `save-written`: the temporary file is complete, not yet renamed over the workbook;
- `open_tabs`, `save_intake`, `record`, `approve`, `save_announcement`, `record_attendance`:
  right after that gateway call returned (for the store: committed).
"""

from __future__ import annotations

import io
import multiprocessing
import time
from collections.abc import Callable
from datetime import date
from functools import wraps
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

# Imported here so that the forkserver has them loaded before it forks a child.
from prefect.context import FlowRunContext  # noqa: F401

from samen.config import load_config
from samen.gateways.sheets.workbook import WorkbookSheets
from samen.gateways.store.ledger import Ledger
from samen.gateways.store.meetings import MeetingStore
from samen.gateways.store.selection import SelectionStore
from samen.gateways.store.store import Store
from samen.runtime import open_gateways
from samen.stages.attendance import run_attendance
from samen.stages.intake import run_intake
from samen.stages.invitations import run_invitations
from samen.stages.selection import run_selection

STAGES: dict[str, Callable[..., Any]] = {
    "intake": run_intake, "selection": run_selection, "invitations": run_invitations,
    "attendance": run_attendance,
}
_AFTER: dict[str, tuple[type, str]] = {
    "open_tabs": (WorkbookSheets, "open_tabs"), "save_intake": (Store, "save_intake"),
    "record": (Ledger, "record"), "approve": (SelectionStore, "approve"),
    "save_announcement": (MeetingStore, "save_announcement"),
    "record_attendance": (MeetingStore, "record_attendance"),
}
PAUSE_POINTS = ("save-half", "save-written", *_AFTER)


def run_stage(config_path: str, stage: str, as_of: str, signal_dir: str = "", pause_at: str = "",
              hold: float = 30.0) -> dict[str, object]:
    """Run one stage with fresh gateways, as a flow run does; pause at pause_at if given."""
    if pause_at:
        _install_pause(Path(signal_dir), pause_at, hold)
    config = load_config(config_path)
    with open_gateways(config) as gw:
        summary = STAGES[stage](config, sheets=gw.sheets, store=gw.store, mail=gw.mail,
                                as_of=date.fromisoformat(as_of))
    result: dict[str, object] = summary.as_dict()
    return result


def forkserver() -> ForkServerContext:
    """Return the forkserver context whose server preloads this module."""
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, ForkServerContext)
    context.set_forkserver_preload([__name__])
    return context


def start_stage(context: ForkServerContext, config_path: Path, stage: str, as_of: date,
                signal_dir: Path | None = None, pause_at: str = "") -> BaseProcess:
    """Start a child process that runs one stage; return it (its pid is known at once)."""
    if pause_at and pause_at not in PAUSE_POINTS:
        raise ValueError(f"unknown pause point {pause_at!r}; expected one of {PAUSE_POINTS}")
    process = context.Process(
        target=run_stage, name=f"samen-{stage}",
        args=(str(config_path), stage, as_of.isoformat(), str(signal_dir or ""), pause_at))
    process.start()
    return process


def _install_pause(folder: Path, point: str, hold: float) -> None:
    """Make this process stop at a point: create the signal file, then sleep."""

    def pause() -> None:
        (folder / point).touch()
        time.sleep(hold)

    if point in ("save-half", "save-written"):
        original_save = Workbook.save

        def slow_save(book: Workbook, filename: str) -> None:
            buffer = io.BytesIO()
            original_save(book, buffer)
            data = buffer.getvalue()
            with open(filename, "wb") as handle:
                handle.write(data[: len(data) // 2])
                handle.flush()
                if point == "save-half":
                    pause()
                handle.write(data[len(data) // 2:])
            if point == "save-written":
                pause()

        Workbook.save = slow_save
        return
    owner, name = _AFTER[point]
    original = getattr(owner, name)

    @wraps(original)
    def paused(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        pause()
        return result

    setattr(owner, name, paused)
