"""The anonymise stage: replace the personal data of applications inactive since a date.

An application (with its responses, decision, participants' attendance and messages) or a
response that never became valid is anonymised when its last activity was before the date: the
latest of its versions' form timestamps, its approval, its participants' meetings and its
messages. Applications that share an address are anonymised together or not at all, and one
whose form row was edited since the last intake run is left alone. Ids, kinds, statuses, dates
and counts stay, so the report says what it said; names, free texts, phone numbers, postcodes
and websites become "geanonimiseerd" or empty, and e-mail addresses a keyed pseudonym
anoniem-<hash>@example.invalid (one per address, so a person stays one person).

Order of the writes: the spreadsheet first (one batch), then the store (one transaction, with
the audit entry), then the outbox and the manifests. If the store write fails, intake leaves the
anonymised form rows alone and the next run finishes the job; every step is idempotent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime

from samen.config import Config
from samen.domain.anonymity import (
    Pseudonyms,
    Scrubber,
    Unit,
    anonymise_answers,
    anonymise_problems,
    choose_units,
    collect_units,
    local_day,
    mark_activity,
)
from samen.domain.intake import FormRow, read_form_rows
from samen.domain.records import AuditEntry, ResponseVersion
from samen.gateways.sheets.base import SheetsGateway
from samen.gateways.store import Store
from samen.gateways.store.anonymise import (
    AnonymiseChanges,
    AttendanceChange,
    AttendanceRow,
    VersionChange,
)
from samen.gateways.store.store import utcnow
from samen.stages.anonymise_files import ledger_plan, plan_files, write_files
from samen.stages.anonymise_sheet import anonymise_tab_specs, check_headers, sheet_blocks

log = logging.getLogger("samen.anonymise")


@dataclass(frozen=True)
class AnonymiseSummary:
    """What an anonymise run did, in ids and counts (no personal data)."""

    before: str
    dry_run: bool
    applications: list[str]
    responses: list[int]
    kept_shared_address: list[str]
    kept_edited: list[str]
    versions: int
    messages: int
    message_contents: int
    messages_withdrawn: int
    attendance: int
    signals: int
    cells_written: int
    outbox_files: int
    manifests: int
    changed: bool

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a plain dict."""
        return asdict(self)


