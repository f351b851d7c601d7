"""The spreadsheet side of `samen anonymise`: the cells that get placeholders, in one batch.

Rows are found by their keys (Aanmelding, Formulierrij N, the address, Kenmerk); only the cells
that hold personal data change, and a human note about an anonymised person (Toelichting,
Opmerking, Reden) becomes "geanonimiseerd". A row of a pseudonym that already has a row under
that pseudonym (written by a stage between a failed and a repeated anonymise run) is emptied.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol

from samen.config import Config
from samen.domain.intake import ANONYMISED, read_form_rows
from samen.domain.layouts import (
    ATTENDANCE_HEADERS,
    CORRECTIONS_HEADERS,
    MESSAGES_HEADERS,
    OPTOUTS_HEADERS,
    PARTICIPANTS_HEADERS,
    REVIEW_HEADERS,
    SIGNALS_HEADERS,
)
from samen.domain.meetings import register
from samen.domain.records import Application, ResponseVersion
from samen.domain.tabs import contiguous_blocks, header_index, sheet_text
from samen.gateways.sheets.base import CellBlock, TabSpec
from samen.gateways.store.ledger import LedgerEntry, SignalRecord
from samen.gateways.store.selection import Decision
from samen.stages.intake import correction_key, correction_rows, review_rows
from samen.stages.intake_mail import current_versions
from samen.stages.messaging import STATUS_TEXT
from samen.stages.selection import register_rows

FIX = "Restore the header, or remove the tab so samen creates it again."
TABS = (("review", REVIEW_HEADERS), ("corrections", CORRECTIONS_HEADERS),
        ("participants", PARTICIPANTS_HEADERS), ("attendance", ATTENDANCE_HEADERS),
        ("optouts", ("E-mail",)), ("messages", MESSAGES_HEADERS), ("signals", SIGNALS_HEADERS))
Edits = dict[int, dict[str, str]]


class Lookup(Protocol):
    """What the sheet side needs of the pseudonyms (samen.stages.anonymise.Pseudonyms)."""

    def lookup(self, address: str) -> str | None:
        """Return the pseudonym of an anonymised person's address, else None."""
        ...

    def sub_refs(self, text: str) -> str:
        """Return text with references to anonymised addresses pointing at their pseudonyms."""
        ...

    def of(self, address: str) -> str:
        """Return the pseudonym of any address."""
        ...


def anonymise_tab_specs(config: Config) -> list[TabSpec]:
    """Return the tabs anonymise reads and writes."""
    t = config.tabs
    full = {"optouts": OPTOUTS_HEADERS}
    return [TabSpec(t["form"], tuple(config.questions.values()), create=False),
            *(TabSpec(t[key], full.get(key, headers)) for key, headers in TABS)]


def check_headers(config: Config, snapshot: Mapping[str, list[list[str]]]) -> dict[str, dict[str, int]]:
    """Return the columns of every tab, or raise a HeaderError before anything is written."""
    t = config.tabs
    by_question = header_index(
        t["form"], snapshot[t["form"]], list(config.questions.values()),
        "Restore the question title in the form, or set [form.questions] in samen.toml.")
    out = {"form": {f: by_question[q] for f, q in config.questions.items()}}
    for key, headers in TABS:
        out[key] = header_index(t[key], snapshot[t[key]], headers, FIX)
    reasons = snapshot[t["optouts"]][:1]
    if reasons and "Reden" in [h.strip() for h in reasons[0]]:
        out["optouts"]["Reden"] = [h.strip() for h in reasons[0]].index("Reden") + 1
    return out


def cell(row: Sequence[str], col: int | None) -> str:
    """Return a cell's text without surrounding spaces ("" beyond the row)."""
    return row[col - 1].strip() if col and len(row) >= col else ""


