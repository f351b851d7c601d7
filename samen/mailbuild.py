"""Build the e-mail for one outgoing message: stdlib EmailMessage, plus an .ics for meetings.

Pure: no I/O and no SMTP. Every header value is cleaned of control characters first and
every recipient address is checked, so a bad cell in the spreadsheet holds back one message
(AddressError) instead of breaking a message or injecting a header.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import format_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from samen.domain.messages import CalendarEvent, OutgoingMessage, Sender


class _ReusedHeaders(EmailPolicy):
    """email.policy.SMTP that reuses the header object of a (name, value) it parsed before.

    The stdlib parses every header value it is given and builds a new class per header while
    doing so (about a third of building a message); header objects are immutable, and most
    headers of a run's messages repeat (From, Reply-To, Date, the MIME headers of every part).
    """

    _seen: dict[tuple[Any, ...], tuple[str, Any]] = {}  # noqa: RUF012 (process-wide caches)
    _max_counts: dict[str, int | None] = {}  # noqa: RUF012

    def header_max_count(self, name: str) -> int | None:
        """Return how often a header may occur, as EmailPolicy does (it builds a class per call)."""
        key = name.lower()
        if key not in self._max_counts:
            self._max_counts[key] = super().header_max_count(name)
        return self._max_counts[key]

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        """Return (name, header object) as EmailPolicy does, reusing an equal earlier result."""
        if isinstance(value, str) and "boundary=" not in value:  # boundaries are random: unique
            key: tuple[Any, ...] = (name, value)
        elif type(value) is Address:
            key = (name, "address", value.display_name, value.username, value.domain)
        else:
            return super().header_store_parse(name, value)
        seen = self._seen.get(key)
        if seen is None:
            seen = super().header_store_parse(name, value)
            if len(self._seen) >= 4096:
                self._seen.clear()
            self._seen[key] = seen
        return seen

    def fold_binary(self, name: str, value: Any) -> bytes:
        """Return the folded header line as EmailPolicy does, once per header object and policy."""
        folded = getattr(value, "_folded_binary", None)
        if folded is not None and folded[0] is self:
            return folded[1]
        line = super().fold_binary(name, value)
        if hasattr(value, "name") and hasattr(value, "__dict__"):  # a header object, not a str
            value._folded_binary = (self, line)
        return line


# policy.SMTP (CRLF line ends), reusing parsed headers; 7-bit safe bodies are chosen per part below.
MAIL_POLICY = _ReusedHeaders(linesep="\r\n")
PRODID = "-//samen//NL"
DEFAULT_ZONE = "Europe/Amsterdam"
ICS_FILENAME = "uitnodiging.ics"
METHODS = ("PUBLISH", "REQUEST", "CANCEL")
MAX_ADDRESS_LENGTH = 254

# C0, DEL, C1 and the Unicode line/paragraph separators: any of them can end a header line
# somewhere between here and the recipient's mail client.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")


class AddressError(ValueError):
    """An e-mail address that cannot be used; the message names the value (Dutch and English)."""


def clean_header_text(value: str) -> str:
    """Return value fit for one header line: control characters become spaces, runs collapse."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def _address_error(value: object, nl: str, en: str) -> AddressError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "...'"
    return AddressError(
        f"E-mailadres {shown} is onbruikbaar: {nl}. / E-mail address {shown} is unusable: {en}."
    )


def check_address(value: str) -> Address:
    """Return value as an Address (IDN domain in ASCII), or raise AddressError naming it."""
    if not isinstance(value, str):
        raise _address_error(value, "geen tekst", "not a text")
    if _CONTROL.search(value):
        raise _address_error(value, "bevat stuurtekens of regeleinden",
                             "contains control characters or line breaks")
    text = value.strip(" ")
    if not text:
        raise _address_error(value, "leeg", "empty")
    if any(ch.isspace() for ch in text):
        raise _address_error(value, "bevat spaties", "contains spaces")
    if text.count("@") != 1:
        raise _address_error(value, "moet precies één @ bevatten", "must contain exactly one @")
    local, domain = text.split("@")
    if not local or not domain:
        raise _address_error(value, "deel voor of na de @ ontbreekt", "part before or after the @ is missing")
    if not local.isascii():
        raise _address_error(value, "letters met accenten voor de @ worden niet ondersteund",
                             "non-ASCII characters before the @ are not supported")
    if (len(local) > 64 or not set(local) <= _LOCAL_CHARS or local.startswith(".")
            or local.endswith(".") or ".." in local):
        raise _address_error(value, "ongeldig deel voor de @", "invalid part before the @")
    ascii_domain = _ascii_domain(value, domain)
    if len(local) + 1 + len(ascii_domain) > MAX_ADDRESS_LENGTH:
        raise _address_error(value, f"langer dan {MAX_ADDRESS_LENGTH} tekens",
                             f"longer than {MAX_ADDRESS_LENGTH} characters")
    return Address(username=local, domain=ascii_domain)


def _ascii_domain(value: str, domain: str) -> str:
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _address_error(value, "ongeldige domeinnaam", "invalid domain name") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise _address_error(value, "ongeldige domeinnaam na de @", "invalid domain name after the @")
    return ascii_domain


