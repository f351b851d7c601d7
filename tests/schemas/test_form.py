"""The form tab's contract: which answers pass, the Dutch problems, and the normalised rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from samen.schemas.form import (
    FORM_FIELDS,
    FormValidation,
    NormalisedResponse,
    Problem,
    application_key,
    validate_form,
)
from samen.stages.form_adapter import validate_rows
from samen.testing.forms import GOOD_ANSWERS as GOOD


def validate(*rows: dict[str, Any], first_row: int = 2, **kwargs: Any) -> FormValidation:
    """Validate rows (changes on top of GOOD) as if they start at the given sheet row."""
    frame = pd.DataFrame([{**GOOD, **row} for row in rows])
    frame.index = range(first_row, first_row + len(frame))
    return validate_form(frame, **kwargs)


def only_problem(result: FormValidation, row: int = 2) -> Problem:
    """Return the single problem of a row, failing when there are more or none."""
    assert result.valid == {}
    assert len(result.problems[row]) == 1, result.problems[row]
    return result.problems[row][0]


def test_fields_are_the_programme_headers_in_order() -> None:
    assert list(FORM_FIELDS.values()) == [
        "Tijdstempel", "E-mailadres", "Naam bewonersinitiatief", "Gemeente",
        "Contactpersoon initiatief", "E-mailadres contactpersoon initiatief",
        "Telefoonnummer contactpersoon initiatief", "Contactpersoon gemeente",
        "E-mailadres contactpersoon gemeente", "Postcode", "Wat doet jullie initiatief?",
        "Wat willen jullie samen bereiken?", "Website", "Toestemming",
    ]


def test_a_whole_good_row_is_valid_and_normalised() -> None:
    result = validate(GOOD)
    assert result.problems == {}
    assert result.valid == {
        2: NormalisedResponse(
            submitted_at="2022-11-26T14:03:11",
            email="aanvrager@voorbeeld.nl",
            initiative="Stagehuis Schilderswijk",
            municipality_code="GM0518",
            municipality_name="'s-Gravenhage",
            initiative_contact="Fatima el Amrani",
            initiative_email="fatima@stagehuis.nl",
            initiative_phone="+31612345678",
            municipality_contact="Jan de Vries",
            municipality_email="jan.devries@denhaag.nl",
            postcode="2525 AB",
            description=GOOD["description"],
            ambition=GOOD["ambition"],
            website="https://www.stagehuis.nl",
            consent="Ja, ik geef toestemming",
        )
    }
    assert result.valid[2]["submitted_at"] == datetime(2022, 11, 26, 14, 3, 11).isoformat()


@pytest.mark.parametrize(
    ("field", "answer", "normalised"),
    [
        ("submitted_at", "26-11-2026 14:03:11", datetime(2026, 11, 26, 14, 3, 11).isoformat()),
        ("submitted_at", "6-1-2026 9:03:11", datetime(2026, 1, 6, 9, 3, 11).isoformat()),
        ("submitted_at", "26-11-2026 14:03", datetime(2026, 11, 26, 14, 3).isoformat()),
        ("submitted_at", "11/26/2026 14:03:11", datetime(2026, 11, 26, 14, 3, 11).isoformat()),
        ("submitted_at", "1/6/2026 9:03", datetime(2026, 1, 6, 9, 3).isoformat()),
        ("submitted_at", "29-02-2024 10:00:00", datetime(2024, 2, 29, 10, 0).isoformat()),
        ("email", "  Aanvrager@Voorbeeld.NL ", "aanvrager@voorbeeld.nl"),
        ("email", "jan+samen@sub.voorbeeld.nl", "jan+samen@sub.voorbeeld.nl"),
        ("initiative", "Het  8ste\tWerk", "Het 8ste Werk"),
        ("initiative", "Welzijnscoöperatie Delfshaven", "Welzijnscoöperatie Delfshaven"),
        ("municipality", "Den  Bosch", "GM0796"),
        ("municipality", "s-Hertogenbosch", "GM0796"),
        ("municipality", "Súdwest-Fryslân", "GM1900"),
        ("municipality", "gemeente Vaals", "GM0981"),
        ("initiative_phone", "0612345678", "+31612345678"),
        ("initiative_phone", "612345678", "+31612345678"),
        ("initiative_phone", "+31 6 1234 5678", "+31612345678"),
        ("initiative_phone", "020-1234567", "+31201234567"),
        ("initiative_phone", "201234567", "+31201234567"),
        ("initiative_phone", "(020) 123 45 67", "+31201234567"),
        ("initiative_phone", "0031 20 123 4567", "+31201234567"),
        ("initiative_phone", "+31 (0)6-1234 5678", "+31612345678"),
        ("initiative_phone", "", ""),
        ("postcode", "1234ab", "1234 AB"),
        ("postcode", " 1234  Ab ", "1234 AB"),
        ("postcode", "", ""),
        ("website", "https://stagehuis.nl/over-ons?x=1", "https://stagehuis.nl/over-ons?x=1"),
        ("website", "http://stagehuis.nl", "http://stagehuis.nl"),
        ("website", "stagehuis.nl", "https://stagehuis.nl"),
        ("website", "", ""),
        ("consent", "ja", "ja"),
        ("consent", "JA, dat is goed", "JA, dat is goed"),
        ("description", "🙂" * 20, "🙂" * 20),
        ("description", "نحن نساعد الجيران في الحي كل يوم", "نحن نساعد الجيران في الحي كل يوم"),
        ("initiative_contact", "محمد العلي", "محمد العلي"),
    ],
)
def test_good_answers_are_accepted_and_normalised(field: str, answer: str, normalised: Any) -> None:
    result = validate({field: answer})
    assert result.problems == {}
    response = result.valid[2]
    attribute = "municipality_code" if field == "municipality" else field
    assert response[attribute] == normalised  # type: ignore[literal-required]


@pytest.mark.parametrize(
    ("field", "answer", "reason"),
    [
        ("submitted_at", "", "is niets ingevuld"),
        ("submitted_at", "gisteren", "Dat is geen datum en tijd die we kunnen lezen."),
        ("submitted_at", "31-02-2026 10:00:00", "Dat is geen datum en tijd"),
        ("submitted_at", "2026-11-26 14:03:11", "Dat is geen datum en tijd"),
        ("submitted_at", "26-11-2026 25:03", "Dat is geen datum en tijd"),
        ("submitted_at", "2/31/2026 10:00", "Dat is geen datum en tijd"),
        ("submitted_at", "01-01-0000 10:00:00", "Dat is geen datum en tijd"),
        ("email", "   ", "is niets ingevuld. Vul je e-mailadres in"),
        ("email", "jan.voorbeeld.nl", "het teken @ ontbreekt"),
        ("email", "jan @voorbeeld.nl", "er staat een spatie in"),
        ("email", "a@b.nl; c@d.nl", "Dat zijn meer e-mailadressen"),
        ("email", "jan@voorbeeld", "Dat is geen geldig e-mailadres."),
        ("email", "jan@voorbeeld.nl.", "Dat is geen geldig e-mailadres."),
        ("initiative", "A", "Dat is te kort: gebruik minstens 2 tekens."),
        ("initiative", "x" * 151, "hoogstens 150 tekens (nu zijn het er 151)."),
        ("municipality", "", "is niets ingevuld. Vul de naam van je gemeente in."),
        ("municipality", "Groningn", "Dat is geen gemeente. Bedoel je Groningen?"),
        ("municipality", "Brielle", "Brielle hoort nu bij de gemeente Voorne aan Zee."),
        ("municipality", "Bergen", "Er zijn meer gemeenten met die naam. Bedoel je Bergen (NH.)"),
        ("municipality", "Xyzzy", "Dat is geen gemeente. Vul de naam van je gemeente in."),
        ("initiative_contact", "", "is niets ingevuld"),
        ("initiative_contact", "12", "Dat is geen naam."),
        ("initiative_contact", "J", "Dat is te kort"),
        ("initiative_email", "fatima", "Dat is geen geldig e-mailadres"),
        ("initiative_phone", "12345", "Dat is geen Nederlands telefoonnummer."),
        ("initiative_phone", "+32 2 123 45 67", "Dat is geen Nederlands telefoonnummer."),
        ("initiative_phone", "061234567", "Dat is geen Nederlands telefoonnummer."),
        ("initiative_phone", "06-12345678 (werk)", "Dat is geen Nederlands telefoonnummer."),
        ("municipality_contact", "", "is niets ingevuld"),
        ("municipality_email", "", "is niets ingevuld"),
        ("municipality_email", "jan@", "Dat is geen geldig e-mailadres"),
        ("postcode", "0123 AB", "Dat is geen Nederlandse postcode."),
        ("postcode", "1234 A", "Dat is geen Nederlandse postcode."),
        ("postcode", "12345", "Dat is geen Nederlandse postcode."),
        ("description", "", "is niets ingevuld"),
        ("description", "Te kort.", "Dat is te kort: gebruik minstens 20 tekens."),
        ("description", "x" * 5_001, "Dat is te lang: gebruik hoogstens 5.000 tekens"),
        ("ambition", "Samen sterk", "Dat is te kort: gebruik minstens 20 tekens."),
        ("website", "niet bekend", "Dat is geen geldig webadres: er staat een spatie in."),
        ("website", "stagehuis", "Dat is geen geldig webadres."),
        ("website", "ftp://stagehuis.nl", "Dat is geen geldig webadres."),
        ("website", '=HYPERLINK("https://x.nl";"x")', "Dat is geen geldig webadres."),
        ("consent", "", "is niets ingevuld"),
        ("consent", "Nee", "Zonder je toestemming mogen we je gegevens niet gebruiken."),
    ],
)
def test_bad_answers_give_one_dutch_problem(field: str, answer: str, reason: str) -> None:
    problem = only_problem(validate({field: answer}))
    question = FORM_FIELDS[field]
    assert (problem.row, problem.field, problem.question) == (2, field, question)
    assert problem.message.startswith(f'Bij "{question}" ')
    assert reason in problem.message
    flat = " ".join(answer.split())
    assert problem.value == (flat if len(flat) <= 80 else flat[:79] + "…")


def test_a_district_is_refused_with_the_municipality_as_hint() -> None:
    problem = only_problem(validate({"municipality": "Delfshaven"}))
    assert problem.message == (
        'Bij "Gemeente" vulde je "Delfshaven" in. Dat is geen gemeente. Delfshaven is een wijk '
        "van Rotterdam. Bedoel je Rotterdam? Vul de naam van je gemeente in."
    )


def test_the_two_contact_emails_must_differ() -> None:
    result = validate(
        {"initiative_email": "samen@voorbeeld.nl", "municipality_email": " Samen@Voorbeeld.nl"}
    )
    problem = only_problem(result)
    assert problem.field == "municipality_email"
    assert problem.message == (
        'Bij "E-mailadres contactpersoon gemeente" staat hetzelfde adres als bij de '
        "contactpersoon van het initiatief. Vul het e-mailadres van iemand van de gemeente in."
    )


def test_a_bad_email_format_wins_over_the_same_email() -> None:
    result = validate({"initiative_email": "x y@a.nl", "municipality_email": "x y@a.nl"})
    assert [p.field for p in result.problems[2]] == ["initiative_email", "municipality_email"]
    assert "er staat een spatie in" in result.problems[2][1].message
    assert "hetzelfde adres" not in result.problems[2][1].message


def test_several_bad_answers_give_one_problem_per_field_in_form_order() -> None:
    result = validate(
        GOOD,
        {"email": "jan", "municipality": "Delfshaven", "initiative_contact": "1",
         "postcode": "0000", "consent": "nee"},
        first_row=7,
    )
    assert list(result.valid) == [7]
    fields = [problem.field for problem in result.problems[8]]
    assert fields == ["email", "municipality", "initiative_contact", "postcode", "consent"]
    assert all(problem.row == 8 for problem in result.problems[8])
    assert "Dat is geen naam." in result.problems[8][2].message


def test_messages_name_the_configured_question() -> None:
    questions = {**FORM_FIELDS, "municipality": "In welke gemeente zitten jullie?"}
    problem = only_problem(validate({"municipality": "Xyzzy"}, questions=questions))
    assert problem.question == "In welke gemeente zitten jullie?"
    assert problem.message.startswith('Bij "In welke gemeente zitten jullie?" vulde je "Xyzzy"')


@pytest.mark.parametrize(
    "answer",
    ['=HYPERLINK("https://evil.example";"klik")', "🙂" * 3, "مرحبا بالعالم", "x\u202eevil",
     "a" * 50_000, "regel 1\nregel 2\r\n", "\u00a0\u00a0", "Null", "None", "nan"],
)
@pytest.mark.parametrize("field", list(FORM_FIELDS))
def test_hostile_values_do_not_crash(field: str, answer: str) -> None:
    result = validate({field: answer})
    for problem in result.problems.get(2, []):
        assert len(problem.value) <= 80
        assert len(problem.message) < 1_000
    assert len(result.valid) + len(result.problems) == 1


def test_a_50000_character_answer_is_clipped_in_the_problem() -> None:
    problem = only_problem(validate({"description": "lang " * 10_000}))
    assert problem.value.endswith("…")
    assert len(problem.value) == 80
    assert "(nu zijn het er 49.999)" in problem.message


def test_missing_cells_and_object_columns_count_as_empty() -> None:
    frame = pd.DataFrame([{**GOOD, "initiative_phone": np.nan, "website": None}], dtype=object)
    frame.index = [12]
    result = validate_form(frame)
    assert result.problems == {}
    assert (result.valid[12]["initiative_phone"], result.valid[12]["website"]) == ("", "")
    assert validate_form(frame.drop(columns=["website", "postcode"])).problems == {}


def test_a_missing_required_column_is_an_infrastructure_error() -> None:
    frame = pd.DataFrame([GOOD]).drop(columns=["municipality"])
    with pytest.raises(ValueError, match=r"no column\(s\) \['municipality'\]"):
        validate_form(frame)


def test_duplicate_sheet_rows_are_an_infrastructure_error() -> None:
    frame = pd.DataFrame([GOOD, GOOD], index=[4, 4])
    with pytest.raises(ValueError, match=r"Form rows \[4\] occur more than once"):
        validate_form(frame)


def test_sheet_rows_must_be_integers() -> None:
    frame = pd.DataFrame([GOOD], index=["a"])
    with pytest.raises(ValueError, match="expected the sheet row numbers"):
        validate_form(frame)


def test_an_empty_tab_validates_to_nothing() -> None:
    result = validate_form(pd.DataFrame(columns=list(FORM_FIELDS)))
    assert (result.valid, result.problems) == ({}, {})
    assert list(result.normalised.columns) == list(NormalisedResponse.__annotations__)
    assert result.normalised.empty


def test_application_key_normalises_the_name_and_adds_the_code() -> None:
    result = validate(
        {"initiative": "Welzijnscoöperatie  Delfshaven!", "municipality": "rotterdam"},
        {"initiative": "welzijnscooperatie delfshaven", "municipality": "Rotterdam"},
    )
    keys = {application_key(response) for response in result.valid.values()}
    assert keys == {"welzijnscooperatie delfshaven|GM0599"}


def test_valid_rows_are_plain_text_whatever_the_column_type() -> None:
    rows = [{**GOOD, "email": " Jan@Voorbeeld.NL ", "initiative": "Het  Huis"}, GOOD]
    as_text = validate_form(pd.DataFrame(rows, index=[2, 3]))
    as_objects = validate_form(pd.DataFrame(rows, index=[2, 3], dtype=object))
    assert as_text == as_objects
    assert as_objects.valid[2]["email"] == "jan@voorbeeld.nl"
    assert as_objects.valid[2]["initiative"] == "Het Huis"
    assert all(type(v) is str for resp in as_objects.valid.values() for v in resp.values())


def test_the_adapter_gives_the_same_rows_and_problems_as_dicts() -> None:
    rows = {2: GOOD, 3: {**GOOD, "postcode": "12AB", "consent": "nee"}, 5: {**GOOD, "website": ""}}
    valid, problems = validate_rows(FORM_FIELDS)(rows)
    result = validate_form(pd.DataFrame.from_dict(rows, orient="index"))
    assert valid == result.valid
    assert problems == {row: [{"field": p.field, "question": p.question, "value": p.value,
                               "message": p.message} for p in found]
                        for row, found in result.problems.items()}
    assert list(problems[3][0]) == ["field", "question", "value", "message"]
