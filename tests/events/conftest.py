"""Fixtures: a real server (waitress + /ws hand-off) on an ephemeral port and a tiny Falcon app."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import falcon
import pytest

from qorven_local.errors import ForbiddenHost, ForbiddenOrigin, Unauthorized
from qorven_local.events.hub import Hub
from qorven_local.events.ws import WebSocketGateway, WSLimits
from qorven_local.security.access import subprotocol_token
from qorven_local.server import Server

TOKENS = {"tok-a": "tenant_a", "tok-b": "tenant_b"}


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    token_id: str | None = None


def authorize(headers, path):
    """What the lead's shared authorize() does, in miniature: Host, Origin, then the token."""
    host = headers.get("host", "").rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost"):
        raise ForbiddenHost()
    origin = headers.get("origin")
    if origin is not None and origin.rsplit(":", 1)[0] not in ("http://127.0.0.1",
                                                                "http://localhost"):
        raise ForbiddenOrigin()
    auth = headers.get("authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else subprotocol_token(
        headers.get("sec-websocket-protocol"))
    if token not in TOKENS:
        raise Unauthorized()
    return Principal(TOKENS[token])


class Health:
    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Echo:
    def on_post(self, req, resp):
        resp.media = {"echo": req.get_media()}


class Stream:
    """SSE of the tenant_a events on ?topic=, ending after ?n= events (an in-process consumer)."""

    def __init__(self, hub):
        self.hub = hub

    def on_get(self, req, resp):
        n = req.get_param_as_int("n", default=10)
        sub = self.hub.subscribe("tenant_a", topics=[req.get_param("topic", default="activity")])

        def events():
            sent = 0
            yield b": ready\n\n"
            try:
                while sent < n and not sub.closed:
                    for ev in sub.wait(0.5):
                        yield f"data: {json.dumps(ev)}\n\n".encode()
                        sent += 1
            finally:
                sub.close()

        resp.content_type = "text/event-stream"
        resp.stream = events()


class WsFallback:
    def on_get(self, req, resp):
        resp.status = 426
        resp.media = {"error": {"code": "upgrade_required"}}


def make_app(hub):
    app = falcon.App()
    app.add_route("/health", Health())
    app.add_route("/echo", Echo())
    app.add_route("/sse", Stream(hub))
    app.add_route("/ws", WsFallback())
    return app


@dataclass
class Live:
    server: Server
    hub: Hub
    gateway: WebSocketGateway

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.server.port}/ws"


FAST = WSLimits(ping_interval=30, ping_timeout=30, send_timeout=5, close_timeout=2)


@pytest.fixture
def make_live():
    """Factory: start a server with the given WSLimits; stopped (and checked) at teardown."""
    started = []

    def make(limits=FAST, threads=8, **kw):
        hub = Hub()
        gateway = WebSocketGateway(hub, authorize, limits=limits)
        server = Server(make_app(hub), port=0, threads=threads, ws=gateway, **kw).start()
        started.append(server)
        return Live(server, hub, gateway)

    yield make
    for server in started:
        assert server.stop(timeout=5), "server did not stop cleanly"


@pytest.fixture
def live(make_live):
    return make_live()


def our_threads():
    """Threads the server side starts (waitress workers, loop, ws sessions)."""
    return [t for t in threading.enumerate()
            if t.name.startswith(("waitress-", "qorven-"))]
