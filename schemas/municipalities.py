"""The 342 municipalities (CBS 2024) and a resolver that turns a typed answer into one of them.

Three CSV files in this package are the reference data (see BRON.md): the official names and
codes, informal and older names (aliases), and districts, villages and former municipalities
that are not municipalities themselves (hints). Every lookup goes through `normalise_name`, so
case, spacing, diacritics, apostrophes and hyphens never decide whether an answer matches.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType

_PACKAGE = "samen.schemas"
_NAMES_FILE = "gemeenten_2024.csv"
_ALIASES_FILE = "gemeenten_aliases.csv"
_HINTS_FILE = "gemeenten_hints.csv"
# Longer answers are never a municipality; skipping them keeps the caches small.
_MAX_ANSWER_CHARS = 200
_NEAR_MISS_CUTOFF = 0.8
# Names people use where the CBS name would read oddly in a suggestion.
_SPOKEN_NAMES = {"GM0518": "Den Haag"}
_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u201b`\u00b4")
_SEPARATORS = re.compile(r"[\W_]+")
_SUFFIX = re.compile(r"^(.*?)\s*\([^)]*\)$")
_HINT_TEXTS = {
    "wijk": "{place} is een wijk van {municipality}.",
    "dorp": "{place} is een plaats in de gemeente {municipality}.",
    "voormalige gemeente": "{place} hoort nu bij de gemeente {municipality}.",
}
# difflib on very short answers suggests nonsense ("ß" -> "Oss").
_NEAR_MISS_MIN_CHARS = 4


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving an answer: a CBS code and name, or a Dutch hint, or neither.

    `ambiguous` is true when the answer is the plain name of several municipalities (Bergen).
    """

    code: str | None
    name: str | None
    hint: str | None = None
    ambiguous: bool = False


@dataclass(frozen=True, slots=True)
class _Hint:
    place: str
    code: str
    kind: str


@dataclass(frozen=True)
class _Reference:
    names: Mapping[str, str]  # code -> CBS name
    keys: Mapping[str, str]  # normalised name or alias -> code
    hints: Mapping[str, _Hint]  # normalised district, village or former municipality
    same_names: Mapping[str, tuple[str, ...]]  # normalised base name shared by several codes
    candidates: tuple[str, ...]  # everything a near miss may be compared with


@lru_cache(maxsize=65_536)
def normalise_name(text: str) -> str:
    """Return text case-folded, without diacritics or apostrophes, punctuation as single spaces."""
    if text.isascii():  # nothing to decompose, and casefold() is lower() (most answers)
        folded = text.lower().translate(_APOSTROPHES)
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(char for char in decomposed if not unicodedata.combining(char))
        folded = bare.casefold().translate(_APOSTROPHES)
    return " ".join(_SEPARATORS.sub(" ", folded).split())


def municipalities() -> Mapping[str, str]:
    """Return the municipalities of 1 January 2024 as CBS code -> official name."""
    return _reference().names


def display_name(code: str) -> str:
    """Return the name to show a person for a CBS code (Den Haag rather than 's-Gravenhage)."""
    return _SPOKEN_NAMES.get(code) or _reference().names[code]


def resolve_municipality(text: str) -> Resolution:
    """Resolve a typed municipality name to its CBS code and name, or explain what it might be."""
    if not text or len(text) > _MAX_ANSWER_CHARS:
        return Resolution(None, None)
    return _resolve(text)


@lru_cache(maxsize=16_384)
def _resolve(text: str) -> Resolution:
    ref = _reference()
    key = normalise_name(text)
    for candidate in (key, _without_word_gemeente(key)):
        code = ref.keys.get(candidate)
        if code is not None:
            return Resolution(code, ref.names[code])
    key = _without_word_gemeente(key)
    if key in ref.same_names:
        return Resolution(None, None, _suggest([ref.names[c] for c in ref.same_names[key]]), True)
    return Resolution(None, None, _hint_for(ref, key))


