"""Selection: decisions in Beoordeling, approval by coordinators in Vaststelling, letters once."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Mapping
from datetime import date

from samen.config import Config
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.stages.intake import run_intake
from samen.stages.selection import SelectionSummary, run_selection
from samen.testing.forms import make_response
from samen.testing.workbooks import edit_cells, records, tab_rows

DAY = date(2022, 11, 20)
C1, C2 = "coordinator1@example.org", "coordinator2@example.org"
APP1, APP2, APP3 = "SAMEN-2022-001", "SAMEN-2022-002", "SAMEN-2022-003"
MakeConfig = Callable[..., Config]
Sent = tuple[str, str, str]  # (kind, subject id, recipient)


def prepare(make: MakeConfig, count: int, extra: str = "") -> Config:
    """Return a config whose workbook holds `count` applications after one intake run."""
    config = make([make_response(n) for n in range(1, count + 1)], extra)
    store, sheets = build_store(config), build_sheets(config)
    try:
        run_intake(config, sheets=sheets, store=store, mail=build_mail(config), as_of=DAY)
    finally:
        sheets.close()
        store.close()
    return config


def select(config: Config, dry_run: bool = False) -> SelectionSummary:
    """Run selection once with fresh gateways."""
    store, sheets = build_store(config), build_sheets(config)
    try:
        return run_selection(config, sheets=sheets, store=store, mail=build_mail(config),
                             as_of=DAY, dry_run=dry_run)
    finally:
        sheets.close()
        store.close()


def review(config: Config) -> dict[str, dict[str, str]]:
    """Return Beoordeling's rows by application id."""
    return {r["Aanmelding"]: r for r in records(tab_rows(config.workbook.path, "Beoordeling"))}


def set_review(config: Config, app_id: str, **cells: str) -> None:
    """Type cells (header -> text) into an application's Beoordeling row."""
    rows = tab_rows(config.workbook.path, "Beoordeling")
    number = next(i for i, r in enumerate(rows, start=1) if r and r[0] == app_id)
    edit_cells(config.workbook.path, "Beoordeling",
               {(number, rows[0].index(h) + 1): v for h, v in cells.items()})


def decide(config: Config, decisions: Mapping[str, str], by: str = C1) -> None:
    """Let a coordinator fill in Besluit and Beoordeeld door for each application."""
    for app_id, decision in decisions.items():
        set_review(config, app_id, Besluit=decision, **{"Beoordeeld door": by})


def summary(config: Config) -> dict[str, str]:
    """Return Vaststelling's summary (columns E-F) as label -> value."""
    rows = tab_rows(config.workbook.path, "Vaststelling")
    return {r[4]: (r[5] if len(r) > 5 else "") for r in rows if len(r) > 4 and r[4]}


def enter(config: Config, *entries: tuple[str, str]) -> None:
    """Let coordinators add rows (e-mail, date, code) below the last entry in Vaststelling."""
    rows = tab_rows(config.workbook.path, "Vaststelling")
    last = max(i for i, r in enumerate(rows, start=1) if r and r[0])
    edits = {}
    for offset, (who, code) in enumerate(entries, start=1):
        edits.update({(last + offset, 1): who, (last + offset, 2): "20-11-2022",
                      (last + offset, 3): code})
    edit_cells(config.workbook.path, "Vaststelling", edits)


def approve(config: Config, *who: str) -> SelectionSummary:
    """Let each coordinator enter the current code, then run selection."""
    code = summary(config)["Huidige code"]
    enter(config, *[(w, code) for w in who])
    return select(config)


def sent(config: Config, prefix: str = "besluit-") -> list[Sent]:
    """Return (kind, subject, To) of every outbox message whose kind starts with prefix."""
    store = build_store(config)
    try:
        by_id = {e.message_id: e for e in store.ledger.entries().values()}
    finally:
        store.close()
    folder = config.mail.outbox_path
    out = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        entry = by_id[str(msg["Message-ID"])]
        if entry.kind.startswith(prefix):
            out.append((entry.kind, entry.subject, msg["To"].addresses[0].addr_spec))
    return sorted(out)


def pair(kind: str, app_id: str, n: int) -> list[Sent]:
    """Return the two letters of a kind expected for application n's tandem."""
    return [(f"besluit-{kind}", app_id, f"ambtenaar{n}@example.org"),
            (f"besluit-{kind}", app_id, f"bewoner{n}@example.org")]


