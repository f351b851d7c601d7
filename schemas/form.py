"""The contract of the form tab ("Formulierreacties 1"): checks, Dutch problems and clean rows.

The caller renames the question headers to field names and sets the index to the sheet row
numbers. `validate_form` trims every cell (empty means unanswered), runs the pandera model
lazily and turns each failing cell into one `Problem` (texts in `form_problems.py`); the valid
rows come back normalised as plain dicts of text. Checks and normalisers (`form_values.py`) work
on whole columns in pyarrow; municipalities are resolved once per distinct answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.typing import Series

from samen.schemas.form_problems import Problem, collect_problems
from samen.schemas.form_values import (
    COLLAPSED,
    EMAIL,
    FORM_FIELDS,
    LENGTHS,
    LETTER,
    MAX_EMAIL_CHARS,
    OPTIONAL_FIELDS,
    SPACES,
    URL,
    arrow_text,
    as_series,
    collapse_spaces,
    compact_postcodes,
    iso_timestamps,
    normalise_phones,
    normalise_postcodes,
    parse_timestamps,
    phones,
    postcodes,
    python_strings,
    reuse_strings,
    timestamps,
    websites,
)
from samen.schemas.municipalities import normalise_name, resolve_municipality

__all__ = [
    "FORM_FIELDS", "LENGTHS", "OPTIONAL_FIELDS", "FormResponses", "FormValidation",
    "NormalisedResponse", "Problem", "application_key", "normalise_phones", "normalise_postcodes",
    "parse_timestamps", "validate_form",
]


class NormalisedResponse(TypedDict):
    """A valid form response in the shape the pipeline stores: text only, the time as ISO."""

    submitted_at: str
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
        return as_series(pc.is_valid(timestamps(arrow_text(values))), values.index)

    @pa.check("email", "initiative_email", "municipality_email")
    def email_valid(cls, values: Series[str]) -> Series[bool]:
        """Accept one e-mail address (any case), at most 254 characters."""
        text = arrow_text(values)
        valid = pc.and_(pc.match_substring_regex(pc.utf8_lower(text), EMAIL),
                        pc.less_equal(pc.utf8_length(text), MAX_EMAIL_CHARS))
        return as_series(valid, values.index)

    @pa.check("initiative_contact", "municipality_contact")
    def name_has_letter(cls, values: Series[str]) -> Series[bool]:
        """Accept a name only when it contains a letter of any script."""
        return as_series(pc.match_substring_regex(arrow_text(values), LETTER), values.index)

    @pa.check(*LENGTHS)
    def length_in_range(cls, values: Series[str]) -> Series[bool]:
        """Accept text whose length (inner whitespace collapsed for names) fits LENGTHS."""
        low, high = LENGTHS[str(values.name)]
        lengths = values.str.len()
        # Collapsing inner whitespace only shortens a trimmed text, so only long ones need it.
        long = lengths > high
        if values.name in COLLAPSED and long.any():
            lengths[long] = values[long].str.replace(SPACES, " ", regex=True).str.len()
        return lengths.between(low, high)

    @pa.check("municipality")
    def municipality_known(cls, values: Series[str]) -> Series[bool]:
        """Accept an answer that resolves to one of the 342 municipalities."""
        known = [v for v in values.unique() if resolve_municipality(v).code is not None]
        return values.isin(known)

    @pa.check("initiative_phone")
    def phone_dutch(cls, values: Series[str]) -> Series[bool]:
        """Accept a Dutch landline or mobile number in any common notation."""
        return as_series(pc.is_valid(phones(arrow_text(values))), values.index)

    @pa.check("postcode")
    def postcode_dutch(cls, values: Series[str]) -> Series[bool]:
        """Accept a Dutch postcode such as 1234 AB, in any case or spacing."""
        return as_series(pc.is_valid(compact_postcodes(arrow_text(values))), values.index)

    @pa.check("website")
    def website_url(cls, values: Series[str]) -> Series[bool]:
        """Accept a web address with a dotted host, with or without http(s)://."""
        return as_series(pc.match_substring_regex(arrow_text(values), URL), values.index)

    @pa.check("consent")
    def consent_given(cls, values: Series[str]) -> Series[bool]:
        """Accept consent only when the answer starts with Ja."""
        return as_series(pc.starts_with(pc.utf8_lower(arrow_text(values)), "ja"), values.index)

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
    prepared, typed = _prepare(df)
    problems: dict[int, list[Problem]] = {}
    try:
        FormResponses.validate(prepared, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems = collect_problems(errors, prepared, questions)
    good = ~prepared.index.isin(list(problems))
    valid = _normalise(prepared, typed, df, good)
    # pyarrow's allocator keeps freed buffers for reuse by pyarrow only; hand them back.
    pyarrow.default_memory_pool().release_unused()
    return FormValidation(valid=valid, problems=problems)


def application_key(resp: Mapping[str, str]) -> str:
    """Return the key that identifies an application: normalised initiative name | CBS code."""
    return f"{normalise_name(resp['initiative'])}|{resp['municipality_code']}"


def _prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Return the trimmed answers (NA when empty) and the answers as text before trimming."""
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
    columns, typed = {}, {}
    for field in FORM_FIELDS:
        if field not in df.columns:  # an optional question the form does not ask
            columns[field] = pd.Series(pd.NA, index=df.index, dtype="str")
            continue
        typed[field] = _as_text(df[field])
        trimmed = pc.utf8_trim_whitespace(arrow_text(typed[field]))
        columns[field] = as_series(pc.if_else(pc.equal(trimmed, ""), None, trimmed), df.index)
    return pd.DataFrame(columns, index=df.index), typed


def _as_text(values: pd.Series) -> pd.Series:
    """Return a column as pandas' str dtype (missing cells NA)."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
        # Python str objects straight into pyarrow: pandas' astype checks every cell again.
        return as_series(pyarrow.array(values.to_numpy(), type=pyarrow.large_string(),
                                       from_pandas=True), values.index)
    return values.astype("str")


def _normalise(
    prepared: pd.DataFrame, typed: Mapping[str, pd.Series], df: pd.DataFrame, good: np.ndarray
) -> dict[int, NormalisedResponse]:
    if not good.any():
        return {}
    keep = None if good.all() else pyarrow.array(good)  # all valid: nothing to filter

    def kept(values: pd.Series) -> pyarrow.Array:
        chosen = arrow_text(values) if keep is None else pc.filter(arrow_text(values), keep)
        if not isinstance(chosen, pyarrow.ChunkedArray):
            return chosen
        return chosen.chunk(0) if chosen.num_chunks == 1 else chosen.combine_chunks()

    def text(field: str) -> pyarrow.Array:
        return kept(prepared[field])

    def strings(field: str, values: pyarrow.Array) -> list[str]:
        if field not in typed:  # an optional question the form does not ask
            return python_strings(values)
        # Unchanged answers keep the caller's own str objects (see reuse_strings).
        original = df[field].to_numpy()
        return reuse_strings(values, original if keep is None else original[good],
                             kept(typed[field]))

    towns = text("municipality").dictionary_encode()
    resolved = [resolve_municipality(town) for town in towns.dictionary.to_pylist()]
    slots = towns.indices.to_numpy()
    codes = np.array([r.code for r in resolved], dtype=object)[slots].tolist()
    names = np.array([r.name for r in resolved], dtype=object)[slots].tolist()
    stamps = iso_timestamps(timestamps(text("submitted_at")))
    columns = (
        python_strings(stamps),  # never the answer as typed
        strings("email", pc.utf8_lower(text("email"))),
        strings("initiative", collapse_spaces(text("initiative"))),
        codes,
        names,
        strings("initiative_contact", collapse_spaces(text("initiative_contact"))),
        strings("initiative_email", pc.utf8_lower(text("initiative_email"))),
        strings("initiative_phone", phones(text("initiative_phone"))),
        strings("municipality_contact", collapse_spaces(text("municipality_contact"))),
        strings("municipality_email", pc.utf8_lower(text("municipality_email"))),
        strings("postcode", postcodes(text("postcode"))),
        strings("description", text("description")),
        strings("ambition", text("ambition")),
        strings("website", websites(text("website"))),
        strings("consent", kept(typed["consent"])),  # as typed, untrimmed
    )
    rows = prepared.index[good].tolist()
    return {
        row: {
            "submitted_at": at, "email": email, "initiative": initiative,
            "municipality_code": code, "municipality_name": name,
            "initiative_contact": i_contact, "initiative_email": i_email,
            "initiative_phone": phone, "municipality_contact": m_contact,
            "municipality_email": m_email, "postcode": postcode, "description": description,
            "ambition": ambition, "website": website, "consent": consent,
        }
        for row, at, email, initiative, code, name, i_contact, i_email, phone, m_contact, m_email,
        postcode, description, ambition, website, consent in zip(rows, *columns, strict=True)
    }
