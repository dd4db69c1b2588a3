"""``qorven serve`` and ``qorven auth`` as a user runs them: first token, rotation with grace, clean stop."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
import time

import httpx
import pytest

from qorven_local.security.tokens import new_token
from tests.support.servers import ServeProcess


def qorven(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qorven_local.cli.main", *args], capture_output=True, text=True,
                          timeout=60)


def test_first_start_prints_and_saves_the_admin_token(tmp_path):
    with ServeProcess(tmp_path / "h") as srv:
        assert srv.first_token and srv.first_token == srv.admin_token
        mode = stat.S_IMODE((tmp_path / "h" / "admin-token").stat().st_mode)
        assert mode == 0o600
        with srv.client() as api:
            assert len(api.get("/v1/agents").json()["data"]) == 5
    # the second start prints no token
    with ServeProcess(tmp_path / "h") as again:
        assert again.first_token is None
    log = (tmp_path / "h" / "logs" / "qorven.log").read_text()
    assert srv.first_token not in log  # never logged


def test_qorven_token_is_the_first_admin_token(tmp_path):
    token = new_token()
    with ServeProcess(tmp_path / "h", env={"QORVEN_TOKEN": token}) as srv:
        assert srv.admin_token == token
        with srv.client(token=token) as api:
            assert api.get("/v1/agents").status_code == 200


def test_rotate_token_with_grace_then_revokes(tmp_path):
    with ServeProcess(tmp_path / "h") as srv:
        old = srv.admin_token
        out = qorven("auth", "rotate-token", "--grace", "6", "--home", str(srv.home))
        assert out.returncode == 0, out.stderr
        new = out.stdout.strip()
        assert new.startswith("qvn_") and len(new) == 47 and new != old
        assert srv.admin_token == new  # the local CLI's file follows the rotation
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/v1/agents", headers={"Authorization": f"Bearer {old}"}).status_code == 200
            assert c.get("/v1/agents", headers={"Authorization": f"Bearer {new}"}).status_code == 200
            # a fixed time on purpose: the old token's grace must run out (6 s: the CLI's own start-up
            # and exit, slow on a loaded machine, count against it before the first check above)
            time.sleep(6.2)
            assert c.get("/v1/agents", headers={"Authorization": f"Bearer {old}"}).status_code == 401
            assert c.get("/v1/agents", headers={"Authorization": f"Bearer {new}"}).status_code == 200
        now = qorven("auth", "rotate-token", "--home", str(srv.home))
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/v1/agents", headers={"Authorization": f"Bearer {new}"}).status_code == 401
            assert c.get("/v1/agents", headers={"Authorization": f"Bearer {now.stdout.strip()}"}).status_code == 200


def test_rotate_over_http_shows_the_token_once(tmp_path):
    with ServeProcess(tmp_path / "h") as srv:
        with srv.client() as api:
            r = api.post("/v1/auth/rotate", json={"grace_seconds": 0})
            assert r.status_code == 201
            fresh = r.json()["token"]
            assert api.get("/v1/agents").status_code == 401  # the caller's old token is gone
        with srv.client(token=fresh) as api:
            assert api.get("/v1/agents").status_code == 200


def test_create_token_validates_input(tmp_path):
    bad = qorven("auth", "create-token", "--tenant", "Not A Slug", "--home", str(tmp_path))
    assert bad.returncode == 2 and "tenant" in bad.stderr


@pytest.mark.slow
def test_sigterm_and_sigint_stop_cleanly(tmp_path):
    for sig in (signal.SIGTERM, signal.SIGINT):
        srv = ServeProcess(tmp_path / "h").start()
        started = time.monotonic()
        assert srv.stop(sig) == 0
        assert time.monotonic() - started < 10
    check = subprocess.run([sys.executable, "-c", "import sqlean,sys; c=sqlean.connect(sys.argv[1]);"
                            "print(c.execute('pragma integrity_check').fetchone()[0])",
                            str(tmp_path / "h" / "qorven.db")], capture_output=True, text=True)
    assert check.stdout.strip() == "ok"


@pytest.mark.slow
def test_non_loopback_bind_warns(tmp_path):
    srv = ServeProcess(tmp_path / "h", {"host": "0.0.0.0"})
    srv.start()
    try:
        assert any("WARNING" in line and "0.0.0.0" in line for line in srv.output)
    finally:
        srv.stop()