def test_approval_needs_two_distinct_coordinators(workbook_config: MakeConfig) -> None:
    """One coordinator, or the same one twice, does not approve; a second one does, with audit."""
    config = prepare(workbook_config, 2)
    decide(config, {APP1: "kern", APP2: "kenniskring"})
    first = select(config)
    code = summary(config)["Huidige code"]
    assert first.code == code and code and not first.approved
    assert summary(config)["Goedgekeurd"] == "nee"
    assert not approve(config, C1).approved and sent(config) == []
    assert not approve(config, C1).approved and sent(config) == []
    done = approve(config, C2)
    assert done.approved and done.approval_recorded and done.approvals_counted == 2
    assert summary(config)["Goedgekeurd"].startswith("ja, op 20-11-2022 door ")
    assert sent(config) == sorted(pair("kern", APP1, 1) + pair("kenniskring", APP2, 2))
    store = build_store(config)
    try:
        [approval] = store.selection.approvals()
        [audit] = store.audit_entries("selection_approved")
    finally:
        store.close()
    assert approval.code == code and approval.decisions == {APP1: "kern", APP2: "kenniskring"}
    assert audit["subject"] == code and audit["detail"]["coordinators"] == [C1, C2]


def test_non_coordinator_does_not_count(workbook_config: MakeConfig) -> None:
    """An entry by someone who is not a coordinator does not count, even with the right code."""
    config = prepare(workbook_config, 1)
    decide(config, {APP1: "kenniskring"})
    select(config)
    result = approve(config, C1, "someone@example.org")
    assert not result.approved and result.approvals_counted == 1
    assert summary(config)["Goedgekeurd"] == "nee" and sent(config) == []


def test_wrong_or_old_code_does_not_count_but_case_and_dashes_do_not_matter(
    workbook_config: MakeConfig,
) -> None:
    """Wrong and old codes are ignored; "a2p5yj" counts for "A2P-5YJ"."""
    config = prepare(workbook_config, 2)
    decide(config, {APP1: "kern"})
    select(config)
    old = summary(config)["Huidige code"]
    decide(config, {APP2: "afgewezen"})
    select(config)
    code = summary(config)["Huidige code"]
    assert code != old
    enter(config, (C1, old), (C2, "ZZZ-ZZZ"))
    assert not select(config).approved
    enter(config, (C1, code.lower().replace("-", "")), (C2.upper(), f" {code.lower()} "))
    result = select(config)
    assert result.approved and result.approvals_counted == 2
    assert sent(config) == sorted(pair("afgewezen", APP2, 2) + pair("kern", APP1, 1))


def test_changed_decision_voids_approval_until_reapproved(workbook_config: MakeConfig) -> None:
    """A decision changed after approval needs a new code; then only that tandem gets a letter."""
    config = prepare(workbook_config, 2)
    decide(config, {APP1: "kern", APP2: "kenniskring"})
    select(config)
    old = summary(config)["Huidige code"]
    approve(config, C1, C2)
    before = sent(config)
    assert before == sorted(pair("kern", APP1, 1) + pair("kenniskring", APP2, 2))
    decide(config, {APP1: "kenniskring"}, by=C2)
    changed = select(config)
    shown = summary(config)
    assert shown["Huidige code"] != old and shown["Goedgekeurd"] == "nee"
    assert f"eerdere vaststelling (code {old}) geldt niet" in shown["Toelichting"]
    assert not changed.approved and changed.signals_added == 1
    select(config)
    signals = records(tab_rows(config.workbook.path, "Signalen"))
    assert [(s["Soort"], s["Betreft"]) for s in signals] == [
        ("Besluit gewijzigd na vaststelling", APP1)]
    assert sorted(to for _k, _s, to in sent(config, "signaal")) == [C1, C2]
    assert sent(config) == before
    assert {r["Rol"] for r in records(tab_rows(config.workbook.path, "Deelnemers"))
            if r["Aanmelding"] == APP1} == {"kern"}
    again = approve(config, C1, C2)
    assert again.approval_recorded and again.decisions_changed == 1
    assert sent(config) == sorted(before + pair("kenniskring", APP1, 1))
    assert len(sent(config, "signaal")) == 2
    assert summary(config)["Goedgekeurd"].startswith("ja") and summary(config)["Toelichting"] == ""
    assert {r["Rol"] for r in records(tab_rows(config.workbook.path, "Deelnemers"))
            if r["Aanmelding"] == APP1} == {"kenniskring"}
    quiet = select(config)
    assert quiet.messages_sent == 0 and quiet.signals_added == 0 and quiet.cells_written == 0


