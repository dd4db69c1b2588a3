"""/ws through the product's Runtime with real tokens: chat events, channel events, tenants, load.

The hub and the gateway have seam tests in tests/events/; these check the wiring: what the agent
loop and the webhook pipeline publish reaches the right clients, and only those.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import ExitStack

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.channels_api.conftest import make_binding, sign_webhook
from tests.fakes import Reply
from tests.support.upstream import configure_upstream
from tests.support.wait import wait_until


@pytest.fixture
def live(server, admin, llm):
    """A configured server and a quiet agent (no memory calls), plus helpers."""
    configure_upstream(admin, llm)
    agent = admin.post("/v1/agents", json={"name": "echo", "memory": {"enabled": False, "auto_save": False}})
    assert agent.status_code == 201, agent.text
    session = admin.post("/v1/sessions", json={"agent_id": "echo"}).json()
    return {"agent": agent.json(), "session": session}


def ws(server, token, **kw):
    return connect(f"ws://127.0.0.1:{server.port}/ws", additional_headers={"Authorization": f"Bearer {token}"},
                   open_timeout=10, **kw)


def subscribe(conn, *topics):
    conn.send(json.dumps({"type": "subscribe", "topics": list(topics)}))
    reply = json.loads(conn.recv(10))
    assert reply["type"] == "subscribed", reply


def events_until(conn, event: str, timeout: float = 15.0) -> list[dict]:
    """Every event received up to and including the first ``event``."""
    out, deadline = [], time.monotonic() + timeout
    while True:
        item = json.loads(conn.recv(max(0.1, deadline - time.monotonic())))
        if item.get("type") == "event":
            out.append(item)
            if item["event"] == event:
                return out


def chat(admin, session_id: str, text: str):
    response = admin.post("/v1/chat/completions", json={"agent_id": "echo", "session_id": session_id,
                                                        "message": text, "stream": False})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_session_subscriber_gets_the_deltas_in_order_then_the_completion(server, admin, live, llm):
    other_tenant = server.ctx.tokens.issue("tenant-b", "admin", label="b")
    session_id = live["session"]["id"]
    with ws(server, server.admin_token) as mine, ws(server, other_tenant) as theirs:
        subscribe(mine, f"session:{session_id}", f"agent:{live['agent']['id']}")
        subscribe(theirs, f"session:{session_id}", f"agent:{live['agent']['id']}", "activity")
        llm.enqueue(Reply.text("one two three four five", chunks=5))
        answer = chat(admin, session_id, "count to five")

        events = events_until(mine, "message.completed")
        names = [e["event"] for e in events]
        first_delta = names.index("message.delta")
        assert {"message.created", "agent.status"} <= set(names[:first_delta])
        assert "thinking" in [e["data"].get("status") for e in events[:first_delta] if e["event"] == "agent.status"]
        deltas = [e for e in events if e["event"] == "message.delta"]
        assert "".join(d["data"]["delta"] for d in deltas) == "one two three four five"
        assert len(deltas) == 5 and all(e["topic"] == f"session:{session_id}" for e in deltas)
        completed = events[-1]["data"]
        assert completed["content"] == "one two three four five" and completed["role"] == "assistant"
        assert completed["id"] == answer["qorven"]["message_id"]
        assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + len(events)))
        # another tenant subscribed to the very same ids hears nothing
        with pytest.raises(TimeoutError):
            theirs.recv(0.5)


def test_a_channel_message_is_announced_on_the_agent_and_activity_topics(server, admin, live):
    agent_id = live["agent"]["id"]
    binding = make_binding(admin, "webhook", agent="echo")
    with ws(server, server.admin_token) as by_agent, ws(server, server.admin_token) as feed:
        subscribe(by_agent, f"agent:{agent_id}")
        subscribe(feed, "activity")
        assert sign_webhook(binding).post(admin, binding["id"]).status_code == 200
        for conn in (by_agent, feed):
            inbound = events_until(conn, "channel.inbound")[-1]
            assert inbound["topic"] == f"agent:{agent_id}"
            assert inbound["data"]["binding_id"] == binding["id"] and inbound["data"]["text"] == "hello agent"
            assert inbound["data"]["session_id"] and inbound["data"]["sender"] == "ada"
            assert "secret" not in json.dumps(inbound).lower()


def test_fifty_clients_at_once_all_get_the_run(server, admin, live, llm):
    session_id = live["session"]["id"]
    with ExitStack() as stack:
        clients = [stack.enter_context(ws(server, server.admin_token)) for _ in range(50)]
        for conn in clients:
            subscribe(conn, f"session:{session_id}")
        llm.enqueue(Reply.text("a b c d e f g h", chunks=8))
        chat(admin, session_id, "letters")
        for conn in clients:
            events = events_until(conn, "message.completed")
            assert "".join(e["data"]["delta"] for e in events if e["event"] == "message.delta") == "a b c d e f g h"


def _raw_ws_that_never_reads(port: int, token: str, session_id: str) -> socket.socket:
    """A client with a tiny receive window that subscribes and then never reads again."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    payload = json.dumps({"type": "subscribe", "topics": [f"session:{session_id}"]}).encode()
    mask = b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)  # one masked text frame (< 126 bytes)
    return sock


def test_a_client_that_never_reads_is_dropped_while_others_keep_receiving(server, admin, live, llm):
    session_id = live["session"]["id"]
    slow = _raw_ws_that_never_reads(server.port, server.admin_token, session_id)
    # a fixed time on purpose: this client never reads, so its "subscribed" reply cannot be awaited
    time.sleep(0.2)
    gateway = server.runtime.server.ws
    try:
        with ws(server, server.admin_token, max_size=None) as feed:
            # the other client follows the same runs on the activity feed (no per-token deltas), so
            # what it proves does not depend on how fast a test thread can read 16 MB
            subscribe(feed, "activity")
            # ~16 MB of deltas: well over the kernel buffers, the per-client byte cap and queue together
            pieces, piece = 4000, "x" * 4000
            llm.enqueue(Reply.text(piece * pieces, chunks=pieces))
            chat(admin, session_id, "flood")
            flood = events_until(feed, "message.completed", timeout=60)
            assert flood[-1]["data"]["content"] == piece * pieces

            # dropped rather than stalling the hub: with 1013 once its queue overflowed (a heavily
            # loaded machine may hit the 10 s send timeout first, which drops it too)
            wait_until(lambda: gateway.stats()["closed_slow"] + gateway.stats()["send_timeouts"], timeout=30,
                       interval=0.05, message=lambda: f"the slow client was never dropped: {gateway.stats()}")
            assert gateway.stats()["closed_slow"] + gateway.stats()["send_timeouts"] == 1, gateway.stats()

            llm.enqueue(Reply.text("still here"))
            chat(admin, session_id, "after the flood")
            assert events_until(feed, "message.completed")[-1]["data"]["content"] == "still here"
        # and its socket is closed by the server (the 1013 close frame sits behind the megabytes this
        # client never read, so after the 2 s close deadline the server just closes the connection)
        slow.settimeout(10)
        while slow.recv(1 << 16):
            pass
    finally:
        slow.close()
