"""Configuration: the embedded default, file overrides, and errors that name the key and the fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from samen.config import CONFIG_ENV, ConfigError, load_config
from samen.secret_refs import SecretMissingError, read_secret

SMTP_KEYS = ("mail.smtp.password_env", "mail.smtp.password_block")


@pytest.fixture(autouse=True)
def no_config_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run every test without $SAMEN_CONFIG, in an empty working directory."""
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


def write_config(folder: Path, text: str) -> Path:
    """Write text as samen.toml in folder (created) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "samen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(folder: Path, text: str) -> str:
    """Return the ConfigError message that loading text as samen.toml raises."""
    with pytest.raises(ConfigError) as err:
        load_config(write_config(folder, text))
    return str(err.value)


def test_embedded_default_loads(tmp_path: Path) -> None:
    """With no file, the embedded default loads with paths taken from the working directory."""
    config = load_config()
    assert config.source == "ingebouwde standaardinstelling"
    assert config.programme.kern_capacity == 7
    assert config.programme.closing_date == date(2022, 10, 30)
    assert config.programme.zone.key == "Europe/Amsterdam"
    assert config.sheets_backend == "workbook" and config.mail.backend == "outbox"
    assert config.workbook.path == tmp_path / "var/demo/programma-samen.xlsx"
    assert config.store_url == f"sqlite:///{tmp_path / 'var/demo/samen.db'}"
    assert config.tabs["form"] == "Formulierreacties 1"
    assert config.questions["submitted_at"] == "Tijdstempel"


def test_file_overrides_and_relative_paths(tmp_path: Path) -> None:
    """A file overrides only its keys; relative paths resolve against the file's folder."""
    folder = tmp_path / "conf"
    path = write_config(folder, """
[programme]
kern_capacity = 9
coordinators = ["Anna@Example.org", "anna@example.org", "bob@example.org"]

[sheets.workbook]
path = "data/samen.xlsx"
lock_timeout_seconds = 2.5

[mail.outbox]
path = "/srv/outbox"

[store]
url = "sqlite:///db/samen.db"
""")
    config = load_config(path)
    assert config.source == str(path)
    assert config.programme.kern_capacity == 9
    assert config.programme.approvals_needed == 2  # untouched default
    assert config.programme.coordinators == ("anna@example.org", "bob@example.org")
    assert config.workbook.path == folder.resolve() / "data/samen.xlsx"
    assert config.workbook.lock_timeout_seconds == 2.5
    assert config.mail.outbox_path == Path("/srv/outbox")
    assert config.store_url == f"sqlite:///{folder.resolve() / 'db/samen.db'}"


def test_postgres_url_is_kept(tmp_path: Path) -> None:
    """A PostgreSQL store URL passes through unchanged."""
    url = "postgresql+psycopg://samen@db.example.org:5432/samen"
    config = load_config(write_config(tmp_path, f'[store]\nurl = "{url}"\n'))
    assert config.store_url == url


