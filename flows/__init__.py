"""Thin Prefect flow entrypoints, one file per stage (prefect.yaml points at these files)."""
