"""The waitress seam: hand-off edge cases, HTTP and SSE beside /ws, and a clean stop.

These pin the waitress internals server.py relies on (waitress>=3.0.2,<3.1); keep them in CI.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from websockets.sync.client import connect

from qorven_local.events.hub import Hub
from qorven_local.events.ws import WebSocketGateway, WSLimits
from qorven_local.server import Server

from tests.support.wait import wait_until

from .conftest import FAST, authorize, make_app, our_threads
from .wsclient import (http_exchange, open_socket, read_response, read_until_eof, recv_frames,
                       reset, send_text, upgrade_request)

AUTH_A = {"Authorization": "Bearer tok-a"}


def get(port, path, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def subscribed_over_raw(sock, proto, topic="activity"):
    send_text(sock, proto, json.dumps({"type": "subscribe", "topics": [topic]}))
    frames = recv_frames(sock, proto)
    assert json.loads(frames[0].data) == {"type": "subscribed", "topics": [topic]}


def test_binds_loopback_and_reports_the_ephemeral_port(live):
    assert live.server.host == "127.0.0.1"
    assert live.server.port > 0
    assert live.server.url == f"http://127.0.0.1:{live.server.port}"
    assert get(live.server.port, "/health") == (200, b'{"status": "ok"}')


def test_a_handshake_split_across_many_sends_is_handed_off(live):
    port = live.server.port
    sock = open_socket(port)
    proto, raw = upgrade_request(port)
    # one byte, then the rest of "GET /", then ragged pieces, with pauses so they arrive apart
    pieces = [raw[:1], raw[1:5], raw[5:9], raw[9:40], raw[40:-3], raw[-3:]]
    for piece in pieces:
        sock.sendall(piece)
        time.sleep(0.02)
    assert read_response(sock, proto).status_code == 101
    subscribed_over_raw(sock, proto)
    sock.close()


def test_keep_alive_requests_then_an_upgrade_on_the_same_connection(live):
    port = live.server.port
    sock = open_socket(port)
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    assert http_exchange(sock, b"GET /health HTTP/1.1\r\n" + host + b"\r\n") == (
        200, b'{"status": "ok"}')
    body = b'{"a": 1}'
    status, reply = http_exchange(sock, b"POST /echo HTTP/1.1\r\n" + host +
                                  b"Content-Type: application/json\r\nContent-Length: "
                                  + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert (status, json.loads(reply)) == (200, {"echo": {"a": 1}})
    proto, raw = upgrade_request(port)
    sock.sendall(raw)
    assert read_response(sock, proto).status_code == 101
    subscribed_over_raw(sock, proto, "session:s1")
    live.hub.publish("tenant_a", "session:s1", "message.created", {"ok": 1})
    assert json.loads(recv_frames(sock, proto)[0].data)["data"] == {"ok": 1}
    sock.close()


def test_a_plain_get_of_ws_without_upgrade_stays_with_the_app(live):
    status, body = get(live.server.port, "/ws")
    assert status == 426 and json.loads(body)["error"]["code"] == "upgrade_required"
    assert live.gateway.stats()["accepted"] == 0


def test_without_a_gateway_upgrades_go_to_the_app():
    server = Server(make_app(Hub())).start()
    try:
        sock = open_socket(server.port)
        proto, raw = upgrade_request(server.port)
        sock.sendall(raw)
        assert read_response(sock, proto).status_code == 426
        sock.close()
    finally:
        assert server.stop()


def test_a_storm_of_reset_connections_leaves_the_server_healthy(live, caplog):
    caplog.set_level(logging.ERROR)
    port = live.server.port
    _, raw = upgrade_request(port)
    plain = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for i in range(150):
        sock = open_socket(port)
        kind = i % 5
        if kind == 0:
            sock.sendall(raw)            # a whole upgrade head, then RST at once
        elif kind == 1:
            sock.sendall(raw[:30])       # half a head
        elif kind == 2:
            sock.sendall(plain)          # a plain request
        elif kind == 3:
            sock.sendall(raw)            # upgraded, then RST while the session runs
            sock.recv(1)
        reset(sock)                      # kind 4: connect and RST with nothing sent
    wait_until(lambda: live.gateway.active_sessions == 0)
    assert get(port, "/health")[0] == 200
    with connect(live.ws_url, additional_headers=AUTH_A, open_timeout=5,
                 close_timeout=2) as conn:
        conn.send('{"type":"ping"}')
        assert json.loads(conn.recv(5)) == {"type": "pong"}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def test_http_keeps_answering_while_websockets_are_busy(make_live):
    live = make_live(threads=4)
    with ExitStack() as stack:
        # max_queue=None: the clients read everything at once, so none is dropped as slow
        clients = [stack.enter_context(connect(live.ws_url, additional_headers=AUTH_A,
                                               open_timeout=5, close_timeout=2,
                                               ping_interval=None, max_queue=None))
                   for _ in range(100)]
        for c in clients[:20]:
            c.send('{"type":"subscribe","topics":["activity"]}')
            c.recv(5)
        stop = threading.Event()

        def flood():
            for i in range(3000):
                if stop.is_set():
                    return
                live.hub.publish("tenant_a", "agent:a1", "agent.status", {"i": i})
                if i % 50 == 49:
                    time.sleep(0.002)

        publisher = threading.Thread(target=flood)
        publisher.start()
        try:
            worst = 0.0
            for _ in range(20):
                start = time.monotonic()
                assert get(live.server.port, "/health")[0] == 200
                worst = max(worst, time.monotonic() - start)
            assert worst < 3.0, worst  # ~10 ms on a quiet machine; 5 s timeouts if starved
        finally:
            stop.set()
            publisher.join()
        assert live.gateway.active_sessions == 100


def test_sse_streams_through_the_same_server_alongside_ws(live):
    port = live.server.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/sse?topic=session:s1&n=50")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    assert response.readline() == b": ready\n"
    with connect(live.ws_url, additional_headers=AUTH_A, open_timeout=5,
                 close_timeout=2) as ws:
        ws.send('{"type":"subscribe","topics":["session:s1"]}')
        ws.recv(5)
        for i in range(50):
            live.hub.publish("tenant_a", "session:s1", "message.delta", {"i": i})
        sse = []
        while len(sse) < 50:
            line = response.readline()
            assert line, "stream ended early"
            if line.startswith(b"data: "):
                sse.append(json.loads(line[6:])["data"]["i"])
        assert sse == list(range(50))
        assert [json.loads(ws.recv(5))["data"]["i"] for _ in range(50)] == list(range(50))
    conn.close()


def test_stop_ends_streams_sessions_and_keep_alive_connections_leaving_no_threads(caplog):
    caplog.set_level(logging.WARNING)
    assert our_threads() == []
    hub = Hub()
    gateway = WebSocketGateway(hub, authorize, limits=FAST)
    server = Server(make_app(hub), ws=gateway, threads=4).start()
    port = server.port
    idle = open_socket(port)
    assert http_exchange(idle, f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                         .encode())[0] == 200
    stream = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    stream.request("GET", "/sse?n=1000000")
    sse = stream.getresponse()
    assert sse.readline() == b": ready\n"
    sessions = [connect(f"ws://127.0.0.1:{port}/ws", additional_headers=AUTH_A,
                        close_timeout=2).__enter__() for _ in range(5)]
    start = time.monotonic()
    assert server.stop(timeout=5)
    assert time.monotonic() - start < 3
    assert sse.read() == b"\n"          # the rest of ": ready", then the end (no hang)
    assert idle.recv(10) == b""         # idle keep-alive connection closed
    for s in sessions:
        s.__exit__(None, None, None)
        assert s.close_code == 1001
    wait_until(lambda: our_threads() == [], timeout=3)
    for sock in (idle,):
        sock.close()
    stream.close()
    # waitress's "Task queue depth" note is left out: a connection may hand waitress one more task
    # while its threads are stopping, which shutdown(cancel_pending=True) then drops unserved
    problems = [r.getMessage() for r in caplog.records
                if r.levelno >= logging.WARNING and r.name != "waitress.queue"]
    assert problems == []  # e.g. EBADF from a task finishing after the trigger closed
    refused = socket.socket()
    try:
        assert refused.connect_ex(("127.0.0.1", port)) != 0
    finally:
        refused.close()


def test_run_until_signal_stops_cleanly_on_sigterm(tmp_path):
    script = tmp_path / "serve.py"
    script.write_text(
        "import sys\n"
        "from tests.events.conftest import make_app, authorize, FAST\n"
        "from qorven_local.events.hub import Hub\n"
        "from qorven_local.events.ws import WebSocketGateway\n"
        "from qorven_local.server import Server\n"
        "hub = Hub()\n"
        "server = Server(make_app(hub), ws=WebSocketGateway(hub, authorize, limits=FAST))\n"
        "print(server.port, flush=True)\n"
        "ok = server.run_until_signal()\n"
        "print('stopped', ok, flush=True)\n")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, str(script)], cwd=root, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        port = int(proc.stdout.readline())
        assert get(port, "/health")[0] == 200
        with connect(f"ws://127.0.0.1:{port}/ws", additional_headers=AUTH_A,
                     close_timeout=2) as ws:
            ws.send('{"type":"ping"}')
            ws.recv(5)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
            assert ws.close_code is None or ws.close_code == 1001
        assert proc.returncode == 0
        assert out.strip() == "stopped True"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stop_cuts_off_a_client_that_ignores_the_close_at_the_deadline():
    hub = Hub()
    limits = WSLimits(close_timeout=0.5, ping_interval=30, ping_timeout=30)
    server = Server(make_app(hub), ws=WebSocketGateway(hub, authorize, limits=limits)).start()
    sock = open_socket(server.port)
    proto, raw = upgrade_request(server.port)
    sock.sendall(raw)
    assert read_response(sock, proto).status_code == 101
    start = time.monotonic()
    assert server.stop(timeout=5)       # the silent client never answers the 1001
    assert time.monotonic() - start < 2.5
    assert read_until_eof(sock, proto) == 1001
    sock.close()
    wait_until(lambda: our_threads() == [], timeout=3)
