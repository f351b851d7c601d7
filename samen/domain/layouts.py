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
# The request date is the messages stage's column; intake writes the others.
CORRECTIONS_INTAKE = tuple(h for h in CORRECTIONS_HEADERS if h != "Verzoek verstuurd op")

SUMMARY_CHARS = 300
