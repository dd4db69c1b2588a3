"""The whole stack for tools, rooms and delegation tests: a real server wired to the fake provider.

Tests script the fake (``enqueue``) or route its answers by the asking agent (``answer_by_agent``),
and assert on what it received (``agent_requests``).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.chat.conftest import configure
from tests.fakes import FakeProvider, Reply
from tests.fakes.fake_provider import echo_last_user
from tests.support.servers import InProcessServer
from tests.support.upstream import UPSTREAM_KEY as KEY


@contextmanager
def agent_stack(home: Path, settings: dict[str, Any] | None = None) -> Iterator[tuple[InProcessServer, FakeProvider]]:
    """A fake provider and an in-process server whose default model is the fake's."""
    with FakeProvider(api_key=KEY) as fake, InProcessServer(home, settings) as server:
        with server.client() as api:
            configure(api, fake)
            # prime learns from each exchange with a background model call; scripted tests cannot allow
            # an extra request at an unknown moment
            prime_id = next(a["id"] for a in api.get("/v1/agents").json()["data"] if a["name"] == "prime")
            prime = api.patch(f"/v1/agents/{prime_id}", json={"memory": {"auto_save": False}})
            assert prime.status_code == 200, prime.text
        yield server, fake


# Fixtures over a ``stack`` fixture (server, fake) that each test package defines; import them into conftest.

@pytest.fixture
def server(stack):
    return stack[0]


@pytest.fixture
def fake(stack):
    """The stack's fake with an empty script and log, echoing unless a test routes its answers."""
    fake = stack[1]
    fake.reset()
    fake.default_reply = echo_last_user
    yield fake
    fake.reset()


@pytest.fixture
def api(server):
    with server.client() as client:
        yield client


def system_text(body: dict[str, Any]) -> str:
    return "\n".join(m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "system")


def last_user_text(body: dict[str, Any]) -> str:
    return next((m.get("content") or "" for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")


def agent_requests(fake: FakeProvider, name: str) -> list[dict[str, Any]]:
    """The chat request bodies the fake received from the agent whose instructions start 'You are <name>'."""
    return [r.body for r in fake.chat_requests() if system_text(r.body).startswith(f"You are {name}")]


def answer_by_agent(fake: FakeProvider, answers: dict[str, Callable[[dict[str, Any]], Reply] | str]) -> None:
    """Answer each request by the asking agent's name (its instructions start 'You are <name>')."""
    def route(body: dict[str, Any]) -> Reply:
        system = system_text(body)
        for name, answer in answers.items():
            if system.startswith(f"You are {name}"):
                return answer(body) if callable(answer) else Reply.text(answer)
        return Reply.text("(unscripted)")
    fake.default_reply = route


class LocalSite:
    """A tiny HTTP server on 127.0.0.1 that counts hits: /page (HTML) and /redirect?to=<url>."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                site.hits.append(self.path)
                url = urlsplit(self.path)
                if url.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", parse_qs(url.query)["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b"<html><head><title>T</title></head><body><h1>Hello from the site</h1></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def sse(response) -> list[tuple[str, Any]]:
    """(event name, parsed data) of each SSE event of a streamed httpx response ([DONE] as a string)."""
    from tests.chat.conftest import sse_events

    out = []
    for name, data in sse_events(response.iter_lines()):
        if name == "comment":
            continue
        out.append((name, data if data == "[DONE]" else json.loads(data)))
    return out
