"""Settings of the local kind and whether its runtime (llama-cpp-python) is installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BASE_URL = "local:models"  # stored as the provider's base_url: the folder comes from the data root
INSTALL_HINT = ("local models need llama-cpp-python, which is not installed: "
                "pip install 'qorven-local[local]' (or `make local` in a source checkout)")


def runtime_available() -> bool:
    """Whether llama-cpp-python can be imported (it is an optional extra)."""
    try:
        import llama_cpp  # noqa: F401
    except Exception:
        return False
    return True


@dataclass(frozen=True)
class LocalOptions:
    """Settings of the local kind (from config: local_max_models, local_idle_seconds, local_context)."""

    models_dir: Path
    max_resident: int = 1
    idle_seconds: float = 600.0
    n_ctx: int = 4096
    allowed_roots: tuple[Path, ...] = ()
