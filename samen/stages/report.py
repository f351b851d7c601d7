"""The report stage: one self-contained HTML page for the coordinators, written only when it changed."""

from __future__ import annotations

import base64
import logging
import os
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date

from samen.artifacts import publish_summary
from samen.config import Config
from samen.domain.layouts import ATTENDANCE_STATUSES, SIGNALS_HEADERS
from samen.domain.tabs import header_index
from samen.gateways.sheets.base import SheetsGateway, TabSpec
from samen.gateways.store import Store
from samen.gateways.store.ledger import FAILED, HELD, PLANNED, SENT
from samen.gateways.store.meetings import AttendanceRecord
from samen.rendering import Renderer
from samen.schemas.municipalities import display_name
from samen.stages.intake_mail import current_versions

log = logging.getLogger("samen.report")
FIX = "Restore the header, or remove the tab so samen creates it again."
TEMPLATE = "report.html.j2"
ROLES, SIDES = ("kern", "kenniskring"), ("initiatief", "gemeente")
# Attendance colours (blue, orange, brick) stay apart for the common kinds of colour blindness.
STATUS_COLOURS = {"aanwezig": "#2f6db5", "afgemeld": "#e69f00", "afwezig": "#b5524a"}
FUNNEL_COLOURS = {"submissions": "#5b7fa6", "valid": "#34608f", "kern": "#2f6db5",
                  "kenniskring": "#6a9fd4", "afgewezen": "#9a9a9a", "undecided": "#e69f00"}
# A tandem's cell in the grid: a symbol that reads without colour, and a CSS class for colour.
CELLS = {"beide": "●", "een": "◐", "geen": "○", "niet": "–"}
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"


@dataclass(frozen=True)
class ReportSummary:
    """What a report run found, in counts (no personal data), and where the page is."""

    as_of: str
    path: str
    written: bool
    submissions: int
    valid: int
    kern: int
    kenniskring: int
    afgewezen: int
    undecided: int
    meetings_announced: int
    meetings_processed: int
    open_signals: int
    messages_sent: int
    messages_held: int
    messages_failed: int

    def as_dict(self) -> dict[str, object]:
        """Return the summary as a plain dict."""
        return asdict(self)


def run_report(
    config: Config, *, sheets: SheetsGateway, store: Store, as_of: date, out: Path
) -> ReportSummary:
    """Render the programme report from the store and the open signals; write it if it changed."""
    closed = closed_signals(config, sheets)
    apps, versions = store.load_applications(), store.load_versions()
    current = current_versions(apps, versions)
    in_force = {a: d.decision for a, d in store.selection.decisions().items()}
    decided = Counter(in_force.values())
    funnel = {"submissions": len({v.form_row for v in versions}), "valid": len(apps),
              "kern": decided["kern"], "kenniskring": decided["kenniskring"],
              "afgewezen": decided["afgewezen"], "undecided": len(apps) - len(in_force)}
    records = sorted(store.meetings.attendance().values(), key=lambda r: (r.meeting_nr, r.email))
    language = config.programme.language
    meetings = meeting_rows(store, records, language)
    processed = [m for m in meetings if m["processed"]]
    open_ones = [s for s in store.ledger.signals().values() if s.key not in closed]
    open_ones.sort(key=lambda s: s.raised_on)  # stable: by date, then in the order raised
    signals = [{"date": s.raised_on, "kind": s.kind, "subject": s.subject,
                "explanation": s.explanation} for s in open_ones]
    messages = message_rows(store)
    totals = message_totals(messages)
    context: dict[str, Any] = {
        "programme": config.programme.name, "as_of": as_of, "funnel": funnel,
        "funnel_chart": data_uri(bar_chart([
            (label, [(funnel[key], FUNNEL_COLOURS[key])]) for key, label in funnel_labels(funnel)])),
        "meetings": meetings, "mixed_sides": any(len(sides_of(r)) > 1 for r in records),
        "attendance_chart": data_uri(bar_chart(
            [(f"{m['nr']} · {m['short']}",
              [(m["counts"]["totaal"][s], STATUS_COLOURS[s]) for s in ATTENDANCE_STATUSES])
             for m in processed], legend=list(STATUS_COLOURS.items()))) if processed else "",
        "grid": tandem_grid(in_force, current, processed, records), "cells": CELLS,
        "signals": signals, "messages": messages, "totals": totals,
    }
    html = Renderer(language).env.get_template(TEMPLATE).render(context)
    written = write_if_changed(out, html)
    summary = ReportSummary(
        as_of=as_of.isoformat(), path=str(out), written=written, **funnel,
        meetings_announced=len(meetings), meetings_processed=len(processed),
        open_signals=len(signals), messages_sent=totals[SENT], messages_held=totals[HELD],
        messages_failed=totals[FAILED])
    publish_summary("report", {k: v for k, v in summary.as_dict().items() if k != "path"})
    log.info("report: %s", summary.as_dict())
    return summary


