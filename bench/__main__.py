"""Run every benchmark and print its tables: `make bench` or `.venv/bin/python -m bench`.

BENCH_ONLY=sending,demo runs a subset. Each benchmark's sizes come from the environment (see
bench/__init__.py); BENCH_QUICK=1 runs everything small (a few minutes).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

from bench.common import ROOT, load_average, prepare_env, say

ORDER = ("sending", "intake_scale", "sheets_calls", "idle_run", "demo")


def describe_tree() -> str:
    """Return the commit and how many files differ from it (others edit the tree meanwhile)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, text=True,
                                 capture_output=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "not a git tree"
    return f"commit {commit}, {len(changed)} files changed or new in the working tree"


def main() -> None:
    """Run the chosen benchmarks in order."""
    prepare_env()
    chosen = [name.strip() for name in os.environ.get("BENCH_ONLY", ",".join(ORDER)).split(",")
              if name.strip()]
    unknown = [name for name in chosen if name not in ORDER]
    if unknown:
        sys.exit(f"BENCH_ONLY names unknown benchmarks {unknown}; choose from {', '.join(ORDER)}.")
    say("# samen benchmarks\n")
    say(f"Python {platform.python_version()}, {os.cpu_count()} cores, {load_average()}; "
        f"{describe_tree()}; BENCH_QUICK={os.environ.get('BENCH_QUICK', '')!r}, "
        f"BENCH_FULL={os.environ.get('BENCH_FULL', '')!r}.\n")
    import importlib

    for name in chosen:
        start = time.perf_counter()
        importlib.import_module(f"bench.{name}").main()
        say(f"_{name}: {time.perf_counter() - start:.0f} s; {load_average()} at the end._\n")


if __name__ == "__main__":
    main()