def test_config_env_used_when_no_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$SAMEN_CONFIG names the file when no path is passed; an explicit path wins."""
    from_env = write_config(tmp_path / "env", "[programme]\nkern_capacity = 3\n")
    monkeypatch.setenv(CONFIG_ENV, str(from_env))
    assert load_config().programme.kern_capacity == 3
    assert load_config().source == str(from_env)
    explicit = write_config(tmp_path / "arg", "[programme]\nkern_capacity = 4\n")
    assert load_config(explicit).programme.kern_capacity == 4


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    """A misspelt key is refused with its full name and a did-you-mean suggestion."""
    message = config_error(tmp_path, "[programme]\nkern_capacty = 7\n")
    assert "'programme.kern_capacty'" in message
    assert "Did you mean 'programme.kern_capacity'?" in message


def test_unknown_table_suggests_the_right_one(tmp_path: Path) -> None:
    """A misspelt table name is refused with a suggestion too."""
    message = config_error(tmp_path, "[programm]\nkern_capacity = 7\n")
    assert "'programm'" in message and "Did you mean 'programme'?" in message


def test_scalar_where_table_expected(tmp_path: Path) -> None:
    """A plain value where a table belongs names the table to write."""
    message = config_error(tmp_path, 'store = "sqlite:///x.db"\n')
    assert "'store'" in message and "[store]" in message


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    """Text where a whole number belongs names the key, the range and the value."""
    message = config_error(tmp_path, '[programme]\nkern_capacity = "zeven"\n')
    assert "'programme.kern_capacity'" in message
    assert "whole number from 0 to 10000" in message and "'zeven'" in message


def test_boolean_is_not_a_number(tmp_path: Path) -> None:
    """true is refused for a number setting (bool is an int in Python)."""
    message = config_error(tmp_path, "[programme]\napprovals_needed = true\n")
    assert "'programme.approvals_needed'" in message and "True" in message


def test_bad_time_zone(tmp_path: Path) -> None:
    """An unknown time zone names the key, the value and a valid example."""
    message = config_error(tmp_path, '[programme]\ntimezone = "Europe/Amsterdm"\n')
    assert "'programme.timezone'" in message
    assert "'Europe/Amsterdm'" in message and "Europe/Amsterdam" in message


def test_bad_coordinator_email(tmp_path: Path) -> None:
    """A coordinator that is not an e-mail address is named with the key."""
    message = config_error(
        tmp_path, '[programme]\ncoordinators = ["a@example.org", "geen-adres"]\n'
    )
    assert "'programme.coordinators'" in message and "'geen-adres'" in message
    assert "e-mail address" in message


def test_bad_sender_email(tmp_path: Path) -> None:
    """A sender address without a domain is refused with its key."""
    message = config_error(tmp_path, '[mail]\nfrom_address = "samen@localhost"\n')
    assert "'mail.from_address'" in message and "'samen@localhost'" in message


def test_reminder_must_come_before_invitation(tmp_path: Path) -> None:
    """reminder_days_before >= invite_days_before names both settings and the values."""
    message = config_error(
        tmp_path, "[programme]\ninvite_days_before = 14\nreminder_days_before = 14\n"
    )
    assert "'programme.reminder_days_before'" in message
    assert "'programme.invite_days_before' (14)" in message
    assert "smaller" in message


def test_datetime_is_not_a_date(tmp_path: Path) -> None:
    """A TOML date-time for closing_date is refused (it would break date comparisons)."""
    message = config_error(tmp_path, "[programme]\nclosing_date = 2022-10-30T12:00:00\n")
    assert "'programme.closing_date'" in message and "2022-10-30" in message


def test_missing_file_names_path_and_fix(tmp_path: Path) -> None:
    """A configuration file that does not exist names the path and both ways to fix it."""
    missing = tmp_path / "nergens.toml"
    with pytest.raises(ConfigError) as err:
        load_config(missing)
    message = str(err.value)
    assert str(missing) in message
    assert "--config" in message and CONFIG_ENV in message


def test_missing_file_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A $SAMEN_CONFIG pointing nowhere is an error, not a silent fallback to the default."""
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "weg.toml"))
    with pytest.raises(ConfigError, match=r"weg\.toml"):
        load_config()


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    """A file that is not TOML names the file and the line of the mistake."""
    message = config_error(tmp_path, "[programme]\nkern_capacity 7\n")
    assert "samen.toml" in message and "not valid TOML" in message
    assert "line 2" in message


def test_bad_store_url_scheme_hides_password(tmp_path: Path) -> None:
    """A store URL of another database names the key and the allowed schemes, not the password."""
    message = config_error(tmp_path, '[store]\nurl = "mysql://samen:hunter2@db/samen"\n')
    assert "'store.url'" in message
    assert "sqlite:///" in message and "postgresql+psycopg://" in message
    assert "hunter2" not in message


def test_bad_choice_lists_choices(tmp_path: Path) -> None:
    """An unknown backend lists the backends there are."""
    message = config_error(tmp_path, '[sheets]\nbackend = "excel"\n')
    assert "'sheets.backend'" in message and "workbook, google" in message


def test_read_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret in the named environment variable is returned as is."""
    monkeypatch.setenv("SAMEN_TEST_SMTP_PASSWORD", "s3cr3t wachtwoord")
    got = read_secret("SAMEN_TEST_SMTP_PASSWORD", "", "SMTP password", SMTP_KEYS)
    assert got == "s3cr3t wachtwoord"


def test_missing_secret_names_variable_and_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing secret names the variable and both settings, and shows no secret value."""
    monkeypatch.setenv("SAMEN_TEST_SMTP_PASSWORD", "")
    monkeypatch.setenv("SAMEN_GOOGLE_SERVICE_ACCOUNT_JSON", '{"private_key": "geheim-123"}')
    with pytest.raises(SecretMissingError) as err:
        read_secret("SAMEN_TEST_SMTP_PASSWORD", "", "SMTP password", SMTP_KEYS)
    message = str(err.value)
    assert "'SAMEN_TEST_SMTP_PASSWORD'" in message and "SMTP password" in message
    assert "mail.smtp.password_env" in message and "mail.smtp.password_block" in message
    assert "geheim-123" not in message


def test_missing_secret_without_variable() -> None:
    """With neither a variable nor a block configured the message says none is configured."""
    with pytest.raises(SecretMissingError, match=r"\(none configured\)"):
        read_secret("", "", "SMTP password", SMTP_KEYS)
