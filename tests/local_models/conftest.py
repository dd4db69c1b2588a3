"""Local-model fixtures: one tiny random-weight llama GGUF per test session, written by the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("gguf", reason="the local extra is not installed: pip install -e '.[local]'")

from tests.local_models.tiny_gguf import write_tiny_llama  # noqa: E402

MODEL = "tiny-llama"


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    return write_tiny_llama(tmp_path_factory.mktemp("gguf") / f"{MODEL}.gguf")


def install(home: Path, tiny: Path, name: str = MODEL) -> Path:
    """Put the tiny model in a data root's models folder."""
    folder = Path(home) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(tiny, folder / f"{name}.gguf"))


def add_local(api, name: str = "local") -> dict:
    resp = api.post("/v1/providers", json={"name": name, "kind": "local"})
    assert resp.status_code == 201, resp.text
    return resp.json()
