"""`samen doctor` says what is right and what is wrong, without running anything."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from samen.cli import app
from samen.demo.runner import seed_demo
from samen.testing.workbooks import edit_cells, tab_rows


def test_doctor_on_a_fresh_demo(tmp_path: Path) -> None:
    """A seeded demo passes every check; the tabs intake creates are reported as still missing."""
    seed_demo(tmp_path)
    result = CliRunner().invoke(app, ["doctor", "--config", str(tmp_path / "samen.toml")])
    assert result.exit_code == 0, result.output
    assert "ok   tabblad 'Formulierreacties 1': 44 rijen" in result.output
    assert "'Beoordeling' ontbreekt nog" in result.output
    assert "Alles in orde." in result.output


def test_doctor_names_a_renamed_question(tmp_path: Path) -> None:
    """A renamed question is reported with the missing header and exit code 1."""
    seed_demo(tmp_path)
    book = tmp_path / "programma-samen.xlsx"
    header = tab_rows(book, "Formulierreacties 1")[0]
    edit_cells(book, "Formulierreacties 1", {(1, header.index("Website") + 1): "Site"})
    result = CliRunner().invoke(app, ["doctor", "--config", str(tmp_path / "samen.toml")])
    assert result.exit_code == 1
    assert "FOUT tabblad 'Formulierreacties 1'" in result.output and "'Website'" in result.output


def test_doctor_reports_a_bad_setting(tmp_path: Path) -> None:
    """A wrong setting is reported with its key."""
    (tmp_path / "samen.toml").write_text("[programme]\nkern_capacity = -1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--config", str(tmp_path / "samen.toml")])
    assert result.exit_code == 1 and "programme.kern_capacity" in result.output


def test_doctor_smtp_without_password(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SMTP with a login but no password secret is reported, naming the variable to set."""
    seed_demo(tmp_path)
    monkeypatch.delenv("SAMEN_SMTP_PASSWORD", raising=False)
    with (tmp_path / "samen.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[mail.smtp]\nhost = "smtp.example.org"\nusername = "samen"\n')
    text = (tmp_path / "samen.toml").read_text(encoding="utf-8")
    (tmp_path / "samen.toml").write_text(text.replace('backend = "outbox"', 'backend = "smtp"'),
                                         encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--config", str(tmp_path / "samen.toml")])
    assert result.exit_code == 1 and "SAMEN_SMTP_PASSWORD" in result.output
