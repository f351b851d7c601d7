"""The demo's programme calendar: the eight SAMEN meetings and what people do around them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from samen.domain.layouts import MEETINGS_HEADERS

# Venues of meetings 2 and 5 follow programme.md; the others were not published and are invented.
MEETINGS: tuple[dict[str, str], ...] = (
    {"Nr": "1", "Datum": "27-03-2023", "Titel": "Collectieve bijeenkomst: kennismaken",
     "Locatie": "Stadskantoor Utrecht", "Adres": "Stadsplateau 1, Utrecht"},
    {"Nr": "2", "Datum": "23-06-2023", "Titel": "Samen op het StadmakersCongres",
     "Locatie": "Philharmonie Haarlem", "Adres": "Lange Begijnestraat 11, Haarlem"},
    {"Nr": "3", "Datum": "25-09-2023", "Titel": "Collectieve bijeenkomst: samenwerken met de gemeente",
     "Locatie": "De Nieuwe Vide", "Adres": "Oudegracht 33, Utrecht"},
    {"Nr": "4", "Datum": "27-11-2023", "Titel": "Collectieve bijeenkomst: een jaar SAMEN",
     "Locatie": "Pakhuis de Zwijger", "Adres": "Piet Heinkade 179, Amsterdam"},
    {"Nr": "5", "Datum": "08-03-2024", "Titel": "Op bezoek in Tynaarlo",
     "Locatie": "Plaats de Wereld", "Adres": "Brink 4, Vries (gemeente Tynaarlo)"},
    {"Nr": "6", "Datum": "27-05-2024", "Titel": "Collectieve bijeenkomst: leren van de proeftuinen",
     "Locatie": "Het 8ste Werk", "Adres": "Oudestraat 8, Kampen"},
    {"Nr": "7", "Datum": "23-09-2024", "Titel": "Collectieve bijeenkomst: verduurzamen",
     "Locatie": "Stadmakerswerkplaats", "Adres": "Grote Markt 1, Groningen"},
    {"Nr": "8", "Datum": "25-11-2024", "Titel": "Afsluiting van Programma SAMEN",
     "Locatie": "VNG", "Adres": "Nassaulaan 12, Den Haag"},
)
MOVED_NR = "3"
MOVED_TO = "02-10-2023"  # one week later, after the invitations went out
ABSENT_TANDEM = ("Het 8ste Werk", "Gemeente Kampen")  # a kern tandem missing meetings 3 and 4
ABSENT_AT = ("3", "4")


def meeting_rows() -> list[list[str]]:
    """Return the Bijeenkomsten tab as first entered by the coordinators."""
    defaults = {"Begin": "13:00", "Einde": "17:00", "Doelgroep": "iedereen", "Status": "gepland",
                "Materiaal": "", "Aanwezigheid compleet": "nee"}
    return [list(MEETINGS_HEADERS)] + [
        [{**defaults, **m}.get(h, "") for h in MEETINGS_HEADERS] for m in MEETINGS]


def day_of(text: str) -> date:
    """Return the date of a dd-mm-jjjj text."""
    d, m, y = (int(x) for x in text.split("-"))
    return date(y, m, d)


@dataclass(frozen=True)
class Step:
    """One day in the demo calendar: what people do, then which flow runs."""

    day: date
    action: str  # intake | selection | invite | move | excuse | attend
    nr: str = ""


def calendar(invite_days: int, reminder_days: int) -> list[Step]:
    """Return the demo's meeting days in order: announce, move, excuse, remind, attend."""
    steps: list[Step] = []
    for m in MEETINGS:
        planned = day_of(m["Datum"])
        held = day_of(MOVED_TO) if m["Nr"] == MOVED_NR else planned
        steps.append(Step(planned - timedelta(days=invite_days), "invite", m["Nr"]))
        if m["Nr"] == MOVED_NR:
            steps.append(Step(planned - timedelta(days=invite_days - 7), "move", m["Nr"]))
        steps.append(Step(held - timedelta(days=reminder_days + 1), "excuse", m["Nr"]))
        steps.append(Step(held - timedelta(days=reminder_days), "invite", m["Nr"]))
        steps.append(Step(held + timedelta(days=1), "attend", m["Nr"]))
    return sorted(steps, key=lambda s: (s.day, s.action))


def pick(nr: str, email: str, organisation: str, excused: bool) -> str:
    """Return a varied but fixed status for one invitee at one meeting."""
    if organisation in ABSENT_TANDEM and nr in ABSENT_AT:
        return "afwezig"
    if excused:
        return "afgemeld"
    roll = int(hashlib.sha256(f"{nr}|{email}".encode()).hexdigest()[:4], 16) % 100
    return "aanwezig" if roll < 78 else "afwezig"


def excuses(nr: str, email: str) -> bool:
    """Tell whether an invitee sends apologies before the reminder (about one in ten)."""
    return int(hashlib.sha256(f"afmelden|{nr}|{email}".encode()).hexdigest()[:4], 16) % 100 < 10
