"""A fake LLM provider: a real HTTP server on 127.0.0.1 speaking OpenAI's, Anthropic's and Ollama's wire formats.

Tests script it with a queue of ``Reply`` objects; when the queue is empty it echoes the last user
message. Every request is logged for assertions.

    with FakeProvider(api_key="sk-test") as fake:
        fake.enqueue(Reply.text("Hello there", chunks=3, delay=0.01))
        fake.enqueue(Reply.tool_calls([{"name": "get_weather", "arguments": {"city": "Paris"}}]))
        fake.enqueue(Reply.error(429, retry_after=7), Reply.hang(after=2), Reply.text("hi", malformed_after=1))
        ... point a client at fake.base_url (http://127.0.0.1:PORT/v1) ...
        assert fake.requests[-1].body["model"] == "gpt-4o-mini"

Endpoints: ``POST /v1/chat/completions`` (token ``logprobs`` when asked), ``POST /v1/completions``
(legacy text completions), ``POST /v1/messages``,
``POST /v1/embeddings`` (deterministic vectors, float or base64), ``GET /v1/models`` (Anthropic's shape
when the request carries ``anthropic-version`` or ``x-api-key``), ``GET /api/tags``.
Standalone, for benchmarks: ``python -m tests.fakes.fake_provider --port 8099 --tokens 2000``.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

from tests.fakes.wire_formats import (
    AnthropicRenderer, CompletionRenderer, OpenAIRenderer, Renderer, anthropic_models, ollama_model,
    openai_embeddings, openai_models,
)

@dataclass
class Reply:
    """One scripted answer. Build with the class methods; the fault fields combine with any of them.

    Faults count streamed *units* (text pieces and tool-argument pieces): ``hang_after=n`` streams n
    units then stalls; ``malformed_after``/``error_after``/``disconnect_after=n`` stream n units then
    send a broken chunk / an in-stream error event / close the socket.
    """

    content: str = ""
    chunks: int | None = None          # split the text into this many pieces (default: by words)
    delay: float = 0.0                 # seconds to sleep before each streamed unit
    calls: list[dict[str, Any]] = field(default_factory=list)
    arg_chunks: int = 3                # pieces each tool call's arguments are streamed in
    finish_reason: str | None = None   # OpenAI's name; default stop, or tool_calls with calls
    status: int = 200
    error_message: str = ""           # the error answer's message, or the in-stream error's (error_after)
    retry_after: int | None = None
    never_answer: bool = False
    hang_after: int | None = None
    malformed_after: int | None = None
    error_after: int | None = None
    disconnect_after: int | None = None
    bulk_tokens: int | None = None
    ignore_stream: bool = False        # answer whole JSON even when asked to stream
    reasoning: str = ""                # a thinking model's reasoning, sent before the text
    reasoning_field: str = "reasoning_content"  # or "reasoning" (OpenRouter, Ollama)
    usage: bool = True                 # False: an upstream that never reports token counts

    @classmethod
    def text(cls, text: str, *, chunks: int | None = None, delay: float = 0.0, **kw: Any) -> "Reply":
        """A text answer, streamed in ``chunks`` pieces (default word by word), ``delay`` before each."""
        return cls(content=text, chunks=chunks, delay=delay, **kw)

    @classmethod
    def tool_calls(cls, calls: list[dict[str, Any]], text: str = "", *, arg_chunks: int = 3,
                   **kw: Any) -> "Reply":
        """Tool calls ``[{"name", "arguments": dict|str, "id"?}]`` (several = parallel), after optional text."""
        return cls(content=text, calls=list(calls), arg_chunks=arg_chunks, **kw)

    @classmethod
    def error(cls, status: int, message: str | None = None, *,
              retry_after: int | None = None) -> "Reply":
        """An HTTP error answer (e.g. 500, 429 with Retry-After, 401)."""
        return cls(status=status, error_message=message or f"fake upstream error {status}",
                   retry_after=retry_after)

    @classmethod
    def hang(cls, after: int | None = None, text: str = "this answer never ends") -> "Reply":
        """Never answer (``after=None``), or stream ``after`` units and then stall."""
        return cls(content=text, never_answer=after is None, hang_after=after)

    @classmethod
    def bulk(cls, tokens: int, delay: float = 0.0) -> "Reply":
        """Stream ``tokens`` one-token chunks as fast as possible (benchmarks)."""
        return cls(bulk_tokens=tokens, delay=delay)

    # -- rendering helpers --------------------------------------------------------------------

    def pieces(self) -> list[str]:
        if self.bulk_tokens is not None:
            return ["tok "] * self.bulk_tokens
        return _split(self.content, self.chunks)

    def call_pieces(self) -> list[tuple[str, str, list[str]]]:
        """(id, name, argument pieces) per tool call."""
        out = []
        for i, call in enumerate(self.calls):
            args = call.get("arguments", {})
            args = args if isinstance(args, str) else json.dumps(args)
            out.append((call.get("id") or f"call_fake_{i}", call["name"],
                        _split(args, self.arg_chunks, by_words=False)))
        return out

    def reason(self) -> str:
        return self.finish_reason or ("tool_calls" if self.calls else "stop")


def _split(text: str, n: int | None, by_words: bool = True) -> list[str]:
    if not text:
        return []
    if n is None and by_words:
        return re.findall(r"\s*\S+\s*", text) or [text]
    n = max(1, min(n or 1, len(text)))
    size = -(-len(text) // n)
    return [text[i:i + size] for i in range(0, len(text), size)]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    peer: tuple[str, int] | None = None  # the client's address: one per connection it opened


def echo_last_user(body: dict[str, Any]) -> Reply:
    """The default answer: the text of the last user message (OpenAI or Anthropic shape), or a legacy
    completion's (first) prompt."""
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt else None
    if "messages" not in body and isinstance(prompt, str) and prompt:
        return Reply.text(prompt)
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            if content:
                return Reply.text(content)
    return Reply.text("ok")