def named_address(name: str, address: str) -> Address:
    """Return a checked address with a cleaned display name."""
    checked = check_address(address)
    return Address(display_name=clean_header_text(name), username=checked.username,
                   domain=checked.domain)


def build_email(msg: OutgoingMessage, sender: Sender, *, now: datetime | None = None) -> EmailMessage:
    """Build the MIME message for one recipient; raise AddressError for an unusable address."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"now must be an aware datetime, got {moment!r}")
    if not _MESSAGE_ID.match(msg.message_id):
        raise ValueError(f"Message-ID must look like <id@domain>, got {msg.message_id!r}")
    to = named_address(msg.to_name, msg.to_address)
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = named_address(sender.from_name, sender.from_address)
    email["To"] = to
    email["Reply-To"] = check_address(sender.reply_to)
    email["Subject"] = clean_header_text(msg.rendered.subject)
    email["Date"] = format_datetime(moment)
    email["Message-ID"] = msg.message_id
    if msg.programme_mail:
        unsubscribe = check_address(sender.unsubscribe_address).addr_spec
        email["List-Unsubscribe"] = f"<mailto:{unsubscribe}?subject=afmelden>"
    email["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the bodies 7-bit: no reliance on the server's 8BITMIME.
    email.set_content(msg.rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    email.add_alternative(msg.rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if msg.calendar is not None:
        ics = build_ics(msg.calendar, to.addr_spec, now=moment)
        email.add_alternative(ics, maintype="text", subtype="calendar",
                              params={"method": msg.calendar.method, "charset": "utf-8"})
        email.add_attachment(ics, maintype="application", subtype="ics", filename=ICS_FILENAME,
                             params={"name": ICS_FILENAME})
    for part in email.iter_parts():
        _drop_inner_mime_version(part)
    return email


def _drop_inner_mime_version(part: MIMEPart) -> None:
    # add_alternative/add_attachment give every new part its own MIME-Version (a stdlib
    # quirk); RFC 2045 wants it on the top level only.
    del part["MIME-Version"]
    for child in part.iter_parts():
        _drop_inner_mime_version(child)


def build_ics(event: CalendarEvent, attendee: str | None, *, now: datetime | None = None) -> bytes:
    """Return the iCalendar file (one VEVENT and a compact VTIMEZONE) of a meeting."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    if attendee is None or attendee == "":
        return calendar_of(event, None, stamp).to_ical()
    # Serialising the calendar (its VTIMEZONE above all) is the slow part, and only the ATTENDEE
    # line differs between the invitees of a meeting: reuse the rest, byte for byte.
    # The zones are part of the key: datetimes of one instant in two zones compare equal.
    head, tail = _ics_around_attendee(event, stamp, repr(event.start.tzinfo), repr(event.end.tzinfo))
    return head + _attendee_line(check_address(attendee).addr_spec) + tail


_PLACEHOLDER = "attendee@placeholder.invalid"
_ATTENDEE_PARAMETERS = {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"}


@lru_cache(maxsize=64)
def _ics_around_attendee(event: CalendarEvent, stamp: datetime, *zones: str) -> tuple[bytes, bytes]:
    """Return a meeting's iCalendar bytes before and after its ATTENDEE line."""
    whole = calendar_of(event, _PLACEHOLDER, stamp).to_ical()
    line = b"\r\n" + _attendee_line(_PLACEHOLDER)
    at = whole.index(line) + 2
    return whole[:at], whole[at + len(line) - 2:]


def _attendee_line(address: str) -> bytes:
    """Return the (folded) ATTENDEE content line of an address, as icalendar writes it."""
    event = icalendar.Event()
    event.add("attendee", f"mailto:{address}", parameters=_ATTENDEE_PARAMETERS)
    return event.to_ical().removeprefix(b"BEGIN:VEVENT\r\n").removesuffix(b"END:VEVENT\r\n")


def calendar_of(event: CalendarEvent, attendee: str | None, stamp: datetime) -> icalendar.Calendar:
    """Return the calendar of a meeting for one attendee (or none) as icalendar objects."""
    method = event.method.upper()
    if method not in METHODS:
        raise ValueError(f"Calendar method must be one of {', '.join(METHODS)}, got {event.method!r}")
    if event.start.tzinfo is None or event.end.tzinfo is None:
        raise ValueError(f"Meeting {event.uid!r} needs aware start and end times")
    zone = event.start.tzinfo if isinstance(event.start.tzinfo, ZoneInfo) else ZoneInfo(DEFAULT_ZONE)
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", clean_header_text(event.summary))
    vevent.add("location", clean_header_text(event.location))
    vevent.add("description", event.description)
    vevent.add("organizer", f"mailto:{check_address(event.organizer).addr_spec}")
    if attendee:
        vevent.add("attendee", f"mailto:{check_address(attendee).addr_spec}",
                   parameters=_ATTENDEE_PARAMETERS)
    vevent.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    cal.add_component(vevent)
    # Only the transitions of the meeting's own year(s), not 1970-2037.
    cal.add_missing_timezones(first_date=date(start.year, 1, 1), last_date=date(end.year + 1, 1, 1))
    return cal
