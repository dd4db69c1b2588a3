"""The fake provider's wire formats: a ``Reply`` rendered as OpenAI or Anthropic JSON and SSE frames.

Each renderer turns a Reply into a whole JSON answer (``whole``) or a sequence of SSE frames
(``stream``), calling ``before(n)`` ahead of each streamed unit so the server can inject faults.
"""

from __future__ import annotations

import base64
import re
import hashlib
import json
import struct
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from tests.fakes.fake_provider import Reply


def _split(text: str) -> list[str]:
    """Reasoning streamed word by word, as the answer's text is."""
    return re.findall(r"\s*\S+\s*", text) if text else []

CREATED = 1_700_000_000


def openai_models(models: list[str | dict[str, Any]]) -> dict[str, Any]:
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "fake"}
            if isinstance(m, str) else {"object": "model", "created": CREATED, "owned_by": "fake", **m}
            for m in models]
    return {"object": "list", "data": data}


def anthropic_models(models: list[str | dict[str, Any]]) -> dict[str, Any]:
    ids = [m if isinstance(m, str) else m["id"] for m in models]
    data = [{"type": "model", "id": i, "display_name": i, "created_at": "2025-01-01T00:00:00Z"}
            for i in ids]
    return {"data": data, "has_more": False, "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None}


def ollama_model(model_id: str) -> dict[str, Any]:
    return {"name": model_id, "model": model_id, "modified_at": "2025-01-01T00:00:00Z",
            "size": 1, "digest": "0" * 64, "details": {"format": "gguf"}}


EMBEDDING_DIMENSIONS = 8


def fake_vector(text: str) -> list[float]:
    """A deterministic vector for ``text`` (the same text always embeds the same)."""
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 255.0, 4) for b in digest[:EMBEDDING_DIMENSIONS]]


