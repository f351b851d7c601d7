"""Browser check of the report: headless Chromium opens report.html offline, without errors.

Needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver) and the
selenium package. Where one is missing the test is skipped and says so; with CI set it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from samen.config import Config, load_config
from samen.demo.programme import calendar
from samen.demo.runner import (
    CONFIG,
    act,
    add_approvals,
    apply_delfshaven_edit,
    fill_decisions,
    seed_demo,
    seed_meetings,
)
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.stages.attendance import run_attendance
from samen.stages.intake import run_intake
from samen.stages.invitations import run_invitations
from samen.stages.report import run_report
from samen.stages.selection import run_selection

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AS_OF = date(2023, 9, 1)  # meetings 1 and 2 processed, meeting 3 announced
WIDTH = 1200
CHROME_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", f"--window-size={WIDTH},1000")


def require_browser() -> None:
    """Skip (or, with CI set, fail) when Chromium, chromedriver or selenium is missing."""
    missing = [f"{path} (apt-get install {package})"
               for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver"))
               if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install selenium)")
    if not missing:
        return
    reason = f"Browser check of the report needs {', '.join(missing)}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must install them.")
    pytest.skip(f"{reason}: not installed, so skipped.")


def run_stage(config: Config, stage: Callable[..., Any], day: date) -> Any:
    """Run one stage function with fresh gateways, as a flow would (without Prefect)."""
    store, sheets = build_store(config), build_sheets(config)
    try:
        return stage(config, sheets=sheets, store=store, mail=build_mail(config), as_of=day)
    finally:
        sheets.close()
        store.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a report.html of the demo programme run up to AS_OF."""
    require_browser()
    folder = tmp_path_factory.mktemp("programme")
    seed_demo(folder)
    config = load_config(folder / CONFIG)
    run_stage(config, run_intake, date(2022, 10, 31))
    apply_delfshaven_edit(folder)
    run_stage(config, run_intake, date(2022, 11, 1))
    fill_decisions(folder)
    run_stage(config, run_selection, date(2022, 11, 25))
    add_approvals(folder)
    run_stage(config, run_selection, date(2022, 11, 28))
    seed_meetings(folder)
    p = config.programme
    for step in calendar(p.invite_days_before, p.reminder_days_before):
        if step.day > AS_OF:
            break
        if step.action in ("move", "excuse", "attend"):
            act(folder, step)
        if step.action in ("invite", "move"):
            run_stage(config, run_invitations, step.day)
        elif step.action == "attend":
            run_stage(config, run_attendance, step.day)
    out = folder / "report.html"
    store, sheets = build_store(config), build_sheets(config)
    try:
        run_report(config, sheets=sheets, store=store, as_of=AS_OF, out=out)
    finally:
        sheets.close()
        store.close()
    return out


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Yield a headless Chromium driven by chromedriver, with the browser console captured."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROME_ARGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_opens_offline_without_errors(report_file: Path, browser: Any, tmp_path: Path) -> None:
    browser.get(report_file.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.title.startswith("Rapportage Programma SAMEN")
    images = browser.execute_script(
        "return [...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0])")
    assert len(images) >= 2
    assert [alt for alt, loaded in images if not loaded] == [], "images that did not load"
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == [], f"console errors: {errors}"
    # Clean layout: nothing sticks out sideways at a usual screen width.
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(WIDTH, height + 100)  # the whole page in one screenshot
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 0
    folder = os.environ.get("SAMEN_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(folder) / "report.png")
