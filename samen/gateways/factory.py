"""Build the gateways a run needs from the configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from samen.config import Config
from samen.gateways.mail import MailGateway
from samen.gateways.mail.outbox import OutboxMail
from samen.gateways.sheets.base import SheetsError, SheetsGateway
from samen.gateways.store import Store
from samen.secret_refs import SecretMissingError, read_secret


def build_mail(config: Config) -> MailGateway:
    """Return the configured mail backend (the outbox unless SMTP is configured)."""
    if config.mail.backend == "outbox":
        return OutboxMail(config.mail.outbox_path)
    from samen.gateways.mail.smtp import SmtpMail

    smtp = config.mail.smtp
    if not smtp.host:
        raise SecretMissingError(
            "Setting 'mail.smtp.host' is empty while mail.backend is 'smtp'; set the SMTP "
            "server's host name, or set mail.backend = \"outbox\"."
        )
    password = None
    if smtp.username:
        password = read_secret(smtp.password_env, smtp.password_block, "SMTP password",
                               ("mail.smtp.password_env", "mail.smtp.password_block"))
    return SmtpMail(smtp, password)


def build_store(config: Config) -> Store:
    """Return the store, migrated to the newest schema."""
    store = Store(config.store_url)
    store.migrate()
    return store


def build_sheets(config: Config) -> SheetsGateway:
    """Return the configured sheets backend."""
    if config.sheets_backend == "workbook":
        from samen.gateways.sheets.workbook import WorkbookSheets

        return WorkbookSheets(config.workbook.path, lock_timeout=config.workbook.lock_timeout_seconds)
    from samen.gateways.sheets.google import GoogleSheets

    g = config.google
    if not g.spreadsheet_key:
        raise SheetsError(
            "Setting 'sheets.google.spreadsheet_key' is empty; set it to the id in the sheet's "
            "address (https://docs.google.com/spreadsheets/d/<id>/edit)."
        )
    return GoogleSheets(
        g.spreadsheet_key, google_credentials(config), api_base=g.api_base,
        timeout=g.timeout_seconds, max_attempts=g.max_attempts,
    )


def google_credentials(config: Config) -> Any:
    """Return service-account credentials from the configured secret reference."""
    g = config.google
    if g.api_base and not (g.credentials_block or (g.credentials_env and _env_set(g.credentials_env))):
        # A local Sheets API double (tests, benchmarks) needs no Google account.
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    text = read_secret(
        g.credentials_env, g.credentials_block, "Google service-account JSON",
        ("sheets.google.credentials_env", "sheets.google.credentials_block"),
    )
    if not text.lstrip().startswith("{") and Path(text).is_file():
        text = Path(text).read_text(encoding="utf-8")
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        raise SheetsError(
            "The Google service-account secret is neither JSON nor a path to a JSON file; store "
            "the key file's contents (or its path) in the configured variable or block."
        ) from None
    from samen.gateways.sheets.google import credentials_from_service_account_info

    return credentials_from_service_account_info(info)


def _env_set(name: str) -> bool:
    import os

    return bool(os.environ.get(name))
