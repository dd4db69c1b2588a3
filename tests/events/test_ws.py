"""/ws end to end: auth before the upgrade, messages, tenant isolation, runtime duties."""

from __future__ import annotations

import json
import threading
from contextlib import ExitStack

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from qorven_local.events.hub import Hub
from qorven_local.events.ws import WebSocketGateway, WSLimits
from qorven_local.security.access import subprotocol_token
from qorven_local.server import Server

from tests.support.wait import wait_until

from .conftest import FAST, authorize, make_app
from .wsclient import open_socket, read_response, read_until_eof, upgrade_request

AUTH_A = {"Authorization": "Bearer tok-a"}
AUTH_B = {"Authorization": "Bearer tok-b"}


def ws(live, headers=AUTH_A, **kw):
    kw.setdefault("open_timeout", 5)
    kw.setdefault("ping_interval", None)
    kw.setdefault("close_timeout", 2)
    return connect(live.ws_url, additional_headers=headers, **kw)


def subscribe(conn, *topics):
    conn.send(json.dumps({"type": "subscribe", "topics": list(topics)}))
    assert json.loads(conn.recv(5)) == {"type": "subscribed", "topics": list(topics)}


def recv_events(conn, n, timeout=5):
    return [json.loads(conn.recv(timeout)) for _ in range(n)]


def assert_envelope(exc, status, code):
    response = exc.value.response
    assert response.status_code == status
    body = json.loads(bytes(response.body))
    assert body["error"]["code"] == code
    assert body["error"]["param"] is None
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    assert set(body["error"]) == {"code", "message", "type", "param", "request_id"}


def test_missing_or_unknown_token_is_refused_401_before_the_upgrade(live):
    for headers in ({}, {"Authorization": "Bearer nope"}):
        with pytest.raises(InvalidStatus) as exc:
            ws(live, headers)
        assert_envelope(exc, 401, "unauthorized")
    assert live.gateway.stats()["accepted"] == 0


def test_foreign_origin_and_host_are_refused_403(live):
    with pytest.raises(InvalidStatus) as exc:
        ws(live, {**AUTH_A, "Origin": "http://evil.example"})
    assert_envelope(exc, 403, "forbidden_origin")

    sock = open_socket(live.server.port)
    proto, raw = upgrade_request(live.server.port)
    raw = raw.replace(f"Host: 127.0.0.1:{live.server.port}".encode(), b"Host: evil.example")
    sock.sendall(raw)
    response = read_response(sock, proto)
    assert response.status_code == 403
    assert json.loads(response.body)["error"]["code"] == "forbidden_host"
    sock.close()


def test_subprotocol_token_is_accepted_and_only_qorven_v1_is_echoed(live):
    with ws(live, {}, subprotocols=["qorven.v1", "token.tok-a"]) as conn:
        assert conn.subprotocol == "qorven.v1"
        assert conn.response.headers["Sec-WebSocket-Protocol"] == "qorven.v1"
        subscribe(conn, "activity")


def test_subprotocol_token():
    assert subprotocol_token("qorven.v1, token.abc_DEF-1") == "abc_DEF-1"
    assert subprotocol_token("qorven.v1") is None
    assert subprotocol_token(None) is None
    assert subprotocol_token("token.") is None


def test_subscribed_events_arrive_in_order_with_increasing_seq(live):
    with ws(live) as conn:
        subscribe(conn, "session:s1")
        for i in range(100):
            live.hub.publish("tenant_a", "session:s1", "message.delta", {"i": i})
        events = recv_events(conn, 100)
        assert [e["data"]["i"] for e in events] == list(range(100))
        assert [e["seq"] for e in events] == list(range(1, 101))
        assert {e["type"] for e in events} == {"event"}
        conn.send(json.dumps({"type": "unsubscribe", "topics": ["session:s1"]}))
        assert json.loads(conn.recv(5)) == {"type": "unsubscribed", "topics": ["session:s1"]}
        live.hub.publish("tenant_a", "session:s1", "message.delta", {"i": "late"})
        conn.send('{"type":"ping"}')
        assert json.loads(conn.recv(5)) == {"type": "pong"}


def test_another_tenant_on_the_same_topic_gets_nothing(live):
    with ws(live, AUTH_A) as a, ws(live, AUTH_B) as b:
        subscribe(a, "session:s1", "activity")
        subscribe(b, "session:s1", "activity")
        for i in range(5):
            live.hub.publish("tenant_a", "session:s1", "message.created", {"i": i})
        live.hub.publish("tenant_b", "session:s1", "message.created", {"marker": True})
        assert json.loads(b.recv(5))["data"] == {"marker": True}
        assert [e["data"]["i"] for e in recv_events(a, 5)] == list(range(5))


@pytest.mark.parametrize("message, param", [
    ("not json", None),
    ("[1, 2]", None),
    ('{"type": "dance"}', "type"),
    ('{"type": "subscribe"}', "topics"),
    ('{"type": "subscribe", "topics": ["other:1"]}', "topics"),
    ('{"type": "subscribe", "topics": [{"a": 1}]}', "topics"),
])
def test_bad_messages_answer_a_validation_error_and_keep_the_connection(live, message, param):
    with ws(live) as conn:
        conn.send(message)
        reply = json.loads(conn.recv(5))
        assert reply["type"] == "error" and reply["code"] == "validation_error", reply
        assert reply["message"]
        conn.send(b"\x00binary")
        assert json.loads(conn.recv(5))["code"] == "validation_error"
        conn.send('{"type":"ping"}')
        assert json.loads(conn.recv(5)) == {"type": "pong"}


