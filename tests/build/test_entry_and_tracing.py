"""The executable's entry dispatch and the strace log reader (no binary needed)."""

from __future__ import annotations

from pathlib import Path

import entry
import pytest
from strace_portable import classify, write_targets


def test_cli_command_names_run_the_cli_and_anything_else_the_desktop_app(monkeypatch):
    calls = []
    monkeypatch.setattr("qorven_local.cli.main.main", lambda argv: calls.append(("cli", argv)) or 0)
    monkeypatch.setattr("qorven_local.desktop.launcher.main", lambda argv: calls.append(("desktop", argv)) or 0)
    entry.main(["doctor", "--json"])
    entry.main(["--headless", "--port", "0"])
    entry.main([])
    assert calls == [("cli", ["doctor", "--json"]), ("desktop", ["--headless", "--port", "0"]), ("desktop", [])]


@pytest.mark.parametrize("line,paths", [
    ('123 openat(AT_FDCWD, "/s/qorven-data/qorven.db", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 5', ["/s/qorven-data/qorven.db"]),
    ('123 openat(AT_FDCWD, "/usr/lib/x.so", O_RDONLY|O_CLOEXEC) = 3', []),
    ('123 openat(AT_FDCWD, "/home/u/.cache/x", O_WRONLY|O_CREAT, 0600) = -1 ENOENT (No such file)', []),
    ('[pid  77] mkdir("/tmp/t/_MEIabc", 0700) = 0', ["/tmp/t/_MEIabc"]),
    ('9 renameat2(AT_FDCWD, "a.tmp", AT_FDCWD, "a", RENAME_NOREPLACE) = 0', ["a.tmp", "a"]),
    ('9 unlink("/tmp/t/_MEIabc/lib.so") = 0', ["/tmp/t/_MEIabc/lib.so"]),
])
def test_write_targets_reads_successful_writes_only(line, paths):
    assert write_targets(line) == paths


def test_classify_allows_the_stick_the_unpack_dir_and_dev_only():
    stick, tmp, cwd = Path("/s"), Path("/tmp/t"), Path("/c")
    assert classify("/s/qorven-data/logs/qorven.log", cwd, stick, tmp) == "stick"
    assert classify("/tmp/t/_MEIx1/numpy/core.so", cwd, stick, tmp) == "unpack dir"
    assert classify("/dev/null", cwd, stick, tmp) == "/dev"
    assert classify("/tmp/t/other", cwd, stick, tmp) == "OUTSIDE"
    assert classify("/root/.cache/x", cwd, stick, tmp) == "OUTSIDE"
    assert classify("relative.txt", cwd, stick, tmp) == "OUTSIDE"
