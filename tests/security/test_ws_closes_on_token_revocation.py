"""An open /ws session ends within seconds once its token stops working: close code 4401 "token revoked".

Both ways a token stops: revoked through the API, and the end of a rotation's grace period.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from typing import Iterator

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

CLOSE_WITHIN = 3.0


@contextmanager
def open_ws(server, token: str) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{server.port}/ws", subprotocols=["qorven.v1", f"token.{token}"],
                 open_timeout=5, ping_interval=None, close_timeout=2) as conn:
        conn.send(json.dumps({"type": "subscribe", "topics": ["activity"]}))
        assert json.loads(conn.recv(5))["type"] == "subscribed"
        yield conn


def closed_code_within(conn: ClientConnection, seconds: float) -> int | None:
    """Read until the server closes (its close code) or ``seconds`` pass (None)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn.recv(max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
    return None


def test_revoking_a_token_closes_its_open_socket(server, admin):
    user = server.ctx.tokens.issue("default", "user", label="watcher")
    with open_ws(server, server.admin_token) as kept, open_ws(server, user) as doomed:
        token_id = next(t["id"] for t in admin.get("/v1/auth/tokens").json()["data"] if t["label"] == "watcher")
        assert admin.delete(f"/v1/auth/tokens/{token_id}").status_code == 200
        started = time.monotonic()
        assert closed_code_within(doomed, CLOSE_WITHIN) == 4401
        assert time.monotonic() - started < CLOSE_WITHIN
        assert doomed.close_reason == "token revoked"
        kept.send(json.dumps({"type": "ping"}))  # another token's socket stays open
        assert json.loads(kept.recv(5)) == {"type": "pong"}


def test_the_end_of_a_rotation_grace_closes_the_old_tokens_socket(server, admin):
    with open_ws(server, server.admin_token) as old:
        r = admin.post("/v1/auth/rotate", json={"grace_seconds": 1})
        assert r.status_code == 201
        code = closed_code_within(old, 1 + CLOSE_WITHIN)
        assert code == 4401
