"""Run manifests: a CSV per run that plans or holds back messages, beside the outbox."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from samen.stages.delivery import ManifestRow

HEADER = ("soort", "aan", "naam", "onderwerp", "kenmerk", "status", "reden")


def manifest_folder(outbox: Path) -> Path:
    """Return the manifests folder beside the outbox."""
    return outbox.parent / "manifests"


def write_manifest(
    folder: Path, rows: Sequence[ManifestRow], run_at: datetime, stage: str, dry_run: bool
) -> Path | None:
    """Write the manifest of a run; nothing (None) when the run planned and held back nothing."""
    if not rows:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    stamp = run_at.strftime("%Y-%m-%dT%H-%M-%S")
    suffix = "-proef" if dry_run else ""
    path = folder / f"{stamp}-{stage}{suffix}.csv"
    n = 2
    while path.exists():
        path = folder / f"{stamp}-{stage}{suffix}-{n}.csv"
        n += 1
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow((r.kind, r.to_address, r.to_name, r.subject_line, r.key,
                         "gepland (proef)" if dry_run and r.status == "gepland" else r.status,
                         r.reason))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def artifact_rows(rows: Sequence[ManifestRow]) -> list[dict[str, str]]:
    """Return the manifest as table rows without personal data: ledger keys, not addresses."""
    return [{"kenmerk": r.key, "soort": r.kind, "status": r.status, "reden": r.category}
            for r in rows]
