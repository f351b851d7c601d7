"""Intake flow: read new form responses, validate them, route them to review or correction."""

from __future__ import annotations

from prefect import flow

from samen.alerts import notify_failure
from samen.artifacts import publish_summary
from samen.config import load_config
from samen.runtime import open_gateways, parse_as_of
from samen.stages.intake import run_intake


@flow(name="intake", log_prints=False, on_failure=[notify_failure])
def intake(
    config_path: str | None = None, as_of: str | None = None, dry_run: bool = False
) -> dict[str, object]:
    """Read the form tab once, record new or edited responses, and update review and corrections."""
    config = load_config(config_path)
    day = parse_as_of(as_of, config)
    with open_gateways(config) as gw:
        summary = run_intake(
            config, sheets=gw.sheets, store=gw.store, mail=gw.mail, as_of=day, dry_run=dry_run
        )
    publish_summary("intake", summary.as_dict())
    return summary.as_dict()
