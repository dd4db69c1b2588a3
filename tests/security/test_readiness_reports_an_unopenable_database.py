"""``/readyz`` fails when no new database connection can be opened, and names no absolute path.

The connections already open keep answering when the process runs out of file descriptors, so a
readiness check on them said ready while every new thread's reads failed.
"""

from __future__ import annotations

import os
import resource

import pytest

from tests.support.servers import ServeProcess
from tests.support.wait import wait_until


@pytest.fixture
def served(tmp_path):
    with ServeProcess(tmp_path / "home") as proc:
        yield proc


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_readyz_is_503_naming_the_database_when_no_connection_can_be_opened(served):
    assert served.proc is not None
    pid = served.proc.pid
    with served.client(None) as probe:  # one keep-alive connection: later requests need no new descriptor
        wait_until(lambda: probe.get("/readyz").status_code == 200, timeout=30, interval=0.2,
                   message="the server never became ready")
        limits = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_descriptors(pid), limits[1]))  # none left
        try:
            ready = probe.get("/readyz")
            still_alive = probe.get("/livez")
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)
        assert still_alive.status_code == 200
        assert ready.status_code == 503, ready.text
        body = ready.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["database"]["ok"] is False
        assert "qorven.db" in body["checks"]["database"]["detail"]
        assert str(served.home) not in ready.text
        assert probe.get("/readyz").status_code == 200  # descriptors back: ready again


def test_readyz_details_carry_no_absolute_path(served):
    with served.client(None) as probe:
        ready = wait_until(lambda: (r := probe.get("/readyz")).status_code == 200 and r, timeout=30, interval=0.2,
                           message="the server never became ready")
    checks = ready.json()["checks"]
    assert checks["database"]["detail"] == "qorven.db"
    assert str(served.home) not in ready.text and os.sep + "qorven.db" not in ready.text
