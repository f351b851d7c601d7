"""The municipality reference data and the resolver that turns typed answers into CBS codes."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

import pytest

from samen.schemas.municipalities import (
    Resolution,
    display_name,
    municipalities,
    normalise_name,
    resolve_municipality,
)


def read_rows(name: str) -> list[dict[str, str]]:
    """Read one of the reference CSV files shipped in samen.schemas."""
    text = files("samen.schemas").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_loads_the_342_municipalities_of_2024() -> None:
    names = municipalities()
    assert len(names) == 342
    assert all(code.startswith("GM") and len(code) == 6 for code in names)
    assert names["GM0518"] == "'s-Gravenhage"
    assert names["GM1992"] == "Voorne aan Zee"


@pytest.mark.parametrize("file", ["gemeenten_aliases.csv", "gemeenten_hints.csv"])
def test_every_reference_code_exists(file: str) -> None:
    codes = {row["code"] for row in read_rows("gemeenten_2024.csv")}
    unknown = [row for row in read_rows(file) if row["code"] not in codes]
    assert unknown == []


def test_hints_are_not_municipalities_or_aliases() -> None:
    taken = {normalise_name(row["name"]) for row in read_rows("gemeenten_2024.csv")}
    taken |= {normalise_name(row["alias"]) for row in read_rows("gemeenten_aliases.csv")}
    hints = read_rows("gemeenten_hints.csv")
    assert 30 <= len(hints) <= 60
    assert [row["name"] for row in hints if normalise_name(row["name"]) in taken] == []
    assert {row["kind"] for row in hints} <= {"wijk", "dorp", "voormalige gemeente"}
    assert len({normalise_name(row["name"]) for row in hints}) == len(hints)


@pytest.mark.parametrize(
    ("place", "code"),
    [
        ("Delfshaven", "GM0599"), ("Charlois", "GM0599"), ("Feijenoord", "GM0599"),
        ("Kralingen", "GM0599"), ("Hillegersberg", "GM0599"), ("Brielle", "GM1992"),
        ("Hellevoetsluis", "GM1992"), ("Westvoorne", "GM1992"), ("Weesp", "GM0363"),
        ("Amsterdam-Noord", "GM0363"), ("Bijlmer", "GM0363"), ("Amsterdam-Zuidoost", "GM0363"),
        ("Scheveningen", "GM0518"), ("Schilderswijk", "GM0518"), ("Haren", "GM0014"),
        ("Ten Boer", "GM0014"), ("Zuidhorn", "GM1969"), ("Heerhugowaard", "GM1980"),
        ("Langedijk", "GM1980"), ("Boxmeer", "GM1982"), ("Appingedam", "GM1979"),
        ("Delfzijl", "GM1979"), ("Kanaleneiland", "GM0344"), ("Lombok", "GM0344"),
    ],
)
def test_curated_hints_name_the_municipality_they_belong_to(place: str, code: str) -> None:
    hints = {row["name"]: row["code"] for row in read_rows("gemeenten_hints.csv")}
    assert hints[place] == code
    resolution = resolve_municipality(place)
    assert resolution.code is None
    assert resolution.hint is not None
    assert resolution.hint.endswith(f"Bedoel je {display_name(code)}?")


@pytest.mark.parametrize(
    ("answer", "code", "name"),
    [
        ("den haag", "GM0518", "'s-Gravenhage"),
        ("Den Haag", "GM0518", "'s-Gravenhage"),
        ("\u2019s-Gravenhage", "GM0518", "'s-Gravenhage"),
        ("Den  Bosch", "GM0796", "'s-Hertogenbosch"),
        ("s-Hertogenbosch", "GM0796", "'s-Hertogenbosch"),
        ("'s Hertogenbosch", "GM0796", "'s-Hertogenbosch"),
        ("Sudwest Fryslan", "GM1900", "Súdwest-Fryslân"),
        ("Súdwest-Fryslân", "GM1900", "Súdwest-Fryslân"),
        ("Hengelo", "GM0164", "Hengelo (O.)"),
        ("hengelo (o.)", "GM0164", "Hengelo (O.)"),
        ("Bergen (NH.)", "GM0373", "Bergen (NH.)"),
        ("  ROTTERDAM ", "GM0599", "Rotterdam"),
        ("Gemeente Utrecht", "GM0344", "Utrecht"),
        ("Groningen gemeente", "GM0014", "Groningen"),
        ("IJsselstein", "GM0353", "IJsselstein"),
        ("Voorne aan Zee", "GM1992", "Voorne aan Zee"),
    ],
)
def test_resolves_spellings_to_the_cbs_code_and_name(answer: str, code: str, name: str) -> None:
    assert resolve_municipality(answer) == Resolution(code, name)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("Delfshaven", "Delfshaven is een wijk van Rotterdam. Bedoel je Rotterdam?"),
        ("delfshaven", "Delfshaven is een wijk van Rotterdam. Bedoel je Rotterdam?"),
        ("Scheveningen", "Scheveningen is een wijk van Den Haag. Bedoel je Den Haag?"),
        ("Brielle", "Brielle hoort nu bij de gemeente Voorne aan Zee. Bedoel je Voorne aan Zee?"),
        (
            "Volendam",
            "Volendam is een plaats in de gemeente Edam-Volendam. Bedoel je Edam-Volendam?",
        ),
        ("Groningn", "Bedoel je Groningen?"),
        ("Amsterdm", "Bedoel je Amsterdam?"),
        ("Rotterdm", "Bedoel je Rotterdam?"),
        ("Den Haga", "Bedoel je Den Haag?"),
        ("Rotterdam (Delfshaven)", "Bedoel je Rotterdam?"),
        ("Bergen", "Bedoel je Bergen (NH.) of Bergen (L.)?"),
    ],
)
def test_answers_that_are_no_municipality_get_a_hint(answer: str, hint: str) -> None:
    resolution = resolve_municipality(answer)
    assert (resolution.code, resolution.name, resolution.hint) == (None, None, hint)


def test_a_plain_name_of_two_municipalities_is_ambiguous() -> None:
    assert resolve_municipality("Bergen").ambiguous
    assert not resolve_municipality("Delfshaven").ambiguous


@pytest.mark.parametrize(
    "answer",
    ["Xyzzy", "", "   ", "Noord-Holland", "ß", "🙂🙂", "القاهرة", '=HYPERLINK("http://x.nl")',
     "a" * 50_000],
)
def test_nothing_close_gives_no_hint(answer: str) -> None:
    assert resolve_municipality(answer) == Resolution(None, None)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("'s-Hertogenbosch", "s hertogenbosch"),
        ("\u2019s Hertogenbosch", "s hertogenbosch"),
        ("Súdwest-Fryslân", "sudwest fryslan"),
        ("  Den   Haag ", "den haag"),
        ("Hengelo (O.)", "hengelo o"),
        ("Welzijnscoöperatie Delfshaven!", "welzijnscooperatie delfshaven"),
    ],
)
def test_normalise_name_ignores_case_spacing_diacritics_punctuation(text: str, key: str) -> None:
    assert normalise_name(text) == key
