"""Server-sent events for chat: OpenAI chunk frames, and the bridge from a producer thread to waitress.

The producer (a provider stream or an agent run) runs on its own thread and ``put``s ready-made
frames; the WSGI iterable handed to waitress yields them, joining whatever has queued up into one
write, sends ``: ping`` after ``ping_s`` of silence, and sets ``cancel`` when the client goes away
(waitress closes the iterable when a write fails), which stops the producer. A stream holds one of
its tenant's stream slots (``security/ratelimit.py``'s ``ConcurrencyCap``) until it ends, however it ends.

Frames are built from byte templates: per token only the text is JSON-encoded.
"""

from __future__ import annotations

import json
import queue
import threading
from json.encoder import encode_basestring as _encode_str  # the C encoder: a JSON string literal
from typing import Any, Callable, Iterator

import falcon

from qorven_local.agents.events import Delegated, ToolCalled, ToolFinished
from qorven_local.errors import InternalError, QorvenError
from qorven_local.security.ratelimit import Slot
from qorven_local.web.errors import envelope

DONE = b"data: [DONE]\n\n"
PING = b": ping\n\n"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class ChunkWriter:
    """``chat.completion.chunk`` frames for one completion (same id, created and model on each)."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self.completion_id, self.created, self.model = completion_id, created, model
        head = (b'data: {"id":' + _dumps(completion_id) + b',"object":"chat.completion.chunk","created":'
                + str(created).encode() + b',"model":' + _dumps(model) + b',"choices":')
        self._head = head
        self._text_head = head + b'[{"index":0,"delta":{"content":'
        self._tail = b'},"logprobs":null,"finish_reason":null}]}\n\n'

    def text(self, text: str, logprobs: list[dict[str, Any]] | None = None, choice: int = 0) -> bytes:
        """A text delta; with the upstream's token ``logprobs`` for it, they ride in the same chunk."""
        if logprobs is not None or choice:
            return self.delta({"content": text}, logprobs=None if logprobs is None
                              else {"content": logprobs, "refusal": None}, index=choice)
        return self._text_head + _encode_str(text).encode("utf-8") + self._tail

    def reasoning(self, text: str, field: str = "reasoning_content", choice: int = 0) -> bytes:
        """A reasoning delta, under the field name the upstream used."""
        return self.delta({field: text}, index=choice)

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None,
              logprobs: dict[str, Any] | None = None, index: int = 0) -> bytes:
        """A chunk of choice ``index`` (0 unless the request asked for n > 1)."""
        choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
        return self._head + _dumps([choice]) + b"}\n\n"

    def role(self, choice: int = 0) -> bytes:
        return self.delta({"role": "assistant", "content": ""}, index=choice)

    def tool_call(self, index: int, call_id: str | None, name: str | None, arguments: str, choice: int = 0) -> bytes:
        call: dict[str, Any] = {"index": index}
        if call_id is not None or name is not None:  # the call's first delta
            call.update(id=call_id, type="function", function={"name": name, "arguments": arguments})
        else:
            call["function"] = {"arguments": arguments}
        return self.delta({"tool_calls": [call]}, index=choice)

    def finish(self, reason: str, choice: int = 0) -> bytes:
        return self.delta({}, reason, index=choice)

    def usage(self, usage: dict[str, Any]) -> bytes:
        return self._head + b"[]," + b'"usage":' + _dumps(usage) + b"}\n\n"


def named(event: str, data: dict[str, Any]) -> bytes:
    """A named SSE event (Qorven form only; OpenAI clients never see these)."""
    return b"event: " + event.encode() + b"\ndata: " + _dumps(data) + b"\n\n"


def tool_event(event: ToolCalled | ToolFinished | Delegated) -> tuple[str, dict[str, Any]]:
    """The name (``tool_call``/``tool_result``) and data of a run's tool event in a chat or room stream.

    A delegated child's event names the parent's ``delegate`` call, the child's depth, agent and
    session, then the child's own call.
    """
    match event:
        case ToolCalled():
            return "tool_call", {"call_id": event.call_id, "tool": event.tool, "arguments": event.arguments}
        case ToolFinished():
            return "tool_result", {"call_id": event.call_id, "tool": event.tool, **event.outcome}
        case Delegated(event=inner):
            name, data = tool_event(inner)
            return name, {"parent_call_id": event.parent_call_id, "depth": event.depth, "agent_id": inner.agent_id,
                          "agent": event.agent, "session_id": inner.session_id, **data}
    raise TypeError(f"not a tool event: {event!r}")


