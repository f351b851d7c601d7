"""Configuration: one file `samen.toml`, merged over the embedded defaults and checked at start.

Secrets are never in the file: it names an environment variable or a Prefect Secret block.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CONFIG_ENV = "SAMEN_CONFIG"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A wrong or missing setting; the message names the key, the value and the fix."""


@dataclass(frozen=True)
class ProgrammeConfig:
    """The programme the pipeline runs."""

    name: str
    id_prefix: str
    timezone: str
    language: str
    closing_date: date
    form_link: str
    coordinators: tuple[str, ...]
    approvals_needed: int
    kern_capacity: int
    invite_days_before: int
    reminder_days_before: int
    retention_months: int

    @property
    def zone(self) -> ZoneInfo:
        """Return the programme's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class WorkbookConfig:
    """The local .xlsx backend."""

    path: Path
    lock_timeout_seconds: float


@dataclass(frozen=True)
class GoogleConfig:
    """The Google Sheets backend; credentials by reference only."""

    spreadsheet_key: str
    credentials_env: str
    credentials_block: str
    timeout_seconds: float
    max_attempts: int
    api_base: str | None = None


@dataclass(frozen=True)
class SmtpConfig:
    """The SMTP backend; the password by reference only."""

    host: str
    port: int
    security: str
    username: str
    password_env: str
    password_block: str
    timeout_seconds: float


@dataclass(frozen=True)
class MailConfig:
    """Sender identity, daily cap and the chosen backend."""

    backend: str
    from_address: str
    from_name: str
    reply_to: str
    daily_cap: int
    calendar_method: str
    outbox_path: Path
    smtp: SmtpConfig


@dataclass(frozen=True)
class Config:
    """The whole configuration of one programme."""

    programme: ProgrammeConfig
    sheets_backend: str
    workbook: WorkbookConfig
    google: GoogleConfig
    mail: MailConfig
    store_url: str
    tabs: dict[str, str]
    questions: dict[str, str]
    source: str


def load_defaults() -> dict[str, Any]:
    """Return the embedded default settings as a dict."""
    text = resources.files("samen").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def resolve_config_path(path: str | os.PathLike[str] | None) -> Path | None:
    """Return the configuration file to use: the argument, else $SAMEN_CONFIG, else none."""
    if path:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load samen.toml (or the embedded default) and check every setting."""
    file = resolve_config_path(path)
    data = load_defaults()
    base = Path.cwd()
    source = "ingebouwde standaardinstelling"
    if file is not None:
        if not file.is_file():
            raise ConfigError(
                f"Configuration file '{file}' does not exist; pass an existing file with "
                f"--config or {CONFIG_ENV}, or leave both unset to use the embedded default."
            )
        try:
            user = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Configuration file '{file}' is not valid TOML: {exc}.") from exc
        merge_settings(data, user, prefix="")
        base = file.resolve().parent
        source = str(file)
    return build_config(data, base, source)


