"""What intake sends: receipts, correction requests, and the signals it raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from samen.domain.intake import parse_iso, show_datetime
from samen.domain.records import Application, ResponseVersion
from samen.gateways.store.ledger import LedgerEntry, SignalRecord
from samen.schemas.municipalities import display_name
from samen.stages.delivery import PlannedMail
from samen.stages.messaging import local_time

MAX_RECIPIENT_CHARS = 320  # the ledger's recipient column


def current_versions(
    apps: Sequence[Application], versions: Sequence[ResponseVersion]
) -> dict[str, Mapping[str, str]]:
    """Return each application's current normalised answers (the versions' own, read-only)."""
    by_key = {(v.form_row, v.version): v for v in versions}
    empty: Mapping[str, str] = {}
    return {a.id: by_key[(a.form_row, a.version)].normalised or empty for a in apps}


def receipt_mails(
    apps: Sequence[Application], current: Mapping[str, Mapping[str, str]]
) -> list[PlannedMail]:
    """Return a receipt for both contacts of every application (once each, by ledger key)."""
    out: list[PlannedMail] = []
    for a in apps:
        n = current[a.id]
        application = {
            "id": a.id, "initiative": n.get("initiative", ""),
            "municipality": display_name(n.get("municipality_code", "")),
            "submitted_at": parse_iso(n.get("submitted_at", "")) or datetime.min,
        }
        context = {"application": application}  # one for both contacts (read-only)
        for side in ("initiative", "municipality"):
            out.append(PlannedMail("ontvangstbevestiging", a.id, n.get(f"{side}_email", ""),
                                   n.get(f"{side}_contact", ""), context))
    return out


def correction_mails(versions: Sequence[ResponseVersion]) -> list[PlannedMail]:
    """Return a correction request for every response whose latest version is invalid."""
    latest: dict[int, ResponseVersion] = {}
    for v in versions:
        latest[v.form_row] = v
    out: list[PlannedMail] = []
    for row in sorted(latest):
        v = latest[row]
        if v.valid:
            continue
        problems = [{"question": p.get("question", ""), "value": p.get("value", ""),
                     "message": p.get("message", "")} for p in v.problems]
        out.append(PlannedMail(
            # The form's E-mailadres may belong to someone other than the contacts: no name.
            # An address longer than the ledger's column is unusable anyway: the message is held.
            "correctieverzoek", f"rij {row}",
            v.raw.get("email", "").strip().lower()[:MAX_RECIPIENT_CHARS], "",
            {"initiative": v.raw.get("initiative", ""), "problems": problems},
            version=v.version,
        ))
    return out


def intake_signals(
    apps: Sequence[Application], current: Mapping[str, Mapping[str, str]], closing: date,
    as_of: date,
) -> list[SignalRecord]:
    """Return the alerts intake raises: an application submitted after the closing date."""
    out: list[SignalRecord] = []
    closed = closing.strftime("%d-%m-%Y")
    for a in apps:
        submitted = current[a.id].get("submitted_at", "")
        moment = parse_iso(submitted)
        if moment is not None and moment.date() > closing:
            out.append(SignalRecord(
                key=f"te-laat|{a.id}", kind="Te laat ingediend", subject=a.id,
                explanation=(f"{a.id} is ingediend op {show_datetime(submitted)}, na de "
                             f"sluitingsdatum {closed}. Beslis of deze aanmelding toch meedoet."),
                raised_on=as_of))
    return out


def request_dates(entries: Mapping[str, LedgerEntry], zone: ZoneInfo) -> dict[int, str]:
    """Return per form row when its latest correction request was sent (dd-mm-jjjj hh:mm)."""
    latest: dict[int, datetime] = {}
    for e in entries.values():
        if e.kind != "correctieverzoek" or e.sent_at is None:
            continue
        row = int(e.subject.removeprefix("rij "))
        if row not in latest or e.sent_at > latest[row]:
            latest[row] = e.sent_at
    return {row: local_time(at, zone) for row, at in latest.items()}
