"""Anonymity rules (pure): pseudonyms, what belongs together, last activity, placeholders.

`samen anonymise` (samen.stages.anonymise) replaces the personal data of applications whose last
activity was before a date. An application with its responses, or a response that never became
valid, is a unit; units that share an address are anonymised together or not at all, so that a
person is anonymised everywhere or nowhere. Names and free texts become "geanonimiseerd", phone
numbers, postcodes and websites empty, e-mail addresses a keyed pseudonym
anoniem-<hash>@example.invalid: one per address, so that counts of people stay the same.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from samen.domain.intake import (
    ANONYMISED,
    PERSONAL_EMAILS,
    PERSONAL_OPTIONAL,
    PERSONAL_TEXTS,
    FormRow,
    is_pseudonym,
)
from samen.domain.messages import recipient_ref
from samen.domain.records import ResponseVersion

PERSONAL = (*PERSONAL_EMAILS, *PERSONAL_TEXTS, *PERSONAL_OPTIONAL)
_REF = re.compile(r"(?<![0-9a-z])r[0-9a-f]{12}(?![0-9a-z])")  # recipient_ref() in ledger keys
_FORM_TIMES = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")


class Pseudonyms:
    """Addresses of anonymised people -> their pseudonyms, and the ledger references of both."""

    def __init__(self, key: str, staff: Iterable[str]) -> None:
        """Use the store's pseudonym key; staff addresses (coordinators, sender) stay."""
        self.key = key.encode("ascii")
        self.staff = {s.strip().lower() for s in staff}
        self.mapped: dict[str, str] = {}  # address (or pseudonym) -> pseudonym
        self.pseudonyms: set[str] = set()
        self.refs: dict[str, str] = {}  # recipient_ref(address) -> recipient_ref(pseudonym)

    def of(self, address: str) -> str:
        """Return the pseudonym of an address (a pseudonym, a staff address and "" stay)."""
        a = address.strip().lower()
        if not a or a in self.staff or is_pseudonym(a):
            return a
        digest = hmac.new(self.key, a.encode("utf-8"), "sha256").hexdigest()[:12]
        return f"anoniem-{digest}@example.invalid"

    def add(self, address: str) -> None:
        """Mark an address as one of an anonymised person."""
        a = address.strip().lower()
        p = self.of(a)
        if a and p != a:
            self.mapped[a] = p
            self.refs[recipient_ref(a)] = recipient_ref(p)
        elif is_pseudonym(a):
            self.mapped[a] = a
        else:
            return
        self.pseudonyms.add(p)

    def lookup(self, address: str) -> str | None:
        """Return the pseudonym of an anonymised person's address (also one found in a file)."""
        a = address.strip().lower()
        if a in self.mapped:
            return self.mapped[a]
        if a and self.of(a) in self.pseudonyms:  # the store is anonymised, this copy not yet
            self.add(a)
            return self.mapped[a]
        return None

    def sub_refs(self, text: str) -> str:
        """Return text with every reference to an anonymised address pointing at its pseudonym."""
        return _REF.sub(lambda m: self.refs.get(m.group(0), m.group(0)), text)


class Scrubber:
    """Replace known personal strings in free texts (signals, reasons) by placeholders."""

    def __init__(self, versions: Iterable[ResponseVersion], pseudonyms: Pseudonyms) -> None:
        """Collect the personal answers of these versions."""
        self.by_text: dict[str, str] = {}
        for v in versions:
            for answers in (v.raw, v.normalised or {}):
                for f in PERSONAL:
                    text = answers.get(f, "").strip()
                    if len(text) >= 3 and text != ANONYMISED and not is_pseudonym(text):
                        self.by_text[text.lower()] = (pseudonyms.of(text) if f in PERSONAL_EMAILS
                                                      else ANONYMISED)
        self.by_text = {t: r for t, r in self.by_text.items() if t not in pseudonyms.staff}
        alternatives = sorted(self.by_text, key=len, reverse=True)
        self.pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(t) for t in alternatives) + r")(?!\w)",
            re.IGNORECASE) if alternatives else None

    def __call__(self, text: str) -> str:
        """Return text with the personal strings replaced."""
        if self.pattern is None or not text:
            return text
        return self.pattern.sub(lambda m: self.by_text.get(m.group(0).lower(), ANONYMISED), text)


@dataclass
class Unit:
    """What is anonymised together: an application, or a response that never became valid."""

    id: str
    rows: set[int]
    versions: list[ResponseVersion]
    addresses: set[str]
    last: date = date.min


def anonymise_answers(values: Mapping[str, str], pseudonym: Callable[[str], str]) -> dict[str, str]:
    """Return answers (raw or normalised) with every personal answer replaced by its placeholder."""
    out = dict(values)
    for f in PERSONAL_EMAILS:
        if f in out:
            out[f] = pseudonym(out[f]) if out[f].strip() else ""
    out.update({f: ANONYMISED for f in PERSONAL_TEXTS if f in out})
    out.update({f: "" for f in PERSONAL_OPTIONAL if f in out})
    return out


