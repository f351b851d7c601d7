"""Invitations flow (daily): announce meetings, send changes, cancellations and reminders once."""

from __future__ import annotations

from prefect import flow

from samen.alerts import notify_failure
from samen.artifacts import publish_summary
from samen.config import load_config
from samen.runtime import open_gateways, parse_as_of
from samen.stages.invitations import run_invitations


@flow(name="invitations", log_prints=False, on_failure=[notify_failure])
def invitations(
    config_path: str | None = None, as_of: str | None = None, dry_run: bool = False
) -> dict[str, object]:
    """Invite, remind, and announce changes and cancellations of meetings, each message once."""
    config = load_config(config_path)
    day = parse_as_of(as_of, config)
    with open_gateways(config) as gw:
        summary = run_invitations(
            config, sheets=gw.sheets, store=gw.store, mail=gw.mail, as_of=day, dry_run=dry_run
        )
    publish_summary("invitations", summary.as_dict())
    return summary.as_dict()
