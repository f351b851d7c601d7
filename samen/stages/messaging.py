"""What every stage that sends does: signals, delivery, manifest, and the Berichten/Signalen tabs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from samen.artifacts import publish_table
from samen.config import Config
from samen.domain.layouts import (
    MESSAGES_HEADERS,
    MESSAGES_KEY,
    OPTOUTS_HEADERS,
    SIGNALS_HEADERS,
    SIGNALS_KEY,
)
from samen.domain.tabs import header_index, reconcile_tab
from samen.gateways.mail import MailGateway
from samen.gateways.sheets.base import CellBlock, TabSpec
from samen.gateways.store import Store
from samen.gateways.store.ledger import FAILED, HELD, SENT, LedgerEntry, SignalRecord
from samen.manifest import artifact_rows, manifest_folder, write_manifest
from samen.rendering import Renderer
from samen.stages.delivery import DeliveryReport, PlannedMail, deliver

STATUS_TEXT = {SENT: "verstuurd", FAILED: "mislukt", HELD: "tegengehouden", "planned": "in wachtrij"}
FIX = "Restore the header, or remove the tab so samen creates it again."


def messaging_tab_specs(config: Config) -> list[TabSpec]:
    """Return the tabs every sending stage reads and writes."""
    t = config.tabs
    return [TabSpec(t["optouts"], OPTOUTS_HEADERS), TabSpec(t["messages"], MESSAGES_HEADERS),
            TabSpec(t["signals"], SIGNALS_HEADERS)]


def check_messaging_headers(config: Config, snapshot: Mapping[str, list[list[str]]]) -> None:
    """Raise a HeaderError when a messaging tab lacks a column the pipeline needs."""
    t = config.tabs
    header_index(t["optouts"], snapshot[t["optouts"]], ("E-mail",), FIX)
    header_index(t["messages"], snapshot[t["messages"]], MESSAGES_HEADERS, FIX)
    header_index(t["signals"], snapshot[t["signals"]], SIGNALS_HEADERS, FIX)


def read_optouts(config: Config, snapshot: Mapping[str, list[list[str]]]) -> set[str]:
    """Return the lower-cased addresses in Afmeldingen."""
    rows = snapshot[config.tabs["optouts"]]
    col = header_index(config.tabs["optouts"], rows, ("E-mail",), FIX)["E-mail"]
    return {r[col - 1].strip().lower() for r in rows[1:] if len(r) >= col and r[col - 1].strip()}


@dataclass
class MessagingResult:
    """Delivery figures, the manifest written (if any) and the blocks for the tabs."""

    report: DeliveryReport
    manifest: str = ""
    signals_added: int = 0
    blocks: list[CellBlock] = field(default_factory=list)
    entries: dict[str, LedgerEntry] = field(default_factory=dict)


def run_messaging(
    config: Config, *, stage: str, store: Store, mail: MailGateway, renderer: Renderer,
    snapshot: Mapping[str, list[list[str]]], planned: Sequence[PlannedMail],
    signals: Sequence[SignalRecord], as_of: date, now: datetime, dry_run: bool,
) -> MessagingResult:
    """Record signals, deliver messages (signals of failed deliveries too), write the manifest."""
    optouts = read_optouts(config, snapshot)
    known = store.ledger.signal_keys()
    fresh = list({s.key: s for s in signals if s.key not in known}.values())
    del signals  # the new ones are in fresh (memory: 88,000 signals in the benchmark)
    added = 0 if dry_run else store.ledger.record_signals(fresh, now)
    known.update(s.key for s in fresh)
    mails = [*planned, *signal_mails(config, fresh)]

    def send(batch: Sequence[PlannedMail], only_new: bool = False) -> DeliveryReport:
        return deliver(batch, config=config, store=store, mail=mail, renderer=renderer,
                       as_of=as_of, now=now, optouts=optouts, dry_run=dry_run, only_new=only_new)

    report = send(mails)
    if not dry_run:
        problems = [s for s in delivery_signals(store.ledger.entries(), as_of) if s.key not in known]
        if problems:
            added += store.ledger.record_signals(problems, now)
            # Only the new signal mails: the first pass already tried everything else pending.
            merge(report, send(signal_mails(config, problems), only_new=True))
    result = MessagingResult(report=report, signals_added=added)
    path = write_manifest(manifest_folder(config.mail.outbox_path), report.rows, now, stage, dry_run)
    result.manifest = str(path) if path else ""
    publish_table(stage, artifact_rows(report.rows))
    result.entries = store.ledger.entries()
    result.blocks = tab_blocks(config, snapshot, result.entries, store.ledger.signals())
    return result


def signal_mails(config: Config, signals: Sequence[SignalRecord]) -> list[PlannedMail]:
    """Return one signaal-coordinatoren message per signal per coordinator."""
    out: list[PlannedMail] = []
    for s in signals:
        context = {"signal": {"kind": s.kind, "subject": s.subject, "explanation": s.explanation,
                              "date": s.raised_on}}  # one for all coordinators (read-only)
        out.extend(PlannedMail("signaal-coordinatoren", s.key, coordinator, "", context)
                   for coordinator in config.programme.coordinators)
    return out


def delivery_signals(entries: Mapping[str, LedgerEntry], as_of: date) -> list[SignalRecord]:
    """Return a signal for every message that failed or was held back for a bad address."""
    out: list[SignalRecord] = []
    for e in entries.values():
        if e.kind == "signaal-coordinatoren":
            continue
        if e.status == FAILED or (e.status == HELD and "adres" in e.reason.lower()):
            out.append(SignalRecord(
                key=f"niet-bezorgd|{e.key}", kind="Bericht niet bezorgd", subject=e.subject,
                explanation=f"Het bericht '{e.subject_line}' ({e.kind}) is niet bezorgd: "
                            f"{e.reason} Controleer het adres en neem zo nodig contact op.",
                raised_on=as_of))
    return out


def merge(into: DeliveryReport, other: DeliveryReport) -> None:
    """Add a second delivery pass to the first."""
    into.recorded += other.recorded
    into.sent += other.sent
    into.failed += other.failed
    into.held += other.held
    into.waiting += other.waiting
    into.stopped = into.stopped or other.stopped
    into.rows.extend(other.rows)


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """Return a stored UTC moment as local dd-mm-jjjj hh:mm."""
    if moment is None:
        return ""
    from datetime import UTC

    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%d-%m-%Y %H:%M")


def tab_blocks(
    config: Config, snapshot: Mapping[str, list[list[str]]],
    entries: Mapping[str, LedgerEntry], signals: Mapping[str, SignalRecord],
) -> list[CellBlock]:
    """Return the blocks that make Berichten mirror the ledger and Signalen list every signal."""
    t, zone = config.tabs, config.programme.zone
    messages_rows = snapshot[t["messages"]]
    # The desired rows are made one at a time as reconciling takes them (keys are distinct).
    messages = (
        (e.key, {
            "Datum": local_time(e.sent_at or e.planned_at, zone), "Soort": e.kind,
            "Aan": e.recipient, "Onderwerp": e.subject_line,
            "Status": STATUS_TEXT.get(e.status, e.status) + (f": {e.reason}" if e.reason else ""),
        })
        for e in entries.values()
    )
    days: dict[date, str] = {}  # signals share few dates: format each once
    signal_rows = (
        (s.key, {"Datum": days.get(s.raised_on) or days.setdefault(s.raised_on,
                                                                   s.raised_on.strftime("%d-%m-%Y")),
                 "Soort": s.kind, "Betreft": s.subject, "Toelichting": s.explanation})
        for s in signals.values()
    )
    signal_tab = snapshot[t["signals"]]
    return [
        *reconcile_tab(t["messages"], messages_rows,
                       header_index(t["messages"], messages_rows, MESSAGES_HEADERS, FIX),
                       MESSAGES_KEY, messages).blocks,
        *reconcile_tab(t["signals"], signal_tab,
                       header_index(t["signals"], signal_tab, SIGNALS_HEADERS, FIX),
                       SIGNALS_KEY, signal_rows, initial={"Status": "open"}).blocks,
    ]
