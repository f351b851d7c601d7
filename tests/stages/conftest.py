"""Fixtures for stage tests: a configuration on a temporary workbook and store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from samen.config import Config, load_config
from samen.gateways.sheets.workbook import create_workbook
from samen.testing.forms import form_table

FORM_TAB = "Formulierreacties 1"


@pytest.fixture
def workbook_config(tmp_path: Path, store_url: str) -> Callable[..., Config]:
    """Return a factory: write responses to a new workbook and return a Config that uses it."""

    def make(responses: Iterable[Mapping[str, str]], extra: str = "") -> Config:
        create_workbook(tmp_path / "book.xlsx", {FORM_TAB: form_table(responses)})
        (tmp_path / "samen.toml").write_text(
            f'[sheets.workbook]\npath = "book.xlsx"\n\n[store]\nurl = "{store_url}"\n{extra}',
            encoding="utf-8",
        )
        return load_config(tmp_path / "samen.toml")

    return make
