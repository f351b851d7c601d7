"""Deterministic demo data modelled on Programma SAMEN."""
