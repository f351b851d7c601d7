"""The form's fields and how their answers are read: patterns, parsers and normalisers.

Every function works on a whole column at once in pyarrow (RE2 patterns, so they avoid \\s, \\d
and \\w, which would make pandas fall back to Python's re per cell) and leaves NA where an answer
is not what it should be; the model in `schemas/form.py` turns those into checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final, cast

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

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
COLLAPSED: Final = frozenset({"initiative", "initiative_contact", "municipality_contact"})
WHITESPACE: Final = " \t\n\r\f\v\u00a0\u2007\u202f"
SPACES: Final = f"[{WHITESPACE}]+"
EMAIL: Final = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
MAX_EMAIL_CHARS: Final = 254
_PHONE_SEPARATORS = f"[{WHITESPACE}().\\-/\u2013]"
# Also 9 digits without the leading zero, and 31... without the plus: what a sheet makes of it.
# The national number is always the last 9 digits of a match.
_PHONE = r"^(?:\+31|0031|31)?0?[1-9][0-9]{8}$"
_POSTCODE = "^[1-9][0-9]{3}[A-Z]{2}$"
_HOST = f"[^{WHITESPACE}/?#@:.]"
URL: Final = (
    f"(?i)^(?:https?://)?(?:{_HOST}+\\.)+{_HOST}{{2,}}"
    f"(?::[0-9]{{1,5}})?(?:[/?#][^{WHITESPACE}]*)?$"
)
_HAS_SCHEME = "(?i)^https?://"
_NOT_ONE_SPACE = f"[{WHITESPACE.removeprefix(' ')}]|  "  # what collapsing whitespace would change
LETTER: Final = r"\pL"  # RE2 only (Python's re has no \p)
_TIMESTAMP_SHAPE = (  # dd-mm-yyyy (Dutch form) or m/d/yyyy (English form), H:MM with or without :SS
    r"^(?:[0-9]{1,2}-[0-9]{1,2}-|[0-9]{1,2}/[0-9]{1,2}/)[0-9]{4} "
    r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?$"
)
_TIMESTAMP_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
_NOTHING = pyarrow.scalar("", pyarrow.large_string())


def arrow_text(values: pd.Series) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return a text column as pyarrow large strings (no copy for pandas' own str dtype)."""
    return pyarrow.array(values, from_pandas=True, type=pyarrow.large_string())


def as_series(values: pyarrow.Array | pyarrow.ChunkedArray, index: pd.Index) -> pd.Series:
    """Return a pyarrow column as a pandas Series on index (str, bool or datetime)."""
    if pyarrow.types.is_boolean(values.type):
        # NA answers are skipped by the checks (pandera's ignore_na), so False stands in for them.
        return pd.Series(pc.fill_null(values, False).to_numpy(zero_copy_only=False), index=index)
    if pyarrow.types.is_large_string(values.type) or pyarrow.types.is_string(values.type):
        return pd.Series(pd.arrays.ArrowStringArray(pyarrow.chunked_array([values])
                                                    if isinstance(values, pyarrow.Array)
                                                    else values), index=index)
    return pd.Series(values.to_numpy(zero_copy_only=False), index=index)


def text_series(values: Sequence[str | None], index: pd.Index) -> pd.Series:
    """Return Python text (None for missing) as a pandas Series of pyarrow-backed text."""
    return as_series(pyarrow.array(values, type=pyarrow.large_string()), index)


