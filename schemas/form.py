"""The contract of the form tab ("Formulierreacties 1"): checks, Dutch problems and clean rows.

The caller renames the question headers to field names and sets the index to the sheet row
numbers. `validate_form` trims every cell (empty means unanswered), runs the pandera model
lazily and turns each failing cell into one `Problem`. Checks are vectorised string operations
that pandas runs in pyarrow (so patterns avoid \\s, \\d and \\w, which would make pandas fall back
to Python's re per cell); municipalities are resolved once per distinct answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
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
    "initiative": (2, 150), "initiative_contact": (2, 100), "municipality_contact": (2, 100),
    "description": (20, 5_000), "ambition": (20, 5_000),
})
_COLLAPSED = frozenset({"initiative", "initiative_contact", "municipality_contact"})
_WHITESPACE = " \t\n\r\f\v\u00a0\u2007\u202f"
_SPACES = f"[{_WHITESPACE}]+"
_EMAIL = (
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_PHONE_SEPARATORS = f"[{_WHITESPACE}().\\-/\u2013]"
# Also 9 digits without the leading zero, and 31... without the plus: what a sheet makes of it.
_PHONE = r"^(?:\+31|0031|31)?0?([1-9][0-9]{8})$"
_POSTCODE = "[1-9][0-9]{3}[A-Z]{2}"
_HOST = f"[^{_WHITESPACE}/?#@:.]"
_URL = (
    f"(?i)(?:https?://)?(?:{_HOST}+\\.)+{_HOST}{{2,}}"
    f"(?::[0-9]{{1,5}})?(?:[/?#][^{_WHITESPACE}]*)?"
)
_LETTER = r"\pL"  # RE2 only (Python's re has no \p), so it goes to pyarrow.compute directly
_TIMESTAMP_SHAPE = (  # dd-mm-yyyy (Dutch form) or m/d/yyyy (English form), H:MM with or without :SS
    r"^(?:[0-9]{1,2}-[0-9]{1,2}-|[0-9]{1,2}/[0-9]{1,2}/)[0-9]{4} "
    r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?$"
)
_TIMESTAMP_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
_SHOWN_CHARS = 80

# Every Dutch text of this module. A message names the question, says what is wrong, then how
# to fix it; the same words go to the sheet ("Problemen") and to the applicant.
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
    text = pyarrow.array(values, from_pandas=True, type=pyarrow.large_string())
    text = pc.if_else(pc.match_substring_regex(text, _TIMESTAMP_SHAPE), text, None)
    stamps = pc.coalesce(*(
        pc.strptime(text, format=fmt, unit="s", error_is_null=True) for fmt in _TIMESTAMP_FORMATS
    ))
    # strptime rolls 31-02 over into March: a date whose day changed was not a real date.
    english = pc.and_(pc.is_valid(stamps), pc.match_substring(text, "/"))
    dutch = pc.and_(pc.is_valid(stamps), pc.invert(english))
    day = pc.cast(pc.coalesce(
        pc.list_element(pc.split_pattern(pc.if_else(english, text, None), "/"), 1),
        pc.list_element(pc.split_pattern(pc.if_else(dutch, text, None), "-"), 0),
    ), pyarrow.int64())
    real = pc.if_else(pc.equal(pc.day(stamps), day), stamps, None)
    return pd.Series(real.to_numpy(zero_copy_only=False), index=values.index)


def normalise_phones(values: pd.Series) -> pd.Series:
    """Return Dutch phone numbers as +31 plus 9 digits, NA where a value is not one."""
    digits = values.str.replace(_PHONE_SEPARATORS, "", regex=True)
    national = digits.str.replace(_PHONE, r"\1", regex=True)
    return ("+31" + national).where(national.str.fullmatch("[1-9][0-9]{8}").fillna(False))


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """Return Dutch postcodes as "1234 AB", NA where a value is not one."""
    compact = values.str.upper().str.replace(_SPACES, "", regex=True)
    spaced = compact.str.slice(0, 4) + " " + compact.str.slice(4)
    return spaced.where(compact.str.fullmatch(_POSTCODE).fillna(False))


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
        """Accept a Dutch or English form timestamp that is a real date and time."""
        return parse_timestamps(values).notna()

    @pa.check("email", "initiative_email", "municipality_email")
    def email_valid(cls, values: Series[str]) -> Series[bool]:
        """Accept one e-mail address (any case), at most 254 characters."""
        return values.str.lower().str.fullmatch(_EMAIL) & (values.str.len() <= 254)

    @pa.check("initiative_contact", "municipality_contact")
    def name_has_letter(cls, values: Series[str]) -> Series[bool]:
        """Accept a name only when it contains a letter of any script."""
        letters = pc.match_substring_regex(pyarrow.array(values, from_pandas=True), _LETTER)
        return pd.Series(letters.to_numpy(zero_copy_only=False), index=values.index)

    @pa.check(*LENGTHS)
    def length_in_range(cls, values: Series[str]) -> Series[bool]:
        """Accept text whose length (inner whitespace collapsed for names) fits LENGTHS."""
        low, high = LENGTHS[str(values.name)]
        lengths = values.str.len()
        # Collapsing inner whitespace only shortens a trimmed text, so only long ones need it.
        long = lengths > high
        if values.name in _COLLAPSED and long.any():
            lengths[long] = values[long].str.replace(_SPACES, " ", regex=True).str.len()
        return lengths.between(low, high)

    @pa.check("municipality")
    def municipality_known(cls, values: Series[str]) -> Series[bool]:
        """Accept an answer that resolves to one of the 342 municipalities."""
        known = [v for v in values.unique() if resolve_municipality(v).code is not None]
        return values.isin(known)

    @pa.check("initiative_phone")
    def phone_dutch(cls, values: Series[str]) -> Series[bool]:
        """Accept a Dutch landline or mobile number in any common notation."""
        return normalise_phones(values).notna()

    @pa.check("postcode")
    def postcode_dutch(cls, values: Series[str]) -> Series[bool]:
        """Accept a Dutch postcode such as 1234 AB, in any case or spacing."""
        return normalise_postcodes(values).notna()

    @pa.check("website")
    def website_url(cls, values: Series[str]) -> Series[bool]:
        """Accept a web address with a dotted host, with or without http(s)://."""
        return values.str.fullmatch(_URL)

    @pa.check("consent")
    def consent_given(cls, values: Series[str]) -> Series[bool]:
        """Accept consent only when the answer starts with Ja."""
        return values.str.lower().str.startswith("ja")

    @pa.dataframe_check
    @classmethod
    def emails_differ(cls, frame: pd.DataFrame) -> Series[bool]:
        """Flag rows whose municipal contact has the initiative contact's e-mail."""
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
            "Rename the question headers to field names before validating, or restore the "
            "question in the form."
        )
    if len(df) and not pd.api.types.is_integer_dtype(df.index):
        raise ValueError(
            f"Form rows are indexed by {df.index.dtype} values; expected the sheet row numbers "
            "(integers). Set the index to the sheet row numbers before validating."
        )
    if not df.index.is_unique:
        doubles = sorted(set(df.index[df.index.duplicated()].tolist()))[:5]
        raise ValueError(
            f"Form rows {doubles} occur more than once; expected the sheet row numbers as a "
            "unique index. Set the index to the sheet row numbers before validating."
        )
    columns = {}
    for field in FORM_FIELDS:
        if field not in df.columns:  # an optional question the form does not ask
            columns[field] = pd.Series(pd.NA, index=df.index, dtype="str")
            continue
        text = df[field].astype("str").str.strip()
        columns[field] = text.where(text != "")
    return pd.DataFrame(columns, index=df.index)


