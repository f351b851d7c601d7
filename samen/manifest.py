"""Run manifests: a CSV per run that plans or holds back messages, beside the outbox."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow((r.kind, r.to_address, r.to_name, r.subject_line, r.key,
                         "gepland (proef)" if dry_run and r.status == "gepland" else r.status,
                         r.reason))
    return publish_new(folder, f"{stamp}-{stage}{suffix}", buffer.getvalue())


def publish_new(folder: Path, stem: str, text: str) -> Path:
    """Write text to a new file `stem.csv` (or `stem-2.csv`, ...) that no other run has taken.

    The text (it holds people's addresses) goes to a private (0600) temporary file first; a
    hard link then gives it its name only if that name is free (atomically), so two runs in the
    same second never overwrite each other and a reader never sees half a file.
    """
    with _written(folder, stem, text) as tmp:
        n = 1
        while True:
            path = folder / (f"{stem}.csv" if n == 1 else f"{stem}-{n}.csv")
            try:
                os.link(tmp, path)
                return path
            except FileExistsError:
                n += 1


def artifact_rows(rows: Sequence[ManifestRow]) -> list[dict[str, str]]:
    """Return the manifest as table rows without personal data: ledger keys, not addresses."""
    return [{"kenmerk": r.key, "soort": r.kind, "status": r.status, "reden": r.category}
            for r in rows]


def rewrite(path: Path, text: str) -> None:
    """Replace the file at path by text, atomically (a reader sees the old or the new file)."""
    with _written(path.parent, path.stem, text) as tmp:
        os.replace(tmp, path)


@contextmanager
def _written(folder: Path, stem: str, text: str) -> Iterator[str]:
    """Yield a private temporary file in folder holding text; it is gone afterwards."""
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        yield tmp
    finally:
        Path(tmp).unlink(missing_ok=True)
