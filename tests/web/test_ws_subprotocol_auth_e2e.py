"""/ws authentication through the subprotocol pair on the product's Runtime (real tokens)."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def ws(server, subprotocols):
    return connect(f"ws://127.0.0.1:{server.port}/ws", subprotocols=subprotocols, open_timeout=5,
                   ping_interval=None, close_timeout=2)


def test_an_empty_subprotocol_token_is_no_token_and_answers_401(server):
    with pytest.raises(InvalidStatus) as exc:
        ws(server, ["qorven.v1", "token."])
    response = exc.value.response
    assert response.status_code == 401
    body = json.loads(bytes(response.body))
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["request_id"] == response.headers["x-request-id"]


def test_the_admin_token_in_the_subprotocol_pair_opens_the_socket(server):
    with ws(server, ["qorven.v1", f"token.{server.admin_token}"]) as conn:
        assert conn.subprotocol == "qorven.v1"
        conn.send(json.dumps({"type": "ping"}))
        assert json.loads(conn.recv(5)) == {"type": "pong"}