def test_over_capacity_blocks_approval(workbook_config: MakeConfig) -> None:
    """With room for one kern tandem, two kern decisions cannot be approved."""
    config = prepare(workbook_config, 2, "[programme]\nkern_capacity = 1\n")
    decide(config, {APP1: "kern", APP2: "kern"})
    select(config)
    result = approve(config, C1, C2)
    assert not result.approved and result.approvals_counted == 2
    shown = summary(config)
    assert shown["Goedgekeurd"] == "nee" and shown["Kern"] == "2"
    assert "Er zijn 1 kern-besluiten te veel (maximaal 1)" in shown["Toelichting"]
    assert sent(config) == []
    store = build_store(config)
    try:
        assert store.selection.approvals() == []
    finally:
        store.close()


def test_letters_go_once_to_both_contacts(workbook_config: MakeConfig) -> None:
    """Each tandem's two contacts get one letter of its kind; the register lists kern and kenniskring."""
    config = prepare(workbook_config, 3)
    decide(config, {APP1: "kern", APP2: "kenniskring", APP3: "afgewezen"})
    select(config)
    first = approve(config, C1, C2)
    expected = pair("kern", APP1, 1) + pair("kenniskring", APP2, 2) + pair("afgewezen", APP3, 3)
    assert first.messages_sent == 6 and sent(config) == sorted(expected)
    again = select(config)
    assert again.messages_sent == 0 and sent(config) == sorted(expected)
    register = records(tab_rows(config.workbook.path, "Deelnemers"))
    assert sorted((r["Aanmelding"], r["Rol"], r["Kant"], r["Naam"], r["E-mail"])
                  for r in register) == [
        (APP1, "kern", "gemeente", "Ambtenaar 1", "ambtenaar1@example.org"),
        (APP1, "kern", "initiatief", "Bewoner 1", "bewoner1@example.org"),
        (APP2, "kenniskring", "gemeente", "Ambtenaar 2", "ambtenaar2@example.org"),
        (APP2, "kenniskring", "initiatief", "Bewoner 2", "bewoner2@example.org"),
    ]
    assert {r["Initiatief"] for r in register if r["Aanmelding"] == APP1} == {
        "Buurtinitiatief nummer 1"}
    assert first.participants == 4


def test_bad_human_cells_are_problems_and_stay(workbook_config: MakeConfig) -> None:
    """A bad Besluit, reviewer and Score are named in Problemen; the row stays undecided."""
    config = prepare(workbook_config, 2)
    decide(config, {APP2: "kern"})
    set_review(config, APP1, Besluit="kernn", Score="7",
               **{"Beoordeeld door": "iemand@example.org"})
    result = select(config)
    row = review(config)[APP1]
    problems = row["Problemen"].splitlines()
    assert len(problems) == 3 and result.rows_with_problems == 1
    assert problems[0].startswith('Besluit "kernn" is geen keuze')
    assert problems[1].startswith('Beoordeeld door "iemand@example.org" is geen coördinator')
    assert problems[2].startswith('Score "7" is geen cijfer van 1 tot en met 5')
    assert (row["Besluit"], row["Beoordeeld door"], row["Score"]) == (
        "kernn", "iemand@example.org", "7")
    assert review(config)[APP2]["Problemen"] == ""
    assert result.undecided == 1 and summary(config)["Nog te beslissen"] == "1"
    assert summary(config)["Kern"] == "1"
    set_review(config, APP1, Besluit="Kern", Score="4", **{"Beoordeeld door": C2})
    fixed = select(config)
    assert review(config)[APP1]["Problemen"] == "" and fixed.rows_with_problems == 0
    assert fixed.undecided == 0 and summary(config)["Kern"] == "2"


