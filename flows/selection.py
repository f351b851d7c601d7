"""Selection flow: check the coordinators' decisions, track approval, send decision letters."""

from __future__ import annotations

from prefect import flow

from samen.alerts import notify_failure
from samen.artifacts import publish_summary
from samen.config import load_config
from samen.runtime import open_gateways, parse_as_of
from samen.stages.selection import run_selection


@flow(name="selection", log_prints=False, on_failure=[notify_failure])
def selection(
    config_path: str | None = None, as_of: str | None = None, dry_run: bool = False
) -> dict[str, object]:
    """Check decisions and approvals; on approval write the register and send the letters once."""
    config = load_config(config_path)
    day = parse_as_of(as_of, config)
    with open_gateways(config) as gw:
        summary = run_selection(
            config, sheets=gw.sheets, store=gw.store, mail=gw.mail, as_of=day, dry_run=dry_run
        )
    publish_summary("selection", summary.as_dict())
    return summary.as_dict()
