"""The message builder: MIME structure, clean headers, checked addresses and the .ics."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from samen.domain.messages import CalendarEvent, OutgoingMessage, Rendered, Sender, message_id_for
from samen.mailbuild import AddressError, build_email, build_ics, check_address

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2023, 11, 1, 9, 30, tzinfo=UTC)
SENDER = Sender(
    from_address="samen@example.org", from_name="Programma SAMEN (gemeente)",
    reply_to="antwoord@example.org", unsubscribe_address="afmelden@example.org",
)
WINTER = datetime(2023, 11, 27, 13, 0, tzinfo=ZONE)
SUMMER = datetime(2023, 6, 23, 13, 0, tzinfo=ZONE)


def meeting(method: str = "REQUEST", start: datetime = WINTER, sequence: int = 0) -> CalendarEvent:
    return CalendarEvent(
        uid="bijeenkomst-3@samen.example.org", sequence=sequence, method=method,
        summary="Bijeenkomst 3: één wijk, ö en €", start=start, end=start + timedelta(hours=2),
        location="Wijkcentrum De Brug, Zaal 1; Den Haag",
        description="Welkom!\nWe beginnen om 13:00 uur met koffie (€ 0).",
        organizer="samen@example.org",
    )


BASE = OutgoingMessage(
    key="invite|bijeenkomst-3|an@example.org|1",
    message_id=message_id_for("invite|bijeenkomst-3|an@example.org|1", "example.org"),
    to_name="Anaïs de Vries",
    to_address="an@example.org",
    rendered=Rendered(
        subject="Uitnodiging: één bijeenkomst, ö en € 0",
        text="Beste Anaïs,\n\nJe bent welkom. Kosten: € 0. Groet, Jörg\n",
        html="<p>Beste Anaïs,</p><p>Je bent welkom. Kosten: &euro; 0 of € 0. Jörg</p>",
    ),
)


def reparse(message: EmailMessage) -> EmailMessage:
    """Return the message as a mail client would read it; no part may have defects."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    for part in parsed.walk():
        assert part.defects == [], (part.get_content_type(), part.defects)
    return parsed


def types(part: EmailMessage) -> list[str]:
    return [p.get_content_type() for p in part.iter_parts()]


def ics_parts(parsed: EmailMessage) -> tuple[EmailMessage, EmailMessage]:
    alternative, attachment = parsed.iter_parts()
    calendar = list(alternative.iter_parts())[2]
    assert isinstance(calendar, EmailMessage) and isinstance(attachment, EmailMessage)
    return calendar, attachment


def test_plain_message_is_text_and_html_alternatives() -> None:
    parsed = reparse(build_email(BASE, SENDER, now=NOW))
    assert parsed.get_content_type() == "multipart/alternative"
    assert types(parsed) == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parsed.iter_parts())
    assert parsed["MIME-Version"] == "1.0"
    assert all("MIME-Version" not in p for p in parsed.iter_parts())


def test_headers() -> None:
    raw = build_email(BASE, SENDER, now=NOW)
    parsed = reparse(raw)
    assert parsed["Message-ID"] == BASE.message_id
    assert parsed["From"].addresses[0].display_name == "Programma SAMEN (gemeente)"
    assert parsed["From"].addresses[0].addr_spec == "samen@example.org"
    assert parsed["To"].addresses[0].display_name == "Anaïs de Vries"
    assert parsed["To"].addresses[0].addr_spec == "an@example.org"
    assert parsed["Reply-To"].addresses[0].addr_spec == "antwoord@example.org"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert b"\r\n" in raw.as_bytes() and b"\n" not in raw.as_bytes().replace(b"\r\n", b"")


def test_non_ascii_survives_subject_and_bodies() -> None:
    message = build_email(BASE, SENDER, now=NOW)
    data = message.as_bytes()
    assert data.isascii()  # encoded words and quoted-printable: no 8BITMIME needed
    assert b"=?utf-8?" in data.split(b"\r\n\r\n")[0]
    parsed = reparse(message)
    assert parsed["Subject"] == "Uitnodiging: één bijeenkomst, ö en € 0"
    text, html = (p.get_content() for p in parsed.iter_parts())
    assert "Anaïs" in text and "€ 0" in text and "Jörg" in text
    assert "Anaïs" in html and "€ 0" in html and "Jörg" in html


def test_list_unsubscribe_only_for_programme_mail() -> None:
    programme = reparse(build_email(BASE, SENDER, now=NOW))
    assert programme["List-Unsubscribe"] == "<mailto:afmelden@example.org?subject=afmelden>"
    personal = reparse(build_email(replace(BASE, programme_mail=False), SENDER, now=NOW))
    assert "List-Unsubscribe" not in personal