def _problems(
    errors: pa.errors.SchemaErrors, prepared: pd.DataFrame, questions: Mapping[str, str]
) -> dict[int, list[Problem]]:
    cases = errors.failure_cases
    if (cases["index"].isna() | ~cases["check"].isin(_CHECK_ORDER)).any():
        raise ValueError(f"Form data does not fit the form schema: {errors}")
    fields = cases["column"].where(cases["check"] != "emails_differ", "municipality_email")
    chosen = pd.DataFrame({
        "row": cases["index"].astype("int64"),
        "field": fields.astype("str"),
        "order": fields.map({field: n for n, field in enumerate(FORM_FIELDS)}),
        "rank": cases["check"].map({check: n for n, check in enumerate(_CHECK_ORDER)}),
        "check": cases["check"].astype("str"),
    })
    chosen = chosen.sort_values(["row", "order", "rank"]).drop_duplicates(["row", "field"])
    values = pd.Series("", index=chosen.index, dtype="str")
    for field, group in chosen.groupby("field"):
        values[group.index] = prepared[field].reindex(group["row"]).fillna("").to_numpy()
    problems: dict[int, list[Problem]] = {}
    for row, field, check, value in zip(
        chosen["row"].tolist(), chosen["field"], chosen["check"], values, strict=True
    ):
        question = questions.get(field, FORM_FIELDS[field])
        message = _message(check, field, question, value)
        problems.setdefault(row, []).append(Problem(row, field, question, _shown(value), message))
    return problems


def _message(check: str, field: str, question: str, value: str) -> str:
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
    return template.format(question=question, value=_shown(value), reason=reason, fix=fix)


def _email_reason(value: str) -> str:
    if value.count("@") > 1:
        return "email_several"
    if "@" not in value:
        return "email_no_at"
    return "email_space" if any(c.isspace() for c in value) else "email_valid"


def _length_reason(field: str, value: str) -> tuple[str, bool]:
    low, high = LENGTHS[field]
    count = len(" ".join(value.split())) if field in _COLLAPSED else len(value)
    if count < low:
        return _REASONS["too_short"].format(low=low), False
    dutch = {"high": f"{high:,}".replace(",", "."), "count": f"{count:,}".replace(",", ".")}
    return _REASONS["too_long"].format(**dutch), True


def _shown(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _SHOWN_CHARS else flat[: _SHOWN_CHARS - 1] + "…"


def _normalise(good: pd.DataFrame, consent: pd.Series) -> dict[int, NormalisedResponse]:
    if good.empty:
        return {}
    resolved = {v: resolve_municipality(v) for v in good["municipality"].unique()}
    website = good["website"]
    has_scheme = website.str.match(r"(?i)https?://").fillna(True).astype(bool)
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
        "website": website.where(has_scheme, "https://" + website).fillna(""),
        "consent": consent.astype("str"),
    }
    rows = zip(*(column.tolist() for column in columns.values()), strict=True)
    return {int(r): NormalisedResponse(*values) for r, values in zip(good.index, rows, strict=True)}
