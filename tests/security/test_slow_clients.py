"""Finding 7: connections that send their request head slowly, or never finish it, cannot block the server."""

from __future__ import annotations

import contextlib
import socket
import time

import httpx

from tests.support.servers import InProcessServer
from tests.support.wait import wait_until


def half_sent(port: int, head: bytes = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n") -> socket.socket:
    """A connection that sent part of a request head and then went quiet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(head)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_hundred_half_sent_connections_do_not_stop_a_new_request(tmp_path):
    with InProcessServer(tmp_path / "h") as srv, contextlib.ExitStack() as stack:
        for _ in range(110):  # waitress's default connection_limit was 100
            stack.enter_context(half_sent(srv.port))
        response = httpx.get(srv.url + "/health", timeout=3)
        assert response.status_code == 200


def test_a_head_trickled_past_the_deadline_is_closed(tmp_path):
    with InProcessServer(tmp_path / "h", {"header_timeout": "1"}) as srv:
        with half_sent(srv.port) as trickler, half_sent(srv.port, b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n") as ws, \
                socket.create_connection(("127.0.0.1", srv.port), timeout=5) as silent:
            started = time.monotonic()

            def all_closed() -> bool:
                with contextlib.suppress(OSError):
                    trickler.sendall(b"X")  # a byte now and then keeps a connection "active"
                return all(closed_by_server(s) for s in (trickler, ws, silent))

            wait_until(all_closed, timeout=6, interval=0.2, message="slow heads still open")
            assert time.monotonic() - started >= 0.5
        with httpx.Client(base_url=srv.url, timeout=5) as client:  # complete requests are unaffected
            assert client.get("/health").status_code == 200
