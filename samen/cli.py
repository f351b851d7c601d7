"""The `samen` command: run a stage as a Prefect flow run, check the setup, or run the demo."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from samen.runtime import prepare_prefect_env

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
STAGES = ("intake", "selection", "invitations", "attendance", "report")

ConfigOption = Annotated[
    str | None, typer.Option("--config", help="samen.toml (default: $SAMEN_CONFIG, else built in).")
]


def fail(message: str) -> None:
    """Print an error the way Click does and stop with exit code 2."""
    typer.echo(f"Fout: {message}", err=True)
    raise typer.Exit(code=2)


def known_errors() -> tuple[type[BaseException], ...]:
    """Return the errors that are infrastructure or input problems, not bugs."""
    from samen.config import ConfigError
    from samen.gateways.mail import MailError
    from samen.gateways.sheets.base import SheetsError
    from samen.gateways.store import StoreError
    from samen.secret_refs import SecretMissingError

    return (ConfigError, SheetsError, StoreError, SecretMissingError, MailError)


@app.command()
def run(
    stage: Annotated[str, typer.Argument(help=f"One of: {', '.join(STAGES)}.")],
    config: ConfigOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day to take as today (2023-03-27).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan everything, change nothing.")] = False,
) -> None:
    """Run one stage as a Prefect flow run."""
    if stage not in STAGES:
        fail(f"unknown stage {stage!r}; choose one of: {', '.join(STAGES)}.")
    from samen.flows.attendance import attendance
    from samen.flows.intake import intake
    from samen.flows.invitations import invitations
    from samen.flows.report import report
    from samen.flows.selection import selection

    flows: dict[str, Any] = {"intake": intake, "selection": selection,
                             "invitations": invitations, "attendance": attendance,
                             "report": report}
    try:
        # The report sends and records nothing, so it has no dry run.
        options = {} if stage == "report" else {"dry_run": dry_run}
        result = flows[stage](config_path=config, as_of=as_of, **options)
    except known_errors() as exc:
        fail(str(exc))
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check the configuration, tabs, headers, store and mail settings; say what is wrong."""
    from samen.doctor import run_doctor

    problems = run_doctor(config, echo=typer.echo)
    if problems:
        typer.echo(f"{problems} probleem/problemen gevonden.", err=True)
        raise typer.Exit(code=1)
    typer.echo("Alles in orde.")


@app.command()
def demo(
    dir: Annotated[Path, typer.Option("--dir", help="Folder of the demo programme.")] = Path("var/demo"),
) -> None:
    """Create (once) and run the demo programme: a workbook of 44 submissions, then the flows."""
    from samen.demo.runner import run_demo

    try:
        run_demo(dir, echo=typer.echo)
    except known_errors() as exc:
        fail(str(exc))


@app.command()
def preview(
    kind: Annotated[str, typer.Argument(help="Message kind, e.g. uitnodiging or ontvangstbevestiging.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML body to this file.")] = None,
) -> None:
    """Render one message kind with example data: print its subject, text and HTML (or --out path)."""
    from samen.rendering import Renderer, example_context

    try:
        rendered = Renderer().render(kind, example_context(kind))
    except ValueError as exc:
        fail(str(exc))
        return
    typer.echo(f"Onderwerp: {rendered.subject}\n")
    typer.echo(rendered.text)
    if out is None:
        typer.echo(rendered.html)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered.html, encoding="utf-8")
    typer.echo(f"HTML: {out}")


# --- anonymise (issue "Reliability and security", item 5) ---------------------------------------
@app.command()
def anonymise(
    before: Annotated[str, typer.Option(
        "--before", help="Anonymise what was last active before this day (2025-01-01).")],
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would change.")] = False,
) -> None:
    """Replace the personal data of applications last active before a day with placeholders."""
    from datetime import date, datetime

    from samen.config import load_config
    from samen.gateways.factory import build_sheets, build_store
    from samen.stages.anonymise import run_anonymise

    try:
        day = date.fromisoformat(before)
    except ValueError:
        fail(f"--before {before!r} is not an ISO date; write it like 2025-01-01.")
        return
    try:
        settings = load_config(config)
        if day > datetime.now(settings.programme.zone).date():
            fail(f"--before {before} is in the future; anonymise only what is past its retention "
                 "period, e.g. --before 2025-01-01.")
        store = build_store(settings)
        try:
            sheets = build_sheets(settings)
            try:
                summary = run_anonymise(settings, sheets=sheets, store=store, before=day,
                                        dry_run=dry_run)
            finally:
                sheets.close()
        finally:
            store.close()
    except known_errors() as exc:
        fail(str(exc))
        return
    typer.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
# --- end anonymise ------------------------------------------------------------------------------


@app.command()
def serve(
    project: Annotated[Path, typer.Option("--project", help="Folder with prefect.yaml.")] = Path("."),
) -> None:
    """Serve every deployment of prefect.yaml with its schedule in this one process."""
    from samen.schedules import serve_all

    try:
        serve_all(project)
    except known_errors() as exc:
        fail(str(exc))


def main() -> None:
    """Entry point of the `samen` console script."""
    prepare_prefect_env()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    app()


if __name__ == "__main__":
    main()
