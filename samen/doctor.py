"""`samen doctor`: check the setup step by step and say what is wrong and how to fix it."""

from __future__ import annotations

import os
from collections.abc import Callable

from samen.config import Config, ConfigError, load_config
from samen.domain.layouts import CORRECTIONS_HEADERS, REVIEW_HEADERS
from samen.domain.tabs import header_index
from samen.gateways.factory import build_sheets, build_store
from samen.gateways.sheets.base import SheetsError, TabSpec
from samen.gateways.store import StoreError, safe_url
from samen.secret_refs import SecretMissingError, read_secret

Echo = Callable[[str], None]


def run_doctor(config_path: str | None, echo: Echo) -> int:
    """Check everything; print one line per check; return the number of problems."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        echo(f"FOUT configuratie: {exc}")
        return 1
    echo(f"ok   configuratie: {config.source}")
    problems = 0
    problems += check_store(config, echo)
    problems += check_sheets(config, echo)
    problems += check_mail(config, echo)
    return problems


def check_store(config: Config, echo: Echo) -> int:
    """Check that the store opens and is migrated."""
    try:
        store = build_store(config)
        store.close()
    except StoreError as exc:
        echo(f"FOUT database: {exc}")
        return 1
    echo(f"ok   database: {safe_url(config.store_url)}")
    return 0


def check_sheets(config: Config, echo: Echo) -> int:
    """Check the form tab and its headers, and the pipeline's tabs (created on the first run)."""
    problems = 0
    tabs = config.tabs
    wanted = {
        tabs["form"]: tuple(config.questions.values()),
        tabs["review"]: REVIEW_HEADERS,
        tabs["corrections"]: CORRECTIONS_HEADERS,
    }
    for title, headers in wanted.items():
        try:
            sheets = build_sheets(config)
        except (SheetsError, SecretMissingError) as exc:
            echo(f"FOUT spreadsheet: {exc}")
            return problems + 1
        try:
            rows = sheets.open_tabs([TabSpec(title, headers, create=False)])[title]
            header_index(title, rows, headers, "Restore the header row.")
            echo(f"ok   tabblad '{title}': {max(len(rows) - 1, 0)} rijen")
        except SheetsError as exc:
            if title == tabs["form"]:
                echo(f"FOUT tabblad '{title}': {exc}")
                problems += 1
            elif "is not in the spreadsheet" in str(exc):
                echo(f"ok   tabblad '{title}' ontbreekt nog; de eerste run maakt het aan")
            else:
                echo(f"FOUT tabblad '{title}': {exc}")
                problems += 1
        finally:
            sheets.close()
    return problems


def check_mail(config: Config, echo: Echo) -> int:
    """Check the mail backend's settings (never prints the password)."""
    mail = config.mail
    if mail.backend == "outbox":
        folder = mail.outbox_path
        parent = folder if folder.exists() else folder.parent
        while not parent.exists():
            parent = parent.parent
        if not os.access(parent, os.W_OK):
            echo(f"FOUT mail: outbox folder '{folder}' is not writable; set [mail.outbox] path.")
            return 1
        echo(f"ok   mail: outbox {folder} (er gaat niets de deur uit)")
        return 0
    smtp = mail.smtp
    if not smtp.host:
        echo("FOUT mail: [mail.smtp] host is empty; set the SMTP server's host name.")
        return 1
    if smtp.username:
        try:
            read_secret(smtp.password_env, smtp.password_block, "SMTP password",
                        ("mail.smtp.password_env", "mail.smtp.password_block"))
        except SecretMissingError as exc:
            echo(f"FOUT mail: {exc}")
            return 1
    echo(f"ok   mail: SMTP {smtp.host}:{smtp.port} ({smtp.security})")
    return 0
