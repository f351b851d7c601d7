"""Prefect artifacts of a run: counts, ids and ledger keys, never people's data."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger("samen.artifacts")


def in_flow_run() -> bool:
    """Tell whether the code runs inside a Prefect flow run."""
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def publish_summary(stage: str, counts: Mapping[str, Any]) -> None:
    """Publish a markdown artifact with the run's counts (inside a flow run only)."""
    if not in_flow_run():
        return
    from prefect.artifacts import create_markdown_artifact

    lines = [f"# {stage}", "", "| wat | aantal |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in counts.items()]
    create_markdown_artifact("\n".join(lines), key=f"samen-{stage}", description=f"samen {stage}")


def publish_table(stage: str, rows: Sequence[Mapping[str, str]]) -> None:
    """Publish the run's manifest as a table artifact (ledger keys instead of addresses)."""
    if not rows or not in_flow_run():
        return
    from prefect.artifacts import create_table_artifact

    create_table_artifact([dict(r) for r in rows], key=f"samen-{stage}-berichten",
                          description=f"samen {stage}: berichten van deze run")
