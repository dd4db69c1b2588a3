"""Adapter for OpenAI's chat completions wire format: OpenAI itself, Ollama, and compatible servers.

``base_url`` includes the version prefix (``https://api.openai.com/v1``,
``http://127.0.0.1:11434/v1``). Requests are always streamed; non-streaming callers use ``collect``.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterator

from qorven_local.errors import ProviderError
from qorven_local.providers.events import (
    ChatEvent, ChatRequest, Finish, ModelInfo, ReasoningDelta, TextDelta, ToolCallDelta, Usage,
)
from qorven_local.providers.http import HTTPProvider
from qorven_local.providers.text_chunks import TextChunkTemplate
from qorven_local.providers.text_completion import CompletionEvent, CompletionPiece, CompletionRequest

KINDS = ("openai", "ollama", "openai_compatible")
DEFAULT_BASE_URLS = {"openai": "https://api.openai.com/v1", "ollama": "http://127.0.0.1:11434/v1"}
# Keys servers use for a model's context window in their /models listing (OpenRouter, vLLM, LM Studio).
_CONTEXT_KEYS = ("context_length", "context_window", "max_model_len", "max_context_length")
# Where thinking models put their reasoning: DeepSeek and vLLM say reasoning_content, OpenRouter and Ollama reasoning.
_REASONING_KEYS = ("reasoning_content", "reasoning")
# The usage breakdowns OpenAI's schema knows (cached prompt tokens, reasoning tokens...), passed on as sent.
_USAGE_DETAILS = ("prompt_tokens_details", "completion_tokens_details")
# Embeddings request params passed upstream as the client sent them.
_EMBEDDING_PARAMS = ("input", "encoding_format", "dimensions", "user")


class OpenAICompatProvider(HTTPProvider):
    """A provider speaking ``POST {base_url}/chat/completions`` with SSE streaming."""

    def __init__(self, *, kind: str = "openai_compatible", stream_usage: bool = True,
                 **kwargs: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown OpenAI-compatible kind {kind!r}")
        super().__init__(**kwargs)
        self.kind = kind
        # Some compatible servers reject stream_options; the caller can turn it off per provider.
        self._stream_usage = stream_usage

    def _auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request`` (messages and tools are already in this format)."""
        body: dict[str, Any] = dict(request.extra)
        body.update(model=request.model, messages=request.messages, stream=True)
        if self._stream_usage:
            body["stream_options"] = {"include_usage": True}
        if request.tools:
            body["tools"] = request.tools
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            # OpenAI's reasoning models refuse max_tokens; other servers may not know the new name.
            key = "max_completion_tokens" if self.kind == "openai" else "max_tokens"
            body[key] = request.max_tokens
        if request.stop is not None:
            body["stop"] = request.stop
        if request.response_format is not None:
            body["response_format"] = request.response_format
        if request.n != 1:
            body["n"] = request.n
        return body

    def stream_chat(self, request: ChatRequest,
                    cancel: threading.Event | None = None) -> Iterator[ChatEvent]:
        """Stream ``request``; yields TextDelta, ToolCallDelta, Finish and (after Finish) Usage."""
        for batch in self.stream_chat_batches(request, cancel):
            yield from batch

    def stream_chat_batches(self, request: ChatRequest,
                            cancel: threading.Event | None = None) -> Iterator[list[ChatEvent]]:
        """``stream_chat``'s events, one list per socket read (never empty): what arrived together, so
        the proxy can send it on in one write."""
        done = False
        stream = _ChatStream()
        text_of = stream.template.text_of
        for batch in self._stream_sse_batches(self.base_url + "/chat/completions", self.build_body(request),
                                              cancel):
            if done:
                continue
            events: list[ChatEvent] = []
            for data in batch:
                text = text_of(data)
                if text is not None:  # most chunks: a piece of text, parsed without json.loads
                    events.append(TextDelta(text))
                elif data == b"[DONE]":
                    # Read on to the end of the body rather than stop: a response left unfinished makes
                    # the connection unusable, and a new one per request added ~0.5 ms to every answer.
                    done = True
                    break
                else:
                    try:
                        self._chunk_events(data, stream, events)
                    except ProviderError:
                        if events:  # what came before the failure in the same read still goes out first
                            yield events
                        raise
            if events:
                yield events
        if not done:  # no [DONE]: the stream must at least have finished the answer
            self._check_finished(bool(stream.finished), cancel)

    def _chunk_events(self, data: bytes, stream: _ChatStream, out: list[ChatEvent]) -> None:
        """Parse one chunk in full and append its events to ``out``."""
        try:
            chunk = json.loads(data)
            template = stream.template
            if template.may_learn and _only_text(chunk):
                template.learn(data, chunk)
            if chunk.get("error"):
                raise self._in_stream_error(chunk["error"])
            for choice in chunk.get("choices") or ():  # one, unless the request asked for n > 1
                index = choice.get("index") or 0
                delta = choice.get("delta")
                if delta is None:  # a server that ignored stream=true sent the whole message
                    delta = _as_delta(choice.get("message") or {})
                for key in _REASONING_KEYS:
                    reasoning = delta.get(key)
                    if reasoning and type(reasoning) is str:
                        out.append(ReasoningDelta(reasoning, key, index))
                content = delta.get("content")
                logprobs = (choice.get("logprobs") or {}).get("content")
                if content or logprobs:
                    out.append(TextDelta(content or "", logprobs or None, index))
                tool_calls = delta.get("tool_calls")
                if tool_calls:
                    out.extend(_tool_deltas(tool_calls, stream.seen_tools, index))
                reason = choice.get("finish_reason")
                if reason and index not in stream.finished:
                    stream.finished.add(index)
                    out.append(Finish(reason, index))
            usage = chunk.get("usage")
            if usage:
                details = {k: usage[k] for k in _USAGE_DETAILS if isinstance(usage.get(k), dict)}
                out.append(Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0,
                                 details or None))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            # Not JSON, or JSON of the wrong shape: either way the upstream is broken.
            raise self._stream_error("sent a malformed stream chunk") from None

    def completion_body(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body for ``POST {base_url}/completions`` (a one-prompt list goes as a string)."""
        body: dict[str, Any] = dict(request.extra)
        body.update(request.options(), model=request.model, stream=True,
                    prompt=request.prompts[0] if len(request.prompts) == 1 else request.prompts)
        if self._stream_usage:
            body["stream_options"] = {"include_usage": True}
        for key, value in (("suffix", request.suffix), ("user", request.user)):
            if value is not None:
                body[key] = value
        if request.n != 1:
            body["n"] = request.n
        if request.echo:
            body["echo"] = True
        return body

    def stream_completion(self, request: CompletionRequest,
                          cancel: threading.Event | None = None) -> Iterator[CompletionEvent]:
        """Stream the upstream's own ``/completions``; yields CompletionPiece and (last) Usage."""
        finished: set[int] = set()
        for data in self._stream_sse(self.base_url + "/completions", self.completion_body(request), cancel):
            if data == b"[DONE]":
                break
            try:
                chunk = json.loads(data)
                if chunk.get("error"):
                    raise self._in_stream_error(chunk["error"])
                for choice in chunk.get("choices") or ():
                    index = choice.get("index") or 0
                    reason = choice.get("finish_reason")
                    if reason:
                        finished.add(index)
                    text = choice.get("text")
                    if text or reason or choice.get("logprobs"):
                        yield CompletionPiece(index, text or "", choice.get("logprobs"), reason)
                usage = chunk.get("usage")
                if usage:
                    yield Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
            except (ValueError, TypeError, KeyError, AttributeError, IndexError):
                raise self._stream_error("sent a malformed completion chunk") from None
        else:  # no [DONE]: the stream must at least have finished the answer
            self._check_finished(bool(finished), cancel)

    def _in_stream_error(self, err: Any) -> ProviderError:
        message = err.get("message") if isinstance(err, dict) else str(err)
        upstream = {"upstream_code": err["code"]} if isinstance(err, dict) and err.get("code") is not None else {}
        return self._stream_error(f"failed mid-stream: {message}", **upstream)

    def embed(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST {base_url}/embeddings`` (Ollama serves it under ``/v1`` too); checks the answer's shape."""
        request = {k: body[k] for k in _EMBEDDING_PARAMS if body.get(k) is not None}
        answer = self._post_json(self.base_url + "/embeddings", {**request, "model": model})
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) and "embedding" in item for item in data):
            raise self._stream_error("answered /embeddings without a list of embeddings")
        return answer

    def list_models(self) -> list[ModelInfo]:
        """``GET /models``; for Ollama-like servers without it, ``GET /api/tags`` next to ``/v1``."""
        try:
            payload = self._get_json(self.base_url + "/models")
        except ProviderError as exc:
            if self.kind == "openai" or (exc.details or {}).get("status") != 404:
                raise
            return self._ollama_tags()
        models = []
        for item in payload.get("data") or []:
            context = next((item[k] for k in _CONTEXT_KEYS if isinstance(item.get(k), int)), None)
            models.append(ModelInfo(item["id"], item.get("owned_by") or self.name, context))
        return models

    def _ollama_tags(self) -> list[ModelInfo]:
        root = self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url
        payload = self._get_json(root + "/api/tags")
        return [ModelInfo(m.get("model") or m["name"], "ollama") for m in payload.get("models") or []]


