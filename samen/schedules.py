"""The deployments of prefect.yaml, for `samen serve` (one process) and for checks."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from samen.config import ConfigError


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment of prefect.yaml."""

    name: str
    entrypoint: str
    crons: tuple[tuple[str, str], ...]  # (cron, timezone)
    parameters: dict[str, Any]
    tags: tuple[str, ...]
    description: str

    def flow_module(self) -> str:
        """Return the importable module of the entrypoint (flows/intake.py -> samen.flows.intake)."""
        path = self.entrypoint.split(":", 1)[0]
        return "samen." + path.removesuffix(".py").replace("/", ".")

    def load_flow(self) -> Any:
        """Import and return the flow object of the entrypoint."""
        module = importlib.import_module(self.flow_module())
        return getattr(module, self.entrypoint.rsplit(":", 1)[1])


def read_deployments(project: Path) -> list[DeploymentSpec]:
    """Return the deployments declared in <project>/prefect.yaml."""
    path = project / "prefect.yaml"
    if not path.is_file():
        raise ConfigError(f"No prefect.yaml in '{project}'; run `samen serve` from the project "
                          "folder or pass --project.")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        DeploymentSpec(
            name=d["name"], entrypoint=d["entrypoint"],
            crons=tuple((s["cron"], s.get("timezone", "UTC")) for s in d.get("schedules") or ()),
            parameters=dict(d.get("parameters") or {}), tags=tuple(d.get("tags") or ()),
            description=d.get("description", ""),
        )
        for d in spec.get("deployments") or ()
    ]


def serve_all(project: Path) -> None:
    """Serve every deployment of prefect.yaml with its schedules in this process."""
    from prefect import serve
    from prefect.schedules import Cron

    deployments = [
        d.load_flow().to_deployment(
            name=d.name, schedules=[Cron(cron, timezone=tz) for cron, tz in d.crons],
            parameters=d.parameters, tags=list(d.tags), description=d.description)
        for d in read_deployments(project)
    ]
    serve(*deployments)
