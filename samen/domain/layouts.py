"""The columns of the tabs the pipeline writes (programme.md), and who owns each column."""

from __future__ import annotations

REVIEW_KEY = "Aanmelding"
# Intake writes these; "Problemen" belongs to the selection stage.
REVIEW_INTAKE = (
    "Aanmelding", "Ingediend op", "Initiatief", "Gemeente", "Contact initiatief",
    "Contact gemeente", "Samenvatting", "Signalen",
)
REVIEW_PIPELINE = (*REVIEW_INTAKE, "Problemen")
REVIEW_HUMAN = ("Score", "Besluit", "Beoordeeld door", "Toelichting")
REVIEW_HEADERS = (*REVIEW_PIPELINE, *REVIEW_HUMAN)

CORRECTIONS_KEY = "Aanmelding"
CORRECTIONS_HEADERS = (
    "Aanmelding", "Ingediend op", "E-mailadres", "Initiatief", "Problemen",
    "Verzoek verstuurd op", "Status",
)

SUMMARY_CHARS = 300

OPTOUTS_HEADERS = ("E-mail", "Datum", "Reden")
MESSAGES_KEY = "Kenmerk"
MESSAGES_HEADERS = ("Datum", "Soort", "Aan", "Onderwerp", "Status", "Kenmerk")
SIGNALS_KEY = "Kenmerk"
# Status and Opmerking are the coordinators'; the pipeline only starts Status as "open".
SIGNALS_HEADERS = ("Datum", "Soort", "Betreft", "Toelichting", "Status", "Opmerking", "Kenmerk")
SIGNALS_PIPELINE = ("Datum", "Soort", "Betreft", "Toelichting")

APPROVAL_HEADERS = ("Coördinator", "Datum", "Code")
APPROVAL_SUMMARY_COLUMN = 5  # E: labels, F: values (the pipeline's part of Vaststelling)

PARTICIPANTS_KEY = ("Aanmelding", "Kant")
PARTICIPANTS_HEADERS = ("Aanmelding", "Initiatief", "Gemeente", "Rol", "Naam", "E-mail", "Kant",
                        "Aanwezig")
PARTICIPANTS_SELECTION = ("Aanmelding", "Initiatief", "Gemeente", "Rol", "Naam", "E-mail", "Kant")

MEETINGS_HEADERS = ("Nr", "Datum", "Begin", "Einde", "Titel", "Locatie", "Adres", "Doelgroep",
                    "Status", "Materiaal", "Aanwezigheid compleet")
ATTENDANCE_KEY = ("Bijeenkomst", "E-mail")
ATTENDANCE_HEADERS = ("Bijeenkomst", "Naam", "E-mail", "Organisatie", "Rol", "Status", "Opmerking")
ATTENDANCE_PIPELINE = ("Bijeenkomst", "Naam", "E-mail", "Organisatie", "Rol")
ATTENDANCE_STATUSES = ("aanwezig", "afgemeld", "afwezig")
