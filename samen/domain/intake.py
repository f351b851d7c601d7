"""Intake rules (pure): which form rows are new, which applications they make, what goes where."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property

from samen.domain.records import Application, AuditEntry, ResponseVersion

# (valid: row -> normalised fields, problems: row -> list of problem dicts) for new form rows.
Validator = Callable[
    [Mapping[int, Mapping[str, str]]],
    tuple[dict[int, dict[str, str]], dict[int, list[dict[str, str]]]],
]
KeyFunction = Callable[[Mapping[str, str]], str]

# --- anonymised responses (`samen anonymise`): intake leaves them alone -------------------------
ANONYMISED = "geanonimiseerd"  # the placeholder of a name or a free text
PERSONAL_EMAILS = ("email", "initiative_email", "municipality_email")  # -> a pseudonym (or "")
PERSONAL_TEXTS = ("initiative_contact", "municipality_contact", "description", "ambition")
PERSONAL_OPTIONAL = ("initiative_phone", "postcode", "website")  # -> ""
# json.dumps(values, sort_keys=True, ensure_ascii=False), without building an encoder per call.
_FINGERPRINT_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
# 2022-11-26T14:03:11 of a year from 1000 on (strftime writes earlier years without zeros).
_ISO_SECONDS = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
_PSEUDONYM = re.compile(r"anoniem-[0-9a-f]{12}@example\.invalid")


def is_pseudonym(address: str) -> bool:
    """Tell whether an address is a placeholder of `samen anonymise` (anoniem-…@example.invalid)."""
    return _PSEUDONYM.fullmatch(address) is not None


def is_anonymised(values: Mapping[str, str]) -> bool:
    """Tell whether a form row's personal answers all are the placeholders of `samen anonymise`."""
    return (all(values.get(f) == ANONYMISED for f in PERSONAL_TEXTS)
            and not any(values.get(f) for f in PERSONAL_OPTIONAL)
            and all(not values.get(f) or is_pseudonym(values[f]) for f in PERSONAL_EMAILS))
# --- end anonymised responses ----------------------------------------------------------------

# The store keeps the timestamp as typed in a column of 64 characters (PostgreSQL enforces it);
# a longer answer is no timestamp, and the whole answer stays in the version's raw answers.
SUBMITTED_AT_CHARS = 64
# A review signal names at most this many other applications, then says how many more there are.
SIGNAL_IDS_SHOWN = 10


@dataclass(frozen=True)
class FormRow:
    """One non-empty row of the form tab, by field name."""

    row: int
    values: dict[str, str]

    @cached_property
    def fingerprint(self) -> str:
        """Return a stable hash of the row's answers (a changed answer is a new version)."""
        text = _FINGERPRINT_JSON.encode(self.values)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class IntakePlan:
    """What one intake run records: new versions, new and changed applications, audit."""

    versions: list[ResponseVersion] = field(default_factory=list)
    new_apps: list[Application] = field(default_factory=list)
    changed_apps: list[Application] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    empty_rows: int = 0
    form_rows: int = 0


def read_form_rows(
    rows: Sequence[Sequence[str]], columns: Mapping[str, int]
) -> tuple[list[FormRow], int]:
    """Return the non-empty form rows by field, and the number of empty rows skipped."""
    out: list[FormRow] = []
    empty = 0
    fields = list(columns)
    indexes = [columns[f] - 1 for f in fields]
    width = max(indexes, default=-1) + 1
    for number, row in enumerate(rows[1:], start=2):
        cells = ([row[i] for i in indexes] if len(row) >= width else
                 [row[i] if len(row) > i else "" for i in indexes])
        # NUL goes: PostgreSQL cannot store it and a workbook cannot hold it (Google can).
        values = dict(zip(fields, [c.replace("\x00", "").strip() for c in cells], strict=True))
        if not any(values.values()):
            empty += 1
            continue
        out.append(FormRow(number, values))
    return out, empty


