"""Report flow (weekly): write the programme report for the coordinators (an HTML page)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from samen.alerts import notify_failure
from samen.config import load_config
from samen.gateways.factory import build_sheets, build_store
from samen.runtime import parse_as_of
from samen.stages.report import run_report


@flow(name="report", log_prints=False, on_failure=[notify_failure])
def report(
    config_path: str | None = None, as_of: str | None = None, out: str | None = None
) -> dict[str, object]:
    """Write report.html (default: beside the outbox) from the store and the open signals."""
    config = load_config(config_path)
    day = parse_as_of(as_of, config)
    path = Path(out) if out else config.mail.outbox_path.parent / "report.html"
    # Only the store and the sheet: a report needs no mail settings or SMTP secrets.
    store = build_store(config)
    try:
        sheets = build_sheets(config)
        try:
            summary = run_report(config, sheets=sheets, store=store, as_of=day, out=path)
        finally:
            sheets.close()
    finally:
        store.close()
    return summary.as_dict()