def error_frame(error: QorvenError, request_id: str | None) -> bytes:
    return b"data: " + _dumps(envelope(error, request_id)) + b"\n\n"


_END = object()


class SSEBridge:
    """A queue of frames from one producer thread to the response iterable."""

    def __init__(self, cancel: threading.Event, *, ping_s: float = 15.0,
                 disconnected: Callable[[], bool] | None = None, slot: Slot | None = None) -> None:
        self.cancel = cancel
        self.ping_s = ping_s
        self._disconnected = disconnected
        self._slot = slot
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.put = self._queue.put          # producer: a frame (bytes)

    def fail(self, error: BaseException) -> None:
        """Producer: end with an error (raised by ``first()`` if nothing was sent yet)."""
        self._queue.put(error)

    def end(self) -> None:
        self._queue.put(_END)

    def close(self) -> None:
        """The stream is over (finished, failed or abandoned): stop the producer, free the stream slot."""
        self.cancel.set()
        if self._slot is not None:
            self._slot.release()

    def start(self, produce: Callable[["SSEBridge"], None], name: str = "sse-producer") -> None:
        def run() -> None:
            try:
                produce(self)
            except BaseException as exc:  # every failure reaches the consumer
                self.fail(exc)
            finally:
                self.end()
        threading.Thread(target=run, name=name, daemon=True).start()

    def _get(self, timeout: float) -> Any:
        """The next item, waiting at most ``timeout`` (then ``None``); checks for a gone client."""
        poll = min(timeout, 0.5)
        waited = 0.0
        while True:
            try:
                return self._queue.get(timeout=poll)
            except queue.Empty:
                waited += poll
                if self._disconnected is not None and self._disconnected():
                    self.cancel.set()
                    return _END
                if waited >= timeout:
                    return None

    def first(self) -> Any:
        """Block until the producer's first item; an exception is raised here (before any byte is sent),
        so early failures get a real HTTP status."""
        while True:
            item = self._get(3600.0)
            if item is None:
                continue
            if isinstance(item, BaseException):
                self.close()
                raise item
            return item

    def iterate(self, first: Any, on_error: Callable[[BaseException], bytes],
                after_first: Callable[[], None] | None = None) -> Iterator[bytes]:
        """The response body: frames (batched), pings on silence, the error frame on failure.

        ``after_first`` runs once the first frame is handed to the server (e.g. starting the producer
        there keeps a thread start out of the time to first token)."""
        get_nowait = self._queue.get_nowait
        try:
            item = first
            if after_first is not None and type(item) is bytes:
                yield item
                after_first()
                item = self._get(self.ping_s)
            while True:
                if item is _END:
                    return
                if item is None:
                    yield PING
                elif isinstance(item, BaseException):
                    yield on_error(item)
                    return
                else:
                    batch = [item]
                    end: Any = None
                    while True:  # whatever else is ready goes out in the same write
                        try:
                            nxt = get_nowait()
                        except queue.Empty:
                            break
                        if type(nxt) is bytes:
                            batch.append(nxt)
                        else:
                            end = nxt
                            break
                    yield batch[0] if len(batch) == 1 else b"".join(batch)
                    if end is not None:
                        item = end
                        continue
                item = self._get(self.ping_s)
        finally:
            self.close()  # done, failed, or the client went away: the producer stops


def bridge_for(req: falcon.Request, cancel: threading.Event, ping_s: float, slot: Slot | None = None) -> SSEBridge:
    """An SSEBridge for a request, told how to see waitress's client-disconnect flag; it frees ``slot`` at its end."""
    return SSEBridge(cancel, ping_s=ping_s, disconnected=req.env.get("waitress.client_disconnected"), slot=slot)


def respond_stream(resp: falcon.Response, bridge: SSEBridge, request_id: str | None,
                   after_first: Callable[[], None] | None = None) -> None:
    """Answer with the bridge's frames as text/event-stream.

    The first frame is awaited here, so a failure before anything was sent keeps its HTTP status;
    a later one becomes an error frame (an unexpected exception is reported by request id only).
    """
    first = bridge.first()

    def on_error(exc: BaseException) -> bytes:
        error = exc if isinstance(exc, QorvenError) else InternalError(
            f"internal error; quote request id {request_id} when reporting it")
        return error_frame(error, request_id)

    resp.status = 200
    resp.content_type = "text/event-stream; charset=utf-8"
    resp.set_header("Cache-Control", "no-cache")
    resp.set_header("X-Accel-Buffering", "no")
    resp.stream = bridge.iterate(first, on_error, after_first)
