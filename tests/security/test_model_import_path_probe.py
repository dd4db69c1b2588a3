"""``POST /v1/providers/{id}/models/import`` says nothing about a path outside the allowed folders: a
missing file and an existing one (or a folder) there get the same answer, so an admin token cannot be
used to map which absolute paths exist on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.envelope import check_envelope


@pytest.fixture
def import_url(admin) -> str:
    provider = admin.post("/v1/providers", json={"name": "local", "kind": "local"})
    assert provider.status_code == 201, provider.text
    return f"/v1/providers/{provider.json()['id']}/models/import"


@pytest.fixture
def outside(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("elsewhere")
    if folder.resolve().is_relative_to(Path.home().resolve()):
        pytest.skip("the temp folder is inside the user's home here")
    return folder


def refusal(admin, url: str, path: Path) -> str:
    """The refusal's message with the path asked about taken out (it is echoed back as given)."""
    body = check_envelope(admin.post(url, json={"path": str(path)}), 400, "validation_error", param="path")
    return body["error"]["message"].replace(str(path), "<path>")


def test_missing_and_existing_paths_outside_the_roots_get_the_same_answer(admin, import_url, outside):
    existing = outside / "secret-project.gguf"
    existing.write_bytes(b"GGUF not really")
    (outside / "a-folder").mkdir()
    asked = {
        "existing file": existing,
        "existing folder": outside / "a-folder",
        "missing file": outside / "nothing-here.gguf",
        "missing folder's file": outside / "no-folder" / "x.gguf",
        "system file": Path("/etc/passwd"),
        "missing system file": Path("/etc/no-such-file.gguf"),
    }
    answers = {label: refusal(admin, import_url, path) for label, path in asked.items()}
    assert len(set(answers.values())) == 1, answers
    assert "outside the folders models may be imported from" in answers["existing file"]


def test_a_symlink_loop_outside_the_roots_gets_the_same_answer(admin, import_url, outside):
    loop = outside / "loop.gguf"
    loop.symlink_to(loop)
    missing = outside / "nothing-here.gguf"
    assert refusal(admin, import_url, loop) == refusal(admin, import_url, missing)


def test_inside_the_data_root_a_missing_file_is_still_named_as_missing(admin, import_url, server):
    missing = server.home / "incoming" / "not-there.gguf"
    assert "no such file" in refusal(admin, import_url, missing)
