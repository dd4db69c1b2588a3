"""Chat channels: one module per kind (listed in ``kinds.py``), sharing the surface in ``base.py``."""