def _without_word_gemeente(key: str) -> str:
    # "Gemeente Utrecht" and "Utrecht gemeente" are common answers.
    words = key.split()
    if words[:1] == ["gemeente"]:
        words = words[1:]
    if words[-1:] == ["gemeente"]:
        words = words[:-1]
    return " ".join(words)


def _hint_for(ref: _Reference, key: str) -> str | None:
    if not key:
        return None
    if key in ref.hints:
        return _explain(ref.hints[key])
    mentioned = _mentioned_codes(ref, key)
    if mentioned:
        return _suggest([display_name(code) for code in mentioned])
    if len(key) < _NEAR_MISS_MIN_CHARS:
        return None
    close = difflib.get_close_matches(key, ref.candidates, n=3, cutoff=_NEAR_MISS_CUTOFF)
    if not close:
        return None
    if close[0] in ref.hints:
        return _explain(ref.hints[close[0]])
    codes = [ref.keys[match] for match in close if match in ref.keys]
    return _suggest([display_name(code) for code in dict.fromkeys(codes)])


def _mentioned_codes(ref: _Reference, key: str) -> list[str]:
    # "Rotterdam (Delfshaven)" or "Delfshaven, Rotterdam": a municipality named inside the answer.
    words = key.split()
    found: dict[str, None] = {}
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            part = " ".join(words[start : start + size])
            if part in ref.keys:
                found[ref.keys[part]] = None
            elif part in ref.hints:
                found[ref.hints[part].code] = None
    return list(found)


def _explain(hint: _Hint) -> str:
    municipality = display_name(hint.code)
    text = _HINT_TEXTS[hint.kind].format(place=hint.place, municipality=municipality)
    return f"{text} {_suggest([municipality])}"


def _suggest(names: list[str]) -> str:
    shown = names[:2]
    return f"Bedoel je {' of '.join(shown)}?"


@lru_cache(maxsize=1)
def _reference() -> _Reference:
    names = {row["code"]: row["name"] for row in _read_csv(_NAMES_FILE)}
    keys = {normalise_name(name): code for code, name in names.items()}
    for line, row in enumerate(_read_csv(_ALIASES_FILE), start=2):
        _require_code(names, row["code"], _ALIASES_FILE, line)
        keys.setdefault(normalise_name(row["alias"]), row["code"])
    same_names = _shared_base_names(names, keys)
    hints: dict[str, _Hint] = {}
    for line, row in enumerate(_read_csv(_HINTS_FILE), start=2):
        _require_code(names, row["code"], _HINTS_FILE, line)
        if row["kind"] not in _HINT_TEXTS:
            raise ValueError(
                f"{_HINTS_FILE} line {line}: kind {row['kind']!r} is unknown; expected one of "
                f"{sorted(_HINT_TEXTS)}. Fix the kind in that row."
            )
        hints[normalise_name(row["name"])] = _Hint(row["name"], row["code"], row["kind"])
    candidates = tuple(dict.fromkeys([*keys, *hints]))
    return _Reference(
        names=MappingProxyType(names),
        keys=MappingProxyType(keys),
        hints=MappingProxyType(hints),
        same_names=MappingProxyType(same_names),
        candidates=candidates,
    )


def _shared_base_names(names: dict[str, str], keys: dict[str, str]) -> dict[str, tuple[str, ...]]:
    # "Hengelo (O.)" is also plain "Hengelo" (via the aliases); "Bergen" is two municipalities.
    by_base: dict[str, list[str]] = {}
    for code, name in names.items():
        match = _SUFFIX.match(name)
        if match:
            by_base.setdefault(normalise_name(match.group(1)), []).append(code)
    return {
        base: tuple(codes)
        for base, codes in by_base.items()
        if len(codes) > 1 and base not in keys
    }


def _require_code(names: Mapping[str, str], code: str, file: str, line: int) -> None:
    if code not in names:
        raise ValueError(
            f"{file} line {line}: code {code!r} is not a municipality in {_NAMES_FILE}. "
            "Fix the code or remove the row."
        )


def _read_csv(name: str) -> list[dict[str, str]]:
    text = files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))
