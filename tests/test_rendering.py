"""Message templates: every kind renders, escaping is right, and missing data fails loudly."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import jinja2
import pytest
from typer.testing import CliRunner

from samen.cli import app
from samen.rendering import (
    BASE_LAYOUT_MARKER,
    CONTEXT_KEYS,
    SUBJECT_MAX,
    Renderer,
    clean_subject,
    example_context,
)

RENDERER = Renderer()
KINDS = RENDERER.kinds()
EXPECTED_KINDS = {
    "ontvangstbevestiging",
    "correctieverzoek",
    "besluit-kern",
    "besluit-kenniskring",
    "besluit-afgewezen",
    "uitnodiging",
    "herinnering",
    "wijziging",
    "afgelast",
    "bedankt",
    "verslag",
    "gemist",
    "signaal-coordinatoren",
}
SCRIPT = "<script>alert(1)</script>"


def test_kinds_are_the_documented_ones() -> None:
    assert set(KINDS) == EXPECTED_KINDS
    assert set(CONTEXT_KEYS) == EXPECTED_KINDS


@pytest.mark.parametrize("kind", sorted(EXPECTED_KINDS))
def test_every_kind_renders_its_example(kind: str) -> None:
    rendered = RENDERER.render(kind, example_context(kind))
    assert rendered.subject
    assert len(rendered.subject) <= SUBJECT_MAX
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.subject == rendered.subject.strip()
    assert rendered.text.strip()
    assert rendered.html.strip()
    assert BASE_LAYOUT_MARKER in rendered.html
    assert "Programma SAMEN" in rendered.text and "Programma SAMEN" in rendered.html


@pytest.mark.parametrize("kind", sorted(EXPECTED_KINDS))
def test_non_ascii_survives(kind: str) -> None:
    context = example_context(kind)
    context["recipient_name"] = "Zoë Hélène"
    context["programme"]["name"] = "Fonds € Ideeën"
    rendered = RENDERER.render(kind, context)
    for body in (rendered.text, rendered.html):
        assert "Zoë Hélène" in body
        assert "Fonds € Ideeën" in body


@pytest.mark.parametrize("kind", sorted(EXPECTED_KINDS))
def test_unsubscribe_line_only_in_programme_mail(kind: str) -> None:
    for programme_mail in (True, False):
        context = example_context(kind) | {"programme_mail": programme_mail}
        rendered = RENDERER.render(kind, context)
        assert ("afmelden" in rendered.text) is programme_mail
        assert ("afmelden" in rendered.html) is programme_mail


def test_example_marks_meeting_mail_as_programme_mail() -> None:
    assert example_context("uitnodiging")["programme_mail"] is True
    assert example_context("besluit-afgewezen")["programme_mail"] is False


def test_missing_variable_raises() -> None:
    context = example_context("uitnodiging")
    del context["meeting"]
    with pytest.raises(jinja2.UndefinedError, match="meeting"):
        RENDERER.render("uitnodiging", context)


def test_missing_nested_field_raises() -> None:
    context = example_context("ontvangstbevestiging")
    del context["application"]["id"]
    with pytest.raises(jinja2.UndefinedError):
        RENDERER.render("ontvangstbevestiging", context)


def test_unknown_kind_names_the_known_kinds() -> None:
    with pytest.raises(ValueError, match=r"'welkom'.*ontvangstbevestiging"):
        RENDERER.render("welkom", example_context("uitnodiging"))
    with pytest.raises(ValueError, match="welkom"):
        example_context("welkom")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'xx'.*nl"):
        Renderer("xx")


def test_html_is_escaped_and_text_is_not() -> None:
    context = example_context("ontvangstbevestiging")
    context["application"]["initiative"] = SCRIPT
    rendered = RENDERER.render("ontvangstbevestiging", context)
    assert SCRIPT not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert SCRIPT in rendered.text


def test_correction_request_escapes_initiative_in_html() -> None:
    context = example_context("correctieverzoek") | {"initiative": SCRIPT}
    rendered = RENDERER.render("correctieverzoek", context)
    assert SCRIPT not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert SCRIPT in rendered.text


def test_long_answer_renders_shortened() -> None:
    answer = "Wij doen veel in de buurt. " * 1852  # just over 50,000 characters
    assert len(answer) >= 50_000
    context = example_context("correctieverzoek")
    context["problems"] = [
        {
            "question": "Wat doet jullie initiatief?",
            "value": answer,
            "message": "Dit antwoord is te lang. Gebruik hoogstens 5.000 tekens.",
        }
    ]
    rendered = RENDERER.render("correctieverzoek", context)
    assert "Wij doen veel in de buurt." in rendered.text
    assert len(rendered.text) < 5_000
    assert len(rendered.html) < 10_000


def test_long_explanation_renders_in_full() -> None:
    explanation = "x" * 50_000
    context = example_context("besluit-kern") | {"explanation": explanation}
    rendered = RENDERER.render("besluit-kern", context)
    assert explanation in rendered.text
    assert explanation in rendered.html


def test_receipt_mentions_retention_and_data() -> None:
    context = example_context("ontvangstbevestiging")
    context["programme"]["retention_months"] = 18
    rendered = RENDERER.render("ontvangstbevestiging", context)
    for body in (rendered.text, rendered.html):
        assert "18 maanden" in body
        assert "SAMEN-2022-031" in body
        assert "postcode" in body
        assert "verwijderen" in body
    assert "maandag 24 oktober 2022 om 14:03" in rendered.text


def test_correction_request_lists_each_problem_and_the_form_link() -> None:
    context = example_context("correctieverzoek")
    rendered = RENDERER.render("correctieverzoek", context)
    for problem in context["problems"]:
        for body in (rendered.text, rendered.html):
            assert problem["question"] in body
            assert problem["message"] in body
    assert "https://forms.gle/samen-aanmelden" in rendered.text
    assert 'href="https://forms.gle/samen-aanmelden"' in rendered.html


def test_meeting_mail_mentions_the_calendar_attachment() -> None:
    for kind in ("uitnodiging", "herinnering", "wijziging"):
        rendered = RENDERER.render(kind, example_context(kind))
        assert "In de bijlage vind je een agenda-uitnodiging" in rendered.text
        assert "In de bijlage vind je een agenda-uitnodiging" in rendered.html
    cancelled = RENDERER.render("afgelast", example_context("afgelast"))
    assert "bijlage" not in cancelled.text
    assert "De afspraak in je agenda kun je verwijderen" in cancelled.text


def test_invitation_shows_date_and_times() -> None:
    rendered = RENDERER.render("uitnodiging", example_context("uitnodiging"))
    assert rendered.subject == "Uitnodiging: bijeenkomst 3 op maandag 25 september 2023"
    assert "maandag 25 september 2023, van 13:00 tot 17:00 uur" in rendered.text


def test_change_lists_the_changes() -> None:
    context = example_context("wijziging")
    rendered = RENDERER.render("wijziging", context)
    for change in context["changes"]:
        assert change in rendered.text and change in rendered.html


def test_follow_up_without_materials_link() -> None:
    for kind in ("bedankt", "verslag", "gemist"):
        rendered = RENDERER.render(kind, example_context(kind) | {"materials_link": ""})
        assert "nog niet klaar" in rendered.text
        assert '<a href=""' not in rendered.html


def test_empty_recipient_name_greets_plainly() -> None:
    rendered = RENDERER.render("bedankt", example_context("bedankt") | {"recipient_name": ""})
    assert rendered.text.startswith("Hallo,")


def test_datum_and_tijd_filters() -> None:
    env = RENDERER.env
    assert env.filters["datum"](date(2023, 3, 27)) == "maandag 27 maart 2023"
    assert env.filters["datum"](datetime(2024, 3, 8, 9, 0)) == "vrijdag 8 maart 2024"
    assert env.filters["tijd"](time(13, 0)) == "13:00"
    assert RENDERER.format_day(date(2023, 3, 27)) == "maandag 27 maart 2023"


def test_subject_is_one_short_line() -> None:
    assert clean_subject("  Hallo\r\nwereld\t ") == "Hallo wereld"
    long = clean_subject("woord " * 40)
    assert len(long) <= SUBJECT_MAX and long.endswith("…")
    context = example_context("signaal-coordinatoren")
    context["signal"]["kind"] = "Heel\nlang " * 30
    rendered = RENDERER.render("signaal-coordinatoren", context)
    assert len(rendered.subject) <= SUBJECT_MAX and "\n" not in rendered.subject


def test_preview_prints_subject_and_text() -> None:
    result = CliRunner().invoke(app, ["preview", "uitnodiging"])
    assert result.exit_code == 0, result.output
    assert "Uitnodiging: bijeenkomst 3 op maandag 25 september 2023" in result.output
    assert "In de bijlage vind je een agenda-uitnodiging" in result.output
    assert BASE_LAYOUT_MARKER in result.output


def test_preview_writes_html_to_out(tmp_path: Path) -> None:
    out = tmp_path / "preview" / "kern.html"
    result = CliRunner().invoke(app, ["preview", "besluit-kern", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Goed nieuws" in result.output
    assert str(out) in result.output
    assert BASE_LAYOUT_MARKER in out.read_text(encoding="utf-8")


def test_preview_of_unknown_kind_fails() -> None:
    result = CliRunner().invoke(app, ["preview", "welkom"])
    assert result.exit_code == 2
