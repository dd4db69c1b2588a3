"""The built one-file executable: the portable smoke test and the strace write audit.

Skipped unless ``dist/qorven`` is up to date (see conftest); ``make test-build`` builds first.
"""

from __future__ import annotations

import shutil
import sys

import pytest

import smoke_test
import strace_portable


@pytest.mark.timeout(600)
def test_portable_stick_survives_a_move(binary, tmp_path):
    figures = tmp_path / "figures.json"
    assert smoke_test.main(["--binary", str(binary), "--cold-starts", "1", "--json", str(figures)]) == 0


@pytest.mark.timeout(600)
@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("strace"), reason="Linux + strace")
def test_a_portable_run_writes_only_to_the_stick_and_the_unpack_dir(binary, capsys):
    code = strace_portable.main(["--binary", str(binary)])
    out = capsys.readouterr().out
    assert code == 0, out
