"""Builders of form rows for tests and benchmarks (valid by default, any answer overridable)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from samen.demo.seed import FORM_HEADERS

# One good answer to every question, by field name (the schema's view; copy it to change it).
GOOD_ANSWERS: dict[str, str] = {
    "submitted_at": "26-11-2022 14:03:11",
    "email": "aanvrager@voorbeeld.nl",
    "initiative": "Stagehuis Schilderswijk",
    "municipality": "Den Haag",
    "initiative_contact": "Fatima el Amrani",
    "initiative_email": "fatima@stagehuis.nl",
    "initiative_phone": "06 12345678",
    "municipality_contact": "Jan de Vries",
    "municipality_email": "jan.devries@denhaag.nl",
    "postcode": "2525 AB",
    "description": "Wij helpen jongeren uit de wijk aan een stageplek bij ondernemers.",
    "ambition": "Samen met de gemeente een vaste plek voor stages in de wijk maken.",
    "website": "www.stagehuis.nl",
    "consent": "Ja, ik geef toestemming",
}
MUNICIPALITIES = (
    "Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg",
    "Almere", "Breda", "Nijmegen", "Apeldoorn", "Haarlem", "Enschede", "Arnhem", "Zwolle",
    "Leeuwarden", "Maastricht", "Den Bosch", "Kampen", "Vaals",
)


def make_response(n: int, **answers: str) -> dict[str, str]:
    """Return a valid form response (header -> text) number n; keyword answers override by header slug."""
    moment = datetime(2022, 9, 1, 9, 0) + timedelta(minutes=7 * n)
    row = {
        "Tijdstempel": moment.strftime("%d-%m-%Y %H:%M:%S"),
        "E-mailadres": f"aanvrager{n}@example.org",
        "Naam bewonersinitiatief": f"Buurtinitiatief nummer {n}",
        "Gemeente": MUNICIPALITIES[n % len(MUNICIPALITIES)],
        "Contactpersoon initiatief": f"Bewoner {n}",
        "E-mailadres contactpersoon initiatief": f"bewoner{n}@example.org",
        "Telefoonnummer contactpersoon initiatief": "06-12345678",
        "Contactpersoon gemeente": f"Ambtenaar {n}",
        "E-mailadres contactpersoon gemeente": f"ambtenaar{n}@example.org",
        "Postcode": "1234 AB",
        "Wat doet jullie initiatief?": "Wij organiseren elke week een maaltijd voor buren in de wijk.",
        "Wat willen jullie samen bereiken?": "Een vaste plek in de buurt en steun van de gemeente.",
        "Website": "www.example.org",
        "Toestemming": "Ja, ik geef toestemming",
    }
    for slug, value in answers.items():
        row[HEADER_BY_SLUG[slug]] = value
    return row


HEADER_BY_SLUG: Mapping[str, str] = {
    "submitted_at": "Tijdstempel", "email": "E-mailadres", "initiative": "Naam bewonersinitiatief",
    "municipality": "Gemeente", "initiative_contact": "Contactpersoon initiatief",
    "initiative_email": "E-mailadres contactpersoon initiatief",
    "initiative_phone": "Telefoonnummer contactpersoon initiatief",
    "municipality_contact": "Contactpersoon gemeente",
    "municipality_email": "E-mailadres contactpersoon gemeente", "postcode": "Postcode",
    "description": "Wat doet jullie initiatief?", "ambition": "Wat willen jullie samen bereiken?",
    "website": "Website", "consent": "Toestemming",
}


def form_table(responses: Iterable[Mapping[str, str]]) -> list[list[str]]:
    """Return the form tab's rows: the header row, then one row per response."""
    return [list(FORM_HEADERS)] + [[r.get(h, "") for h in FORM_HEADERS] for r in responses]
