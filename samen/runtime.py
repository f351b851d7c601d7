"""What every flow does around its stage: load the configuration, open and close the gateways."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from samen.config import Config, ConfigError
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.gateways.mail import MailGateway
from samen.gateways.sheets.base import SheetsGateway
from samen.gateways.store import Store


@dataclass
class Gateways:
    """The open gateways of one run."""

    sheets: SheetsGateway
    store: Store
    mail: MailGateway


@contextmanager
def open_gateways(config: Config) -> Iterator[Gateways]:
    """Open the store and the sheets backend; close both whatever happens."""
    store = build_store(config)
    try:
        sheets = build_sheets(config)
        try:
            yield Gateways(sheets=sheets, store=store, mail=build_mail(config))
        finally:
            sheets.close()
    finally:
        store.close()


def parse_as_of(value: str | date | None, config: Config) -> date:
    """Return the day the run takes as today: the ISO date given, else today in the programme's zone."""
    if value is None or value == "":
        return datetime.now(config.programme.zone).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--as-of {value!r} is not an ISO date; write it like 2023-03-27.") from None


def prepare_prefect_env(workdir: Path | None = None) -> None:
    """Point Prefect at var/prefect (unless PREFECT_HOME is set) before Prefect is imported."""
    base = workdir or Path.cwd()
    os.environ.setdefault("PREFECT_HOME", str(base / "var" / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
