"""The demo programme replayed in this process with the stage functions (no Prefect), timed.

Does what `samen.demo.runner.run_demo` does, step by step, but calls `run_intake`,
`run_selection`, ... directly, so that each flow's own work and its I/O can be timed apart from
Prefect. The benchmarks of the idle run and of the demo share it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import Phases, clock

# What a step's time is spent on (targets patched by bench.common.Phases).
BREAKDOWN: dict[str, tuple[str, ...]] = {
    "workbook read (lock, openpyxl load)": ("samen.gateways.sheets.workbook:WorkbookSheets.open_tabs",),
    "workbook save (openpyxl, fsync, rename)": ("samen.gateways.sheets.workbook:save_atomically",),
    "store open (engine, migration check)": ("samen.testing.programme:build_store",),
    "validation (pandera)": ("samen.schemas.form:validate_form",
                             "samen.stages.invitations:validate_meetings",
                             "samen.stages.attendance:validate_meetings"),
    "render+build messages": ("samen.stages.delivery:prepare",),
    "send (outbox files + ledger commits)": ("samen.stages.delivery:send_pending",),
    "ledger record": ("samen.gateways.store.ledger:Ledger.record",),
    "ledger reads (entries)": ("samen.gateways.store.ledger:Ledger.entries",),
    "manifest": ("samen.stages.messaging:write_manifest",),
    "human edits (openpyxl load+save)": ("samen.testing.workbooks:edit_cells",
                                         "samen.testing.workbooks:tab_rows",
                                         "samen.gateways.sheets.workbook:WorkbookSheets.write_blocks"),
}
# The human-edit helpers call these too; subtract nothing, the categories are reported apart.


@dataclass
class Step:
    """One step of the replay: a flow run or a human action."""

    label: str
    flow: str  # intake, selection, invitations, attendance, or "" for a human action
    wall: float
    cpu: float
    messages: int = 0
    breakdown: dict[str, float] = field(default_factory=dict)


@dataclass
class Replay:
    """The replayed demo: its folder, config, and the timed steps."""

    folder: Path
    config: Any
    steps: list[Step] = field(default_factory=list)


def replay(folder: Path) -> Replay:
    """Seed the demo in folder and replay the whole programme; return the timed steps."""
    from samen.config import load_config
    from samen.demo.programme import calendar
    from samen.demo.runner import (
        CONFIG,
        act,
        add_approvals,
        apply_delfshaven_edit,
        fill_decisions,
        seed_demo,
        seed_meetings,
    )
    from samen.stages.attendance import run_attendance
    from samen.stages.intake import run_intake
    from samen.stages.invitations import run_invitations
    from samen.stages.selection import run_selection
    from samen.testing.programme import run

    targets = sorted({t for ts in BREAKDOWN.values() for t in ts})
    result = Replay(folder, None)
    with Phases(targets) as phases:

        def timed(label: str, flow: str, action: Callable[[], Any]) -> Any:
            phases.reset()
            with clock() as c:
                out = action()
            breakdown = {name: sum(phases.seconds(t) for t in ts) for name, ts in BREAKDOWN.items()}
            if flow:  # a flow's workbook writes are its own, not a human edit
                breakdown["human edits (openpyxl load+save)"] = 0.0
            result.steps.append(Step(label, flow, c.wall, c.cpu, getattr(out, "messages_sent", 0),
                                     breakdown))
            return out

        timed("seed workbook", "", lambda: seed_demo(folder))
        config = load_config(folder / CONFIG)
        result.config = config

        def flow(name: str, stage: Any, day: str) -> None:
            timed(f"{day} {name}", name, lambda: run(config, stage, date.fromisoformat(day)))

        flow("intake", run_intake, "2022-10-31")
        timed("edit Delfshaven response", "", lambda: apply_delfshaven_edit(folder))
        flow("intake", run_intake, "2022-11-01")
        timed("fill decisions", "", lambda: fill_decisions(folder))
        flow("selection", run_selection, "2022-11-25")
        timed("add approvals", "", lambda: add_approvals(folder))
        flow("selection", run_selection, "2022-11-28")
        timed("seed meetings", "", lambda: seed_meetings(folder))
        p = config.programme
        for step in calendar(p.invite_days_before, p.reminder_days_before):
            if step.action in ("move", "excuse", "attend"):
                timed(f"{step.day} {step.action} {step.nr}", "", functools.partial(act, folder, step))
            if step.action in ("invite", "move"):
                flow("invitations", run_invitations, step.day.isoformat())
            elif step.action == "attend":
                flow("attendance", run_attendance, step.day.isoformat())
    return result


_CACHE: dict[str, Replay] = {}


def replayed(folder: Path) -> Replay:
    """Return the replay of this process (done once; later callers get the same folder)."""
    if "demo" not in _CACHE:
        _CACHE["demo"] = replay(folder)
    return _CACHE["demo"]