def test_undecided_application_waits_for_new_approval(workbook_config: MakeConfig) -> None:
    """An undecided application joins only after its decision is approved; others are not resent."""
    config = prepare(workbook_config, 3)
    decide(config, {APP1: "kern", APP2: "kenniskring"})
    select(config)
    assert summary(config)["Nog te beslissen"] == "1"
    first = approve(config, C1, C2)
    assert first.approved and first.undecided == 1
    before = sent(config)
    assert before == sorted(pair("kern", APP1, 1) + pair("kenniskring", APP2, 2))
    register = {r["Aanmelding"] for r in records(tab_rows(config.workbook.path, "Deelnemers"))}
    assert register == {APP1, APP2}
    decide(config, {APP3: "kenniskring"})
    pending = select(config)
    assert not pending.approved and pending.messages_sent == 0 and pending.signals_added == 0
    assert summary(config)["Goedgekeurd"] == "nee" and summary(config)["Nog te beslissen"] == "0"
    assert {r["Aanmelding"] for r in records(tab_rows(config.workbook.path, "Deelnemers"))} == {
        APP1, APP2}
    second = approve(config, C2, C1)
    assert second.approved and second.decisions_changed == 1 and second.messages_sent == 2
    assert sent(config) == sorted(before + pair("kenniskring", APP3, 3))
    register = {r["Aanmelding"] for r in records(tab_rows(config.workbook.path, "Deelnemers"))}
    assert register == {APP1, APP2, APP3}


def test_dry_run_records_and_sends_nothing(workbook_config: MakeConfig) -> None:
    """A dry run with a complete approval records nothing, sends nothing and leaves the sheet."""
    config = prepare(workbook_config, 2)
    decide(config, {APP1: "kern", APP2: "afgewezen"})
    select(config)
    code = summary(config)["Huidige code"]
    enter(config, (C1, code), (C2, code))
    tabs = ("Beoordeling", "Vaststelling", "Deelnemers", "Berichten", "Signalen")
    before = {t: tab_rows(config.workbook.path, t) for t in tabs}
    dry = select(config, dry_run=True)
    assert dry.approved and not dry.approval_recorded and dry.messages_sent == 0
    assert {t: tab_rows(config.workbook.path, t) for t in tabs} == before
    assert sent(config) == []
    store = build_store(config)
    try:
        assert store.selection.approvals() == [] and store.selection.decisions() == {}
        assert store.audit_entries("selection_approved") == []
    finally:
        store.close()
    real = select(config)
    assert real.approval_recorded and real.messages_sent == 4


def test_tandem_rejected_after_approval_leaves_register(workbook_config: MakeConfig) -> None:
    """A kern tandem re-approved as afgewezen gets the new letter and its register rows are emptied."""
    config = prepare(workbook_config, 2)
    decide(config, {APP1: "kern", APP2: "kenniskring"})
    select(config)
    approve(config, C1, C2)
    before = sent(config)
    decide(config, {APP1: "afgewezen"})
    select(config)
    approve(config, C1, C2)
    assert sent(config) == sorted(before + pair("afgewezen", APP1, 1))
    register = records(tab_rows(config.workbook.path, "Deelnemers"))
    assert sorted(r["Aanmelding"] for r in register if r["Aanmelding"]) == [APP2, APP2]
    assert select(config).cells_written == 0


def test_return_to_an_earlier_code_needs_approval_again(workbook_config: MakeConfig) -> None:
    """kern -> kenniskring -> kern: the old code needs approving again and then the kern letters go."""
    config = prepare(workbook_config, 2)
    decide(config, {APP1: "kern", APP2: "kenniskring"})
    select(config)
    first = approve(config, C1, C2)
    assert first.approval_recorded
    decide(config, {APP1: "kenniskring"}, by=C2)
    select(config)
    assert approve(config, C1, C2).approval_recorded
    decide(config, {APP1: "kern"})
    back = select(config)
    assert back.code != first.code and not back.approved  # the old entries do not approve it
    assert summary(config)["Goedgekeurd"] == "nee"
    again = approve(config, C1, C2)
    assert again.approval_recorded and again.decisions_changed == 1
    kern_letters = [s for s in sent(config) if s[0] == "besluit-kern" and s[1] == APP1]
    assert len(kern_letters) == 4  # the first pair and, after the return, a second pair
    assert summary(config)["Goedgekeurd"].startswith("ja")