@pytest.mark.parametrize("evil", [
    "Jan\r\nBcc: evil@example.org", "Jan\nBcc: evil@example.org", "Jan\rBcc: evil@example.org",
    "Jan\x00\r\nBcc: evil@example.org", "Jan\u2028Bcc: evil@example.org", "Jan\x85Bcc: evil@example.org",
])
def test_control_characters_inject_no_header(evil: str) -> None:
    message = replace(BASE, to_name=evil, rendered=replace(BASE.rendered, subject=f"Hoi {evil}"))
    sender = replace(SENDER, from_name=evil)
    data = build_email(message, sender, now=NOW).as_bytes()
    parsed = reparse(build_email(message, sender, now=NOW))
    head = data.split(b"\r\n\r\n")[0]
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in head
    assert "Bcc" not in parsed
    assert len(parsed.get_all("To") or []) == 1
    assert [a.addr_spec for a in parsed["To"].addresses] == ["an@example.org"]
    assert parsed["To"].addresses[0].display_name == "Jan Bcc: evil@example.org"
    assert parsed["Subject"] == "Hoi Jan Bcc: evil@example.org"


@pytest.mark.parametrize("bad", [
    "", "   ", "jan", "jan@", "@example.org", "jan @example.org", "jan@exa mple.org",
    "jan@example.org\r\nBcc: evil@example.org", "jan@example.org\n", "jan\x00@example.org",
    "jan@example.org\u2028", "jän@example.org", "jan@@example.org", "jan@x@example.org",
    "jan@example", "jan..de@example.org", ".jan@example.org", "jan@-example.org",
    "jan@example.123", "<jan@example.org>", "Jan <jan@example.org>", "jan,piet@example.org",
    "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".nl", "x" * 65 + "@example.org",
])
def test_unusable_address_raises_address_error(bad: str) -> None:
    message = replace(BASE, to_address=bad)
    with pytest.raises(AddressError) as caught:
        build_email(message, SENDER, now=NOW)
    text = str(caught.value)
    assert "onbruikbaar" in text and "unusable" in text
    assert repr(bad)[:40] in text
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("given", "expected"), [
    (" jan@example.org ", "jan@example.org"),
    ("Jan.de-Vries+samen@Example.ORG", "Jan.de-Vries+samen@example.org"),
    ("jan@bücher.nl", "jan@xn--bcher-kva.nl"),
    ("o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"),
])
def test_usable_addresses(given: str, expected: str) -> None:
    assert check_address(given).addr_spec == expected
    parsed = reparse(build_email(replace(BASE, to_address=given), SENDER, now=NOW))
    assert parsed["To"].addresses[0].addr_spec == expected


def test_calendar_message_structure() -> None:
    message = replace(BASE, calendar=meeting())
    parsed = reparse(build_email(message, SENDER, now=NOW))
    assert parsed.get_content_type() == "multipart/mixed"
    assert types(parsed) == ["multipart/alternative", "application/ics"]
    alternative = next(parsed.iter_parts())
    assert isinstance(alternative, EmailMessage)
    assert types(alternative) == ["text/plain", "text/html", "text/calendar"]
    calendar, attachment = ics_parts(parsed)
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "uitnodiging.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert calendar.get_payload(decode=True) == attachment.get_payload(decode=True)


@pytest.mark.parametrize(("start", "utc"), [
    (WINTER, datetime(2023, 11, 27, 12, 0, tzinfo=UTC)),
    (SUMMER, datetime(2023, 6, 23, 11, 0, tzinfo=UTC)),
])
def test_ics_parses_with_the_right_moment(start: datetime, utc: datetime) -> None:
    message = replace(BASE, calendar=meeting(start=start, sequence=2))
    for part in ics_parts(reparse(build_email(message, SENDER, now=NOW))):
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        cal = icalendar.Calendar.from_ical(data)
        assert str(cal["METHOD"]) == "REQUEST"
        assert str(cal["PRODID"]) == "-//samen//NL" and str(cal["VERSION"]) == "2.0"
        (event,) = cal.events
        assert str(event["UID"]) == "bijeenkomst-3@samen.example.org"
        assert event.sequence == 2
        assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
        assert event.start.astimezone(UTC) == utc
        assert event.end.astimezone(UTC) == utc + timedelta(hours=2)
        assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
        assert event.decoded("DTSTAMP") == NOW
        assert str(event["ORGANIZER"]) == "mailto:samen@example.org"
        assert str(event["ATTENDEE"]) == "mailto:an@example.org"
        assert str(event["SUMMARY"]) == "Bijeenkomst 3: één wijk, ö en €"
        assert str(event["LOCATION"]) == "Wijkcentrum De Brug, Zaal 1; Den Haag"
        assert "€ 0" in str(event["DESCRIPTION"])
        assert str(event["STATUS"]) == "CONFIRMED"


