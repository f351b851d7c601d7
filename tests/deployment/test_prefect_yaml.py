"""prefect.yaml: every entrypoint loads, schedules are right, failures alert the coordinators."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from samen.alerts import cause_of, send_failure_alert
from samen.config import load_config
from samen.demo.runner import seed_demo
from samen.schedules import read_deployments

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "intake": ("*/15 * * * *", "intake"),
    "selection": ("0 * * * *", "selection"),
    "invitations": ("0 9 * * *", "invitations"),
    "attendance": ("0 9 * * *", "attendance"),
    "report": ("0 8 * * 1", "report"),
}


def test_every_entrypoint_loads_a_flow() -> None:
    """Each deployment's entrypoint file exists and defines the flow it names."""
    specs = read_deployments(ROOT)
    assert sorted(s.name for s in specs) == sorted(EXPECTED)
    for spec in specs:
        path, _func = spec.entrypoint.split(":")
        assert (ROOT / path).is_file()
        flow = spec.load_flow()
        assert flow.name == EXPECTED[spec.name][1]
        assert "config_path" in flow.parameters.properties


def test_schedules_are_in_amsterdam_time() -> None:
    """Every deployment has its cron schedule in Europe/Amsterdam."""
    for spec in read_deployments(ROOT):
        assert spec.crons == ((EXPECTED[spec.name][0], "Europe/Amsterdam"),)


def test_failure_alert_once_a_day_per_cause(tmp_path: Path) -> None:
    """A failure mails each coordinator once per day per cause; another cause or day mails again."""
    seed_demo(tmp_path)
    config = load_config(tmp_path / "samen.toml")
    outbox = config.mail.outbox_path
    day = datetime(2023, 3, 1, 8, 0, tzinfo=UTC)
    assert send_failure_alert(config, "intake", "Tab 'X' has no column 'Gemeente' (row 12)", day)
    assert not send_failure_alert(config, "intake", "Tab 'X' has no column 'Gemeente' (row 13)", day)
    assert len(list(outbox.glob("*.eml"))) == len(config.programme.coordinators)
    assert send_failure_alert(config, "intake", "Workbook is in use", day)
    assert send_failure_alert(config, "intake", "Tab 'X' has no column 'Gemeente' (row 12)",
                              day.replace(day=2))
    assert len(list(outbox.glob("*.eml"))) == 3 * len(config.programme.coordinators)
    assert cause_of("row 12") == cause_of("row 13") != cause_of("other")


@pytest.mark.usefixtures("prefect_server")
def test_failed_flow_run_alerts(tmp_path: Path) -> None:
    """A flow run that fails (a renamed question) ends Failed and its hook mails the coordinators."""
    from samen.flows.intake import intake
    from samen.testing.workbooks import edit_cells, tab_rows

    seed_demo(tmp_path)
    config = load_config(tmp_path / "samen.toml")
    header = tab_rows(config.workbook.path, "Formulierreacties 1")[0]
    edit_cells(config.workbook.path, "Formulierreacties 1",
               {(1, header.index("Gemeente") + 1): "Woonplaats"})
    with pytest.raises(Exception, match="Gemeente"):
        intake(config_path=str(tmp_path / "samen.toml"))
    alerts = list(config.mail.outbox_path.glob("*.eml"))
    assert len(alerts) == len(config.programme.coordinators)
    assert "Storing" in alerts[0].read_text(encoding="utf-8", errors="replace")
