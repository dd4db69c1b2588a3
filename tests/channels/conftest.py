"""A tiny real HTTP server on 127.0.0.1 standing in for every channel's API."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class FakeChannelAPI:
    """Records each request; answers ``status`` with ``reply`` (a JSON-able value)."""

    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    status: int = 200
    reply: object = field(default_factory=lambda: {"ok": True})
    extra_headers: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def fake_api():
    api = FakeChannelAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            api.requests.append(Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            payload = json.dumps(api.reply).encode()
            self.send_response(api.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in api.extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http():
    with httpx.Client(timeout=5) as client:
        yield client
