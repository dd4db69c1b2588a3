"""A tiny real HTTP server on 127.0.0.1 standing in for a channel's API (Telegram Bot API, Slack Web API, ...)."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator


@dataclass
class Call:
    """One request the fake received (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeChannelAPI:
    """Records each POST and answers it as the test set it up.

    The status and extra headers come from ``script`` (one ``(status, headers)`` per request, in
    order) while it lasts, then from ``status`` and ``extra_headers``. The body is ``reply``, or when
    that is None a Telegram-style ``{"ok": <status < 300>, "result": {"message_id": <n>}}``.
    """

    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    status: int = 200
    extra_headers: dict[str, str] = field(default_factory=dict)
    reply: Any = None
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def requests(self) -> list[Call]:
        """The calls so far (the name the channel adapters' tests use)."""
        return self.calls

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Call]:
        """The calls once at least ``n`` arrived; fail the test after ``timeout`` seconds."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.calls) >= n, timeout):
                raise AssertionError(f"expected {n} calls to the fake API, got {len(self.calls)}")
            return list(self.calls)

    def answer(self, call: Call) -> tuple[int, dict[str, str], bytes]:
        """Record ``call`` and return the (status, headers, body) to answer it with."""
        with self.arrived:
            status, headers = self.script.pop(0) if self.script else (self.status, self.extra_headers)
            self.calls.append(call)
            reply = self.reply if self.reply is not None else {"ok": status < 300,
                                                               "result": {"message_id": len(self.calls)}}
            self.arrived.notify_all()
        return status, headers, json.dumps(reply).encode()


@contextmanager
def running_fake_channel_api(**settings: Any) -> Iterator[FakeChannelAPI]:
    """Serve a ``FakeChannelAPI(**settings)`` on an ephemeral loopback port until the block ends."""
    api = FakeChannelAPI(**settings)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            call = Call("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            status, headers, payload = api.answer(call)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:  # keep test output quiet
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