def openai_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's embeddings answer; base64 when asked (the openai SDK asks by default)."""
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = []
    for i, text in enumerate(texts):
        vector: Any = fake_vector(str(text))
        if body.get("encoding_format") == "base64":
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vector})
    tokens = sum(max(1, len(str(t)) // 4) for t in texts)
    return {"object": "list", "data": data, "model": body.get("model", "fake-embed"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def token_logprobs(piece: str, top: int) -> list[dict[str, Any]]:
    """OpenAI's token logprobs for one streamed piece (one token per piece), ``top`` alternatives each."""
    entry = {"token": piece, "logprob": -0.25, "bytes": list(piece.encode())}
    alternatives = [{**entry, "logprob": -0.25 - i} for i in range(top)]
    return [{**entry, "top_logprobs": alternatives}]


def _prompt_tokens(body: dict[str, Any]) -> int:
    return max(1, len(json.dumps(body.get("messages") or [])) // 4)


class Renderer(ABC):
    """One wire format: a Reply as a whole JSON answer, as SSE frames, and a mid-stream error frame."""

    anthropic = False

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.model = body.get("model", "fake-model")
        self._cache: dict[str, bytes] = {}  # bulk mode repeats one piece: render it once

    def units(self, reply: Reply, before: Callable[[int], Iterator[bytes]],
              text: Callable[[str], bytes], tool_start: Callable[[int, str, str], bytes],
              tool_args: Callable[[int, str], bytes],
              tool_end: Callable[[int], bytes] | None = None) -> Iterator[bytes]:
        """The streamed units in order, with the scripted faults placed before unit n."""
        n = 0
        for piece in reply.pieces():
            yield from before(n)
            n += 1
            frame = self._cache.get(piece)
            if frame is None:
                frame = self._cache[piece] = text(piece)
            yield frame
        for i, (call_id, name, pieces) in enumerate(reply.call_pieces()):
            yield tool_start(i, call_id, name)
            for piece in pieces:
                yield from before(n)
                n += 1
                yield tool_args(i, piece)
            if tool_end:
                yield tool_end(i)
        yield from before(n)

    def usage(self, reply: Reply) -> tuple[int, int]:
        return _prompt_tokens(self.body), len(reply.pieces()) + sum(
            len(p) for _, _, p in reply.call_pieces())

    @abstractmethod
    def whole(self, reply: Reply) -> dict[str, Any]:
        """The non-streamed answer."""

    @abstractmethod
    def stream(self, reply: Reply, before: Callable[[int], Iterator[bytes]]) -> Iterator[bytes]:
        """The streamed answer, frame by frame, calling ``before(n)`` ahead of unit n."""

    @abstractmethod
    def error_event(self, message: str) -> bytes:
        """The frame an upstream sends when it fails mid-stream."""


def _choice_mark(index: int) -> str:
    """What the fake appends to choice ``index`` > 0 of an n > 1 answer, so each choice differs."""
    return f" #{index}"


def _sse(payload: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class OpenAIRenderer(Renderer):
    def whole(self, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.pieces()) or None,
                                   "refusal": None}
        if reply.calls:
            message["tool_calls"] = [{"id": cid, "type": "function",
                                      "function": {"name": name, "arguments": "".join(p)}}
                                     for cid, name, p in reply.call_pieces()]
        if reply.reasoning:
            message[reply.reasoning_field] = reply.reasoning
        # With n > 1 (as OpenAI honours it), choice i > 0 answers the same text followed by " #i".
        choices = [{"index": 0, "message": message, "logprobs": self._logprobs(reply.pieces()),
                    "finish_reason": reply.reason()}]
        for i in range(1, self._choices()):
            other = {**message, "content": (message["content"] or "") + _choice_mark(i)}
            choices.append({"index": i, "message": other, "logprobs": None, "finish_reason": reply.reason()})
        answer = {"id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED,
                  "model": self.model, "system_fingerprint": None, "choices": choices,
                  "usage": self._usage_body(reply)}
        if not reply.usage:
            del answer["usage"]
        return answer

    def _choices(self) -> int:
        n = self.body.get("n")
        return n if type(n) is int and n > 1 else 1

    def _usage_body(self, reply: Reply) -> dict[str, Any]:
        """OpenAI's usage object; a reasoning reply reports its reasoning tokens (one per word) as OpenAI does."""
        prompt, completion = self.usage(reply)
        usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                                 "total_tokens": prompt + completion}
        if reply.reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": len(_split(reply.reasoning))}
        return usage

    def _logprobs(self, pieces: list[str]) -> dict[str, Any] | None:
        """Token logprobs for ``pieces`` when the request asked for them, else None (as OpenAI answers)."""
        if self.body.get("logprobs") is not True:
            return None
        top = int(self.body.get("top_logprobs") or 0)
        return {"content": [lp for piece in pieces for lp in token_logprobs(piece, top)], "refusal": None}

    def stream(self, reply: Reply, before: Callable[[int], Iterator[bytes]]) -> Iterator[bytes]:
        include_usage = reply.usage and bool((self.body.get("stream_options") or {}).get("include_usage"))
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED,
                "model": self.model, "system_fingerprint": None}
        if include_usage:
            base["usage"] = None  # OpenAI sends an explicit null until the last chunk

        n = self._choices()

        def one(index: int, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> bytes:
            return _sse({**base, "choices": [{"index": index, "delta": delta, "logprobs": logprobs,
                                              "finish_reason": finish}]})

        def chunk(delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> bytes:
            """The same delta for each of the n choices, interleaved as OpenAI streams them."""
            return b"".join(one(i, delta, finish, logprobs) for i in range(n))

        yield chunk({"role": "assistant", "content": ""})
        for piece in _split(reply.reasoning):
            yield chunk({reply.reasoning_field: piece})
        yield from self.units(
            reply, before,
            text=lambda piece: chunk({"content": piece}, logprobs=self._logprobs([piece])),
            tool_start=lambda i, cid, name: chunk({"tool_calls": [
                {"index": i, "id": cid, "type": "function",
                 "function": {"name": name, "arguments": ""}}]}),
            tool_args=lambda i, piece: chunk({"tool_calls": [
                {"index": i, "function": {"arguments": piece}}]}))
        for i in range(1, n):
            yield one(i, {"content": _choice_mark(i)})
        yield chunk({}, reply.reason())
        if include_usage:
            yield _sse({**base, "choices": [], "usage": self._usage_body(reply)})
        yield b"data: [DONE]\n\n"

    def error_event(self, message: str) -> bytes:
        return _sse({"error": {"message": message, "type": "server_error", "code": None}})


class CompletionRenderer(Renderer):
    """OpenAI's legacy ``/completions``: the reply's text for every choice (prompts × n), streamed as
    ``text_completion`` chunks (each with ``finish_reason`` null until the choice's last)."""

    def _indices(self) -> range:
        prompt = self.body.get("prompt")
        prompts = len(prompt) if isinstance(prompt, list) else 1
        return range(prompts * int(self.body.get("n") or 1))

    def _usage(self, reply: Reply) -> dict[str, int]:
        prompt = max(1, len(json.dumps(self.body.get("prompt"))) // 4)
        completion = len(reply.pieces()) * len(self._indices())
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _choice(self, index: int, text: str, finish: str | None) -> dict[str, Any]:
        logprobs = ({"tokens": [text], "token_logprobs": [-0.5], "top_logprobs": [{text: -0.5}],
                     "text_offset": [0]} if self.body.get("logprobs") is not None and text else None)
        return {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}

    def whole(self, reply: Reply) -> dict[str, Any]:
        text = "".join(reply.pieces())
        return {"id": "cmpl-fake", "object": "text_completion", "created": CREATED, "model": self.model,
                "choices": [{**self._choice(i, text, reply.reason()), "logprobs": None} for i in self._indices()],
                "usage": self._usage(reply)}

    def stream(self, reply: Reply, before: Callable[[int], Iterator[bytes]]) -> Iterator[bytes]:
        base = {"id": "cmpl-fake", "object": "text_completion", "created": CREATED, "model": self.model}

        def text(piece: str) -> bytes:
            return b"".join(_sse({**base, "choices": [self._choice(i, piece, None)]}) for i in self._indices())

        def no_tools(*_: Any) -> bytes:
            return b""

        yield from self.units(reply, before, text, tool_start=no_tools, tool_args=no_tools)
        for i in self._indices():
            yield _sse({**base, "choices": [self._choice(i, "", reply.reason())]})
        if (self.body.get("stream_options") or {}).get("include_usage"):
            yield _sse({**base, "choices": [], "usage": self._usage(reply)})
        yield b"data: [DONE]\n\n"

    def error_event(self, message: str) -> bytes:
        return _sse({"error": {"message": message, "type": "server_error", "code": None}})


_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


class AnthropicRenderer(Renderer):
    anthropic = True

    def whole(self, reply: Reply) -> dict[str, Any]:
        prompt, completion = self.usage(reply)
        content: list[dict[str, Any]] = []
        if reply.pieces():
            content.append({"type": "text", "text": "".join(reply.pieces())})
        for cid, name, pieces in reply.call_pieces():
            content.append({"type": "tool_use", "id": cid, "name": name,
                            "input": json.loads("".join(pieces) or "{}")})
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": self.model,
                "content": content, "stop_reason": _STOP_REASONS.get(reply.reason(), reply.reason()),
                "stop_sequence": None,
                "usage": {"input_tokens": prompt, "output_tokens": completion}}

    def stream(self, reply: Reply, before: Callable[[int], Iterator[bytes]]) -> Iterator[bytes]:
        prompt, completion = self.usage(reply)
        has_text = bool(reply.pieces())
        offset = 1 if has_text else 0  # tool_use blocks follow the text block
        yield _sse({"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": self.model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": 1}}}, "message_start")
        if has_text:
            yield _sse({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}}, "content_block_start")
        yield _sse({"type": "ping"}, "ping")
        if reply.reasoning:  # a thinking block comes first; text blocks keep index 0 as before
            yield _sse({"type": "content_block_start", "index": 99,
                        "content_block": {"type": "thinking", "thinking": ""}}, "content_block_start")
            for piece in _split(reply.reasoning):
                yield _sse({"type": "content_block_delta", "index": 99,
                            "delta": {"type": "thinking_delta", "thinking": piece}}, "content_block_delta")
            yield _sse({"type": "content_block_stop", "index": 99}, "content_block_stop")

        def text(piece: str) -> bytes:
            return _sse({"type": "content_block_delta", "index": 0,
                         "delta": {"type": "text_delta", "text": piece}}, "content_block_delta")

        def tool_start(i: int, cid: str, name: str) -> bytes:
            close_text = (_sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
                          if has_text and i == 0 else b"")
            return close_text + _sse({"type": "content_block_start", "index": i + offset,
                                      "content_block": {"type": "tool_use", "id": cid,
                                                        "name": name, "input": {}}},
                                     "content_block_start")

        def tool_args(i: int, piece: str) -> bytes:
            return _sse({"type": "content_block_delta", "index": i + offset,
                         "delta": {"type": "input_json_delta", "partial_json": piece}},
                        "content_block_delta")

        def tool_end(i: int) -> bytes:
            return _sse({"type": "content_block_stop", "index": i + offset}, "content_block_stop")

        yield from self.units(reply, before, text, tool_start, tool_args, tool_end)
        if has_text and not reply.calls:
            yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        yield _sse({"type": "message_delta",
                    "delta": {"stop_reason": _STOP_REASONS.get(reply.reason(), reply.reason()),
                              "stop_sequence": None},
                    "usage": {"output_tokens": completion}}, "message_delta")
        yield _sse({"type": "message_stop"}, "message_stop")

    def error_event(self, message: str) -> bytes:
        return _sse({"type": "error", "error": {"type": "overloaded_error", "message": message}},
                    "error")
