"""Finding 7: /ws sockets are capped per tenant, and handshakes are rate-limited per client IP."""

from __future__ import annotations

import contextlib
import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.servers import InProcessServer
from tests.support.wait import wait_until


def ws(srv: InProcessServer, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return connect(f"ws://127.0.0.1:{srv.port}/ws", additional_headers=headers, open_timeout=5,
                   ping_interval=None, close_timeout=2)


def refusal(srv: InProcessServer, token: str | None):
    with pytest.raises(InvalidStatus) as exc:
        ws(srv, token).close()
    response = exc.value.response
    return response, json.loads(bytes(response.body))


def test_the_socket_past_the_tenant_cap_is_refused_with_503_and_other_tenants_still_connect(tmp_path):
    with InProcessServer(tmp_path / "h", {"max_sockets_per_tenant": "2"}) as srv:
        other = srv.ctx.tokens.issue("tenant-b", "admin", label="b")
        with contextlib.ExitStack() as stack:
            held = [stack.enter_context(ws(srv, srv.admin_token)) for _ in range(2)]
            response, body = refusal(srv, srv.admin_token)
            assert response.status_code == 503
            assert body["error"]["code"] == "too_many_connections"
            assert int(response.headers["Retry-After"]) >= 1
            with ws(srv, other) as b:  # the cap is per tenant, not for everyone
                b.send(json.dumps({"type": "ping"}))
                assert json.loads(b.recv(5)) == {"type": "pong"}
            held[0].close()  # a socket that closes gives its place back
            wait_until(lambda: srv.runtime.server is not None and srv.runtime.server.ws is not None
                       and srv.runtime.server.ws.active_sessions <= 1, message="session not forgotten")
            stack.enter_context(ws(srv, srv.admin_token))


def test_a_handshake_flood_from_one_ip_gets_429_before_any_token_work(tmp_path):
    with InProcessServer(tmp_path / "h", {"rate_ip_rps": "0.2", "rate_ip_burst": "5"}) as srv:
        codes = [refusal(srv, "qvn_not-a-real-token")[0].status_code for _ in range(5)]
        assert codes == [401] * 5  # refused handshakes count too
        response, body = refusal(srv, srv.admin_token)  # even a good token waits: no token work now
        assert response.status_code == 429
        assert body["error"]["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) >= 1
        with srv.client() as api:  # plain HTTP from the same IP is not held back by the handshakes
            assert api.get("/v1/agents").status_code == 200
