"""How the form's validation works on columns: worked out once, fast paths, answers handed back."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest

from samen.schemas import form
from samen.schemas.form import FORM_FIELDS, FormResponses, validate_form
from samen.schemas.form_values import (
    SPACES,
    compact_postcodes,
    phones,
    text_series,
)
from samen.testing.forms import GOOD_ANSWERS as GOOD

# Every separator a phone number may hold, as people and sheets write them.
PHONE_SEPARATORS = " \t\u00a0\u2007\u202f().-/\u2013"


def arrow_frame(rows: dict[int, dict[str, str]]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Return the rows as a frame of pyarrow-backed text and the answers per field."""
    answers = {field: [row[field] for row in rows.values()] for field in FORM_FIELDS}
    index = pd.Index(list(rows), dtype="int64")
    return pd.DataFrame({f: text_series(v, index) for f, v in answers.items()}, index=index), answers


def test_each_field_is_worked_out_once_for_the_checks_and_the_normalised_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: Counter[str] = Counter()

    def counted(field: str, work: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def count(values: Any) -> Any:
            calls[field] += 1
            return work(values)
        return count

    for field, work in dict(form._WORKED_OUT).items():
        monkeypatch.setitem(form._WORKED_OUT, field, counted(field, work))  # type: ignore[arg-type]
    frame, _ = arrow_frame({2: GOOD, 3: {**GOOD, "initiative_phone": "12345"}})
    result = validate_form(frame)
    assert calls == Counter({field: 1 for field in form._WORKED_OUT})
    assert list(result.valid) == [2] and result.valid[2]["initiative_phone"] == "+31612345678"
    assert [p.field for p in result.problems[3]] == ["initiative_phone"]


def test_the_model_alone_still_checks_what_validate_form_did_not_work_out() -> None:
    frame, _ = arrow_frame({2: {**GOOD, "initiative_phone": "12345", "postcode": "12AB",
                                "submitted_at": "31-02-2026 10:00", "website": "geen site"}})
    with pytest.raises(pa.errors.SchemaErrors) as raised:
        FormResponses.validate(frame, lazy=True)
    failed = set(raised.value.failure_cases["check"])
    assert {"phone_dutch", "postcode_dutch", "timestamp_readable", "website_url"} <= failed


def _phones_by_pattern(values: list[str]) -> list[str | None]:
    """The plain rule: drop every separator, then a Dutch number is +31 and its last 9 digits."""
    out: list[str | None] = []
    for value in values:
        digits = re.sub(f"[{re.escape(PHONE_SEPARATORS)}]", "", value)
        ok = re.fullmatch(r"(?:\+31|0031|31)?0?[1-9][0-9]{8}", digits)
        out.append(f"+31{digits[-9:]}" if ok else None)
    return out


PHONES = [
    "06-12345678", "06 12345678", "0612345678", "06\u00a012345678", "06\t1234\u20135678",
    "(020) 123 45 67", "+31 (0)6-1234 5678", "020.123.45.67", "020/1234567", "06-1234 567",
    "06 - 12345678", "0031-20-1234567", "06\u202f12\u200734\u00a05678", "12345", "06-12345678x",
    "", "+32 2 123 45 67", "06--12345678", "6 12 34 56 78", "31 6 12345678",
]


def test_phone_numbers_read_quickly_read_as_the_plain_rule() -> None:
    got = phones(pyarrow.array(PHONES, type=pyarrow.large_string())).to_pylist()
    assert got == _phones_by_pattern(PHONES)
    assert got[4] == "+31612345678" and got[12] == "+31612345678"  # the pattern path is used


POSTCODES = ["1234 AB", "1234AB", "1234ab", "1234\u00a0AB", "1234\tab", " 1234  AB ", "12 34 AB",
             "1234 A", "0123 AB", "", "1234 ABC", "1234\u2007Ab"]


def test_postcodes_read_quickly_read_as_the_plain_rule() -> None:
    got = compact_postcodes(pyarrow.array(POSTCODES, type=pyarrow.large_string())).to_pylist()
    plain = [re.sub(SPACES, "", p.upper()) for p in POSTCODES]
    assert got == [p if re.fullmatch("[1-9][0-9]{3}[A-Z]{2}", p) else None for p in plain]
    assert got[3] == "1234AB" and got[11] == "1234AB"


def test_unchanged_answers_come_back_as_the_callers_own_objects() -> None:
    rows = {
        2: dict(GOOD),
        3: {**GOOD, "consent": "nee"},  # invalid: left out of the valid rows
        4: {**GOOD, "email": "Jan@Voorbeeld.NL", "initiative": "Het  Huis"},
    }
    frame, answers = arrow_frame(rows)
    # Own str objects (not interned literals), so identity tells them apart from copies.
    answers = {field: ["".join(list(value)) for value in values] for field, values in answers.items()}
    valid = validate_form(frame).responses(answers)
    assert list(valid) == [2, 4]
    assert valid[4]["description"] is answers["description"][2]
    assert valid[2]["email"] is answers["email"][0]
    assert valid[4]["email"] == "jan@voorbeeld.nl" and valid[4]["initiative"] == "Het Huis"
    assert valid[4]["email"] is not answers["email"][2]
    assert valid[2]["initiative_phone"] == "+31612345678"
    assert all(type(v) is str for response in valid.values() for v in response.values())


def test_normalised_rows_are_columns_of_text_by_sheet_row() -> None:
    frame, _ = arrow_frame({7: GOOD, 9: {**GOOD, "email": "geen-adres"}})
    result = validate_form(frame)
    normalised = result.normalised
    assert normalised.index.tolist() == [7]
    assert list(normalised.columns) == list(form.NORMALISED_FIELDS)
    assert normalised.loc[7, "municipality_code"] == "GM0518"
    assert normalised.loc[7, "submitted_at"] == "2022-11-26T14:03:11"
    assert result.valid[7]["postcode"] == normalised.loc[7, "postcode"] == "2525 AB"


def test_validations_in_threads_at_once_keep_their_own_worked_out_values() -> None:
    frames = {
        n: arrow_frame({row: {**GOOD, "initiative_phone": f"06-{n:02d}{row:06d}"}
                        for row in range(2, 400)})[0]
        for n in range(10, 16)
    }
    results: dict[int, dict[int, Any]] = {}
    barrier = threading.Barrier(len(frames))

    def run(n: int) -> None:
        barrier.wait()
        results[n] = validate_form(frames[n]).valid

    threads = [threading.Thread(target=run, args=(n,)) for n in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, valid in results.items():
        assert valid[250]["initiative_phone"] == f"+316{n:02d}000250"
        assert len(valid) == 398


def test_large_frames_are_worked_out_in_threads_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = {row: {**GOOD, "initiative": f"Initiatief {row}",
                  "initiative_phone": "12345" if row % 97 == 0 else f"06-{row:08d}"}
            for row in range(2, form._SIDE_BY_SIDE_ROWS + 500)}
    frame, _ = arrow_frame(rows)
    started: list[str] = []
    original = form.ThreadPoolExecutor

    class Counted(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            started.append("pool")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(form, "ThreadPoolExecutor", Counted)
    side_by_side = validate_form(frame)
    assert started == ["pool"]
    monkeypatch.setattr(form, "_SIDE_BY_SIDE_ROWS", len(rows) + 1)
    one_by_one = validate_form(frame)
    assert started == ["pool"]  # no second pool: this one ran in the calling thread
    assert side_by_side == one_by_one
    assert len(side_by_side.problems) == len([r for r in rows if r % 97 == 0]) > 0
    assert side_by_side.valid[98 + 1]["initiative_phone"] == "+31600000099"