def test_fifty_clients_each_receive_every_event_in_order(make_live):
    live = make_live(threads=4)
    with ExitStack() as stack:
        clients = [stack.enter_context(ws(live)) for _ in range(50)]
        for c in clients:
            subscribe(c, "room:r1")
        for i in range(200):
            live.hub.publish("tenant_a", "room:r1", "room.message", {"i": i})
        for c in clients:
            events = recv_events(c, 200)
            assert [e["data"]["i"] for e in events] == list(range(200))
            assert events[-1]["seq"] == 200
    wait_until(lambda: live.gateway.active_sessions == 0)


def test_a_client_that_never_reads_is_dropped_with_1013_while_others_keep_receiving(make_live):
    live = make_live(WSLimits(max_queue=32, max_out_bytes=32 * 1024, send_timeout=10,
                              close_timeout=10, ping_interval=60, ping_timeout=60))
    # A small receive window and a 4-frame client queue make the backlog reach the server fast.
    stack = ExitStack()
    slow = stack.enter_context(ws(live, sock=open_socket(live.server.port, rcvbuf=4096),
                                  max_queue=4))
    subscribe(slow, "session:s1")
    good = stack.enter_context(ws(live))
    subscribe(good, "session:s1")
    got = []

    def read_good():
        try:
            while True:
                got.append(json.loads(good.recv(10)))
        except (ConnectionClosed, TimeoutError):
            pass

    reader = threading.Thread(target=read_good)
    reader.start()
    payload = "x" * 8000
    published = 0
    try:
        # Publish in small batches the good client keeps up with, until the slow one is dropped.
        deadline_batches = 3000
        while live.gateway.stats()["closed_slow"] == 0 and deadline_batches:
            for _ in range(16):
                live.hub.publish("tenant_a", "session:s1", "message.delta",
                                 {"i": published, "pad": payload})
                published += 1
            wait_until(lambda: len(got) >= published, interval=0.002)
            deadline_batches -= 1
        assert live.gateway.stats()["closed_slow"] == 1
        for _ in range(10):
            live.hub.publish("tenant_a", "session:s1", "message.delta",
                             {"i": published, "pad": ""})
            published += 1
        wait_until(lambda: len(got) >= published)
        assert [e["data"]["i"] for e in got] == list(range(published))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                slow.recv(10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    finally:
        stack.close()
        reader.join(10)
    assert live.gateway.stats()["closed_slow"] == 1


def test_a_stalled_reader_is_cut_off_after_the_send_timeout(make_live):
    # A queue too deep to overflow: only the send timeout can free this session.
    live = make_live(WSLimits(max_queue=100_000, send_timeout=0.5, ping_interval=60,
                              ping_timeout=60))
    with ws(live, sock=open_socket(live.server.port, rcvbuf=4096), max_queue=4,
            close_timeout=0.3) as stalled:
        subscribe(stalled, "session:s1")
        pad = "x" * 8000
        for i in range(1000):  # ~8 MB: more than the kernel buffers take
            live.hub.publish("tenant_a", "session:s1", "message.delta", {"i": i, "pad": pad})
        wait_until(lambda: live.gateway.stats()["send_timeouts"] == 1)
        wait_until(lambda: live.gateway.active_sessions == 0)
    assert live.gateway.stats()["closed_slow"] == 0


def test_pings_keep_a_responsive_client_and_drop_a_silent_one_with_1011(make_live):
    live = make_live(WSLimits(ping_interval=0.1, ping_timeout=1.0))
    port = live.server.port
    with ws(live) as alive:  # websockets answers pings on its own thread
        silent = open_socket(port)
        proto, raw = upgrade_request(port)
        silent.sendall(raw)
        assert read_response(silent, proto).status_code == 101
        # the silent client never sends its pongs
        assert read_until_eof(silent, proto, timeout=5) == 1011
        silent.close()
        alive.send('{"type":"ping"}')
        assert json.loads(alive.recv(5)) == {"type": "pong"}
    assert live.gateway.stats()["closed_no_pong"] == 1


def test_sessions_past_the_cap_are_refused_503(make_live):
    live = make_live(WSLimits(max_sessions=2))
    with ws(live), ws(live):
        with pytest.raises(InvalidStatus) as exc:
            ws(live)
        assert_envelope(exc, 503, "too_many_connections")
        assert exc.value.response.headers["Retry-After"] == "1"
    wait_until(lambda: live.gateway.active_sessions == 0)
    with ws(live):
        pass


def test_stop_closes_sessions_with_1001():
    hub = Hub()
    gateway = WebSocketGateway(hub, authorize, limits=FAST)
    server = Server(make_app(hub), ws=gateway).start()
    with connect(f"ws://127.0.0.1:{server.port}/ws", additional_headers=AUTH_A,
                 close_timeout=2) as conn:
        subscribe(conn, "activity")
        assert server.stop(timeout=5)
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(5)
    assert closed.value.rcvd.code == 1001
    assert gateway.active_sessions == 0


def test_a_malformed_upgrade_is_answered_with_the_envelope_not_a_traceback(live):
    sock = open_socket(live.server.port)
    sock.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{live.server.port}\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nAuthorization: Bearer tok-a\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n".encode())  # no Sec-WebSocket-Key
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    error = json.loads(body)["error"]
    assert error["code"] == "validation_error" and "Sec-WebSocket-Key" in error["message"]