def closed_signals(config: Config, sheets: SheetsGateway) -> set[str]:
    """Return the keys (Kenmerk) of the signals the coordinators marked afgehandeld."""
    tab = config.tabs["signals"]
    columns: dict[str, int] = {}

    def check(snapshot: Mapping[str, list[list[str]]]) -> None:
        columns.update(header_index(tab, snapshot[tab], ("Status", "Kenmerk"), FIX))

    rows = sheets.open_tabs([TabSpec(tab, SIGNALS_HEADERS)], check=check)[tab]
    status, key = columns["Status"] - 1, columns["Kenmerk"] - 1
    return {r[key].strip() for r in rows[1:]
            if len(r) > max(status, key) and r[status].strip().lower() == "afgehandeld"}


def funnel_labels(funnel: Mapping[str, int]) -> list[tuple[str, str]]:
    """Return the funnel's bars (key, label); 'nog geen besluit' only when there are any."""
    labels = [("submissions", "Inzendingen"), ("valid", "Geldige aanmeldingen"), ("kern", "Kern"),
              ("kenniskring", "Kenniskring"), ("afgewezen", "Afgewezen")]
    return labels + ([("undecided", "Nog geen besluit")] if funnel["undecided"] else [])


def sides_of(record: AttendanceRecord) -> list[str]:
    """Return the distinct sides of an address (one person can stand for several tandems)."""
    return sorted({s for s in record.side.split(",") if s})


def meeting_rows(
    store: Store, records: Sequence[AttendanceRecord], language: str
) -> list[dict[str, Any]]:
    """Return every announced meeting by date with its attendance counts per group."""
    by_nr: dict[str, list[AttendanceRecord]] = {}
    for r in records:
        by_nr.setdefault(r.meeting_nr, []).append(r)
    out: list[dict[str, Any]] = []
    for m in store.meetings.announced().values():
        counts = {g: dict.fromkeys(ATTENDANCE_STATUSES, 0) for g in ("totaal", *ROLES, *SIDES)}
        for r in by_nr.get(m.nr, []):
            for group in {"totaal", r.role, *sides_of(r)} & counts.keys():
                counts[group][r.status] += 1
        day = date.fromisoformat(m.details["day"])
        out.append({"nr": m.nr, "day": day, "short": format_date(day, "d MMM yyyy", locale=language),
                    "title": m.details.get("title", ""), "status": m.status,
                    "processed": m.nr in by_nr, "invited": len(by_nr.get(m.nr, [])),
                    "counts": counts})
    return sorted(out, key=lambda m: (m["day"], m["nr"]))


