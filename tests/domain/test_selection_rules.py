"""Selection rules: the decision code, typed codes, approval and reading the review rows."""

from __future__ import annotations

import re

from samen.domain.layouts import REVIEW_HEADERS
from samen.domain.selection import (
    evaluate_approval,
    normalise_code,
    read_decisions,
    selection_code,
)

C1, C2 = "coordinator1@example.org", "coordinator2@example.org"
COORDINATORS = (C1, C2)
DECIDED = {"SAMEN-2022-001": "kern", "SAMEN-2022-002": "kenniskring",
           "SAMEN-2022-003": "afgewezen"}
COLUMNS = {h: i for i, h in enumerate(REVIEW_HEADERS, start=1)}


def row(app_id: str, decision: str = "", by: str = "", score: str = "") -> list[str]:
    """Return a Beoordeling row with the given human cells."""
    cells = dict.fromkeys(REVIEW_HEADERS, "")
    cells.update({"Aanmelding": app_id, "Besluit": decision, "Beoordeeld door": by,
                  "Score": score})
    return [cells[h] for h in REVIEW_HEADERS]


def test_code_is_short_and_stable() -> None:
    """The code has the form XXX-XXX and is the same for the same decisions."""
    code = selection_code(DECIDED)
    assert re.fullmatch(r"[A-Z2-7]{3}-[A-Z2-7]{3}", code)
    assert selection_code(dict(DECIDED)) == code


def test_code_ignores_order() -> None:
    """The order in which decisions are listed does not change the code."""
    assert selection_code(dict(reversed(list(DECIDED.items())))) == selection_code(DECIDED)


def test_code_changes_with_any_decision() -> None:
    """Changing, adding or removing any one decision changes the code."""
    code = selection_code(DECIDED)
    variants = [DECIDED | {"SAMEN-2022-001": "kenniskring"},
                DECIDED | {"SAMEN-2022-003": "kern"},
                DECIDED | {"SAMEN-2022-004": "afgewezen"},
                {k: v for k, v in DECIDED.items() if k != "SAMEN-2022-002"}]
    codes = {selection_code(v) for v in variants}
    assert code not in codes and len(codes) == len(variants)


def test_code_is_empty_when_nothing_decided() -> None:
    """Without any decision there is no code."""
    assert selection_code({}) == ""


def test_normalise_code_ignores_case_spaces_and_dashes() -> None:
    """Typed codes are compared in canonical form."""
    assert normalise_code("a2p5yj") == "A2P-5YJ"
    assert normalise_code(" a2p-5yj ") == "A2P-5YJ"
    assert normalise_code("A2P – 5YJ") == "A2P-5YJ"
    assert normalise_code("A2P-5YJ") == "A2P-5YJ"
    assert normalise_code("A2P5Y") == "A2P5Y"
    assert normalise_code("") == ""


def test_approval_needs_distinct_coordinators_with_the_current_code() -> None:
    """Only distinct coordinators entering the current code count, in any case or layout."""
    code = selection_code(DECIDED)
    typed = code.lower().replace("-", "")
    entries = [(C1, code), (f" {C1.upper()} ", typed), ("someone@example.org", code),
               (C2, "ZZZ-ZZZ"), ("", code)]
    state = evaluate_approval(DECIDED, 0, entries, COORDINATORS, 2, 7, "")
    assert state.approvers == [C1] and not state.approved
    assert "Nog 1 coördinator(en) nodig" in " ".join(state.notes)
    state = evaluate_approval(DECIDED, 0, [*entries, (C2, typed)], COORDINATORS, 2, 7, "")
    assert state.approvers == [C1, C2] and state.approved and state.notes == []
    assert state.counts == {"kern": 1, "kenniskring": 1, "afgewezen": 1}


def test_one_approval_can_be_enough() -> None:
    """With approvals_needed = 1 one coordinator approves."""
    code = selection_code(DECIDED)
    assert evaluate_approval(DECIDED, 0, [(C2, code)], COORDINATORS, 1, 7, "").approved


