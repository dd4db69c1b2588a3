"""Run ``qorven`` as a user does: a subprocess, pointed at a real server through the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.servers import REPO


def run_qorven(*args: str, env: dict[str, str] | None = None, input: str | None = None,
               timeout: float = 90) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
    full_env.update(env or {})
    full_env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run([sys.executable, "-m", "qorven_local.cli.main", *args], cwd=REPO, env=full_env,
                          input=input, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def qorven(server):
    """``qorven(*args)`` against the in-process test server, the way a shell with QORVEN_* set would."""
    env = {"QORVEN_SERVER": server.url, "QORVEN_TOKEN": server.admin_token}

    def run(*args: str, input: str | None = None, **extra: str) -> subprocess.CompletedProcess:
        return run_qorven(*args, env={**env, **extra}, input=input)
    return run
