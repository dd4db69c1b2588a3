"""Raw HTTP over a socket, for requests no well-behaved client library will send."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass


@dataclass
class RawAnswer:
    status: int | None        # the status of the first response, None if the server closed without one
    head: bytes               # the status line and headers (what arrived of them)
    seconds: float

    @property
    def closed_silently(self) -> bool:
        return self.status is None


def raw_exchange(host: str, port: int, data: bytes, *, timeout: float = 20.0, half_close: bool = True,
                 pause: float = 0.0) -> RawAnswer:
    """Send ``data`` on a fresh connection, then read until a status line and headers arrive or the
    server closes. With ``half_close`` the write side is shut after sending, so a server waiting for
    more bytes sees EOF. Raises ``TimeoutError`` if the server neither answers nor closes in time.
    """
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            if pause:
                half = len(data) // 2
                sock.sendall(data[:half])
                time.sleep(pause)
                sock.sendall(data[half:])
            else:
                sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server already refused and closed: read what it said
        received = b""
        deadline = started + timeout
        while b"\r\n\r\n" not in received:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer and no close within {timeout}s for {data[:80]!r}")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                raise TimeoutError(f"no answer and no close within {timeout}s for {data[:80]!r}") from None
            if not chunk:
                break
            received += chunk
    status = None
    if received.startswith(b"HTTP/"):
        parts = received.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) >= 2 and parts[1].isdigit():
            status = int(parts[1])
    return RawAnswer(status, received.split(b"\r\n\r\n", 1)[0], time.monotonic() - started)
