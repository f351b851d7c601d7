"""The contract of the form tab ("Formulierreacties 1"): checks, Dutch problems and clean rows.

The caller renames the question headers to field names and sets the index to the sheet row
numbers; the frame's text is best pyarrow-backed (pandas' str dtype), which is read without a
copy. `validate_form` trims every cell (empty means unanswered) and works out once per field what
the answer reads as (`_WORKED_OUT`: the normalised answer, null when it is not valid; from 5,000
rows on, on all cores, as pyarrow lets go of the GIL). It runs the pandera model lazily, whose
checks test those readings, and turns each failing cell into one `Problem` (texts in
`form_problems.py`). The valid rows come back normalised as columns; `FormValidation.responses()`
makes plain dicts of text of them. Checks and normalisers (`form_values.py`) work on whole
columns in pyarrow; municipalities are resolved once per distinct answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from itertools import compress
from typing import Final, TypedDict

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.typing import Series

from samen.schemas.form_problems import Problem, collect_problems
from samen.schemas.form_values import (
    COLLAPSED,
    FORM_FIELDS,
    LENGTHS,
    LETTER,
    OPTIONAL_FIELDS,
    arrow_text,
    as_series,
    collapse_spaces,
    emails,
    iso_form_timestamps,
    normalise_phones,
    normalise_postcodes,
    parse_timestamps,
    phones,
    postcodes,
    python_strings,
    reuse_strings,
    shared_strings,
    single,
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


# NormalisedResponse's fields in order; `municipality` becomes code and name.
NORMALISED_FIELDS: Final = tuple(NormalisedResponse.__annotations__)
# Normalised fields that are often the answer as given (so responses() can hand that back).
_AS_GIVEN: Final = frozenset(NORMALISED_FIELDS) - {"submitted_at", "municipality_code",
                                                  "municipality_name"}
# What validate_form makes of a field's trimmed answers: the normalised answer, null where the
# answer is not valid (the field's check tests just that). Worked out once, on all cores, for
# the checks and the normalised rows alike.
_WORKED_OUT: Final[Mapping[str, Callable[[pyarrow.Array], pyarrow.Array]]] = {
    "submitted_at": iso_form_timestamps,
    "email": emails,
    "initiative_email": emails,
    "municipality_email": emails,
    "initiative_phone": phones,
    "postcode": postcodes,
    "website": websites,
    "initiative": collapse_spaces,
    "initiative_contact": collapse_spaces,
    "municipality_contact": collapse_spaces,
}
_WORKERS: Final = min(4, os.cpu_count() or 1)
_SIDE_BY_SIDE_ROWS: Final = 5_000  # from this many rows on, fields are worked out in threads
# Normalised fields with a few hundred values at most (342 municipalities).
_FEW_DISTINCT: Final = frozenset({"municipality_code", "municipality_name"})
# During validate_form: field -> (trimmed answers, _WORKED_OUT of them), see _worked_out().
_DERIVED: ContextVar[Mapping[str, tuple[pyarrow.Array, pyarrow.Array]]] = ContextVar(
    "samen_form_worked_out")


@dataclass(frozen=True, eq=False)
class FormValidation:
    """Valid responses and problems, both keyed by sheet row.

    `normalised` holds the valid rows as columns (pyarrow-backed text, NormalisedResponse's
    fields, index the sheet rows); `valid` and `responses()` give them as dicts of text.
    """

    normalised: pd.DataFrame
    problems: dict[int, list[Problem]]
    # The answers as given (pyarrow text, all rows), the frame validated and which of its rows
    # are valid: for responses(), which hands back the caller's own str where nothing changed.
    _given: Mapping[str, pyarrow.Array] = dataclass_field(default_factory=dict, repr=False)
    _source: pd.DataFrame | None = dataclass_field(default=None, repr=False)
    _kept: np.ndarray | None = dataclass_field(default=None, repr=False)

    @cached_property
    def valid(self) -> dict[int, NormalisedResponse]:
        """Return the valid rows as dicts of text by sheet row."""
        return self.responses()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FormValidation):
            return NotImplemented
        return self.valid == other.valid and self.problems == other.problems

    __hash__ = None  # type: ignore[assignment]

    def responses(
        self, answers: Mapping[str, Sequence[str]] | None = None
    ) -> dict[int, NormalisedResponse]:
        """Return the valid rows as dicts of text by sheet row.

        `answers` are the caller's own answers per field (str, in the order of the validated
        frame's rows); an answer that normalising left as it was comes back as that same str
        object instead of a new copy (at 100,000 rows most are). Without them, object columns of
        the validated frame serve the same way.
        """
        frame = self.normalised
        if frame.empty:
            return {}
        columns = [self._strings(name, frame[name], answers) for name in NORMALISED_FIELDS]
        rows = frame.index.tolist()
        return {
            row: {
                "submitted_at": at, "email": email, "initiative": initiative,
                "municipality_code": code, "municipality_name": name,
                "initiative_contact": i_contact, "initiative_email": i_email,
                "initiative_phone": phone, "municipality_contact": m_contact,
                "municipality_email": m_email, "postcode": postcode, "description": description,
                "ambition": ambition, "website": website, "consent": consent,
            }
            for row, at, email, initiative, code, name, i_contact, i_email, phone, m_contact,
            m_email, postcode, description, ambition, website, consent in zip(rows, *columns,
                                                                               strict=True)
        }

    def _strings(self, name: str, values: pd.Series,
                 answers: Mapping[str, Sequence[str]] | None) -> list[str]:
        text = single(arrow_text(values))
        given = self._given.get(name)
        original: Sequence[object] | None = None
        if name in _FEW_DISTINCT:  # one str object per distinct value, as the store shares them
            return shared_strings(text)
        if given is None:
            return python_strings(text)
        if answers is not None and name in answers:
            original = answers[name]
        elif self._source is not None and self._source[name].dtype == object:
            column = self._source[name].to_numpy()
            if pd.api.types.infer_dtype(column, skipna=False) == "string":  # str objects only
                original = column.tolist()
        if original is None:
            return python_strings(text)
        if self._kept is not None:
            original = list(compress(original, self._kept_list))
            given = pc.filter(given, pyarrow.array(self._kept))
        return reuse_strings(text, original, single(given))

    @cached_property
    def _kept_list(self) -> list[bool]:
        return [] if self._kept is None else self._kept.tolist()


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
        return as_series(pc.is_valid(_worked_out(values)), values.index)

    @pa.check("email", "initiative_email", "municipality_email")
    def email_valid(cls, values: Series[str]) -> Series[bool]:
        """Accept one e-mail address (any case), at most 254 characters."""
        return as_series(pc.is_valid(_worked_out(values)), values.index)

    @pa.check("initiative_contact", "municipality_contact")
    def name_has_letter(cls, values: Series[str]) -> Series[bool]:
        """Accept a name only when it contains a letter of any script."""
        return as_series(pc.match_substring_regex(arrow_text(values), LETTER), values.index)

    @pa.check(*LENGTHS)
    def length_in_range(cls, values: Series[str]) -> Series[bool]:
        """Accept text whose length (inner whitespace collapsed for names) fits LENGTHS."""
        low, high = LENGTHS[str(values.name)]
        text = _worked_out(values) if values.name in COLLAPSED else arrow_text(values)
        lengths = pc.utf8_length(text)
        return as_series(pc.and_(pc.greater_equal(lengths, low), pc.less_equal(lengths, high)),
                         values.index)

    @pa.check("municipality")
    def municipality_known(cls, values: Series[str]) -> Series[bool]:
        """Accept an answer that resolves to one of the 342 municipalities."""
        known = [v for v in values.unique() if resolve_municipality(v).code is not None]
        return values.isin(known)

    @pa.check("initiative_phone")
    def phone_dutch(cls, values: Series[str]) -> Series[bool]:
        """Accept a Dutch landline or mobile number in any common notation."""
        return as_series(pc.is_valid(_worked_out(values)), values.index)

    @pa.check("postcode")
    def postcode_dutch(cls, values: Series[str]) -> Series[bool]:
        """Accept a Dutch postcode such as 1234 AB, in any case or spacing."""
        return as_series(pc.is_valid(_worked_out(values)), values.index)

    @pa.check("website")
    def website_url(cls, values: Series[str]) -> Series[bool]:
        """Accept a web address with a dotted host, with or without http(s)://."""
        return as_series(pc.is_valid(_worked_out(values)), values.index)

    @pa.check("consent")
    def consent_given(cls, values: Series[str]) -> Series[bool]:
        """Accept consent only when the answer starts with Ja."""
        return as_series(pc.starts_with(pc.utf8_lower(arrow_text(values)), "ja"), values.index)

    @pa.dataframe_check
    @classmethod
    def emails_differ(cls, frame: pd.DataFrame) -> Series[bool]:
        """Flag rows whose municipal contact has the initiative contact's e-mail."""
        # emails() is null for no address: then email_valid tells what is wrong.
        first = _worked_out(frame["initiative_email"])
        second = _worked_out(frame["municipality_email"])
        return as_series(pc.invert(pc.fill_null(pc.equal(first, second), False)), frame.index)