def test_nothing_decided_is_never_approved() -> None:
    """An empty code cannot be approved, not even by empty entries."""
    state = evaluate_approval({}, 3, [(C1, ""), (C2, "")], COORDINATORS, 1, 7, "")
    assert state.code == "" and not state.approved and state.approvers == []
    assert "3 aanmelding(en) zonder (geldig) besluit" in " ".join(state.notes)


def test_over_capacity_is_not_approved() -> None:
    """More kern decisions than capacity block approval and name the excess."""
    decided = {"A": "kern", "B": "kern", "C": "kern"}
    code = selection_code(decided)
    state = evaluate_approval(decided, 0, [(C1, code), (C2, code)], COORDINATORS, 2, 1, "")
    assert not state.approved and state.over_capacity == 2
    assert "Er zijn 2 kern-besluiten te veel (maximaal 1)" in " ".join(state.notes)
    assert evaluate_approval(decided, 0, [(C1, code), (C2, code)], COORDINATORS, 2, 3,
                             "").approved


def test_earlier_code_is_named_when_decisions_changed() -> None:
    """When the last approved code differs, the notes say it does not cover the current one."""
    code = selection_code(DECIDED)
    state = evaluate_approval(DECIDED, 0, [], COORDINATORS, 2, 7, "OLD-COD")
    assert "eerdere vaststelling (code OLD-COD) geldt niet" in " ".join(state.notes)
    same = evaluate_approval(DECIDED, 0, [(C1, code), (C2, code)], COORDINATORS, 2, 7, code)
    assert same.notes == []


def test_read_decisions_valid_rows() -> None:
    """Valid decisions are read case-insensitively; empty rows are undecided without problems."""
    rows = [list(REVIEW_HEADERS), row("SAMEN-2022-001", " Kern ", C1.upper(), "5"),
            row("SAMEN-2022-002", "afgewezen", C2), row("SAMEN-2022-003"), ["SAMEN-2022-004"]]
    known = {"SAMEN-2022-001", "SAMEN-2022-002", "SAMEN-2022-003", "SAMEN-2022-004"}
    read = read_decisions(rows, COLUMNS, known, COORDINATORS)
    assert {a: r.decision for a, r in read.items()} == {
        "SAMEN-2022-001": "kern", "SAMEN-2022-002": "afgewezen", "SAMEN-2022-003": "",
        "SAMEN-2022-004": ""}
    assert all(r.problems == () for r in read.values())


def test_read_decisions_names_problems() -> None:
    """A bad Besluit, an unknown or missing reviewer and a bad Score make the row undecided."""
    rows = [list(REVIEW_HEADERS), row("SAMEN-2022-001", "kernn", "iemand@example.org", "7"),
            row("SAMEN-2022-002", "kenniskring"), row("SAMEN-2022-003", "kern", C1, "4,5")]
    known = {"SAMEN-2022-001", "SAMEN-2022-002", "SAMEN-2022-003"}
    read = read_decisions(rows, COLUMNS, known, COORDINATORS)
    first = read["SAMEN-2022-001"]
    assert first.decision == "" and len(first.problems) == 3
    assert '"kernn"' in first.problems[0] and '"iemand@example.org"' in first.problems[1]
    assert '"7"' in first.problems[2]
    assert read["SAMEN-2022-002"].decision == ""
    assert read["SAMEN-2022-002"].problems[0].startswith("Bij Beoordeeld door ontbreekt")
    assert read["SAMEN-2022-003"].decision == "" and "Score" in read["SAMEN-2022-003"].problems[0]


def test_read_decisions_skips_unknown_and_repeated_rows() -> None:
    """Rows of unknown applications are ignored; a repeated id keeps its first row."""
    rows = [list(REVIEW_HEADERS), row("SAMEN-2022-009", "kern", C1),
            row("SAMEN-2022-001", "kenniskring", C1), row("SAMEN-2022-001", "kern", C2)]
    read = read_decisions(rows, COLUMNS, {"SAMEN-2022-001"}, COORDINATORS)
    assert list(read) == ["SAMEN-2022-001"] and read["SAMEN-2022-001"].decision == "kenniskring"