def test_ics_has_a_compact_timezone() -> None:
    cal = icalendar.Calendar.from_ical(build_ics(meeting(), "an@example.org", now=NOW))
    (zone,) = cal.timezones
    assert zone.tz_name == "Europe/Amsterdam"
    assert 2 <= len(zone.subcomponents) <= 4  # one year of transitions, not 1970-2037
    assert cal.get_missing_tzids() == set()
    tz = zone.to_tz()
    assert WINTER.replace(tzinfo=tz).utcoffset() == timedelta(hours=1)
    assert SUMMER.replace(tzinfo=tz).utcoffset() == timedelta(hours=2)


def test_cancel_has_method_and_status_cancelled() -> None:
    message = replace(BASE, calendar=meeting(method="CANCEL", sequence=3))
    calendar, attachment = ics_parts(reparse(build_email(message, SENDER, now=NOW)))
    assert calendar.get_param("method") == "CANCEL"
    data = attachment.get_payload(decode=True)
    assert isinstance(data, bytes)
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["METHOD"]) == "CANCEL"
    (event,) = cal.events
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.sequence == 3


def test_ics_without_attendee_and_deterministic() -> None:
    first = build_ics(meeting(method="PUBLISH"), None, now=NOW)
    assert first == build_ics(meeting(method="PUBLISH"), None, now=NOW)
    (event,) = icalendar.Calendar.from_ical(first).events
    assert "ATTENDEE" not in event


def test_unknown_method_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        build_ics(meeting(method="REPLY"), None, now=NOW)
    with pytest.raises(ValueError, match="aware"):
        build_ics(meeting(start=datetime(2023, 11, 27, 13, 0)), None, now=NOW)


def test_long_body_and_html_with_script_keep_their_structure() -> None:
    text = ("Een lange regel met ë en € " * 2000)[:50_000]
    html = "<p>Antwoord:</p><script>alert('x')</script><p>" + "ö" * 10_000 + "</p>"
    message = replace(BASE, rendered=Rendered(subject="Lang", text=text, html=html),
                      calendar=meeting())
    built = build_email(message, SENDER, now=NOW)
    assert max(len(line) for line in built.as_bytes().split(b"\r\n")) <= 78
    parsed = reparse(built)
    alternative = next(parsed.iter_parts())
    plain, rich, _ = alternative.iter_parts()
    # Read back from CRLF bytes, the body keeps its CRLF line end: compare without it.
    assert plain.get_content().rstrip("\r\n") == text
    assert rich.get_content().rstrip("\r\n") == html


def test_bad_message_id_and_naive_now_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        build_email(replace(BASE, message_id="no-brackets"), SENDER, now=NOW)
    with pytest.raises(ValueError, match="aware"):
        build_email(BASE, SENDER, now=datetime(2023, 11, 1, 9, 30))


LONG_ADDRESS = "een.heel.lang.adres.om.te.vouwen.over.twee.regels@sub.example.org"


@pytest.mark.parametrize("attendee", ["an@example.org", LONG_ADDRESS, "an@bücher.example.org", None, ""])
@pytest.mark.parametrize("start", [WINTER, SUMMER, WINTER.astimezone(UTC), datetime(2024, 1, 1, tzinfo=ZONE)])
def test_ics_is_the_whole_calendar_serialised(attendee: str | None, start: datetime) -> None:
    """build_ics reuses a meeting's serialised calendar around the ATTENDEE line: byte for byte."""
    from samen.mailbuild import calendar_of

    event = meeting(start=start)
    whole = calendar_of(event, attendee, NOW).to_ical()
    assert build_ics(event, attendee, now=NOW) == whole
    assert build_ics(event, attendee, now=NOW) == whole  # and again, from the reused frame
    # One instant in another zone is another calendar (equal datetimes, other TZID).
    other = replace(event, start=start.astimezone(ZoneInfo("Europe/London")),
                    end=event.end.astimezone(ZoneInfo("Europe/London")))
    assert build_ics(other, attendee, now=NOW) == calendar_of(other, attendee, NOW).to_ical()


def test_reused_headers_give_the_bytes_of_policy_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy that reuses parsed and folded headers serialises exactly as email.policy.SMTP."""
    import email.generator

    from samen.mailbuild import MAIL_POLICY

    def build(policy: email.policy.Policy) -> bytes:
        boundaries = iter(f"=={n}==" for n in range(10))
        monkeypatch.setattr(email.generator.Generator, "_make_boundary",
                            classmethod(lambda cls, text=None: next(boundaries)))
        message = build_email(replace(BASE, calendar=meeting()), SENDER, now=NOW)
        return message.as_bytes(policy=policy)

    for _ in range(2):  # the second time from reused header objects
        assert build(MAIL_POLICY) == build(email.policy.SMTP)
