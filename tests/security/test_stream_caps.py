"""Finding 7: one tenant's concurrent streams are capped, so they cannot take every worker thread."""

from __future__ import annotations

import contextlib

from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream
from tests.support.wait import wait_until

CAP = 3
BODY = {"model": "fake/fake-model", "messages": [{"role": "user", "content": "go on forever"}], "stream": True}


def open_stream(stack: contextlib.ExitStack, srv: InProcessServer):
    """An OpenAI-form proxy stream held open by the fake upstream (one unit, then it stalls)."""
    api = stack.enter_context(srv.client())
    response = stack.enter_context(api.stream("POST", "/v1/chat/completions", json=BODY))
    assert response.status_code == 200, response.read()
    frames = response.iter_bytes()
    next(frames)  # the first frame: the stream is really open
    # kept: a dropped iterator is closed when collected, which closes the connection, and the server
    # (which reads a busy connection, so it sees a client leave) would free the slot
    response.extensions["frames"] = frames
    return response


def test_the_stream_past_the_tenant_cap_gets_429_while_health_and_other_tenants_answer(tmp_path, fake):
    with InProcessServer(tmp_path / "h", {"max_streams_per_tenant": str(CAP), "threads": "8",
                                             "sse_ping_seconds": "0.2"}) as srv:
        other = srv.ctx.tokens.issue("tenant-b", "admin", label="b")
        with srv.client() as api, srv.client(token=other) as b, contextlib.ExitStack() as stack:
            configure_upstream(api, fake)
            fake.enqueue(*[Reply.hang(after=1) for _ in range(CAP + 2)])
            streams = [open_stream(stack, srv) for _ in range(CAP)]

            refused = api.post("/v1/chat/completions", json=BODY, timeout=5)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["Retry-After"]) >= 1
            plain = api.post("/v1/chat/completions", json={**BODY, "stream": False}, timeout=5)
            assert plain.status_code == 429  # a proxied call holds a thread just the same

            assert api.get("/health", timeout=5).status_code == 200
            assert b.get("/v1/agents", timeout=5).status_code == 200

            streams[0].close()  # a stream that ends gives its slot back (seen at the next ping's write)
            wait_until(lambda: srv.ctx.limiter.streams.held("default") < CAP, message="slot not released")
            open_stream(stack, srv)
