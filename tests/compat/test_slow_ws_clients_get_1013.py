"""A ``/ws`` client that stops reading while events flood is dropped with close code 1013. It used to
see the connection just end: the 1013 frame sat behind the backlog it had not read and was thrown
away at the close deadline. Here a raw client reads nothing until that deadline has passed."""

from __future__ import annotations

import json
import time

from qorven_local.events.ws import WSLimits
from tests.events.conftest import make_live  # noqa: F401  (the fixture: a real Server + gateway)
from tests.events.wsclient import open_socket, read_until_eof, recv_frames, send_text, upgrade_request
from tests.events.wsclient import read_response
from tests.support.wait import wait_until

LIMITS = WSLimits(max_queue=16, max_out_bytes=16 * 1024, send_timeout=10, close_timeout=0.2,
                  ping_interval=60, ping_timeout=60)


def test_a_client_that_stops_reading_gets_1013_when_it_reads_again(make_live):  # noqa: F811
    live = make_live(LIMITS)
    sock = open_socket(live.server.port, rcvbuf=4096)  # a small window: the backlog reaches the server fast
    try:
        proto, request = upgrade_request(live.server.port)
        sock.sendall(request)
        assert read_response(sock, proto).status_code == 101
        send_text(sock, proto, json.dumps({"type": "subscribe", "topics": ["session:s1"]}))
        assert json.loads(recv_frames(sock, proto)[0].data)["type"] == "subscribed"
        pad = "x" * 8000
        # small batches the session keeps up with until the socket is full: then its own buffer
        # fills, it stops draining, the hub queue overflows, and the 1013 frame queues behind that
        for n in range(20_000):  # bounded: some MB fill the kernel buffers
            if live.gateway.stats()["closed_slow"]:
                break
            for i in range(4):
                live.hub.publish("tenant_a", "session:s1", "message.delta", {"i": n * 4 + i, "pad": pad})
            time.sleep(0.001)
        assert live.gateway.stats()["closed_slow"] == 1
        time.sleep(3 * LIMITS.close_timeout)  # past the close deadline, before reading again
        read_until_eof(sock, proto, timeout=10)
        assert proto.close_rcvd is not None, "the connection ended without a close frame"
        assert proto.close_rcvd.code == 1013 and proto.close_rcvd.reason == "client too slow"
    finally:
        sock.close()
    wait_until(lambda: live.gateway.active_sessions == 0)