class _ChatStream:
    """What reading one chat stream remembers between chunks."""

    __slots__ = ("finished", "seen_tools", "template")

    def __init__(self) -> None:
        self.finished: set[int] = set()  # choices that have their finish_reason
        self.seen_tools: set[tuple[int, int]] = set()  # (choice, tool call index)
        self.template = TextChunkTemplate()


def _tool_deltas(tool_calls: list[dict[str, Any]], seen: set[tuple[int, int]],
                 choice: int = 0) -> Iterator[ToolCallDelta]:
    """Normalize tool call pieces: id and name only on a call's first delta, whatever the server repeats."""
    for position, call in enumerate(tool_calls):
        index = call.get("index", position)  # some servers omit index when sending whole calls
        fn = call.get("function") or {}
        args = fn.get("arguments") or ""
        if type(args) is not str:  # a few servers send parsed objects
            args = json.dumps(args)
        if (choice, index) in seen:
            if args:
                yield ToolCallDelta(index, arguments=args, choice=choice)
        else:
            seen.add((choice, index))
            yield ToolCallDelta(index, call.get("id"), fn.get("name"), args, choice)


def _only_text(chunk: Any) -> bool:
    """Whether ``stream_chat`` reads this chunk as one TextDelta of choice 0 and nothing else."""
    if type(chunk) is not dict or chunk.get("error") or chunk.get("usage"):
        return False
    choices = chunk.get("choices")
    if type(choices) is not list or len(choices) != 1 or type(choices[0]) is not dict:
        return False
    choice = choices[0]
    delta = choice.get("delta")
    return (not choice.get("index") and type(delta) is dict and not choice.get("finish_reason")
            and not (choice.get("logprobs") or {}).get("content") and not delta.get("tool_calls")
            and not any(delta.get(key) for key in _REASONING_KEYS)
            and type(delta.get("content")) is str and delta["content"] != "")


def _as_delta(message: dict[str, Any]) -> dict[str, Any]:
    """A whole non-streamed message shaped as one delta, tool calls indexed by position."""
    calls = [{**call, "index": i} for i, call in enumerate(message.get("tool_calls") or [])]
    return {**{k: message[k] for k in _REASONING_KEYS if k in message},
            "content": message.get("content"), "tool_calls": calls}