def run_anonymise(
    config: Config, *, sheets: SheetsGateway, store: Store, before: date, dry_run: bool = False,
    now: datetime | None = None,
) -> AnonymiseSummary:
    """Replace the personal data of applications and responses last active before a date."""
    moment, zone, t = now or utcnow(), config.programme.zone, config.tabs
    staff = {*config.programme.coordinators, config.mail.from_address, config.mail.reply_to}
    columns: dict[str, dict[str, int]] = {}
    snapshot = sheets.open_tabs(anonymise_tab_specs(config),
                                check=lambda s: columns.update(check_headers(config, s)))
    versions, apps = store.load_versions(), store.load_applications()
    entries, signals = store.ledger.entries(), store.ledger.signals()
    attendance = store.anonymise.attendance_rows()
    decisions = store.selection.decisions()
    approved = {a.seq: a.approved_on for a in store.selection.approvals()}
    days = {nr: date.fromisoformat(m.details["day"]) for nr, m in store.meetings.announced().items()
            if m.details.get("day")}
    form_rows = {r.row: r for r in read_form_rows(snapshot[t["form"]], columns["form"])[0]}
    units = collect_units(versions, {s.strip().lower() for s in staff})
    mark_activity(
        units, zone, {a: approved.get(d.approval_seq) for a, d in decisions.items()},
        messages=((e.recipient, e.subject, e.sent_day or local_day(e.planned_at, zone))
                  for e in entries.values()),
        meetings=((r.email, r.applications, days.get(r.meeting_nr) or local_day(r.recorded_at, zone))
                  for r in attendance))
    chosen, kept_shared, kept_edited = choose_units(units, before, versions, form_rows)
    key = store.anonymise.pseudonym_key(moment, create=not dry_run and bool(chosen))
    pseudonyms = Pseudonyms(key or secrets.token_hex(32), staff)
    for u in chosen:
        for address in u.addresses:
            pseudonyms.add(address)
    scrub = Scrubber((v for u in chosen for v in u.versions), pseudonyms)
    changes = AnonymiseChanges(versions=version_changes(chosen, pseudonyms))
    after = apply_versions(versions, changes.versions)
    ledger = ledger_plan(store, entries, signals, pseudonyms, scrub)
    changes.messages, changes.signals = ledger.messages, ledger.signals
    changes.attendance = attendance_changes(attendance, pseudonyms)
    blocks = sheet_blocks(
        config, snapshot, columns, chosen={u.id for u in chosen},
        rows={r for u in chosen for r in u.rows}, pseudonyms=pseudonyms, scrub=scrub,
        versions=after, apps=apps, decisions=decisions, entries=entries,
        entries_after=ledger.entries, signals_after=ledger.signal_records,
        answers=lambda values: anonymise_answers(values, pseudonyms.of))
    files = plan_files(config, ledger, pseudonyms, scrub)
    cells = sum(len(row) for b in blocks for row in b.values)
    summary = AnonymiseSummary(
        before=before.isoformat(), dry_run=dry_run,
        applications=sorted(u.id for u in chosen if not u.id.startswith("rij ")),
        responses=sorted(int(u.id.removeprefix("rij ")) for u in chosen if u.id.startswith("rij ")),
        kept_shared_address=kept_shared, kept_edited=kept_edited,
        versions=len(changes.versions), messages=len(changes.messages),
        message_contents=sum(m.content_changed for m in changes.messages),
        messages_withdrawn=sum(1 for m in changes.messages
                               if m.status != entries[m.key].status),
        attendance=len(changes.attendance), signals=len(changes.signals), cells_written=cells,
        outbox_files=len(files.files), manifests=len(files.manifests),
        changed=bool(changes or blocks or files))
    if not dry_run and summary.changed:
        sheets.write_blocks(blocks)
        detail = {k: v for k, v in summary.as_dict().items() if k not in ("dry_run", "changed")}
        audit = [AuditEntry("anonymise", "personal_data_anonymised", f"voor {before.isoformat()}",
                            detail)]
        store.anonymise.apply(changes, audit, moment)
        write_files(files)
    log.info("anonymise: %s", summary.as_dict())
    return summary


def version_changes(units: Iterable[Unit], pseudonyms: Pseudonyms) -> list[VersionChange]:
    """Return the versions of these units with their personal answers replaced, where they differ."""
    out: list[VersionChange] = []
    for u in units:
        for v in u.versions:
            raw = anonymise_answers(v.raw, pseudonyms.of)
            norm = anonymise_answers(v.normalised, pseudonyms.of) if v.normalised else None
            change = VersionChange(v.form_row, v.version, FormRow(v.form_row, raw).fingerprint,
                                   raw, norm, anonymise_problems(v.problems))
            if (change.raw, change.normalised, change.problems, change.fingerprint) != (
                    v.raw, v.normalised, v.problems, v.fingerprint):
                out.append(change)
    return out


def apply_versions(
    versions: Iterable[ResponseVersion], changes: Iterable[VersionChange]
) -> list[ResponseVersion]:
    """Return the versions as they are after the changes."""
    by_key = {(c.form_row, c.version): c for c in changes}
    out: list[ResponseVersion] = []
    for v in versions:
        c = by_key.get((v.form_row, v.version))
        out.append(v if c is None else replace(v, raw=c.raw, normalised=c.normalised,
                                               problems=c.problems, fingerprint=c.fingerprint))
    return out


def attendance_changes(
    rows: Iterable[AttendanceRow], pseudonyms: Pseudonyms
) -> list[AttendanceChange]:
    """Return the attendance records of anonymised people under their pseudonyms."""
    rows = list(rows)
    present = {(r.meeting_nr, r.email) for r in rows}
    out: list[AttendanceChange] = []
    for r in rows:
        p = pseudonyms.lookup(r.email)
        if p and p != r.email:
            out.append(AttendanceChange(r.meeting_nr, r.email, p, drop=(r.meeting_nr, p) in present))
    return out


__all__ = ["AnonymiseSummary", "run_anonymise"]
