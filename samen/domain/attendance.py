"""Attendance rules (pure): read a sign-in list, and the signals attendance gives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from samen.domain.layouts import ATTENDANCE_STATUSES


@dataclass(frozen=True)
class Mark:
    """One row of Aanwezigheid for a meeting: the address and its status ("" when bad)."""

    row: int
    email: str
    status: str
    problem: str


def read_marks(
    rows: Sequence[Sequence[str]], columns: Mapping[str, int], nr: str
) -> list[Mark]:
    """Return the marks of one meeting, with a Dutch problem for a missing or bad Status."""
    out: list[Mark] = []
    n, e, s = columns["Bijeenkomst"], columns["E-mail"], columns["Status"]

    def cell(row: Sequence[str], col: int) -> str:
        return row[col - 1].strip() if len(row) >= col else ""

    for number, row in enumerate(rows[1:], start=2):
        if cell(row, n) != nr or not cell(row, e):
            continue
        raw = cell(row, s)
        status = raw.lower()
        problem = ""
        if not raw:
            problem = (f"Rij {number}: bij {cell(row, e)} ontbreekt de Status. Vul aanwezig, "
                       "afgemeld of afwezig in.")
        elif status not in ATTENDANCE_STATUSES:
            problem = (f'Rij {number}: Status "{raw}" is geen keuze van de lijst. Vul aanwezig, '
                       "afgemeld of afwezig in.")
        out.append(Mark(number, cell(row, e).lower(), status if not problem else "", problem))
    return out


@dataclass(frozen=True)
class TandemSide:
    """Who a kern tandem's two sides are."""

    application: str
    initiative: str
    municipality: str


def attendance_signals(
    meetings: Sequence[str],
    status: Mapping[tuple[str, str], str],
    tandems: Sequence[TandemSide],
    kenniskring: Mapping[str, str],
    invited: Mapping[str, set[str]],
) -> list[tuple[str, str, str, str]]:
    """Return (key, kind, subject, explanation) signals over the processed meetings, in order.

    A kern tandem absent at two meetings in a row; a kern tandem of which only one side came;
    a kenniskring participant (address -> application ids) who attended none of the last three
    meetings they were invited to.
    """
    out: list[tuple[str, str, str, str]] = []

    def came(nr: str, email: str) -> bool:
        return status.get((nr, email)) == "aanwezig"

    for t in tandems:
        absent_before = ""
        for nr in meetings:
            if t.initiative not in invited.get(nr, set()) and t.municipality not in invited.get(nr, set()):
                continue
            sides = (came(nr, t.initiative), came(nr, t.municipality))
            if not any(sides):
                if absent_before:
                    out.append((f"kern-afwezig|{t.application}|{nr}", "Kerndeelnemer twee keer afwezig",
                                t.application, f"Tandem {t.application} was niet aanwezig bij "
                                f"bijeenkomst {absent_before} en {nr}. Neem contact op."))
                absent_before = nr
            else:
                absent_before = ""
                if not all(sides):
                    missing = "de gemeente" if sides[0] else "het initiatief"
                    out.append((f"een-kant|{t.application}|{nr}", "Kerndeelnemer half aanwezig",
                                t.application, f"Bij bijeenkomst {nr} was van tandem "
                                f"{t.application} alleen één kant aanwezig; {missing} ontbrak."))
    for email, apps in sorted(kenniskring.items()):
        seen = [nr for nr in meetings if email in invited.get(nr, set())]
        last = seen[-3:]
        if len(last) == 3 and not any(came(nr, email) for nr in last):
            from samen.domain.messages import recipient_ref

            out.append((f"kenniskring-afwezig|{recipient_ref(email)}|{last[-1]}",
                        "Kenniskring drie keer afwezig", apps,
                        f"Een deelnemer van {apps} was bij geen van de laatste drie "
                        f"bijeenkomsten ({', '.join(last)}). Vraag of meedoen nog past."))
    return out


def attendance_ratio(
    email: str, meetings: Sequence[str], status: Mapping[tuple[str, str], str],
    invited: Mapping[str, set[str]],
) -> str:
    """Return "3 van 4": meetings attended of the processed meetings the address was invited to."""
    mine = [nr for nr in meetings if email in invited.get(nr, set())]
    if not mine:
        return ""
    came = sum(1 for nr in mine if status.get((nr, email)) == "aanwezig")
    return f"{came} van {len(mine)}"