def tandem_grid(
    in_force: Mapping[str, str], current: Mapping[str, Mapping[str, str]],
    meetings: Sequence[Mapping[str, Any]], records: Sequence[AttendanceRecord],
) -> list[dict[str, Any]]:
    """Return a row per kern and kenniskring tandem: per processed meeting who of it came."""
    seen: dict[tuple[str, str, str], str] = {}  # (meeting, application, side) -> status
    for r in records:
        sides = r.side.split(",")
        for i, app_id in enumerate(r.applications):
            side = sides[i] if i < len(sides) else sides[0]
            seen[(r.meeting_nr, app_id, side)] = r.status
    rows: list[dict[str, Any]] = []
    order = sorted((a for a, d in in_force.items() if d in ROLES),
                   key=lambda a: (ROLES.index(in_force[a]), a))
    for app_id in order:
        cells: list[str] = []
        for m in meetings:
            marks = [seen.get((m["nr"], app_id, side)) for side in SIDES]
            came = sum(1 for s in marks if s == "aanwezig")
            cells.append("niet" if marks == [None, None] else ("beide", "een", "geen")[2 - came])
        n = current.get(app_id, {})
        code = n.get("municipality_code", "")
        invited = [c for c in cells if c != "niet"]
        rows.append({"id": app_id, "role": in_force[app_id], "initiative": n.get("initiative", ""),
                     "municipality": display_name(code) if code else "", "cells": cells,
                     "attended": sum(1 for c in invited if c != "geen"), "invited": len(invited)})
    return rows


def message_rows(store: Store) -> list[dict[str, Any]]:
    """Return per message kind how many messages were sent, held, failed and are waiting."""
    counts: dict[str, Counter[str]] = {}
    for e in store.ledger.entries().values():
        counts.setdefault(e.kind, Counter())[e.status] += 1
    return [{"kind": kind, **{s: c[s] for s in (SENT, HELD, FAILED, PLANNED)}}
            for kind, c in sorted(counts.items())]


def message_totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Return the message counts summed over all kinds."""
    return {s: sum(int(r[s]) for r in rows) for s in (SENT, HELD, FAILED, PLANNED)}


def bar_chart(
    rows: Sequence[tuple[str, Sequence[tuple[int, str]]]],
    legend: Sequence[tuple[str, str]] = (), width: int = 680,
) -> str:
    """Return an SVG of horizontal (stacked) bars: per row a label and (value, colour) segments."""
    label_w, row_h, top = 200, 30, 30 if legend else 6
    bar_w = width - label_w - 50
    height = top + row_h * len(rows) + 6
    scale = bar_w / max([sum(v for v, _c in segs) for _l, segs in rows] + [1])
    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "width": str(width),
                             "height": str(height), "viewBox": f"0 0 {width} {height}",
                             "font-family": FONT, "font-size": "13"})
    x: float = label_w
    for name, colour in legend:
        ET.SubElement(svg, "rect", {"x": str(x), "y": "8", "width": "12", "height": "12",
                                    "fill": colour})
        ET.SubElement(svg, "text", {"x": str(x + 17), "y": "19"}).text = name
        x += 30 + 8 * len(name)
    for i, (label, segments) in enumerate(rows):
        y = top + i * row_h
        ET.SubElement(svg, "text", {"x": str(label_w - 8), "y": str(y + 19),
                                    "text-anchor": "end", "fill": "#222"}).text = label
        x = label_w
        for value, colour in segments:
            w = round(value * scale, 1)
            ET.SubElement(svg, "rect", {"x": str(x), "y": str(y + 4), "width": str(w),
                                        "height": str(row_h - 8), "fill": colour})
            if len(segments) > 1 and value and w >= 24:
                ink = "#222" if colour == STATUS_COLOURS["afgemeld"] else "#fff"
                ET.SubElement(svg, "text", {"x": str(round(x + w / 2, 1)), "y": str(y + 19),
                                            "text-anchor": "middle", "fill": ink}).text = str(value)
            x = round(x + w, 1)
        total = sum(v for v, _c in segments)
        ET.SubElement(svg, "text", {"x": str(x + 6), "y": str(y + 19), "font-weight": "bold",
                                    "fill": "#222"}).text = str(total)
    return ET.tostring(svg, encoding="unicode")


def data_uri(svg: str) -> str:
    """Return an SVG as a data: URI for an <img> (readable offline, no script possible)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def write_if_changed(path: Path, text: str) -> bool:
    """Write text atomically (temporary file, then rename) unless the file says it already."""
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
