"""Real servers for tests: ``qorven serve`` as a subprocess, or the Runtime in this process.

Both listen on an ephemeral loopback port with a real SQLite file under a temp data root.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx

from qorven_local.config import load_config
from qorven_local.context import AppContext
from qorven_local.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
# generous limits so ordinary tests never trip them; rate-limit tests pass their own
TEST_LIMITS = {"rate_ip_rps": "100000", "rate_ip_burst": "100000", "rate_tenant_per_min": "1000000",
               "max_streams_per_tenant": "1000", "max_sockets_per_tenant": "1000",
               # no automatic local provider / starter default: tests configure the providers they use
               # (tests/local_models/test_first_answer.py turns it on)
               "local_starter": "false",
               # no background load of a local default at start (tests/local_models/test_preload.py turns it on)
               "local_preload": "false"}
URL_LINE = re.compile(r"serving at (http://\S+?)/?\s")


class _ClientMixin:
    """What both kinds of test server offer: the admin token and an httpx client."""

    home: Path

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        raise NotImplementedError

    @property
    def admin_token(self) -> str:
        return (self.home / "admin-token").read_text().strip()

    def client(self, token: str | None = "admin", **kwargs: Any) -> httpx.Client:
        headers = kwargs.pop("headers", {})
        if token == "admin":
            token = self.admin_token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def openai(self, timeout: float = 20) -> Any:
        """The official ``openai`` SDK pointed at this server's ``/v1`` with the admin token, never retrying."""
        import openai

        return openai.OpenAI(base_url=self.url + "/v1", api_key=self.admin_token, max_retries=0, timeout=timeout)


class ServeProcess(_ClientMixin):
    """``python -m qorven_local.cli.main serve`` on port 0, read its URL from stdout."""

    def __init__(self, home: Path, settings: dict[str, Any] | None = None, env: dict[str, str] | None = None):
        self.home = Path(home)
        self.settings = {**TEST_LIMITS, **(settings or {})}
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self._url = ""
        self.output: list[str] = []
        self.first_token: str | None = None

    def start(self, timeout: float = 30) -> "ServeProcess":
        env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
        env.update({"QORVEN_" + k.upper(): str(v) for k, v in self.settings.items()})
        env.update(self.extra_env)
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "qorven_local.cli.main", "serve", "--home", str(self.home), "--port", "0"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        stdout = self.proc.stdout
        assert stdout is not None  # stdout=PIPE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise RuntimeError("qorven serve exited:\n" + "".join(self.output))
                continue
            self.output.append(line)
            if line.strip().startswith("qvn_"):
                self.first_token = line.strip()
            match = URL_LINE.search(line)
            if match:
                self._url = match.group(1)
                threading.Thread(target=self._drain, args=(stdout,), daemon=True).start()
                return self
        raise RuntimeError("qorven serve printed no URL in time:\n" + "".join(self.output))

    def _drain(self, stdout: IO[str]) -> None:
        for line in stdout:
            self.output.append(line)

    @property
    def url(self) -> str:
        return self._url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self) -> "ServeProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class InProcessServer(_ClientMixin):
    """The whole Runtime on a background thread of the test process (faster to start)."""

    def __init__(self, home: Path, settings: dict[str, Any] | None = None, port: int = 0):
        self.home = Path(home)
        values = {**TEST_LIMITS, **(settings or {}), "home": str(home), "port": str(port)}
        self.runtime = Runtime(load_config({k: str(v) for k, v in values.items()}, env={}))
        self.first_token: str | None = None

    def start(self) -> "InProcessServer":
        self.first_token = self.runtime.start()
        return self

    @property
    def ctx(self) -> AppContext:
        """The running Runtime's context."""
        assert self.runtime.ctx is not None, "start() the server first"
        return self.runtime.ctx

    @property
    def url(self) -> str:
        return self.runtime.url.rstrip("/")

    @property
    def port(self) -> int:
        return self.runtime.port

    def stop(self) -> None:
        self.runtime.stop()

    def __enter__(self) -> "InProcessServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
