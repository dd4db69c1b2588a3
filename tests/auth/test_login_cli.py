"""``qorven serve`` as a user runs it with ``QORVEN_TOKEN`` set: the token is never printed back,
the printed one-click link signs a browser in, ``qorven login`` prints a fresh one, and the CLI
answers a refused token with the command that fixes it."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest

from qorven_local.security.tokens import new_token
from tests.support.servers import ServeProcess
from tests.support.wait import wait_until

LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/#login=([A-Za-z0-9_-]+)")
TOKEN = new_token()


def qorven(*args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    return subprocess.run([sys.executable, "-m", "qorven_local.cli.main", *args], capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    with ServeProcess(tmp_path_factory.mktemp("serve-login"), env={"QORVEN_TOKEN": TOKEN}) as srv:
        yield srv


def trade(url: str, code: str) -> httpx.Response:
    return httpx.post(url + "/api/auth/session", json={"code": code}, timeout=30)


def test_qorven_token_is_never_printed_and_the_printed_link_signs_in(serving):
    wait_until(lambda: LINK.search("".join(serving.output)), timeout=30, message="no sign-in link printed")
    output = "".join(serving.output)
    assert TOKEN not in output and TOKEN[4:20] not in output
    assert serving.admin_token == TOKEN  # still the first admin token, saved for the local CLI
    assert "#token=" not in output
    url, code = LINK.search(output).groups()
    assert url == serving.url
    res = trade(url, code)
    assert res.status_code == 201, res.text
    cookie = res.cookies["qorven_session"]
    assert httpx.get(url + "/api/agents", headers={"Cookie": f"qorven_session={cookie}"}).status_code == 200
    assert trade(url, code).status_code == 401  # single-use


def test_qorven_login_prints_a_fresh_working_link(serving):
    out = qorven("login", "--home", str(serving.home), "--server", serving.url)
    assert out.returncode == 0, out.stderr
    url, code = LINK.search(out.stdout).groups()
    assert url == serving.url and TOKEN not in out.stdout + out.stderr
    assert trade(url, code).status_code == 201


def test_the_cli_answers_a_refused_token_with_the_command_that_fixes_it(serving):
    out = qorven("agents", "list", "--server", serving.url, "--token", new_token())
    assert out.returncode == 1
    assert "unauthorized" in out.stderr and "qorven auth rotate-token" in out.stderr
    assert "admin-token" in out.stderr
