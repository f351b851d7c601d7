"""Render messages from the jinja2 templates in templates/email/<language>/ (design rule 7)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from functools import lru_cache, partial
from typing import Any

import jinja2
from babel.dates import format_date
from markupsafe import Markup, escape

from samen.domain.messages import Rendered

PARTS = ("subject", "txt", "html")
SUBJECT_MAX = 78  # RFC 5322's recommended line length; longer subjects get cut with "…"
BASE_LAYOUT_MARKER = 'data-samen-layout="base"'  # present in every HTML body (the base layout)
COMMON_KEYS = ("programme", "recipient_name", "programme_mail")
_MEETING_KINDS = ("uitnodiging", "herinnering", "afgelast")
_FOLLOW_UP_KINDS = ("bedankt", "verslag", "gemist")
_DECISION_KINDS = ("besluit-kern", "besluit-kenniskring", "besluit-afgewezen")
# The top-level context keys each kind needs besides COMMON_KEYS (documentation and error text).
CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "ontvangstbevestiging": ("application",),
    "correctieverzoek": ("initiative", "problems"),
    **{kind: ("application", "explanation") for kind in _DECISION_KINDS},
    **{kind: ("meeting",) for kind in _MEETING_KINDS},
    "wijziging": ("meeting", "changes"),
    **{kind: ("meeting", "materials_link") for kind in _FOLLOW_UP_KINDS},
    "signaal-coordinatoren": ("signal",),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_subject(raw: str) -> str:
    """Return raw as one header-safe line: no control characters, single spaces, at most 78 chars."""
    line = " ".join(_CONTROL.sub(" ", raw).split())
    if len(line) <= SUBJECT_MAX:
        return line
    cut = line[: SUBJECT_MAX - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–") + "…"


def shorten(value: object, length: int = 200) -> str:
    """Return value on one line, cut at a word boundary to about length characters."""
    line = " ".join(str(value).split())
    if len(line) <= length:
        return line
    cut = line[:length]
    if " " in cut[length // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + " …"


def html_lines(value: object) -> Markup:
    """Return value escaped for HTML, its line breaks kept as <br>."""
    lines = str(value).strip().splitlines()
    return Markup("<br>\n").join(escape(line) for line in lines)


def format_clock(value: time | datetime) -> str:
    """Return a time as 13:00."""
    return value.strftime("%H:%M")


def tidy_text(text: str) -> str:
    """Return a plain-text body without runs of blank lines, ending in one newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


@lru_cache(maxsize=8)
def template_environment(language: str) -> tuple[jinja2.Environment, tuple[str, ...]]:
    """Return the template environment of a language and its message kinds (one per process).

    Every run makes a Renderer; sharing the environment keeps the compiled templates between
    the runs of one process (the demo's 29), and jinja2 still reloads a template that changed.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("samen", "templates"),
        # *.html.j2 is only escaped when named: select_autoescape's defaults miss it.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["datum"] = partial(format_full_day, language=language)
    env.filters["tijd"] = format_clock
    env.filters["kort"] = shorten
    env.filters["regels"] = html_lines
    prefix = f"email/{language}/"
    names = env.list_templates(filter_func=lambda name: name.startswith(prefix))
    stems = [name.removeprefix(prefix) for name in names if name.endswith(".subject.j2")]
    kinds = tuple(sorted(
        stem.removesuffix(".subject.j2") for stem in stems if "/" not in stem and not stem.startswith("_")
    ))
    if not kinds:
        languages = sorted(
            {name.split("/")[1] for name in env.list_templates() if name.startswith("email/")}
        )
        raise ValueError(
            f"No e-mail templates for language {language!r}; expected "
            f"templates/email/{language}/<kind>.subject.j2. Known languages: {', '.join(languages)}."
        )
    return env, kinds


def format_full_day(value: date | datetime, language: str) -> str:
    """Return a date in full in a language: 'maandag 27 maart 2023'."""
    return format_date(value, "full", locale=language)


class Renderer:
    """Render the subject, plain text and HTML of a message kind from its templates."""

    def __init__(self, language: str = "nl") -> None:
        """Set up the template environment of one language."""
        self.language = language
        self.env, kinds = template_environment(language)
        self._kinds = list(kinds)

    def format_day(self, value: date | datetime) -> str:
        """Return a date in full in the renderer's language: 'maandag 27 maart 2023'."""
        return format_full_day(value, self.language)

    def kinds(self) -> list[str]:
        """Return the message kinds this language has templates for, sorted."""
        return list(self._kinds)

    def render(self, kind: str, context: Mapping[str, Any]) -> Rendered:
        """Render kind with context into a subject line, a plain-text body and an HTML body."""
        if kind not in self._kinds:
            raise ValueError(
                f"Unknown message kind {kind!r}; known kinds: {', '.join(self._kinds)}. "
                f"Add templates/email/{self.language}/{kind}.{{subject,txt,html}}.j2 or pick a known kind."
            )
        values = dict(context)
        out: dict[str, str] = {}
        for part in PARTS:
            name = f"email/{self.language}/{kind}.{part}.j2"
            try:
                out[part] = self.env.get_template(name).render(values)
            except jinja2.UndefinedError as exc:
                needed = ", ".join(COMMON_KEYS + CONTEXT_KEYS.get(kind, ()))
                raise jinja2.UndefinedError(
                    f"Template {name!r}: {exc.message}; the context of {kind!r} needs: {needed}."
                ) from exc
        return Rendered(
            subject=clean_subject(out["subject"]), text=tidy_text(out["txt"]), html=out["html"].strip() + "\n"
        )


