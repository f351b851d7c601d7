"""Benchmarks of samen (not tests): each module prints its figures as markdown tables.

`make bench` (= `.venv/bin/python -m bench`) runs them all; `python -m bench.<module>` runs one.
Sizes are configurable through the environment; BENCH_QUICK=1 picks small ones, BENCH_FULL=1
adds the largest (20,000 submissions, 100,000 form rows with mail). See each module's docstring.

- sheets_calls: Sheets API calls per run of each stage (counted by the local Sheets double)
- intake_scale: intake of 1k-100k form rows: validation rows/s, run seconds, peak memory
- sending: 2,000 messages over one SMTP session, samen's ledgered path vs bare smtplib
- idle_run: an idle scheduled run of each flow on the demo programme
- demo: the whole `samen demo`, with a breakdown
"""
