"""Bridge between the intake rules (plain dicts) and the form schema (pandera, pandas)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict

import pandas as pd

from samen.schemas.form import FORM_FIELDS, validate_form
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
        frame = pd.DataFrame.from_dict(
            {row: dict(values) for row, values in rows.items()}, orient="index",
            columns=list(FORM_FIELDS),
        ).fillna("")
        result = validate_form(frame, questions)
        valid = {row: normalised_dict(resp) for row, resp in result.valid.items()}
        problems = {
            row: [
                {"field": p.field, "question": p.question, "value": p.value, "message": p.message}
                for p in found
            ]
            for row, found in result.problems.items()
        }
        return valid, problems

    return validate


def normalised_dict(resp: object) -> dict[str, str]:
    """Return a normalised response as text fields (the timestamp as ISO, so it sorts)."""
    out: dict[str, str] = {}
    for key, value in asdict(resp).items():  # type: ignore[call-overload]
        out[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return out


def key_from_normalised(norm: Mapping[str, str]) -> str:
    """Return the application key: normalised initiative name | CBS municipality code."""
    name = normalise_name(norm.get("initiative", ""))
    if len(name) > KEY_NAME_CHARS:
        # Compatibility characters can expand 18-fold (U+FDFA): keep the key within the store's
        # 400 characters, and distinct names distinct.
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
        name = f"{name[: KEY_NAME_CHARS - len(digest) - 1]}#{digest}"
    return f"{name}|{norm.get('municipality_code', '')}"