class _Stop(Exception):
    """Raised inside a handler to drop the connection (scripted disconnects, server stop)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping keep-alive connections (e.g. a cancelled stream) is normal here.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeProvider:
    """The scriptable fake; thread-safe; ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, *, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 models: list[str | dict[str, Any]] | None = None,
                 default_reply: Callable[[dict[str, Any]], Reply] = echo_last_user) -> None:
        self.api_key = api_key
        self.models: list[str | dict[str, Any]] = models or ["fake-model", "fake-model-large"]
        self.serve_openai_models = True   # False: /v1/models answers 404 (old Ollama)
        self.default_reply = default_reply
        # Requests answered aside from the queue when this returns a reply (see memory_extraction_aside)
        self.aside: Callable[[dict[str, Any]], Reply | None] | None = None
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._queue: collections.deque[Reply] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._released = threading.Event()  # set on stop(): hanging handlers return
        self._client_gone = threading.Condition()
        self.client_disconnects = 0         # answers cut short because the client closed the connection
        self._server: _Server | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "FakeProvider":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server((self._host, self._port), handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="fake-provider", daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeProvider":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """OpenAI-style base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self._host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- scripting and assertions -------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Queue answers for the next chat requests, in order."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget queued replies and the request log."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self._requests[-1]

    def wait_client_disconnect(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until ``count`` answers were cut short by the client closing the connection."""
        with self._client_gone:
            return self._client_gone.wait_for(lambda: self.client_disconnects >= count, timeout)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST"]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        aside = self.aside
        if aside is not None and (reply := aside(body)) is not None:
            return reply
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.default_reply(body)


def memory_extraction_aside(body: dict[str, Any]) -> Reply | None:
    """Answer an agent run's background memory extraction with "nothing worth keeping", aside from the
    queue: in browser tests it comes at a moment the test does not control, and would otherwise take the
    reply a test queued for its next answer."""
    from qorven_local.memory.extraction import EXTRACTION_PROMPT

    messages = body.get("messages") or [{}]
    first = messages[0] if isinstance(messages[0], dict) else {}
    return Reply.text("[]") if first.get("content") == EXTRACTION_PROMPT else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive and chunked streaming, like real providers
    disable_nagle_algorithm = True  # small SSE writes must leave at once (latency benchmarks)
    fake: FakeProvider

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    # -- routing --------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._handle(body)

    def _handle(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path.split("?")[0]
        self.fake._record(RecordedRequest(self.command, self.path, headers, body, tuple(self.client_address)))
        anthropic = "anthropic-version" in headers or path == "/v1/messages"
        try:
            if path == "/api/tags" and self.command == "GET":
                return self._json(200, {"models": [ollama_model(m) for m in self._model_ids()]})
            if not self._authorized(headers):
                return self._unauthorized(headers, anthropic)
            if path == "/v1/models" and self.command == "GET":
                if not self.fake.serve_openai_models:
                    return self._json(404, {"error": {"message": "not found"}})
                return self._json(200, anthropic_models(self.fake.models) if anthropic
                                  else openai_models(self.fake.models))
            if path == "/v1/embeddings" and self.command == "POST":
                if not isinstance(body, dict) or not body.get("input"):
                    return self._error(400, "input is required", anthropic)
                return self._json(200, openai_embeddings(body))
            renderer = {"/v1/chat/completions": OpenAIRenderer, "/v1/completions": CompletionRenderer,
                        "/v1/messages": AnthropicRenderer}.get(path)
            if renderer is not None and self.command == "POST":
                if not isinstance(body, dict):
                    return self._error(400, "the body is not a JSON object", anthropic)
                return self._chat(body, renderer(body))
            self._json(404, {"error": {"message": f"no route {self.command} {path}"}})
        except _Stop:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            with self.fake._client_gone:
                self.fake.client_disconnects += 1
                self.fake._client_gone.notify_all()

    def _model_ids(self) -> list[str]:
        return [m if isinstance(m, str) else m["id"] for m in self.fake.models]

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = self.fake.api_key
        return key is None or key in (_bearer(headers), headers.get("x-api-key"))

    def _unauthorized(self, headers: dict[str, str], anthropic: bool) -> None:
        # Echo the presented key like a careless upstream would: adapters must scrub it.
        presented = _bearer(headers) or headers.get("x-api-key") or ""
        self._error(401, f"Incorrect API key provided: {presented}", anthropic)

    # -- chat -----------------------------------------------------------------------------------

    def _chat(self, body: dict[str, Any], renderer: Renderer) -> None:
        reply = self.fake._next_reply(body)
        if reply.never_answer or (reply.hang_after is not None and not body.get("stream")):
            self._hang()
        if reply.status >= 300:
            extra = {"retry-after": str(reply.retry_after)} if reply.retry_after is not None else {}
            return self._error(reply.status, reply.error_message, renderer.anthropic, extra)
        if not body.get("stream") or reply.ignore_stream:
            return self._json(200, renderer.whole(reply))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for data in renderer.stream(reply, self._faults(reply, renderer)):
            self._chunk(data)
        self.wfile.write(b"0\r\n\r\n")

    def _faults(self, reply: Reply, renderer: Renderer) -> Callable[[int], Iterator[bytes]]:
        """Called before each streamed unit n; yields scripted breakage and sleeps the delay."""
        def before(n: int) -> Iterator[bytes]:
            if reply.delay:
                time.sleep(reply.delay)
            if n == reply.hang_after:
                self._hang()
            if n == reply.malformed_after:
                yield b"data: {\"choices\": [{\"delta\": {\"content\": \"unterminated\n\n"
            if n == reply.error_after:
                yield renderer.error_event(reply.error_message or "fake upstream failed mid-stream")
            if n == reply.disconnect_after:
                raise _Stop
        return before

    def _hang(self) -> None:
        self.fake._released.wait()
        raise _Stop

    # -- writing --------------------------------------------------------------------------------

    def _chunk(self, data: bytes) -> None:
        # One write per chunk (header, data, trailer) so each leaves in a single send().
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, anthropic: bool,
               headers: dict[str, str] | None = None) -> None:
        etype = {401: "authentication_error", 429: "rate_limit_error"}.get(status, "api_error")
        payload = ({"type": "error", "error": {"type": etype, "message": message}} if anthropic else
                   {"error": {"message": message, "type": etype, "param": None, "code": str(status)}})
        self._json(status, payload, headers)


def _bearer(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else None


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted; with ``--tokens N`` every chat answer streams N tokens (bulk mode)."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.fake_provider", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=None, help="bulk mode: stream N tokens per answer")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each token")
    parser.add_argument("--api-key", default=None, help="require this key")
    args = parser.parse_args(argv)

    def reply(body: dict[str, Any]) -> Reply:
        answer = echo_last_user(body) if args.tokens is None else Reply.bulk(args.tokens)
        answer.delay = args.delay
        return answer

    fake = FakeProvider(api_key=args.api_key, host=args.host, port=args.port, default_reply=reply)
    fake.start()
    print(f"fake provider at {fake.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