def _programme() -> dict[str, Any]:
    return {
        "name": "Programma SAMEN",
        "form_link": "https://forms.gle/samen-aanmelden",
        "retention_months": 24,
        "contact_address": "samen@example.org",
    }


def _application() -> dict[str, Any]:
    return {
        "id": "SAMEN-2022-031",
        "initiative": "Welzijnscoöperatie Delfshaven",
        "municipality": "Rotterdam",
        "submitted_at": datetime(2022, 10, 24, 14, 3, 11),
    }


def _meeting() -> dict[str, Any]:
    return {
        "nr": 3,
        "title": "Ideeën uitwisselen over de wijk",
        "date": date(2023, 9, 25),
        "start": time(13, 0),
        "end": time(17, 0),
        "location": "Café De Ontmoeting",
        "address": "Voorbeeldstraat 1, 3021 AB Rotterdam",
        "audience": "iedereen",
    }


def _specific(kind: str) -> dict[str, Any]:
    """Return the kind-specific part of an example context."""
    if kind == "ontvangstbevestiging":
        return {"application": _application()}
    if kind == "correctieverzoek":
        problems = [
            {
                "question": "E-mailadres contactpersoon gemeente",
                "value": "j.de.vries@rotterdam",
                "message": "Dit e-mailadres is niet compleet. Vul een adres in zoals naam@rotterdam.nl.",
            },
            {
                "question": "Wat doet jullie initiatief?",
                "value": "Buurtwerk",
                "message": "Dit antwoord is te kort. Schrijf minstens 20 tekens over jullie initiatief.",
            },
        ]
        return {"initiative": "Welzijnscoöperatie Delfshaven", "problems": problems}
    if kind in _DECISION_KINDS:
        explanations = {
            "besluit-kern": "Jullie plan voor één wijkloket van bewoners en gemeente sprak ons erg aan. "
            "Jullie krijgen een bijdrage van € 25.000 per jaar.",
            "besluit-kenniskring": "Jullie idee voor een buurtcafé is mooi, maar staat nog aan het begin.",
            "besluit-afgewezen": "Jullie aanmelding kwam binnen na de sluitingsdatum van 30 oktober 2022.",
        }
        return {"application": _application(), "explanation": explanations[kind]}
    if kind == "wijziging":
        meeting = _meeting() | {"date": date(2023, 10, 2)}
        changes = ["De datum is nu maandag 2 oktober 2023.", "De locatie is nu Café De Ontmoeting."]
        return {"meeting": meeting, "changes": changes}
    if kind in _MEETING_KINDS:
        return {"meeting": _meeting()}
    if kind in _FOLLOW_UP_KINDS:
        return {"meeting": _meeting(), "materials_link": "https://example.org/samen/bijeenkomst-3"}
    if kind == "signaal-coordinatoren":
        signal = {
            "kind": "Tweede aanmelding",
            "subject": "SAMEN-2022-031",
            "explanation": "De gemeente Rotterdam staat ook in aanmelding SAMEN-2022-012. "
            "Kijk of het om dezelfde tandem gaat.",
            "date": date(2022, 10, 25),
        }
        return {"signal": signal}
    known = ", ".join(sorted(CONTEXT_KEYS))
    raise ValueError(f"Unknown message kind {kind!r} (no example context); known kinds: {known}.")


def example_context(kind: str) -> dict[str, Any]:
    """Return realistic example data for kind (for `samen preview` and the tests); a fresh copy."""
    specific = _specific(kind)
    recipients = {"signaal-coordinatoren": "", "correctieverzoek": "Zoë de Vries"}
    programme_mail = kind in _MEETING_KINDS + _FOLLOW_UP_KINDS + ("wijziging",)
    return {
        "programme": _programme(),
        "recipient_name": recipients.get(kind, "Noëlle Bakker"),
        "programme_mail": programme_mail,
        **specific,
    }
