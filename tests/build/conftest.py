"""The one-file build's tests. The binary tests run on ``dist/qorven`` when it is up to date with the
sources (``make build`` first; ``make test-build`` does both), else they skip saying so."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"
BINARY = REPO / "dist" / ("qorven.exe" if os.name == "nt" else "qorven")
if str(BUILD) not in sys.path:
    sys.path.insert(0, str(BUILD))


def build_inputs() -> list[Path]:
    """What the Makefile rebuilds the binary for (keep in step with BUILD_INPUTS there)."""
    files = [REPO / "pyinstaller.spec", REPO / "pyproject.toml", BUILD / "entry.py", BUILD / "model_fp16.py",
             BUILD / "slim.py"]
    for folder in (REPO / "qorven_local", REPO / "ui", BUILD / "hooks"):
        files += [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return files


def stale_reason() -> str | None:
    if not BINARY.is_file():
        return f"no binary at {BINARY}: run `make build` (or `make test-build`)"
    built = BINARY.stat().st_mtime
    newer = [p for p in build_inputs() if p.stat().st_mtime > built]
    if newer:
        return f"{BINARY} is older than {len(newer)} source file(s) (e.g. {newer[0].relative_to(REPO)}): make build"
    return None


@pytest.fixture(scope="session")
def binary() -> Path:
    reason = stale_reason()
    if reason:
        pytest.skip(reason)
    return BINARY
