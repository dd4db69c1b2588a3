"""Qorven Local: a local-first agent workspace in one executable."""

__version__ = "0.1.0"
