"""Stages: the plain functions the flows call (run_intake, ...), given ready gateways."""
