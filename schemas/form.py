"""The contract of the form tab ("Formulierreacties 1"): checks, Dutch problems and clean rows.

The caller renames the question headers to field names and sets the index to the sheet row
numbers. Every cell arrives as raw text; `validate_form` trims it (empty means unanswered),
runs the pandera model with lazy validation and turns each failing cell into one `Problem`.
All checks are vectorised string operations; municipalities are resolved per unique answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from samen.schemas.municipalities import normalise_name, resolve_municipality

FORM_FIELDS: Final[Mapping[str, str]] = MappingProxyType({
    "submitted_at": "Tijdstempel",
    "email": "E-mailadres",
    "initiative": "Naam bewonersinitiatief",
    "municipality": "Gemeente",
    "initiative_contact": "Contactpersoon initiatief",
    "initiative_email": "E-mailadres contactpersoon initiatief",
    "initiative_phone": "Telefoonnummer contactpersoon initiatief",
    "municipality_contact": "Contactpersoon gemeente",
    "municipality_email": "E-mailadres contactpersoon gemeente",
    "postcode": "Postcode",
    "description": "Wat doet jullie initiatief?",
    "ambition": "Wat willen jullie samen bereiken?",
    "website": "Website",
    "consent": "Toestemming",
})
OPTIONAL_FIELDS: Final = frozenset({"initiative_phone", "postcode", "website"})
LENGTHS: Final[Mapping[str, tuple[int, int]]] = MappingProxyType({
    "initiative": (2, 150),
    "initiative_contact": (2, 100),
    "municipality_contact": (2, 100),
    "description": (20, 5_000),
    "ambition": (20, 5_000),
})
_COLLAPSED = frozenset({"initiative", "initiative_contact", "municipality_contact"})
_TIMESTAMP_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
# Plain (not raw) strings where a no-break space must reach both regex engines (re and RE2).
_EMAIL = (
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_PHONE_SEPARATORS = "[\\s\u00a0\u202f().\\-/\u2013]"
# Also 9 digits without the leading zero, and 31... without the plus: what a sheet makes of it.
_PHONE = r"^(?:\+31|0031|31)?0?([1-9][0-9]{8})$"
_POSTCODE = "^([1-9][0-9]{3})[\\s\u00a0]*([A-Z]{2})$"
_URL = r"(?i)(?:https?://)?(?:[^\s/?#@:.]+\.)+[^\s/?#@:.]{2,}(?::[0-9]{1,5})?(?:[/?#]\S*)?"
_SPACES = "[\\s\u00a0\u202f]+"
_SHOWN_CHARS = 80

# Every Dutch text of this module; a message is "Bij <vraag> ...", the reason, then the fix.
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
_SAME_EMAIL = (
    'Bij "{question}" staat hetzelfde adres als bij de contactpersoon van het initiatief. {fix}'
)
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
_CHECK_ORDER = (
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


@dataclass(frozen=True, slots=True)
class NormalisedResponse:
    """A valid form response in the shape the pipeline stores."""

    submitted_at: datetime
    email: str
    initiative: str
    municipality_code: str
    municipality_name: str
    initiative_contact: str
    initiative_email: str
    initiative_phone: str
    municipality_contact: str
    municipality_email: str
    postcode: str
    description: str
    ambition: str
    website: str
    consent: str


@dataclass(frozen=True)
class FormValidation:
    """Valid responses and problems, both keyed by sheet row."""

    valid: dict[int, NormalisedResponse]
    problems: dict[int, list[Problem]]


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Parse Dutch (26-11-2026 14:03:11) and English (11/26/2026 14:03:11) form timestamps."""
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in _TIMESTAMP_FORMATS:
        todo = result.isna() & values.notna()
        if not todo.any():
            break
        result[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce")
    return result


def normalise_phones(values: pd.Series) -> pd.Series:
    """Return Dutch phone numbers as +31 plus 9 digits, NA where a value is not one."""
    digits = values.str.replace(_PHONE_SEPARATORS, "", regex=True)
    return "+31" + digits.str.extract(_PHONE, expand=False)


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """Return Dutch postcodes as "1234 AB", NA where a value is not one."""
    parts = values.str.upper().str.extract(_POSTCODE)
    return parts[0] + " " + parts[1]


class FormResponses(pa.DataFrameModel):
    """The form tab by field name: trimmed text, NA for an unanswered question."""

    submitted_at: Series[str] = pa.Field(nullable=False)
    email: Series[str] = pa.Field(nullable=False)
    initiative: Series[str] = pa.Field(nullable=False)
    municipality: Series[str] = pa.Field(nullable=False)
    initiative_contact: Series[str] = pa.Field(nullable=False)
    initiative_email: Series[str] = pa.Field(nullable=False)
    initiative_phone: Series[str] = pa.Field(nullable=True)
    municipality_contact: Series[str] = pa.Field(nullable=False)
    municipality_email: Series[str] = pa.Field(nullable=False)
    postcode: Series[str] = pa.Field(nullable=True)
    description: Series[str] = pa.Field(nullable=False)
    ambition: Series[str] = pa.Field(nullable=False)
    website: Series[str] = pa.Field(nullable=True)
    consent: Series[str] = pa.Field(nullable=False)

    class Config:
        strict = False
        coerce = False

    @pa.check("submitted_at")
    def timestamp_readable(cls, values: Series[str]) -> Series[bool]:
        return parse_timestamps(values).notna()

    @pa.check("email", "initiative_email", "municipality_email")
    def email_valid(cls, values: Series[str]) -> Series[bool]:
        return values.str.lower().str.fullmatch(_EMAIL) & (values.str.len() <= 254)

    @pa.check("initiative_contact", "municipality_contact")
    def name_has_letter(cls, values: Series[str]) -> Series[bool]:
        return values.str.contains(r"[^\W\d_]", regex=True)

    @pa.check(*LENGTHS)
    def length_in_range(cls, values: Series[str]) -> Series[bool]:
        low, high = LENGTHS[str(values.name)]
        if values.name in _COLLAPSED:
            values = values.str.replace(_SPACES, " ", regex=True)
        return values.str.len().between(low, high)

    @pa.check("municipality")
    def municipality_known(cls, values: Series[str]) -> Series[bool]:
        known = [v for v in values.unique() if resolve_municipality(v).code is not None]
        return values.isin(known)

    @pa.check("initiative_phone")
    def phone_dutch(cls, values: Series[str]) -> Series[bool]:
        return normalise_phones(values).notna()

    @pa.check("postcode")
    def postcode_dutch(cls, values: Series[str]) -> Series[bool]:
        return normalise_postcodes(values).notna()

    @pa.check("website")
    def website_url(cls, values: Series[str]) -> Series[bool]:
        return values.str.fullmatch(_URL)

    @pa.check("consent")
    def consent_given(cls, values: Series[str]) -> Series[bool]:
        return values.str.lower().str.startswith("ja")

    @pa.dataframe_check
    def emails_differ(cls, frame: pd.DataFrame) -> Series[bool]:
        first = frame["initiative_email"].str.lower()
        second = frame["municipality_email"].str.lower()
        return (first != second) | first.isna() | second.isna()


def validate_form(
    df: pd.DataFrame, questions: Mapping[str, str] = FORM_FIELDS
) -> FormValidation:
    """Validate form answers (field-name columns, sheet-row index) into clean rows and problems."""
    prepared = _prepare(df)
    problems: dict[int, list[Problem]] = {}
    try:
        FormResponses.validate(prepared, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems = _problems(errors, prepared, questions)
    good = prepared[~prepared.index.isin(list(problems))]
    return FormValidation(valid=_normalise(good, df.loc[good.index, "consent"]), problems=problems)


def application_key(resp: NormalisedResponse) -> str:
    """Return the key that identifies an application: normalised initiative name | CBS code."""
    return f"{normalise_name(resp.initiative)}|{resp.municipality_code}"


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    missing = [f for f in FORM_FIELDS if f not in df.columns and f not in OPTIONAL_FIELDS]
    if missing:
        raise ValueError(
            f"Form data has no column(s) {missing}; expected field columns {list(FORM_FIELDS)}. "
            "Rename the question headers to field names (see [questions] in samen.toml) "
            "or restore the question in the form."
        )
    if not df.index.is_unique:
        doubles = sorted({int(r) for r in df.index[df.index.duplicated()]})[:5]
        raise ValueError(
            f"Form rows {doubles} occur more than once; expected the sheet row numbers as a "
            "unique index. Set the index to the sheet row numbers before validating."
        )
    columns = {}
    for field in FORM_FIELDS:
        if field in df.columns:
            text = df[field].astype("str").str.strip()
            columns[field] = text.where(text != "")
        else:
            columns[field] = pd.Series(pd.NA, index=df.index, dtype="str")
    return pd.DataFrame(columns, index=df.index)


def _problems(
    errors: pa.errors.SchemaErrors, prepared: pd.DataFrame, questions: Mapping[str, str]
) -> dict[int, list[Problem]]:
    cases = errors.failure_cases
    unknown = cases[cases["index"].isna() | ~cases["check"].isin(_CHECK_ORDER)]
    if len(unknown):
        raise ValueError(f"Form data does not fit the form schema: {errors}")
    rank = {check: number for number, check in enumerate(_CHECK_ORDER)}
    chosen: dict[tuple[int, str], str] = {}
    for row, column, check in zip(cases["index"], cases["column"], cases["check"], strict=True):
        field = "municipality_email" if check == "emails_differ" else str(column)
        key = (int(row), field)
        if key not in chosen or rank[check] < rank[chosen[key]]:
            chosen[key] = check
    problems: dict[int, list[Problem]] = {}
    order = {field: number for number, field in enumerate(FORM_FIELDS)}
    for (row, field), check in sorted(chosen.items(), key=lambda i: (i[0][0], order[i[0][1]])):
        raw = prepared.at[row, field]
        value = _shown("" if pd.isna(raw) else str(raw))
        question = questions.get(field, FORM_FIELDS[field])
        message = _message(check, field, question, value, "" if pd.isna(raw) else str(raw))
        problems.setdefault(row, []).append(Problem(row, field, question, value, message))
    return problems


def _message(check: str, field: str, question: str, shown: str, value: str) -> str:
    fix = _FIX[field]
    if check == "not_nullable":
        return _EMPTY.format(question=question, fix=fix)
    if check == "emails_differ":
        return _SAME_EMAIL.format(question=question, fix=fix)
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
    return template.format(question=question, value=shown, reason=reason, fix=fix)


def _email_reason(value: str) -> str:
    if value.count("@") > 1:
        return "email_several"
    if "@" not in value:
        return "email_no_at"
    if any(c.isspace() for c in value):
        return "email_space"
    return "email_valid"


def _length_reason(field: str, value: str) -> tuple[str, bool]:
    low, high = LENGTHS[field]
    count = len(" ".join(value.split())) if field in _COLLAPSED else len(value)
    if count < low:
        return _REASONS["too_short"].format(low=low), False
    return _REASONS["too_long"].format(high=_dutch_number(high), count=_dutch_number(count)), True


def _dutch_number(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _shown(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _SHOWN_CHARS else flat[: _SHOWN_CHARS - 1] + "…"


def _normalise(good: pd.DataFrame, consent: pd.Series) -> dict[int, NormalisedResponse]:
    if good.empty:
        return {}
    resolved = {v: resolve_municipality(v) for v in good["municipality"].unique()}
    website = good["website"]
    has_scheme = website.str.match(r"(?i)https?://")
    columns = {
        "submitted_at": parse_timestamps(good["submitted_at"]).dt.to_pydatetime(),
        "email": good["email"].str.lower(),
        "initiative": good["initiative"].str.replace(_SPACES, " ", regex=True),
        "municipality_code": good["municipality"].map({v: r.code for v, r in resolved.items()}),
        "municipality_name": good["municipality"].map({v: r.name for v, r in resolved.items()}),
        "initiative_contact": good["initiative_contact"].str.replace(_SPACES, " ", regex=True),
        "initiative_email": good["initiative_email"].str.lower(),
        "initiative_phone": normalise_phones(good["initiative_phone"]).fillna(""),
        "municipality_contact": good["municipality_contact"].str.replace(_SPACES, " ", regex=True),
        "municipality_email": good["municipality_email"].str.lower(),
        "postcode": normalise_postcodes(good["postcode"]).fillna(""),
        "description": good["description"],
        "ambition": good["ambition"],
        "website": website.where(has_scheme.fillna(True), "https://" + website).fillna(""),
        "consent": consent.astype("str"),
    }
    rows = zip(*(column.tolist() for column in columns.values()), strict=True)
    return {int(r): NormalisedResponse(*values) for r, values in zip(good.index, rows, strict=True)}
