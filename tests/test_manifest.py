"""Run manifests: runs in the same second each get their own complete file."""

from __future__ import annotations

import csv
import threading
from datetime import datetime
from pathlib import Path

from samen.manifest import HEADER, write_manifest
from samen.stages.delivery import ManifestRow

RUN_AT = datetime(2023, 2, 27, 9, 0, 0)


def rows(run: int, count: int) -> list[ManifestRow]:
    """Return count manifest rows marked with the run that wrote them."""
    return [ManifestRow("uitnodiging", f"r{run}-{i}@example.org", f"Naam {i}", "Uitnodiging",
                        f"run{run}-{i}", "verstuurd", "", "") for i in range(count)]


def test_runs_in_the_same_second_write_separate_complete_files(tmp_path: Path) -> None:
    """Eight runs at once with the same stamp: eight files, none overwritten, no temp files."""
    start = threading.Barrier(8)
    paths: list[Path | None] = [None] * 8
    errors: list[BaseException] = []

    def go(run: int) -> None:
        start.wait()
        try:
            paths[run] = write_manifest(tmp_path, rows(run, 500), RUN_AT, "uitnodigingen", False)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names = sorted(p.name for p in paths if p is not None)
    assert names == sorted(["2023-02-27T09-00-00-uitnodigingen.csv"]
                           + [f"2023-02-27T09-00-00-uitnodigingen-{n}.csv" for n in range(2, 9)])
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary files left
    for run, path in enumerate(paths):
        assert path is not None
        with path.open(encoding="utf-8", newline="") as handle:
            table = list(csv.reader(handle))
        assert tuple(table[0]) == HEADER
        assert [r[4] for r in table[1:]] == [f"run{run}-{i}" for i in range(500)]
        assert path.stat().st_mode & 0o077 == 0  # people's addresses: private to the owner


def test_nothing_planned_writes_no_file(tmp_path: Path) -> None:
    """A run that planned and held back nothing leaves no manifest."""
    assert write_manifest(tmp_path / "m", [], RUN_AT, "herinneringen", False) is None
    assert not (tmp_path / "m").exists()