def anonymise_problems(problems: Iterable[Mapping[str, str]]) -> tuple[dict[str, str], ...]:
    """Return problems without the personal values they quote."""
    out: list[dict[str, str]] = []
    for p in problems:
        if p.get("field") in PERSONAL:
            question = p.get("question", "")
            p = {**p, "value": ANONYMISED if p.get("value") else "",
                 "message": f'Bij "{question}" stond een antwoord dat niet klopte ({ANONYMISED}).'}
        out.append(dict(p))
    return tuple(out)


def collect_units(versions: Iterable[ResponseVersion], staff: set[str]) -> list[Unit]:
    """Group the versions by application (a response that never became valid is its own unit)."""
    versions = list(versions)
    row_app = {v.form_row: v.application_id for v in versions if v.valid and v.application_id}
    units: dict[str, Unit] = {}
    for v in versions:
        uid = row_app.get(v.form_row) or f"rij {v.form_row}"
        u = units.setdefault(uid, Unit(uid, set(), [], set()))
        u.rows.add(v.form_row)
        u.versions.append(v)
        for answers in (v.raw, v.normalised or {}):
            u.addresses |= {answers[f].strip().lower() for f in PERSONAL_EMAILS
                            if answers.get(f, "").strip()} - staff
    return list(units.values())


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """Return the local day of a stored (naive UTC) moment."""
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def version_day(v: ResponseVersion, zone: ZoneInfo) -> date:
    """Return the day a version was submitted (the form's timestamp), else the day it was seen."""
    iso = (v.normalised or {}).get("submitted_at", "")
    try:
        return datetime.fromisoformat(iso).date()
    except ValueError:
        pass
    for shape in _FORM_TIMES:
        try:
            return datetime.strptime(v.raw.get("submitted_at", "").strip(), shape).date()
        except ValueError:
            continue
    return local_day(v.seen_at, zone) if v.seen_at else date.max


def mark_activity(
    units: Iterable[Unit], zone: ZoneInfo, approvals: Mapping[str, date | None],
    messages: Iterable[tuple[str, str, date]], meetings: Iterable[tuple[str, Iterable[str], date]],
) -> None:
    """Set each unit's last activity: its versions, approval, people's meetings and messages.

    messages: (recipient, ledger subject, day sent or planned); meetings: (address, application
    ids, day of the meeting) per attendance record.
    """
    by_address: dict[str, list[date]] = {}
    by_subject: dict[str, list[date]] = {}
    for recipient, subject, day in messages:
        by_address.setdefault(recipient.strip().lower(), []).append(day)
        by_subject.setdefault(subject, []).append(day)
    for email, apps, day in meetings:
        for key in (email, *apps):
            by_address.setdefault(key, []).append(day)
    for u in units:
        found = [version_day(v, zone) for v in u.versions]
        found += [d for d in (approvals.get(u.id),) if d is not None]
        for key in (*u.addresses, u.id):
            found += by_address.get(key, [])
        for key in (u.id, *(f"rij {row}" for row in u.rows)):
            found += by_subject.get(key, [])
        u.last = max(found)


def choose_units(
    units: list[Unit], before: date, versions: Iterable[ResponseVersion],
    form_rows: Mapping[int, FormRow],
) -> tuple[list[Unit], list[str], list[str]]:
    """Return the units to anonymise, and the old ones kept (shared address, edited form row).

    Units that share an address form one group, anonymised only when all of it is old: a person
    is anonymised everywhere or nowhere.
    """
    latest = {v.form_row: v for v in versions}
    edited = {u.id for u in units if any(
        row in form_rows and _facts(form_rows[row].values) != _facts(latest[row].raw)
        for row in u.rows)}
    parent = {u.id: u.id for u in units}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = x = parent[parent[x]]
        return x

    owner: dict[str, str] = {}
    for u in units:
        for a in u.addresses:
            parent[root(u.id)] = root(owner.setdefault(a, u.id))
    groups: dict[str, list[Unit]] = {}
    for u in units:
        groups.setdefault(root(u.id), []).append(u)
    chosen: list[Unit] = []
    kept_shared: list[str] = []
    for group in groups.values():
        if all(u.last < before and u.id not in edited for u in group):
            chosen += group
        else:
            kept_shared += [u.id for u in group if u.last < before and u.id not in edited]
    order = {u.id: n for n, u in enumerate(units)}
    kept_edited = [u.id for u in units if u.id in edited and u.last < before]
    return (sorted(chosen, key=lambda u: order[u.id]),
            sorted(kept_shared, key=lambda i: order[i]), kept_edited)


def _facts(values: Mapping[str, str]) -> dict[str, str]:
    """Return the answers anonymising keeps (a change in them is an edit intake has not seen)."""
    return {f: v for f, v in values.items() if f not in PERSONAL}
