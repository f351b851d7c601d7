"""Bridge between the intake rules (plain dicts) and the form schema (pandera, pandas).

pandas, pyarrow and pandera are imported when there are answers to validate: they take more than
a second and some 130 MB to import, which a run with nothing new (most scheduled runs) does without.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from operator import itemgetter
from typing import cast

from samen.schemas.municipalities import normalise_name

KEY_NAME_CHARS = 300
RowsValidator = Callable[
    [Mapping[int, Mapping[str, str]]],
    tuple[dict[int, dict[str, str]], dict[int, list[dict[str, str]]]],
]


def validate_rows(questions: Mapping[str, str]) -> RowsValidator:
    """Return a validator of {sheet row: {field: raw text}} using the configured question titles."""

    def validate(rows: Mapping[int, Mapping[str, str]]) -> tuple[
        dict[int, dict[str, str]], dict[int, list[dict[str, str]]]
    ]:
        if not rows:
            return {}, {}
        import pandas as pd
        import pyarrow

        from samen.schemas.form import FORM_FIELDS, validate_form
        from samen.schemas.form_values import text_series

        # The answers as pyarrow-backed text columns (the form's own shape, what validation
        # works on); the caller's str objects come back for answers normalising left alone.
        index = pd.Index(list(rows), dtype="int64")
        columns = dict(zip(FORM_FIELDS, _columns(rows, FORM_FIELDS), strict=True))
        frame = pd.DataFrame({field: text_series(column, index) for field, column in columns.items()},
                             index=index)
        result = validate_form(frame, questions)
        # NormalisedResponse is a TypedDict of text: the plain dicts the intake rules take.
        valid = cast(dict[int, dict[str, str]], result.responses(columns))
        problems = {
            row: [
                {"field": p.field, "question": p.question, "value": p.value, "message": p.message}
                for p in found
            ]
            for row, found in result.problems.items()
        }
        # The columns go now; pyarrow's allocator would keep their memory for itself.
        del frame, result
        pyarrow.default_memory_pool().release_unused()
        return valid, problems

    return validate


def _columns(rows: Mapping[int, Mapping[str, str]], fields: Collection[str]) -> list[tuple[str, ...]]:
    """Return the answers field by field (in the order of fields), "" for a missing answer."""
    answers = rows.values()
    try:  # one tuple per row, then turned into one per field: both in C
        return list(zip(*map(itemgetter(*fields), answers), strict=True)) or [() for _ in fields]
    except KeyError:  # rows without some field: the slower way
        return [tuple(values.get(field) or "" for values in answers) for field in fields]


def key_from_normalised(norm: Mapping[str, str]) -> str:
    """Return the application key: normalised initiative name | CBS municipality code."""
    name = normalise_name(norm.get("initiative", ""))
    if len(name) > KEY_NAME_CHARS:
        # Compatibility characters can expand 18-fold (U+FDFA): keep the key within the store's
        # 400 characters, and distinct names distinct.
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
        name = f"{name[: KEY_NAME_CHARS - len(digest) - 1]}#{digest}"
    return f"{name}|{norm.get('municipality_code', '')}"