def merge_settings(into: dict[str, Any], user: dict[str, Any], prefix: str) -> None:
    """Merge user settings into the defaults; an unknown key is an error with a suggestion."""
    for key, value in user.items():
        name = f"{prefix}{key}"
        if key not in into:
            if prefix == "sheets.google." and key == "api_base":
                into[key] = value
                continue
            near = difflib.get_close_matches(key, list(into), n=1)
            hint = f" Did you mean '{prefix}{near[0]}'?" if near else ""
            raise ConfigError(f"Unknown setting '{name}' in samen.toml.{hint} See the README.")
        if isinstance(into[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"Setting '{name}' must be a table [{name}], got {value!r}.")
            merge_settings(into[key], value, prefix=f"{name}.")
        else:
            into[key] = value


def build_config(data: dict[str, Any], base: Path, source: str) -> Config:
    """Turn merged settings into a checked Config."""
    p = data["programme"]
    programme = ProgrammeConfig(
        name=want_str(p, "programme.name"),
        id_prefix=want_str(p, "programme.id_prefix"),
        timezone=want_zone(p, "programme.timezone"),
        language=want_choice(p, "programme.language", ("nl",)),
        closing_date=want_date(p, "programme.closing_date"),
        form_link=want_str(p, "programme.form_link"),
        coordinators=want_emails(p, "programme.coordinators"),
        approvals_needed=want_int(p, "programme.approvals_needed", 1, 10),
        kern_capacity=want_int(p, "programme.kern_capacity", 0, 10_000),
        invite_days_before=want_int(p, "programme.invite_days_before", 1, 365),
        reminder_days_before=want_int(p, "programme.reminder_days_before", 0, 365),
        retention_months=want_int(p, "programme.retention_months", 1, 240),
    )
    if programme.reminder_days_before >= programme.invite_days_before:
        raise ConfigError(
            "Setting 'programme.reminder_days_before' must be smaller than "
            f"'programme.invite_days_before' ({programme.invite_days_before}), got "
            f"{programme.reminder_days_before}."
        )
    s = data["sheets"]
    g = s["google"]
    m = data["mail"]
    smtp = m["smtp"]
    return Config(
        programme=programme,
        sheets_backend=want_choice(s, "sheets.backend", ("workbook", "google")),
        workbook=WorkbookConfig(
            path=want_path(s["workbook"], "sheets.workbook.path", base),
            lock_timeout_seconds=want_number(s["workbook"], "sheets.workbook.lock_timeout_seconds"),
        ),
        google=GoogleConfig(
            spreadsheet_key=str(g.get("spreadsheet_key", "")),
            credentials_env=str(g.get("credentials_env", "")),
            credentials_block=str(g.get("credentials_block", "")),
            timeout_seconds=want_number(g, "sheets.google.timeout_seconds"),
            max_attempts=want_int(g, "sheets.google.max_attempts", 1, 20),
            api_base=g.get("api_base") or None,
        ),
        mail=MailConfig(
            backend=want_choice(m, "mail.backend", ("outbox", "smtp")),
            from_address=want_email(m, "mail.from_address"),
            from_name=want_str(m, "mail.from_name"),
            reply_to=want_email(m, "mail.reply_to"),
            daily_cap=want_int(m, "mail.daily_cap", 1, 1_000_000),
            calendar_method=want_choice(m, "mail.calendar_method", ("PUBLISH", "REQUEST")),
            outbox_path=want_path(m["outbox"], "mail.outbox.path", base),
            smtp=SmtpConfig(
                host=str(smtp.get("host", "")),
                port=want_int(smtp, "mail.smtp.port", 1, 65535),
                security=want_choice(smtp, "mail.smtp.security", ("starttls", "ssl", "none")),
                username=str(smtp.get("username", "")),
                password_env=str(smtp.get("password_env", "")),
                password_block=str(smtp.get("password_block", "")),
                timeout_seconds=want_number(smtp, "mail.smtp.timeout_seconds"),
            ),
        ),
        store_url=want_store_url(data["store"], "store.url", base),
        tabs={k: want_str(data["tabs"], f"tabs.{k}") for k in data["tabs"]},
        questions={k: want_str(data["form"]["questions"], f"form.questions.{k}")
                   for k in data["form"]["questions"]},
        source=source,
    )


def _leaf(table: dict[str, Any], key: str) -> Any:
    return table[key.rsplit(".", 1)[-1]]


def want_str(table: dict[str, Any], key: str) -> str:
    """Return a non-empty string setting."""
    value = _leaf(table, key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"Setting '{key}' must be a non-empty text, got {value!r}; set it in samen.toml.")
    return value.strip()


def want_int(table: dict[str, Any], key: str, low: int, high: int) -> int:
    """Return a whole-number setting within [low, high]."""
    value = _leaf(table, key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"Setting '{key}' must be a whole number from {low} to {high}, got {value!r}.")
    return value


def want_number(table: dict[str, Any], key: str) -> float:
    """Return a positive number setting."""
    value = _leaf(table, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"Setting '{key}' must be a positive number of seconds, got {value!r}.")
    return float(value)


def want_choice(table: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    """Return a setting that must be one of choices."""
    value = _leaf(table, key)
    if value not in choices:
        raise ConfigError(f"Setting '{key}' must be one of {', '.join(choices)}; got {value!r}.")
    return str(value)


def want_date(table: dict[str, Any], key: str) -> date:
    """Return a date setting written as a TOML date (2022-10-30)."""
    value = _leaf(table, key)
    # A TOML date-time is a datetime (a date subclass) and would break comparisons with dates.
    if isinstance(value, datetime):
        raise ConfigError(
            f"Setting '{key}' must be a date like 2022-10-30 without a time, "
            f"got {value.isoformat()!r}."
        )
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"Setting '{key}' must be a date like 2022-10-30, got {value!r}.") from None


def want_zone(table: dict[str, Any], key: str) -> str:
    """Return an IANA time zone name."""
    value = want_str(table, key)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"Setting '{key}' must be a time zone such as Europe/Amsterdam, got {value!r}."
        ) from None
    return value


def want_email(table: dict[str, Any], key: str) -> str:
    """Return an e-mail address setting."""
    value = want_str(table, key)
    if not _EMAIL.match(value):
        raise ConfigError(f"Setting '{key}' must be an e-mail address, got {value!r}.")
    return value.lower()


def want_emails(table: dict[str, Any], key: str) -> tuple[str, ...]:
    """Return a non-empty list of distinct e-mail addresses."""
    value = _leaf(table, key)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"Setting '{key}' must be a list of e-mail addresses, got {value!r}.")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _EMAIL.match(item.strip()):
            raise ConfigError(f"Setting '{key}' holds {item!r}, which is not an e-mail address.")
        if item.strip().lower() not in out:
            out.append(item.strip().lower())
    return tuple(out)


def want_path(table: dict[str, Any], key: str, base: Path) -> Path:
    """Return a path setting, relative paths taken from the configuration's folder."""
    path = Path(want_str(table, key)).expanduser()
    return path if path.is_absolute() else base / path


def want_store_url(table: dict[str, Any], key: str, base: Path) -> str:
    """Return a SQLAlchemy URL; a relative SQLite path is taken from the configuration's folder."""
    url = want_str(table, key)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            return f"sqlite:///{base / rel}"
    if not url.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            f"Setting '{key}' must be a sqlite:/// or postgresql+psycopg:// URL, got {url.split('@')[-1]!r}."
        )
    return url
