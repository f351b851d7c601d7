"""`samen anonymise`: personal data of inactive applications goes from store, sheet and outbox.

A small programme runs through the stage functions with simulated days: intake, selection and
approval, an opt-out, one meeting with invitations, attendance and follow-ups, and (a year and a
half later) a new application. Then everything last active before 2024 is anonymised; what is
newer, or shares an address with something newer, stays.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from samen.cli import app
from samen.config import Config, load_config
from samen.domain.intake import ANONYMISED, is_anonymised, is_pseudonym
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.gateways.sheets.workbook import create_workbook
from samen.gateways.store.tables import metadata
from samen.stages.anonymise import AnonymiseSummary, run_anonymise
from samen.stages.attendance import run_attendance
from samen.stages.intake import run_intake
from samen.stages.invitations import run_invitations
from samen.stages.selection import run_selection
from samen.testing.forms import form_table, make_response
from samen.testing.programme import (
    add_responses,
    approve_current_code,
    meeting,
    set_cells,
    write_meetings,
)
from samen.testing.workbooks import edit_cells, records, tab_rows

MEETING = date(2023, 3, 27)
BEFORE = date(2024, 1, 1)
APP = "SAMEN-2022-{:03d}".format
# The people of applications 1 and 2 and of the invalid response on form row 4 (response 3):
# all last active in 2023 or earlier.
GONE = ("bewoner1@example.org", "ambtenaar1@example.org", "aanvrager1@example.org",
        "bewoner2@example.org", "ambtenaar2@example.org", "aanvrager2@example.org",
        "bewoner3 at example.org", "ambtenaar3@example.org", "aanvrager3@example.org",
        "Bewoner 1", "Ambtenaar 1", "Bewoner 2", "Ambtenaar 2", "Bewoner 3", "Ambtenaar 3",
        "Jan belde af", "Ambtenaar 2 heeft het te druk")
# Application 3 is as old but shares its form address with application 4 (2024): both stay.
# Initiative names stay too: they name initiatives, not people, and the report shows them.
KEPT = ("aanvrager6@example.org", "bewoner5@example.org", "Ambtenaar 5", "bewoner6@example.org",
        "Buurtinitiatief nummer 1")


def at(day: date) -> datetime:
    """Return the (UTC) moment a run on this day takes as now."""
    return datetime.combine(day, time(10, 0))


def run(config: Config, stage: Callable[..., Any], day: date, **kw: Any) -> Any:
    """Run a stage with fresh gateways as if it were this day."""
    store, sheets = build_store(config), build_sheets(config)
    try:
        if stage is not run_anonymise:
            kw["mail"] = build_mail(config)
            kw["as_of"] = day
        return stage(config, sheets=sheets, store=store, now=at(day), **kw)
    finally:
        sheets.close()
        store.close()


def anonymise(config: Config, day: date, dry_run: bool = False) -> AnonymiseSummary:
    """Anonymise what was last active before 2024, on this day."""
    summary: AnonymiseSummary = run(config, run_anonymise, day, before=BEFORE, dry_run=dry_run)
    return summary


@pytest.fixture
def programme(tmp_path: Path, store_url: str) -> Config:
    """Return the configuration of a small programme that has run from 2022 to 2024."""
    create_workbook(tmp_path / "book.xlsx", {"Formulierreacties 1": form_table([
        make_response(1), make_response(2),
        make_response(3, initiative_email="bewoner3 at example.org"),
        make_response(5, email="aanvrager6@example.org")])})
    (tmp_path / "samen.toml").write_text(
        f'[sheets.workbook]\npath = "book.xlsx"\n\n[store]\nurl = "{store_url}"\n', encoding="utf-8")
    config = load_config(tmp_path / "samen.toml")
    run(config, run_intake, date(2022, 10, 1))
    for n, decision in ((1, "kern"), (2, "kenniskring"), (3, "afgewezen")):
        assert set_cells(config, "review", {"Aanmelding": APP(n)}, {
            "Besluit": decision, "Beoordeeld door": config.programme.coordinators[0]}) == 1
    set_cells(config, "review", {"Aanmelding": APP(1)},
              {"Toelichting": "Bewoner 1 belde, 06-12345678"})
    run(config, run_selection, date(2022, 11, 25))
    approve_current_code(config)
    assert run(config, run_selection, date(2022, 11, 28)).approved
    edit_cells(config.workbook.path, config.tabs["optouts"], {
        (2, 1): "ambtenaar2@example.org", (2, 2): "01-02-2023",
        (2, 3): "Ambtenaar 2 heeft het te druk"})
    write_meetings(config, [meeting("1", MEETING)])
    run(config, run_invitations, date(2023, 3, 13))
    for address, status in (("bewoner1@example.org", "aanwezig"),
                            ("ambtenaar1@example.org", "afwezig"),
                            ("bewoner2@example.org", "afgemeld")):
        assert set_cells(config, "attendance", {"Bijeenkomst": "1", "E-mail": address},
                         {"Status": status}) == 1
    set_cells(config, "attendance", {"E-mail": "ambtenaar1@example.org"},
              {"Opmerking": "Jan belde af: ziek"})
    set_cells(config, "meetings", {"Nr": "1"}, {"Aanwezigheid compleet": "ja",
                                                 "Materiaal": "https://example.org/verslag"})
    assert run(config, run_attendance, date(2023, 3, 28)).marks_recorded == 3
    add_responses(config, [make_response(6, submitted_at="01-05-2024 10:00:00")])
    assert run(config, run_intake, date(2024, 5, 2)).new_applications == 1
    assert run(config, run_selection, date(2024, 5, 2)).undecided == 1
    return config


def store_dump(config: Config) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table of the store."""
    engine = sa.create_engine(config.store_url)
    try:
        with engine.connect() as conn:
            return {t.name: sorted((tuple(r) for r in conn.execute(sa.select(t))), key=repr)
                    for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def sheet_dump(config: Config) -> dict[str, list[list[str]]]:
    """Return every tab of the workbook as text."""
    names = openpyxl.load_workbook(config.workbook.path).sheetnames
    return {name: tab_rows(config.workbook.path, name) for name in names}


def files(config: Config) -> dict[str, bytes]:
    """Return the outbox's .eml files and the manifests, by name."""
    folder = config.mail.outbox_path
    return {p.name: p.read_bytes()
            for p in [*folder.glob("*.eml"), *(folder.parent / "manifests").glob("*.csv")]}


def texts(config: Config) -> Iterator[tuple[str, str]]:
    """Yield (where, text) of every place personal data could be: store, tabs, files (decoded)."""
    for table, rows in store_dump(config).items():
        for row in rows:
            yield table, repr([c.decode("utf-8", "replace") if isinstance(c, bytes) else c
                               for c in row])
            for c in row:
                if isinstance(c, bytes):  # a stored message: every part decoded
                    yield table, message_text(c)
    for tab, rows in sheet_dump(config).items():
        yield tab, repr(rows)
    for name, data in files(config).items():
        yield name, message_text(data) if name.endswith(".eml") else data.decode("utf-8")


def message_text(data: bytes) -> str:
    """Return a message's headers and every part, decoded (base64, quoted-printable)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    out = [f"{k}: {v}" for k, v in msg.items()]
    for part in msg.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            out.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else "")
    return "\n".join(out)


def found(config: Config, words: tuple[str, ...]) -> set[str]:
    """Return which of the words (whole, any case) occur anywhere."""
    patterns = {w: re.compile(rf"(?<![\w.]){re.escape(w)}(?!\w)", re.IGNORECASE) for w in words}
    hits: set[str] = set()
    for _where, text in texts(config):
        hits |= {w for w, p in patterns.items() if w not in hits and p.search(text)}
    return hits


def counts(config: Config) -> dict[str, object]:
    """Return the numbers the report is made of."""
    store = build_store(config)
    try:
        return {
            "versions": len(store.load_versions()), "applications": len(store.load_applications()),
            "decisions": Counter(d.decision for d in store.selection.decisions().values()),
            "attendance": Counter((r.meeting_nr, r.status, r.role, r.side, r.applications)
                                  for r in store.meetings.attendance().values()),
            "messages": Counter((e.kind, e.status, e.subject) for e in store.ledger.entries().values()),
            "signals": Counter(s.kind for s in store.ledger.signals().values()),
            "outbox": len(list(config.mail.outbox_path.glob("*.eml"))),
        }
    finally:
        store.close()


def test_anonymise_old_applications_everywhere(programme: Config) -> None:
    """Old data goes from store, tabs, outbox and manifests; numbers and recent data stay; once."""
    config = programme
    assert found(config, GONE) == set(GONE)
    before = counts(config)
    untouched = (store_dump(config), sheet_dump(config), files(config))
    dry = anonymise(config, date(2024, 6, 1), dry_run=True)
    assert dry.changed and dry.cells_written > 0 and dry.versions > 0
    assert (store_dump(config), sheet_dump(config), files(config)) == untouched

    summary = anonymise(config, date(2024, 6, 1))
    assert summary.applications == [APP(1), APP(2)]
    assert summary.responses == [4]  # response 3 never became valid
    assert summary.kept_shared_address == [APP(3)] and summary.kept_edited == []
    assert summary.outbox_files > 0 and summary.manifests > 0 and summary.attendance == 3
    assert not found(config, GONE)
    assert found(config, KEPT) == set(KEPT)
    assert counts(config) == before

    # What stays readable: ids, statuses and dates; people became placeholders.
    review = {r["Aanmelding"]: r for r in records(tab_rows(config.workbook.path, "Beoordeling"))}
    assert review[APP(1)]["Besluit"] == "kern" and review[APP(1)]["Toelichting"] == ANONYMISED
    assert review[APP(1)]["Contact initiatief"].startswith(f"{ANONYMISED}, anoniem-")
    form = records(tab_rows(config.workbook.path, "Formulierreacties 1"))
    assert [is_anonymised({"email": r["E-mailadres"],
                           "initiative_email": r["E-mailadres contactpersoon initiatief"],
                           "municipality_email": r["E-mailadres contactpersoon gemeente"],
                           "initiative_contact": r["Contactpersoon initiatief"],
                           "municipality_contact": r["Contactpersoon gemeente"],
                           "description": r["Wat doet jullie initiatief?"],
                           "ambition": r["Wat willen jullie samen bereiken?"],
                           "initiative_phone": r["Telefoonnummer contactpersoon initiatief"],
                           "postcode": r["Postcode"], "website": r["Website"]})
            for r in form] == [True, True, True, False, False]
    people = records(tab_rows(config.workbook.path, "Aanwezigheid"))
    assert all(is_pseudonym(r["E-mail"]) and r["Naam"] == ANONYMISED for r in people)
    assert sorted(r["Status"] for r in people) == ["aanwezig", "afgemeld", "afwezig"]
    stubs = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in config.mail.outbox_path.glob("*.eml")]
    assert sum(1 for m in stubs if m["X-Samen-Geanonimiseerd"] == "ja") == summary.outbox_files
    store = build_store(config)
    try:
        [entry] = store.audit_entries("personal_data_anonymised")
    finally:
        store.close()
    assert entry["actor"] == "anonymise" and entry["detail"]["applications"] == [APP(1), APP(2)]
    assert entry["detail"]["versions"] == summary.versions
    assert "@" not in repr(entry)

    # The stages find nothing new to record, send or write; intake makes no new version.
    again = run(config, run_intake, date(2024, 6, 2))
    assert (again.new_versions, again.messages_recorded, again.cells_written) == (0, 0, 0)
    chosen = run(config, run_selection, date(2024, 5, 2))
    assert (chosen.messages_sent, chosen.signals_added, chosen.cells_written) == (0, 0, 0)
    invited = run(config, run_invitations, date(2023, 3, 13))
    assert (invited.invitations, invited.messages_sent, invited.cells_written) == (0, 0, 0)
    attended = run(config, run_attendance, date(2023, 3, 28))
    assert (attended.marks_recorded, attended.messages_sent, attended.cells_written) == (0, 0, 0)
    assert counts(config) == before

    done = (store_dump(config), sheet_dump(config), files(config))
    second = anonymise(config, date(2024, 6, 3))
    assert not second.changed and second.applications == [APP(1), APP(2)]
    assert (second.versions, second.messages, second.cells_written, second.outbox_files) == (0,) * 4
    assert (store_dump(config), sheet_dump(config), files(config)) == done


def test_a_run_whose_store_write_fails_is_finished_by_the_next(programme: Config) -> None:
    """The sheet is written first; if the store write fails, intake leaves the anonymised rows
    alone (no new version, no receipt again) and the next run finishes the job."""
    config = programme
    before = counts(config)
    store, sheets = build_store(config), build_sheets(config)

    def broken(*_args: Any, **_kw: Any) -> None:
        raise sa.exc.OperationalError("UPDATE messages", {}, Exception("connection lost"))

    store.anonymise.apply = broken  # type: ignore[method-assign]  # the database goes away
    try:
        with pytest.raises(sa.exc.OperationalError):
            run_anonymise(config, sheets=sheets, store=store, before=BEFORE, now=at(date(2024, 6, 1)))
    finally:
        sheets.close()
        store.close()
    assert "bewoner1@example.org" in repr(store_dump(config)["response_versions"])
    assert not any("bewoner1@example.org" in repr(r) for r in tab_rows(
        config.workbook.path, "Formulierreacties 1"))
    meanwhile = run(config, run_intake, date(2024, 6, 2))
    assert (meanwhile.new_versions, meanwhile.messages_recorded) == (0, 0)
    summary = anonymise(config, date(2024, 6, 3))
    assert summary.changed and summary.versions > 0 and summary.cells_written > 0
    assert not found(config, GONE)
    assert counts(config) == before
    after = run(config, run_intake, date(2024, 6, 4))
    assert (after.new_versions, after.messages_recorded, after.cells_written) == (0, 0, 0)
    assert not anonymise(config, date(2024, 6, 5)).changed


def test_intake_leaves_an_anonymised_row_alone(programme: Config) -> None:
    """A form row holding the placeholders (store lost, or anonymised in the sheet only) is skipped."""
    config = programme
    anonymised = make_response(
        7, email="anoniem-0123456789ab@example.invalid", initiative_contact=ANONYMISED,
        municipality_contact=ANONYMISED, description=ANONYMISED, ambition=ANONYMISED,
        initiative_email="anoniem-abcdef012345@example.invalid",
        municipality_email="anoniem-00000000000a@example.invalid", initiative_phone="",
        postcode="", website="")
    add_responses(config, [anonymised])
    summary = run(config, run_intake, date(2024, 6, 2))
    assert (summary.new_versions, summary.invalid_versions, summary.messages_recorded) == (0, 0, 0)
    assert summary.corrections_open == 1 and summary.cells_written == 0  # response 3 only


def test_recent_activity_keeps_an_application(programme: Config) -> None:
    """An attendance after the date keeps a tandem: the date is compared with the last activity."""
    summary = anonymise(programme, date(2024, 6, 1), dry_run=True)
    assert APP(4) not in summary.applications
    later = run(programme, run_anonymise, date(2024, 6, 1), before=date(2023, 3, 27), dry_run=True)
    assert later.applications == [] and later.responses == [4]  # meeting 1 was on 27 March


def test_cli_anonymise(programme: Config) -> None:
    """`samen anonymise --before` prints the summary; a bad or future date is a clear error."""
    runner = CliRunner()
    config = str(programme.workbook.path.parent / "samen.toml")
    dry = runner.invoke(app, ["anonymise", "--before", "2024-01-01", "--config", config, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert '"dry_run": true' in dry.output and '"SAMEN-2022-001"' in dry.output
    real = runner.invoke(app, ["anonymise", "--before", "2024-01-01", "--config", config])
    assert real.exit_code == 0 and '"changed": true' in real.output, real.output
    again = runner.invoke(app, ["anonymise", "--before", "2024-01-01", "--config", config])
    assert again.exit_code == 0 and '"changed": false' in again.output, again.output
    bad = runner.invoke(app, ["anonymise", "--before", "01-01-2024", "--config", config])
    assert bad.exit_code == 2 and "2025-01-01" in bad.output
    future = runner.invoke(app, ["anonymise", "--before", "2999-01-01", "--config", config])
    assert future.exit_code == 2 and "future" in future.output