def validate_form(
    df: pd.DataFrame, questions: Mapping[str, str] = FORM_FIELDS
) -> FormValidation:
    """Validate form answers (field-name columns, sheet-row index) into clean rows and problems.

    Columns of pandas' pyarrow-backed text are read without a copy; object columns of str are
    converted once (and their str objects handed back by `FormValidation.responses`).
    """
    prepared, typed, derived = _prepare(df)
    problems: dict[int, list[Problem]] = {}
    token = _DERIVED.set(derived)
    try:
        FormResponses.validate(prepared, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems = collect_problems(errors, prepared, questions)
    finally:
        _DERIVED.reset(token)
    good = ~prepared.index.isin(list(problems))
    normalised = _normalise(prepared, derived, good)
    given = {name: text for name, text in typed.items() if name in _AS_GIVEN}
    # pyarrow's allocator keeps freed buffers for reuse by pyarrow only; hand them back.
    pyarrow.default_memory_pool().release_unused()
    return FormValidation(normalised, problems, given, df, None if good.all() else good)


def application_key(resp: Mapping[str, str]) -> str:
    """Return the key that identifies an application: normalised initiative name | CBS code."""
    return f"{normalise_name(resp['initiative'])}|{resp['municipality_code']}"


def _prepare(df: pd.DataFrame) -> tuple[
    pd.DataFrame, dict[str, pyarrow.Array], dict[str, tuple[pyarrow.Array, pyarrow.Array]]
]:
    """Return the trimmed answers (NA when empty), the answers as given (text) and what is
    worked out of them: per field of _WORKED_OUT (trimmed answers, normalised or null)."""
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
    given = {field: df[field] for field in FORM_FIELDS if field in df.columns}
    if len(df) < _SIDE_BY_SIDE_ROWS:  # threads would cost more than they save
        read = dict(zip(given, map(_read, given.values(), given), strict=True))
    else:  # pyarrow's kernels let go of the GIL: the columns are read on all cores at once
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            read = dict(zip(given, pool.map(_read, given.values(), given), strict=True))
    columns: dict[str, pd.Series] = {}
    derived: dict[str, tuple[pyarrow.Array, pyarrow.Array]] = {}
    for field in FORM_FIELDS:
        if field in read:
            answers, worked_out = read[field][1:]
        else:  # an optional question the form does not ask
            answers = pyarrow.nulls(len(df), pyarrow.large_string())
            worked_out = single(_WORKED_OUT[field](answers)) if field in _WORKED_OUT else None
        columns[field] = as_series(answers, df.index)
        if worked_out is not None:
            derived[field] = (answers, worked_out)
    typed = {field: texts[0] for field, texts in read.items()}
    return pd.DataFrame(columns, index=df.index), typed, derived


def _read(values: pd.Series, field: str) -> tuple[pyarrow.Array, pyarrow.Array, pyarrow.Array | None]:
    """Return a field's answers as text, trimmed (null when empty), and _WORKED_OUT of those."""
    typed = _as_text(values)
    trimmed = pc.utf8_trim_whitespace(typed)
    answers = single(pc.if_else(pc.equal(trimmed, ""), None, trimmed))
    work = _WORKED_OUT.get(field)
    return typed, answers, None if work is None else single(work(answers))


def _as_text(values: pd.Series) -> pyarrow.Array:
    """Return a column as pyarrow text (missing cells null); pyarrow-backed text as it is."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return single(arrow_text(values))
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
        # Python str objects straight into pyarrow: pandas' astype checks every cell again.
        return pyarrow.array(values.to_numpy(), type=pyarrow.large_string(), from_pandas=True)
    return single(arrow_text(values.astype("str")))


def _worked_out(values: pd.Series) -> pyarrow.Array:
    """Return _WORKED_OUT of a field's answers: what validate_form made of them if it is these."""
    field = str(values.name)
    text = single(arrow_text(values))
    made = _DERIVED.get({}).get(field)
    if made is not None and made[0].equals(text):
        return made[1]
    return single(_WORKED_OUT[field](text))


def _normalise(
    prepared: pd.DataFrame, derived: Mapping[str, tuple[pyarrow.Array, pyarrow.Array]],
    good: np.ndarray,
) -> pd.DataFrame:
    """Return the valid rows normalised: NormalisedResponse's fields as pyarrow-backed text."""
    index = prepared.index[good]
    if not good.any():
        return pd.DataFrame({name: pd.Series(index=index, dtype="str")
                             for name in NORMALISED_FIELDS}, index=index)
    keep = None if good.all() else pyarrow.array(good)  # all valid: nothing to filter

    def kept(values: pyarrow.Array) -> pyarrow.Array:
        return values if keep is None else single(pc.filter(values, keep))

    def text(field: str) -> pyarrow.Array:
        return kept(single(arrow_text(prepared[field])))

    def worked_out(field: str) -> pyarrow.Array:
        return kept(derived[field][1])

    towns = text("municipality").dictionary_encode()
    resolved = [resolve_municipality(town) for town in towns.dictionary.to_pylist()]
    string = pyarrow.large_string()
    codes = pyarrow.array([r.code for r in resolved], type=string).take(towns.indices)
    names = pyarrow.array([r.name for r in resolved], type=string).take(towns.indices)
    columns = {
        "submitted_at": worked_out("submitted_at"),
        "email": worked_out("email"),
        "initiative": worked_out("initiative"),
        "municipality_code": codes,
        "municipality_name": names,
        "initiative_contact": worked_out("initiative_contact"),
        "initiative_email": worked_out("initiative_email"),
        "initiative_phone": worked_out("initiative_phone"),
        "municipality_contact": worked_out("municipality_contact"),
        "municipality_email": worked_out("municipality_email"),
        "postcode": worked_out("postcode"),
        "description": text("description"),
        "ambition": text("ambition"),
        "website": worked_out("website"),
        "consent": text("consent"),
    }
    return pd.DataFrame({name: as_series(pc.fill_null(values, ""), index)
                         for name, values in columns.items()}, index=index)
