"""The intake flow and `samen demo` as real Prefect flow runs (one session-scoped server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from samen.cli import app
from samen.config import load_config
from samen.demo.runner import CONFIG, WORKBOOK, run_demo
from samen.demo.seed import EXPECTED
from samen.testing.workbooks import records, tab_rows

pytestmark = pytest.mark.usefixtures("prefect_server")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file of the demo folder but the store's, by name."""
    return {
        p.name: p.read_bytes() for p in folder.iterdir()
        if p.is_file() and not p.name.startswith("samen.db")
    }


def test_demo_twice(tmp_path: Path) -> None:
    """The demo seeds 44 rows, routes them, and a second demo changes no file but the store."""
    folder = tmp_path / "demo"
    lines: list[str] = []
    run_demo(folder, echo=lines.append)
    book = folder / WORKBOOK
    assert len(tab_rows(book, "Formulierreacties 1")) == 45
    review = records(tab_rows(book, "Beoordeling"))
    assert len(review) == len({r["Aanmelding"] for r in review}) == EXPECTED["applications_after_edit"]
    open_rows = [r for r in records(tab_rows(book, "Te corrigeren")) if r["Status"] == "open"]
    assert len(open_rows) == EXPECTED["invalid_rows_after_edit"]
    before = snapshot(folder)
    run_demo(folder, echo=lines.append)
    assert snapshot(folder) == before
    assert any("niets opnieuw gezaaid" in line for line in lines)


def test_cli_run_intake_and_dry_run(tmp_path: Path) -> None:
    """`samen run intake --dry-run` plans without writing; `samen run intake` then writes."""
    folder = tmp_path / "demo"
    from samen.demo.runner import seed_demo

    seed_demo(folder)
    config = str(folder / CONFIG)
    runner = CliRunner()
    dry = runner.invoke(app, ["run", "intake", "--config", config, "--dry-run", "--as-of", "2022-11-01"])
    assert dry.exit_code == 0, dry.output
    assert '"dry_run": true' in dry.output
    assert len(tab_rows(folder / WORKBOOK, "Formulierreacties 1")) == 45
    assert "Beoordeling" not in __import__("openpyxl").load_workbook(folder / WORKBOOK).sheetnames
    real = runner.invoke(app, ["run", "intake", "--config", config])
    assert real.exit_code == 0, real.output
    assert len(records(tab_rows(folder / WORKBOOK, "Beoordeling"))) == EXPECTED["applications"]
    assert load_config(config).store_url.endswith("samen.db")


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    """A bad --as-of and a missing workbook end with a message, not a traceback."""
    runner = CliRunner()
    bad_day = runner.invoke(app, ["run", "intake", "--as-of", "27-03-2023"])
    assert bad_day.exit_code == 2 and "2023-03-27" in bad_day.output
    (tmp_path / "samen.toml").write_text('[sheets.workbook]\npath = "geen.xlsx"\n', encoding="utf-8")
    missing = runner.invoke(app, ["run", "intake", "--config", str(tmp_path / "samen.toml")])
    assert missing.exit_code == 2 and "geen.xlsx" in missing.output and "samen demo" in missing.output