def plan_intake(
    form_rows: Sequence[FormRow],
    stored: Sequence[ResponseVersion],
    apps: Sequence[Application],
    *,
    validate: Validator,
    key_of: KeyFunction,
    id_prefix: str,
) -> IntakePlan:
    """Decide which rows are new versions and which applications they create or supersede."""
    plan = IntakePlan(form_rows=len(form_rows))
    latest: dict[int, ResponseVersion] = {}
    row_app: dict[int, str] = {}
    for v in stored:
        latest[v.form_row] = v
        if v.valid and v.application_id:
            row_app[v.form_row] = v.application_id
    changed = [r for r in form_rows
               if (r.row not in latest or latest[r.row].fingerprint != r.fingerprint)
               and not is_anonymised(r.values)]  # an anonymised response is no new version
    if not changed:
        return plan
    valid, problems = validate({r.row: r.values for r in changed})
    by_id = {a.id: a for a in apps}
    by_key = {a.key: a.id for a in apps}
    next_seq = max((a.seq for a in apps), default=0) + 1
    touched: set[str] = set()
    created: set[str] = set()
    number = {r.row: latest[r.row].version + 1 if r.row in latest else 1 for r in changed}
    assigned: dict[int, str] = {}
    for row in sorted(valid, key=lambda n: (valid[n].get("submitted_at", ""), n)):
        norm = valid[row]
        key = key_of(norm)
        app_id = row_app.get(row) or by_key.get(key)
        if app_id is None:
            app_id = f"{id_prefix}-{next_seq:03d}"
            app = Application(app_id, next_seq, key, row, number[row])
            next_seq += 1
            created.add(app_id)
            plan.audit.append(AuditEntry("intake", "application_created", app_id, {"form_row": row}))
        else:
            old = by_id[app_id]
            new_key = key if by_key.get(key, app_id) == app_id else old.key
            app = replace(old, key=new_key, form_row=row, version=number[row])
            action = "application_superseded" if old.form_row != row else "application_updated"
            plan.audit.append(AuditEntry("intake", action, app_id,
                                         {"form_row": row, "previous_form_row": old.form_row}))
            by_key.pop(old.key, None)
            touched.add(app_id)
        by_id[app_id] = app
        by_key[app.key] = app_id
        row_app[row] = app_id
        assigned[row] = app_id
    versions: dict[int, ResponseVersion] = {
        r.row: ResponseVersion(
            form_row=r.row, version=number[r.row], fingerprint=r.fingerprint,
            submitted_at=r.values.get("submitted_at", "")[:SUBMITTED_AT_CHARS], raw=r.values,
            valid=r.row in valid, normalised=valid.get(r.row),
            problems=tuple(problems.get(r.row, ())), application_id=assigned.get(r.row),
        )
        for r in changed
    }
    for v in versions.values():
        plan.audit.append(AuditEntry("intake", "response_version_recorded", f"rij {v.form_row}", {
            "version": v.version, "valid": v.valid,
            "problems": [p.get("field", "") for p in v.problems],
        }))
    plan.versions = sorted(versions.values(), key=lambda v: v.form_row)
    plan.new_apps = [by_id[i] for i in sorted(created, key=lambda i: by_id[i].seq)]
    plan.changed_apps = [by_id[i] for i in sorted(touched - created, key=lambda i: by_id[i].seq)]
    return plan


def review_signals(
    apps: Sequence[Application],
    current: Mapping[str, Mapping[str, str]],
    history: Mapping[str, Sequence[ResponseVersion]],
    closing_date: date,
) -> dict[str, list[str]]:
    """Return per application id the Dutch signals for its review row."""
    by_town: dict[str, list[str]] = {}
    by_mail: dict[str, list[str]] = {}
    for a in apps:
        by_town.setdefault(current[a.id].get("municipality_code", ""), []).append(a.id)
        by_mail.setdefault(current[a.id].get("email", ""), []).append(a.id)
    late = f"Ingediend na de sluitingsdatum ({closing_date.strftime('%d-%m-%Y')})."
    out: dict[str, list[str]] = {}
    for a in apps:
        norm = current[a.id]
        signals: list[str] = []
        earlier = sorted({v.form_row for v in history.get(a.id, ()) if v.form_row != a.form_row})
        if earlier:
            rows = ", ".join(str(r) for r in earlier)
            signals.append(
                f"Opnieuw ingediend: deze inzending vervangt de eerdere inzending op formulierrij {rows}."
            )
        others = by_town[norm.get("municipality_code", "")]
        if len(others) > 1:
            signals.append(
                f"Meer inzendingen uit {norm.get('municipality_name', '')}: "
                f"ook {name_others(others, a.id)}."
            )
        same_mail = by_mail[norm.get("email", "")]
        if len(same_mail) > 1:
            signals.append(f"Hetzelfde e-mailadres staat ook bij {name_others(same_mail, a.id)}.")
        submitted = parse_iso(norm.get("submitted_at", ""))
        if submitted is not None and submitted.date() > closing_date:
            signals.append(late)
        out[a.id] = signals
    return out


def name_others(ids: Sequence[str], own: str) -> str:
    """Return the ids other than own, the first SIGNAL_IDS_SHOWN of them by name, then a count."""
    # Listing every other id would make each review row of a municipality with n submissions
    # name n others: n² ids in the sheet (100,000 rows over 342 municipalities: 440 MB of text).
    shown: list[str] = []
    for other in ids:
        if other != own:
            shown.append(other)
            if len(shown) > SIGNAL_IDS_SHOWN:
                break
    rest = len(ids) - 1 - SIGNAL_IDS_SHOWN
    if rest <= 0:
        return ", ".join(shown)
    return f"{', '.join(shown[:SIGNAL_IDS_SHOWN])} en nog {rest} andere"


def parse_iso(text: str) -> datetime | None:
    """Return the datetime of an ISO text, or None."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def show_datetime(text: str) -> str:
    """Return an ISO date-time as the sheet shows it: dd-mm-jjjj hh:mm (else the text as is)."""
    moment = parse_iso(text)
    if moment is None:
        return text
    if _ISO_SECONDS.fullmatch(text):  # what intake stores: rearranged (strftime is slower)
        return f"{text[8:10]}-{text[5:7]}-{text[:4]} {text[11:16]}"
    return moment.strftime("%d-%m-%Y %H:%M")
