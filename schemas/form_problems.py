"""The Dutch problems of the form tab: one `Problem` per bad answer, in the words people read.

A message names the question, says what is wrong, then how to fix it; the same words go to the
sheet ("Problemen") and to the applicant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from samen.schemas.failures import first_failures
from samen.schemas.form_values import COLLAPSED, FORM_FIELDS, LENGTHS
from samen.schemas.municipalities import resolve_municipality

SHOWN_CHARS = 80

# Every Dutch text of the form's checks.
_FIX = {
    "submitted_at": "Vul de datum en tijd in, zoals 26-11-2026 14:03:11.",
    "email": "Vul je e-mailadres in, zoals naam@voorbeeld.nl.",
    "initiative": "Vul de naam van jullie bewonersinitiatief in.",
    "municipality": "Vul de naam van je gemeente in.",
    "initiative_contact": "Vul de voor- en achternaam van de contactpersoon in.",
    "initiative_email": "Vul het e-mailadres van de contactpersoon in, zoals naam@voorbeeld.nl.",
    "initiative_phone": "Vul een nummer in zoals 06 12345678 of 020 1234567, of laat het leeg.",
    "municipality_contact": "Vul de voor- en achternaam van de contactpersoon bij de gemeente in.",
    "municipality_email": "Vul het e-mailadres van iemand van de gemeente in.",
    "postcode": "Vul een postcode in zoals 1234 AB, of laat het leeg.",
    "description": "Vertel in een paar zinnen wat jullie initiatief doet.",
    "ambition": "Vertel in een paar zinnen wat jullie samen met de gemeente willen bereiken.",
    "website": "Vul een adres in zoals www.voorbeeld.nl, of laat het leeg.",
    "consent": 'Kies "Ja" als je toestemming geeft.',
}
_EMPTY = 'Bij "{question}" is niets ingevuld. {fix}'
_ANSWERED = 'Bij "{question}" vulde je "{value}" in. {reason} {fix}'
_STATED = 'Bij "{question}" staat "{value}". {reason} {fix}'
_SAME_EMAIL = 'Bij "{question}" staat hetzelfde adres als bij de contactpersoon van het initiatief.'
_REASONS = {
    "timestamp_readable": "Dat is geen datum en tijd die we kunnen lezen.",
    "email_valid": "Dat is geen geldig e-mailadres.",
    "email_no_at": "Dat is geen geldig e-mailadres: het teken @ ontbreekt.",
    "email_space": "Dat is geen geldig e-mailadres: er staat een spatie in.",
    "email_several": "Dat zijn meer e-mailadressen; we hebben er één nodig.",
    "too_short": "Dat is te kort: gebruik minstens {low} tekens.",
    "too_long": "Dat is te lang: gebruik hoogstens {high} tekens (nu zijn het er {count}).",
    "shorten": "Maak je antwoord korter.",
    "name_has_letter": "Dat is geen naam.",
    "municipality_known": "Dat is geen gemeente.",
    "municipality_same_name": "Er zijn meer gemeenten met die naam.",
    "phone_dutch": "Dat is geen Nederlands telefoonnummer.",
    "postcode_dutch": "Dat is geen Nederlandse postcode.",
    "website_url": "Dat is geen geldig webadres.",
    "website_space": "Dat is geen geldig webadres: er staat een spatie in.",
    "consent_given": "Zonder je toestemming mogen we je gegevens niet gebruiken.",
}
# When several checks fail on one cell, the earliest in this order gives the message.
CHECK_ORDER = (
    "not_nullable", "timestamp_readable", "email_valid", "name_has_letter", "length_in_range",
    "municipality_known", "phone_dutch", "postcode_dutch", "website_url", "consent_given",
    "emails_differ",
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad answer: sheet row, field, the question as configured, the value and the message."""

    row: int
    field: str
    question: str
    value: str
    message: str


def collect_problems(
    errors: pa.errors.SchemaErrors, prepared: pd.DataFrame, questions: Mapping[str, str]
) -> dict[int, list[Problem]]:
    """Return the problems of the model's failure cases by sheet row, one per field, form order."""
    chosen = first_failures(errors, list(FORM_FIELDS), CHECK_ORDER, ("emails_differ", "municipality_email"),
                            "Form")
    values = pd.Series("", index=chosen.index, dtype="str")
    for field, group in chosen.groupby("field"):
        values[group.index] = prepared[field].reindex(group["row"]).fillna("").to_numpy()
    problems: dict[int, list[Problem]] = {}
    for row, field, check, value in zip(  # lists: iterating pyarrow-backed text is slower
        chosen["row"].tolist(), chosen["field"].tolist(), chosen["check"].tolist(),
        values.tolist(), strict=True
    ):
        question = questions.get(field, FORM_FIELDS[field])
        message = problem_message(check, field, question, value)
        problems.setdefault(row, []).append(Problem(row, field, question, shown(value), message))
    return problems


def problem_message(check: str, field: str, question: str, value: str) -> str:
    """Return the Dutch message of a failed check on one answer."""
    fix = _FIX[field]
    if check == "not_nullable":
        return _EMPTY.format(question=question, fix=fix)
    if check == "emails_differ":
        return f"{_SAME_EMAIL.format(question=question)} {fix}"
    if check == "email_valid":
        reason = _REASONS[_email_reason(value)]
    elif check == "length_in_range":
        reason, too_long = _length_reason(field, value)
        fix = _REASONS["shorten"] if too_long else fix
    elif check == "website_url" and any(c.isspace() for c in value):
        reason = _REASONS["website_space"]
    elif check == "municipality_known":
        resolution = resolve_municipality(value)
        reason = _REASONS["municipality_same_name" if resolution.ambiguous else check]
        reason = f"{reason} {resolution.hint}" if resolution.hint else reason
    else:
        reason = _REASONS[check]
    template = _STATED if field == "submitted_at" else _ANSWERED
    return template.format(question=question, value=shown(value), reason=reason, fix=fix)


def shown(value: str) -> str:
    """Return an answer as a message quotes it: whitespace collapsed, at most 80 characters."""
    flat = " ".join(value.split())
    return flat if len(flat) <= SHOWN_CHARS else flat[: SHOWN_CHARS - 1] + "…"


def _email_reason(value: str) -> str:
    if value.count("@") > 1:
        return "email_several"
    if "@" not in value:
        return "email_no_at"
    return "email_space" if any(c.isspace() for c in value) else "email_valid"


def _length_reason(field: str, value: str) -> tuple[str, bool]:
    low, high = LENGTHS[field]
    count = len(" ".join(value.split())) if field in COLLAPSED else len(value)
    if count < low:
        return _REASONS["too_short"].format(low=low), False
    dutch = {"high": f"{high:,}".replace(",", "."), "count": f"{count:,}".replace(",", ".")}
    return _REASONS["too_long"].format(**dutch), True