def edit_rows(tab: str, rows: Sequence[Sequence[str]], columns: Mapping[str, int],
              edits: Mapping[int, Mapping[str, str]]) -> list[CellBlock]:
    """Return blocks that give these rows these cells (only cells that differ)."""
    blocks: list[CellBlock] = []
    for number in sorted(edits):
        row = rows[number - 1] if number <= len(rows) else []
        diff = {columns[h]: sheet_text(v) for h, v in edits[number].items()
                if (row[columns[h] - 1] if len(row) >= columns[h] else "") != sheet_text(v)}
        blocks.extend(contiguous_blocks(tab, number, diff))
    return blocks


def sheet_blocks(
    config: Config, snapshot: Mapping[str, list[list[str]]], columns: Mapping[str, dict[str, int]],
    *, chosen: Collection[str], rows: Collection[int], pseudonyms: Lookup,
    scrub: Callable[[str], str], versions: Sequence[ResponseVersion],
    apps: Sequence[Application], decisions: Mapping[str, Decision],
    entries: Mapping[str, LedgerEntry], entries_after: Mapping[str, LedgerEntry],
    signals_after: Mapping[str, SignalRecord],
    answers: Callable[[Mapping[str, str]], dict[str, str]],
) -> list[CellBlock]:
    """Return the blocks of every tab that make it hold no personal data of anonymised people."""
    t, cols = config.tabs, columns
    for key, header in (("attendance", "E-mail"), ("optouts", "E-mail"), ("messages", "Aan"),
                        ("participants", "E-mail")):
        for r in snapshot[t[key]][1:]:  # find this sheet's copies of anonymised addresses first
            pseudonyms.lookup(cell(r, cols[key][header]))
    current = current_versions(apps, versions)
    edits: dict[str, Edits] = {key: {} for key in ("form", *(k for k, _h in TABS))}
    form = {r.row: r for r in read_form_rows(snapshot[t["form"]], cols["form"])[0]}
    for row in sorted(set(rows) & form.keys()):
        anonymised = answers(form[row].values)
        edits["form"][row] = {f: v for f, v in anonymised.items() if v != form[row].values[f]}
    review = review_rows(apps, versions, config)
    for n, r in enumerate(snapshot[t["review"]][1:], start=2):
        app_id = cell(r, cols["review"]["Aanmelding"])
        if app_id in chosen and app_id in review:
            edits["review"][n] = dict(review[app_id])
            if cell(r, cols["review"]["Toelichting"]):
                edits["review"][n]["Toelichting"] = ANONYMISED
    wanted = correction_rows(versions, entries, config)
    keys = {correction_key(row) for row in rows}
    for n, r in enumerate(snapshot[t["corrections"]][1:], start=2):
        key = cell(r, cols["corrections"]["Aanmelding"])
        if key in keys and key in wanted:
            edits["corrections"][n] = wanted[key]
    participant_rows(snapshot[t["participants"]], cols["participants"], chosen, decisions, current,
                     pseudonyms, edits["participants"])
    people = register(decisions, current)
    att, ac = snapshot[t["attendance"]], cols["attendance"]
    present = {(cell(r, ac["Bijeenkomst"]), cell(r, ac["E-mail"]).lower()) for r in att[1:]}
    for n, r in enumerate(att[1:], start=2):
        email = cell(r, ac["E-mail"])
        p = pseudonyms.lookup(email) if email else None
        if p is None:
            continue
        if p != email.lower() and (cell(r, ac["Bijeenkomst"]), p) in present:
            edits["attendance"][n] = dict.fromkeys(ATTENDANCE_HEADERS, "")
            continue
        person = people.get(p)
        edits["attendance"][n] = {
            "E-mail": p, "Naam": person.name if person else (ANONYMISED if cell(r, ac["Naam"]) else "")}
        if cell(r, ac["Opmerking"]):
            edits["attendance"][n]["Opmerking"] = ANONYMISED
    oc = cols["optouts"]
    for n, r in enumerate(snapshot[t["optouts"]][1:], start=2):
        p = pseudonyms.lookup(cell(r, oc["E-mail"]))
        if p:
            edits["optouts"][n] = {"E-mail": p}
            if cell(r, oc.get("Reden")):
                edits["optouts"][n]["Reden"] = ANONYMISED
    message_rows(snapshot[t["messages"]], cols["messages"], pseudonyms, entries_after,
                 edits["messages"])
    signal_rows(snapshot[t["signals"]], cols["signals"], chosen, pseudonyms, scrub, signals_after,
                edits["signals"])
    return [b for key, e in edits.items()
            for b in edit_rows(t[key], snapshot[t[key]], cols[key], e)]


