"""The built executable answers offline with no configuration: ``dist/`` as ``make build`` leaves it
(the binary and ``qorven-data/models/`` with the starter model) copied to a "stick" folder, run inside a
network namespace with only loopback, opened in headless Chromium from the link it prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STARTER = REPO / "dist" / "qorven-data" / "models" / "smollm2-135m-instruct.gguf"


@pytest.mark.timeout(360)  # a whole app (unpacked executable or source), Chromium and a model: 300 s below
@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("chromium") is None or os.geteuid() != 0,
                    reason="needs root, unshare and Debian's chromium")
def test_the_executable_on_a_copied_stick_answers_offline_with_the_starter_model(binary, tmp_path):
    if not STARTER.is_file():
        pytest.skip(f"no starter model beside the binary ({STARTER}): make build")
    stick = tmp_path / "stick"
    (stick / "qorven-data" / "models").mkdir(parents=True)
    shutil.copy2(binary, stick / binary.name)
    shutil.copyfile(STARTER, stick / "qorven-data" / "models" / STARTER.name)
    shot = REPO / "test-output" / "build" / "stick-first-answer.png"
    out = subprocess.run(["unshare", "-n", sys.executable, str(REPO / "tests/local_models/offline_first_answer.py"),
                          "--portable", "--shot", str(shot), "--", str(stick / binary.name)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["interfaces"] == ["lo"] and not result["token_form"] and not result["foreign_requests"]
    assert result["starter_hint"]  # the chat names the tiny starter model and leads to a bigger one
    assert len(result["answer"].split()) >= 2 and "<|im" not in result["answer"]
    assert (stick / "qorven-data" / "qorven.db").is_file()  # the stick's own data root was used
