"""The demo data looks like Programma SAMEN's form tab, special cases included."""

import csv
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from samen.demo.seed import (
    CORE_TANDEMS,
    DELFSHAVEN_EDIT,
    DELFSHAVEN_ROW,
    EXPECTED,
    FORM_HEADERS,
    SEED_RESPONSES,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
CLOSED = datetime(2022, 10, 31)  # the call closed at the end of 30-10-2022
EMAIL_FIELDS = (
    "E-mailadres",
    "E-mailadres contactpersoon initiatief",
    "E-mailadres contactpersoon gemeente",
)
# Deliberately plain: one "@", no spaces, a dot in the domain.
VALID_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

INVALID_EMAIL_ROW = 9
SAME_EMAIL_ROW = 13
SHORT_DESCRIPTION_ROW = 18
NO_CONSENT_ROW = 34
DUPLICATE_ROWS = (20, 25)
SAME_MUNICIPALITY_ROWS = (7, 23)
SHARED_FORM_EMAIL_ROWS = (8, 14)
LATE_ROW = 43


def _when(text: str) -> datetime:
    return datetime.strptime(text, "%d-%m-%Y %H:%M:%S")


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _municipality_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    with (SCHEMAS / "gemeenten_2024.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codes[_key(row["name"])] = row["code"]
    with (SCHEMAS / "gemeenten_aliases.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codes.setdefault(_key(row["alias"]), row["code"])
    return codes


def _problems(row: dict[str, str]) -> list[str]:
    """The rule violations of programme.md that the demo data is meant to exercise."""
    problems = []
    for field in EMAIL_FIELDS:
        if not VALID_EMAIL.fullmatch(row[field]):
            problems.append(f"invalid {field}")
    if _key(row[EMAIL_FIELDS[1]]) == _key(row[EMAIL_FIELDS[2]]):
        problems.append("same contact e-mail")
    for field in ("Wat doet jullie initiatief?", "Wat willen jullie samen bereiken?"):
        if not 20 <= len(row[field].strip()) <= 5000:
            problems.append(f"length {field}")
    if not row["Toestemming"].strip().startswith("Ja"):
        problems.append("no consent")
    if not 2 <= len(row["Naam bewonersinitiatief"].strip()) <= 150:
        problems.append("name length")
    if _key(row["Gemeente"]) not in _municipality_codes():
        problems.append("unknown municipality")
    return problems


def test_shape() -> None:
    assert len(FORM_HEADERS) == 14
    assert FORM_HEADERS[0] == "Tijdstempel"
    assert FORM_HEADERS[-1] == "Toestemming"
    assert len(SEED_RESPONSES) == EXPECTED["rows"] == 44
    for row in SEED_RESPONSES:
        assert tuple(row) == FORM_HEADERS
        assert all(isinstance(value, str) for value in row.values())


def test_every_address_is_on_example_org() -> None:
    for row in SEED_RESPONSES:
        for field in EMAIL_FIELDS:
            assert row[field].endswith("@example.org"), row[field]
        website = row["Website"]
        assert not website or ".example.org" in website or "example.org/" in website


def test_timestamps_strictly_increase_and_one_is_late() -> None:
    times = [_when(row["Tijdstempel"]) for row in SEED_RESPONSES]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert times[0] >= datetime(2022, 9, 1)
    late = [i for i, t in enumerate(times) if t >= CLOSED]
    assert late == [LATE_ROW]
    assert times[LATE_ROW].date() == datetime(2022, 10, 31).date()
    assert len(late) == EXPECTED["late"]
    assert not _problems(SEED_RESPONSES[LATE_ROW])


def test_core_tandems() -> None:
    codes = _municipality_codes()
    names = [row["Naam bewonersinitiatief"] for row in SEED_RESPONSES]
    assert len(CORE_TANDEMS) == EXPECTED["core"] == 7
    for name, code in CORE_TANDEMS:
        assert names.count(name) == 1, name
        row = SEED_RESPONSES[names.index(name)]
        if name == "Welzijnscoöperatie Delfshaven":
            assert row["Gemeente"] == "Delfshaven"
            assert _problems(row) == ["unknown municipality"]
        else:
            assert codes[_key(row["Gemeente"])] == code, name
            assert not _problems(row), name
    assert {code for _, code in CORE_TANDEMS} == {
        "GM0796",
        "GM0981",
        "GM1730",
        "GM0166",
        "GM0014",
        "GM0518",
        "GM0599",
    }


def test_delfshaven_edit() -> None:
    row = SEED_RESPONSES[DELFSHAVEN_ROW]
    assert row["Naam bewonersinitiatief"] == "Welzijnscoöperatie Delfshaven"
    assert set(DELFSHAVEN_EDIT) == {"Gemeente", "Tijdstempel"}
    assert DELFSHAVEN_EDIT["Gemeente"] == "Rotterdam"
    edited_at = _when(DELFSHAVEN_EDIT["Tijdstempel"])
    assert _when(row["Tijdstempel"]) < edited_at < datetime(2022, 10, 30)
    edited = {**row, **DELFSHAVEN_EDIT}
    assert not _problems(edited)
    assert _municipality_codes()[_key(edited["Gemeente"])] == "GM0599"
    others = [r for i, r in enumerate(SEED_RESPONSES) if i != DELFSHAVEN_ROW]
    assert all(_municipality_codes().get(_key(r["Gemeente"])) != "GM0599" for r in others)


def test_exactly_the_four_invalid_rows_and_delfshaven() -> None:
    problems = {i: _problems(row) for i, row in enumerate(SEED_RESPONSES)}
    invalid = {i: p for i, p in problems.items() if p}
    assert invalid == {
        INVALID_EMAIL_ROW: ["invalid E-mailadres contactpersoon initiatief"],
        SAME_EMAIL_ROW: ["same contact e-mail"],
        SHORT_DESCRIPTION_ROW: ["length Wat doet jullie initiatief?"],
        DELFSHAVEN_ROW: ["unknown municipality"],
        NO_CONSENT_ROW: ["no consent"],
    }
    assert len(invalid) == EXPECTED["invalid_rows"]
    assert SEED_RESPONSES[NO_CONSENT_ROW]["Toestemming"] == "Nee"
    assert len(SEED_RESPONSES[SHORT_DESCRIPTION_ROW]["Wat doet jullie initiatief?"]) < 20
    edited = [
        {**r, **DELFSHAVEN_EDIT} if i == DELFSHAVEN_ROW else r for i, r in enumerate(SEED_RESPONSES)
    ]
    assert sum(1 for r in edited if _problems(r)) == EXPECTED["invalid_rows_after_edit"]


def test_texts_are_within_bounds() -> None:
    for i, row in enumerate(SEED_RESPONSES):
        for field in ("Wat doet jullie initiatief?", "Wat willen jullie samen bereiken?"):
            if (i, field) == (SHORT_DESCRIPTION_ROW, "Wat doet jullie initiatief?"):
                continue
            assert 20 <= len(row[field]) <= 600, (i, field)


def test_one_initiative_submits_twice() -> None:
    by_application: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, row in enumerate(SEED_RESPONSES):
        by_application[(_key(row["Naam bewonersinitiatief"]), _key(row["Gemeente"]))].append(i)
    repeated = [rows for rows in by_application.values() if len(rows) > 1]
    assert repeated == [list(DUPLICATE_ROWS)]
    first, second = (SEED_RESPONSES[i] for i in DUPLICATE_ROWS)
    days = (_when(second["Tijdstempel"]) - _when(first["Tijdstempel"])).days
    assert 1 <= days <= 7
    changed = {h for h in FORM_HEADERS if first[h] != second[h]}
    assert changed >= {"Tijdstempel"}
    assert changed - {"Tijdstempel"}, "the second submission changes some text"
    assert len(SEED_RESPONSES) - len(by_application) == EXPECTED["superseded"]


def test_one_municipality_with_two_initiatives() -> None:
    codes = _municipality_codes()
    edited = {**SEED_RESPONSES[DELFSHAVEN_ROW], **DELFSHAVEN_EDIT}
    rows = [edited if i == DELFSHAVEN_ROW else r for i, r in enumerate(SEED_RESPONSES)]
    initiatives: dict[str, set[str]] = defaultdict(set)
    indices: dict[str, set[int]] = defaultdict(set)
    for i, row in enumerate(rows):
        code = codes.get(_key(row["Gemeente"]), row["Gemeente"])
        initiatives[code].add(row["Naam bewonersinitiatief"])
        indices[code].add(i)
    shared = {code for code, names in initiatives.items() if len(names) > 1}
    assert len(shared) == EXPECTED["municipalities_with_two_initiatives"] == 1
    (code,) = shared
    assert indices[code] == set(SAME_MUNICIPALITY_ROWS)
    assert code not in {c for _, c in CORE_TANDEMS}
    valid = [i for i, r in enumerate(rows) if not _problems(r) and i != DUPLICATE_ROWS[0]]
    assert len(valid) == EXPECTED["applications_after_edit"]
    assert (
        len({codes[_key(rows[i]["Gemeente"])] for i in valid})
        == EXPECTED["municipalities_after_edit"]
    )


def test_one_form_address_for_two_initiatives() -> None:
    initiatives: dict[str, set[str]] = defaultdict(set)
    indices: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(SEED_RESPONSES):
        initiatives[row["E-mailadres"]].add(row["Naam bewonersinitiatief"])
        indices[row["E-mailadres"]].append(i)
    shared = [email for email, names in initiatives.items() if len(names) > 1]
    assert len(shared) == EXPECTED["shared_form_emails"] == 1
    assert indices[shared[0]] == list(SHARED_FORM_EMAIL_ROWS)


def test_form_address_is_one_of_the_contacts_and_contacts_are_distinct() -> None:
    same_person = set(DUPLICATE_ROWS) | set(SHARED_FORM_EMAIL_ROWS)
    seen: dict[str, int] = {}
    for i, row in enumerate(SEED_RESPONSES):
        assert row["E-mailadres"] in (row[EMAIL_FIELDS[1]], row[EMAIL_FIELDS[2]]), i
        for email in {row[EMAIL_FIELDS[1]], row[EMAIL_FIELDS[2]]}:
            if email in seen:
                assert {seen[email], i} <= same_person, email
            seen[email] = i


def test_expected_counts_add_up() -> None:
    assert EXPECTED["applications"] == (
        EXPECTED["rows"] - EXPECTED["invalid_rows"] - EXPECTED["superseded"]
    )
    assert EXPECTED["applications_after_edit"] == (
        EXPECTED["rows"] - EXPECTED["invalid_rows_after_edit"] - EXPECTED["superseded"]
    )