def participant_rows(
    rows: Sequence[Sequence[str]], cols: Mapping[str, int], chosen: Collection[str],
    decisions: Mapping[str, Decision], current: Mapping[str, Mapping[str, str]],
    pseudonyms: Lookup, edits: Edits,
) -> None:
    """Add the Naam and E-mail of anonymised tandems in Deelnemers (as selection writes them)."""
    listed = {f"{cell(r, cols['Aanmelding'])}|{cell(r, cols['Kant'])}" for r in rows[1:]}
    wanted = register_rows(decisions, current, listed)
    for n, r in enumerate(rows[1:], start=2):
        app_id = cell(r, cols["Aanmelding"])
        if app_id not in chosen:
            continue
        want = wanted.get(f"{app_id}|{cell(r, cols['Kant'])}")
        edits[n] = {h: want[h] for h in ("Naam", "E-mail")} if want else {
            "Naam": ANONYMISED if cell(r, cols["Naam"]) else "",
            "E-mail": pseudonyms.of(cell(r, cols["E-mail"]))}


def message_rows(
    rows: Sequence[Sequence[str]], cols: Mapping[str, int], pseudonyms: Lookup,
    entries_after: Mapping[str, LedgerEntry], edits: Edits,
) -> None:
    """Add the rows of Berichten that name an anonymised person (Aan, Status, Kenmerk)."""
    present = {cell(r, cols["Kenmerk"]) for r in rows[1:]}
    for n, r in enumerate(rows[1:], start=2):
        aan, key = cell(r, cols["Aan"]), cell(r, cols["Kenmerk"])
        p = pseudonyms.lookup(aan) if aan else None
        new_key = pseudonyms.sub_refs(key)
        if p is None and new_key == key:
            continue
        if new_key != key and new_key in present:
            edits[n] = dict.fromkeys(MESSAGES_HEADERS, "")
            continue
        e = entries_after.get(new_key)
        edits[n] = {"Kenmerk": new_key, "Aan": e.recipient if e else (p or aan)}
        if e:
            edits[n]["Status"] = STATUS_TEXT.get(e.status, e.status) + (
                f": {e.reason}" if e.reason else "")


def signal_rows(
    rows: Sequence[Sequence[str]], cols: Mapping[str, int], chosen: Collection[str],
    pseudonyms: Lookup, scrub: Callable[[str], str], signals_after: Mapping[str, SignalRecord],
    edits: Edits,
) -> None:
    """Add the rows of Signalen with references to, or data of, anonymised people."""
    present = {cell(r, cols["Kenmerk"]) for r in rows[1:]}
    for n, r in enumerate(rows[1:], start=2):
        key = cell(r, cols["Kenmerk"])
        new_key = pseudonyms.sub_refs(key)
        if new_key != key and new_key in present:
            edits[n] = dict.fromkeys(SIGNALS_HEADERS, "")
            continue
        said = r[cols["Toelichting"] - 1] if len(r) >= cols["Toelichting"] else ""
        s = signals_after.get(new_key) if new_key != key else None
        want = {"Kenmerk": new_key, "Toelichting": s.explanation if s else scrub(said)}
        about = {a.strip() for a in cell(r, cols["Betreft"]).split(",")}
        if about & set(chosen) and cell(r, cols["Opmerking"]):
            want["Opmerking"] = ANONYMISED
        if new_key != key or want["Toelichting"] != said or "Opmerking" in want:
            edits[n] = want


__all__ = ["anonymise_tab_specs", "check_headers", "sheet_blocks"]
