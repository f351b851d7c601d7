"""Selection rules (pure): read decisions, fingerprint them, decide whether they are approved."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

DECISIONS = ("kern", "kenniskring", "afgewezen")
_CODE_CHARS = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class ReviewDecision:
    """A review row's human cells as read, with the problems found in them."""

    application_id: str
    decision: str  # "" when undecided or invalid
    problems: tuple[str, ...]


def read_decisions(
    rows: Sequence[Sequence[str]], columns: Mapping[str, int], known: Collection[str],
    coordinators: Collection[str],
) -> dict[str, ReviewDecision]:
    """Return each known application's decision and the Dutch problems in its human cells."""
    out: dict[str, ReviewDecision] = {}
    lowered = {c.lower() for c in coordinators}

    def cell(row: Sequence[str], header: str) -> str:
        col = columns[header]
        return row[col - 1].strip() if len(row) >= col else ""

    for row in rows[1:]:
        app_id = cell(row, "Aanmelding")
        if app_id not in known or app_id in out:
            continue
        decision = cell(row, "Besluit").lower()
        by = cell(row, "Beoordeeld door")
        score = cell(row, "Score")
        problems: list[str] = []
        if decision and decision not in DECISIONS:
            problems.append(f'Besluit "{cell(row, "Besluit")}" is geen keuze van de lijst: '
                            "vul kern, kenniskring of afgewezen in.")
        if decision and not by:
            problems.append("Bij Beoordeeld door ontbreekt wie besliste: vul het e-mailadres "
                            "van de coördinator in.")
        elif by and by.lower() not in lowered:
            problems.append(f'Beoordeeld door "{by}" is geen coördinator van het programma: vul '
                            "het e-mailadres in waarmee de coördinator in de instellingen staat.")
        if score and score not in {"1", "2", "3", "4", "5"}:
            problems.append(f'Score "{score}" is geen cijfer van 1 tot en met 5: vul 1, 2, 3, 4 of 5 '
                            "in, of laat het vak leeg.")
        valid = decision in DECISIONS and not problems
        out[app_id] = ReviewDecision(app_id, decision if valid else "", tuple(problems))
    return out


def selection_code(decided: Mapping[str, str], salt: int = 0) -> str:
    """Return the short fingerprint of all decided rows (changes when any decision changes).

    salt is the number of the latest approval of *other* decisions (see code_salt): a return to
    decisions approved before gets a new code, so old entries in Vaststelling do not approve it.
    """
    if not decided:
        return ""
    text = "\n".join(f"{app}={decided[app]}" for app in sorted(decided))
    if salt:
        text += f"\n#{salt}"
    digest = base64.b32encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"{digest[:3]}-{digest[3:6]}"


def normalise_code(text: str) -> str:
    """Return a typed code in canonical form (case, spaces and dashes ignored)."""
    core = _CODE_CHARS.sub("", text.upper())
    return f"{core[:3]}-{core[3:]}" if len(core) == 6 else core


@dataclass
class ApprovalState:
    """Whether the current decisions are approved, and why (not)."""

    code: str
    counts: dict[str, int]
    undecided: int
    approvers: list[str]
    over_capacity: int
    approved: bool
    notes: list[str] = field(default_factory=list)


def code_salt(decided: Mapping[str, str], history: Sequence[tuple[int, Mapping[str, str]]]) -> int:
    """Return the number of the latest approval (seq, decisions) whose decisions differ."""
    return max((seq for seq, covered in history if dict(covered) != dict(decided)), default=0)


def evaluate_approval(
    decided: Mapping[str, str], undecided: int, entries: Sequence[tuple[str, str]],
    coordinators: Collection[str], needed: int, capacity: int, last_code: str, salt: int = 0,
) -> ApprovalState:
    """Return whether enough distinct coordinators entered the current code, within capacity."""
    code = selection_code(decided, salt)
    counts = {d: sum(1 for v in decided.values() if v == d) for d in DECISIONS}
    lowered = {c.lower() for c in coordinators}
    approvers: list[str] = []
    for who, typed in entries:
        person = who.strip().lower()
        if code and person in lowered and normalise_code(typed) == code and person not in approvers:
            approvers.append(person)
    over = max(0, counts["kern"] - capacity)
    approved = bool(code) and len(approvers) >= needed and over == 0
    state = ApprovalState(code, counts, undecided, approvers, over, approved)
    if over:
        state.notes.append(f"Er zijn {over} kern-besluiten te veel (maximaal {capacity}): "
                           "zo kan de selectie niet worden vastgesteld.")
    if last_code and last_code != code:
        state.notes.append(f"De eerdere vaststelling (code {last_code}) geldt niet voor de "
                           "gewijzigde of nieuwe besluiten: voer de huidige code in.")
    if code and not approved and not over:
        state.notes.append(f"Nog {needed - len(approvers)} coördinator(en) nodig die de huidige "
                           "code invullen.")
    if undecided:
        state.notes.append(f"{undecided} aanmelding(en) zonder (geldig) besluit doen nog niet mee.")
    return state


def summary_cells(state: ApprovalState, approved_text: str) -> list[tuple[str, str]]:
    """Return the Vaststelling summary as (label, value) rows."""
    return [
        ("Kern", str(state.counts["kern"])),
        ("Kenniskring", str(state.counts["kenniskring"])),
        ("Afgewezen", str(state.counts["afgewezen"])),
        ("Nog te beslissen", str(state.undecided)),
        ("Huidige code", state.code),
        ("Goedgekeurd", approved_text),
        ("Toelichting", " ".join(state.notes)),
    ]