def timestamps(text: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return Dutch (26-11-2026 14:03:11) and English (11/26/2026 14:03:11) form timestamps.

    The result is timestamp[s], null where a value is no real date and time.
    """
    shaped = pc.fill_null(pc.match_substring_regex(text, _TIMESTAMP_SHAPE), False)
    parsed = pc.strptime(text, format=_TIMESTAMP_FORMATS[0], unit="s", error_is_null=True)
    for fmt in _TIMESTAMP_FORMATS[1:]:
        # Later formats only fill what earlier ones left; skip them when nothing is left.
        if not pc.any(pc.and_(shaped, pc.is_null(parsed))).as_py():
            break
        parsed = pc.coalesce(parsed, pc.strptime(text, format=fmt, unit="s", error_is_null=True))
    # strptime rolls 31-02 over into the next month, so a real date keeps the number typed
    # first: the day of a Dutch date (d-m-yyyy), the month of an English one (m/d/yyyy).
    first = pc.utf8_rtrim(pc.utf8_slice_codeunits(pc.if_else(shaped, text, None), 0, 2),
                          characters="-/")
    english = pc.match_substring(text, "/")
    kept = pc.if_else(english, pc.month(parsed), pc.day(parsed))
    real = pc.and_(pc.and_(shaped, pc.equal(kept, pc.cast(first, pyarrow.int64()))),
                   pc.greater_equal(pc.year(parsed), 1))  # year 0 exists in pyarrow, not in Python
    return pc.if_else(pc.fill_null(real, False), parsed, None)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Parse Dutch (26-11-2026 14:03:11) and English (11/26/2026 14:03:11) form timestamps."""
    return as_series(timestamps(arrow_text(values)), values.index)


def phones(text: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return Dutch phone numbers as +31 plus 9 digits, null where a value is not one."""
    # Most numbers are written with spaces or dashes only: those go as plain text (fast); the
    # separator pattern is replaced only in what is no number without them.
    digits = _redone(single(text), pc.replace_substring(pc.replace_substring(text, "-", ""), " ", ""),
                     _PHONE, lambda rest: pc.replace_substring_regex(rest, _PHONE_SEPARATORS, ""))
    national = pc.if_else(pc.match_substring_regex(digits, _PHONE),
                          pc.utf8_slice_codeunits(digits, -9), None)
    return pc.binary_join_element_wise(pyarrow.scalar("+31", pyarrow.large_string()), national,
                                       _NOTHING)


def normalise_phones(values: pd.Series) -> pd.Series:
    """Return Dutch phone numbers as +31 plus 9 digits, NA where a value is not one."""
    return as_series(phones(arrow_text(values)), values.index)


def compact_postcodes(text: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return postcodes upper-cased without spaces ("1234AB"), null where a value is not one."""
    upper = single(pc.utf8_upper(text))
    # As phones(): plain spaces go as plain text, other whitespace by pattern where still needed.
    compact = _redone(upper, pc.replace_substring(upper, " ", ""), _POSTCODE,
                      lambda rest: pc.replace_substring_regex(rest, SPACES, ""))
    return pc.if_else(pc.match_substring_regex(compact, _POSTCODE), compact, None)


def _redone(text: pyarrow.Array, quick: pyarrow.Array, pattern: str,
            thorough: Callable[[pyarrow.Array], pyarrow.Array]) -> pyarrow.Array:
    """Return `quick`, with thorough(text) where quick does not match pattern (and text is set).

    For a cleaning step with a fast way that is right whenever its result matches `pattern`.
    """
    quick = single(quick)
    again = pc.and_(pc.invert(pc.fill_null(pc.match_substring_regex(quick, pattern), False)),
                    pc.is_valid(text))
    if not pc.any(again).as_py():
        return quick
    return pc.replace_with_mask(quick, again, single(thorough(text.filter(again))))


def single(values: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array:
    """Return one pyarrow array (a chunked one's chunks combined)."""
    if not isinstance(values, pyarrow.ChunkedArray):
        return values
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


def postcodes(text: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return Dutch postcodes as "1234 AB", null where a value is not one."""
    compact = compact_postcodes(text)
    return pc.binary_join_element_wise(pc.utf8_slice_codeunits(compact, 0, 4),
                                       pc.utf8_slice_codeunits(compact, 4),
                                       pyarrow.scalar(" ", pyarrow.large_string()))


def emails(text: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return e-mail addresses in lower case, null where a value is not one (at most 254 chars)."""
    lower = pc.utf8_lower(text)
    valid = pc.and_(pc.match_substring_regex(lower, EMAIL),
                    pc.less_equal(pc.utf8_length(lower), MAX_EMAIL_CHARS))
    return pc.if_else(valid, lower, None)


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """Return Dutch postcodes as "1234 AB", NA where a value is not one."""
    return as_series(postcodes(arrow_text(values)), values.index)


def websites(text: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return web addresses with https:// in front when they have no http(s):// yet.

    Null where a value is no web address (a dotted host, with or without http(s)://).
    """
    bare = pc.invert(pc.match_substring_regex(text, _HAS_SCHEME))
    prefixed = pc.binary_join_element_wise(pyarrow.scalar("https://", pyarrow.large_string()),
                                           text, _NOTHING)
    return pc.if_else(pc.match_substring_regex(text, URL), pc.if_else(bare, prefixed, text), None)


def iso_form_timestamps(text: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return form timestamps (see timestamps()) as ISO text (2022-11-26T14:03:11), else null."""
    return iso_timestamps(timestamps(text))


def iso_timestamps(stamps: pyarrow.Array | pyarrow.ChunkedArray) -> pyarrow.Array | pyarrow.ChunkedArray:
    """Return timestamp[s] values as datetime.isoformat() writes them (2022-11-26T14:03:11)."""
    # A cast writes "2022-11-26 14:03:11" (strftime is some 30 times slower).
    text = pc.cast(stamps, pyarrow.large_string())
    return pc.replace_substring(text, " ", "T", max_replacements=1)


def collapse_spaces(text: pyarrow.Array) -> pyarrow.Array:
    """Return text with every run of whitespace as one space."""
    # Replacing is slow; most answers have nothing to replace, so only those that do go.
    needs = pc.fill_null(pc.match_substring_regex(text, _NOT_ONE_SPACE), False)
    if not pc.any(needs).as_py():
        return text
    return pc.replace_with_mask(text, needs, pc.replace_substring_regex(text.filter(needs), SPACES, " "))


def python_strings(values: pyarrow.Array | pyarrow.ChunkedArray, fill: str = "") -> list[str]:
    """Return a text column as a list of Python str, `fill` for nulls."""
    return list(pc.fill_null(values, fill).to_numpy(zero_copy_only=False))


def shared_strings(values: pyarrow.Array, fill: str = "") -> list[str]:
    """Return a text column as Python str, one object per distinct value (`fill` for nulls)."""
    encoded = pc.fill_null(values, fill).dictionary_encode()
    distinct = np.array(encoded.dictionary.to_pylist() or [fill], dtype=object)
    return cast(list[str], distinct[encoded.indices.to_numpy(zero_copy_only=False)].tolist())


def reuse_strings(values: pyarrow.Array, original: Sequence[object],
                  original_text: pyarrow.Array) -> list[str]:
    """Return values as Python str, taking the caller's own objects where nothing changed.

    `original` holds the caller's answers (str) and `original_text` the same answers in
    pyarrow. Making a Python string of every cell is the larger part of normalising; most
    answers need no change, so only the changed ones are made.
    """
    changed = pc.fill_null(pc.not_equal(values, original_text), True)
    count = pc.sum(changed).as_py() or 0
    if count == 0:
        return cast(list[str], list(original))
    if count > len(values) // 2:  # mostly new text: making all of it is quicker
        return python_strings(values)
    out = cast(list[str], list(original))
    where = np.flatnonzero(changed.to_numpy(zero_copy_only=False)).tolist()
    for position, text in zip(where, python_strings(values.take(where)), strict=True):
        out[position] = text
    return out
