"""Settings of the local kind and the state of its runtime (llama-cpp-python)."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from qorven_local.providers.local.starter import StarterModel

BASE_URL = "local:models"  # stored as the provider's base_url: the folder comes from the data root
INSTALL_HINT = ("local models need llama-cpp-python, which is not installed: "
                "pip install 'qorven-local[local]' (or `make local` in a source checkout)")
PREPARING_HINT = ("the local model runtime (llama-cpp-python) is still being built in the background; "
                  "local models answer once it is ready (no restart needed)")
# `make run` builds the binding in the background and keeps its pid here while it builds.
BUILD_MARKER = ".qorven-llama-building"

RUNTIME_STATES = ("ready", "preparing", "missing")
_ready = False


def build_marker() -> Path:
    """Where a background build of the binding announces itself (in the running interpreter's prefix)."""
    return Path(sys.prefix) / BUILD_MARKER


def runtime_available() -> bool:
    """Whether llama-cpp-python can be imported (it is an optional extra); once it imports, stays True.

    A failed try is retried on the next call (with fresh import caches), so a binding installed while
    the app runs is picked up without a restart.
    """
    global _ready
    if _ready:
        return True
    importlib.invalidate_caches()
    try:
        import llama_cpp  # noqa: F401
    except Exception:
        return False
    _ready = True
    return True


def _building(marker: Path) -> bool:
    """Whether the marker names a live process (a stale marker from a killed build does not count)."""
    try:
        pid = int(marker.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def runtime_state() -> str:
    """``ready`` (the binding imports), ``preparing`` (being built in the background) or ``missing``."""
    return state_of(runtime_available(), build_marker())


def state_of(importable: bool, marker: Path) -> str:
    """The runtime state from whether the binding imports and the build marker's file."""
    if importable:
        return "ready"
    return "preparing" if _building(marker) else "missing"


def runtime_hint() -> str:
    """What to tell someone asking a local model for an answer while the runtime is not ready."""
    return PREPARING_HINT if runtime_state() == "preparing" else INSTALL_HINT


@dataclass(frozen=True)
class LocalOptions:
    """Settings of the local kind (from config: local_max_models, local_idle_seconds, local_context)."""

    models_dir: Path
    max_resident: int = 1
    idle_seconds: float = 600.0
    n_ctx: int = 4096
    allowed_roots: tuple[Path, ...] = ()
    # installed starter models listed beside models_dir's files (empty when local_starter is off)
    starters: tuple[StarterModel, ...] = ()
