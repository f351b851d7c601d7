"""Intake rules: reading form rows, the review signals' lists of other ids, shown date-times."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta

import pytest

from samen.domain.intake import (
    SIGNAL_IDS_SHOWN,
    name_others,
    parse_iso,
    read_form_rows,
    review_signals,
    show_datetime,
)
from samen.domain.records import Application

IDS = [f"SAMEN-2022-{n:03d}" for n in range(1, 16)]


def test_other_ids_are_all_named_up_to_the_limit() -> None:
    assert name_others(IDS[:2], IDS[0]) == IDS[1]
    others = IDS[: SIGNAL_IDS_SHOWN + 1]
    assert name_others(others, IDS[3]) == ", ".join(i for i in others if i != IDS[3])


def test_beyond_the_limit_the_rest_is_counted() -> None:
    text = name_others(IDS, IDS[0])
    shown = ", ".join(IDS[1 : SIGNAL_IDS_SHOWN + 1])
    assert text == f"{shown} en nog {len(IDS) - 1 - SIGNAL_IDS_SHOWN} andere"
    assert name_others(IDS, IDS[-1]).startswith(", ".join(IDS[:SIGNAL_IDS_SHOWN]) + " en nog")


def test_a_municipality_with_many_submissions_names_ten_and_counts_the_rest() -> None:
    apps = [Application(i, n, f"k{n}", n + 1, 1) for n, i in enumerate(IDS, start=1)]
    current = {a.id: {"municipality_code": "GM0193", "municipality_name": "Zwolle",
                      "email": f"{a.id}@example.org", "submitted_at": "2022-10-01T10:00:00"}
               for a in apps}
    signals = review_signals(apps, current, {}, date(2022, 10, 30))
    assert signals[IDS[0]] == [
        f"Meer inzendingen uit Zwolle: ook {', '.join(IDS[1:11])} en nog 4 andere."]


def test_form_rows_are_trimmed_without_nul_and_empty_rows_are_counted() -> None:
    rows = [["Tijdstempel", "Naam", "Gemeente"], [" 26-11-2022 14:03:11 ", "A\x00n"], ["", " "],
            ["1-1-2023 10:00", "Bo", "Vaals", "extra"]]
    found, empty = read_form_rows(rows, {"submitted_at": 1, "name": 2, "municipality": 3})
    assert empty == 1
    assert [(r.row, r.values) for r in found] == [
        (2, {"submitted_at": "26-11-2022 14:03:11", "name": "An", "municipality": ""}),
        (4, {"submitted_at": "1-1-2023 10:00", "name": "Bo", "municipality": "Vaals"}),
    ]
    text = json.dumps(found[0].values, sort_keys=True, ensure_ascii=False)
    assert found[0].fingerprint == hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("text", [
    "2022-11-26T14:03:11", "2022-11-26T14:03", "2022-11-26 14:03:11", "0999-01-01T10:00:00",
    "2022-02-30T10:00:00", "2022-13-01T10:00:00", "gisteren", "", "2022-11-26T14:03:11+01:00",
])
def test_shown_date_times_are_what_strftime_writes(text: str) -> None:
    moment = parse_iso(text)
    assert show_datetime(text) == (moment.strftime("%d-%m-%Y %H:%M") if moment else text)


def test_shown_date_times_over_the_years() -> None:
    moment = datetime(1000, 1, 1, 0, 0, 1)
    while moment.year < 9999:
        assert show_datetime(moment.isoformat()) == moment.strftime("%d-%m-%Y %H:%M")
        moment += timedelta(days=37, hours=5, minutes=7)
