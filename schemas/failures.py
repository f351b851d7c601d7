"""Pandera failure cases as one problem per answer: the first failed check in schema order."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa


def first_failures(
    errors: pa.errors.SchemaErrors,
    fields: Sequence[str],
    checks: Sequence[str],
    moved: tuple[str, str],
    what: str,
) -> pd.DataFrame:
    """Return columns row, field, check: per row and field the first failed check, in field order.

    `moved` = (check, field): a frame-wide check whose failure belongs to that field's answer.
    A failure case without a row or with an unknown check means the data does not fit the schema.
    """
    cases = errors.failure_cases
    if (cases["index"].isna() | ~cases["check"].isin(checks)).any():
        raise ValueError(f"{what} data does not fit the {what.lower()} schema: {errors}")
    check, field = moved
    named = cases["column"].where(cases["check"] != check, field)
    return pd.DataFrame({
        "row": cases["index"].astype("int64"),
        "field": named.astype("str"),
        "order": named.map({name: n for n, name in enumerate(fields)}),
        "rank": cases["check"].map({name: n for n, name in enumerate(checks)}),
        "check": cases["check"].astype("str"),
    }).sort_values(["row", "order", "rank"]).drop_duplicates(["row", "field"])
