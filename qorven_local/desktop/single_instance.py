"""One running Qorven per data root.

The first launch holds an OS lock on ``<home>/instance.lock`` for its lifetime (released by the
OS even if the process is killed, so a stale file never blocks a start) and writes
``<home>/instance.json`` (0600): pid, URL, port and a loopback control port with a random nonce.
A second launch that cannot take the lock reads that file and sends ``activate`` on the control
port, so the running instance raises its window (or opens a browser tab); the nonce keeps other
local users' programs from driving it.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("qorven.desktop")

LOCK_NAME = "instance.lock"
INFO_NAME = "instance.json"
COMMANDS = ("ping", "activate", "quit")


class InstanceLock:
    """The lock that makes this process the data root's running instance."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.lock_path = self.home / LOCK_NAME
        self.info_path = self.home / INFO_NAME
        self._fh: Any = None
        self._control: ControlServer | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.home.mkdir(parents=True, exist_ok=True)
        fh = open(self.lock_path, "a+b")  # noqa: SIM115 — held open for the process's lifetime
        try:
            _lock_file(fh)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def publish(self, *, url: str, port: int, mode: str, handler: Callable[[str], bool]) -> None:
        """Start the control port and write instance.json for later launches."""
        self._control = ControlServer(handler)
        self._control.start()
        info = {"pid": os.getpid(), "url": url, "port": port, "mode": mode,
                "control_port": self._control.port, "nonce": self._control.nonce,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write_private(self.info_path, json.dumps(info))

    def release(self) -> None:
        """Stop the control port, remove instance.json and drop the lock."""
        if self._control is not None:
            self._control.stop()
            self._control = None
        if self._fh is not None:
            try:
                self.info_path.unlink(missing_ok=True)
            except OSError:
                pass
            try:
                _unlock_file(self._fh)
            finally:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def running_instance(home: Path) -> dict | None:
    """What the running instance published, or None (not running, or not published yet)."""
    try:
        return json.loads((Path(home) / INFO_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def send_command(info: dict, command: str, timeout: float = 5.0) -> bool:
    """Ask the running instance to ``activate`` (raise its window) or ``quit``; True on success."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    try:
        with socket.create_connection(("127.0.0.1", int(info["control_port"])), timeout=timeout) as s:
            s.sendall(f"{info['nonce']} {command}\n".encode("ascii"))
            reply = s.makefile("rb").readline().strip()
    except (OSError, KeyError, ValueError, TypeError):
        return False
    return reply == b"ok"


class ControlServer:
    """A loopback listener that runs ``handler(command)`` for callers that know the nonce."""

    def __init__(self, handler: Callable[[str], bool]) -> None:
        self.handler = handler
        self.nonce = secrets.token_urlsafe(24)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.settimeout(0.25)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="qorven-instance", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            line = conn.makefile("rb").readline(256).decode("ascii", "replace").strip()
            nonce, _, command = line.partition(" ")
            ok = hmac.compare_digest(nonce.encode(), self.nonce.encode()) and command in COMMANDS
            if ok and command != "ping":
                ok = bool(self.handler(command))
            conn.sendall(b"ok\n" if ok else b"error\n")
        except OSError:
            pass
        except Exception:  # a failing handler must not end the listener
            log.exception("instance command failed")
            try:
                conn.sendall(b"error\n")
            except OSError:
                pass


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    def _lock_file(fh: Any) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock_file(fh: Any) -> None:
        fh.seek(0)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
else:
    import fcntl

    def _lock_file(fh: Any) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(fh: Any) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
