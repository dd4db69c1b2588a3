"""Bodies over waitress's ceiling are answered by the app: the JSON envelope with x-request-id, not a
plain-text 413, and the server reads no more than it must."""

from __future__ import annotations

import json
import socket

import pytest

from qorven_local.web.middleware import UPLOAD_OVERHEAD_BYTES
from tests.support.envelope import ENVELOPE
from tests.support.servers import InProcessServer

LIMIT = 4096  # the app's limit; webhooks get 5x; uploads (QORVEN_MAX_UPLOAD_BYTES, set to LIMIT here) more
CEILING = max(LIMIT * 5, LIMIT + UPLOAD_OVERHEAD_BYTES) + 1024  # waitress's: the largest body any route takes


@pytest.fixture
def small(tmp_path):
    with InProcessServer(tmp_path / "home", {"max_body_bytes": LIMIT, "max_upload_bytes": LIMIT}) as srv:
        yield srv


def _exchange(srv: InProcessServer, head: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` + ``body`` on a raw socket; read the whole answer (the server closes after it)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        try:
            sock.sendall(head.encode() + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking it all: read what it said
        received = b""
        for _ in range(10_000):  # bounded: a reply is a few hundred bytes
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    raw_head, _, payload = received.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, payload


def _check_413(status: int, headers: dict[str, str], payload: bytes) -> None:
    assert status == 413, payload[:200]
    assert headers["content-type"].startswith("application/json")
    body = json.loads(payload)
    ENVELOPE.validate(body)
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["request_id"] == headers["x-request-id"]


def _post(srv: InProcessServer, path: str, size: int) -> str:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nAuthorization: Bearer {srv.admin_token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n")


def test_a_declared_length_over_waitress_ceiling_is_the_json_413(small):
    size = CEILING + 4096  # over waitress's ceiling, not just the app's limit
    _check_413(*_exchange(small, _post(small, "/v1/agents", size), b"x" * size))
    _check_413(*_exchange(small, _post(small, "/v1/webhooks/nothing", size), b"x" * size))


def test_a_chunked_body_over_the_ceiling_is_the_json_413(small):
    head = (f"POST /v1/agents HTTP/1.1\r\nHost: 127.0.0.1:{small.port}\r\n"
            f"Authorization: Bearer {small.admin_token}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"y" * 4096
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(CEILING // 4096 + 2)) + b"0\r\n\r\n"
    _check_413(*_exchange(small, head, body))


def test_the_server_still_serves_after_refusing(small):
    _check_413(*_exchange(small, _post(small, "/v1/agents", LIMIT * 6), b"z" * LIMIT * 6))
    with small.client() as api:
        assert api.post("/v1/agents", json={"name": "after"}).status_code == 201
        assert [a["name"] for a in api.get("/v1/agents", params={"limit": 200}).json()["data"]].count("after") == 1


def test_a_body_just_under_the_webhook_limit_still_reaches_the_webhook(small):
    # the webhook limit (5x) is unchanged: a 4x body is not a 413 (the unknown channel answers 404)
    status, headers, payload = _exchange(small, _post(small, "/v1/webhooks/nothing", LIMIT * 4), b"w" * LIMIT * 4)
    assert status != 413 and "x-request-id" in headers, payload[:200]
