"""What every LLM provider looks like to the rest of Qorven: a request, a stream of small events.

    ChatRequest ──► Provider.stream_chat() ──► TextDelta | ReasoningDelta | ToolCallDelta | Finish | Usage
                                               ├─► StreamAssembler / collect() ──► ChatResult
                                               └─► event_batches(): the same, in lists of what arrived together

Adapters (``openai_compat.py``, ``anthropic.py``, ``local/provider.py``) translate wire formats to these
events; the HTTP ones share the plumbing in ``http.py``. This module is light on purpose (no httpx):
the agent loop and the chat resource import it. Errors are ``ProviderError`` (502) or
``ProviderTimeout`` (504); messages name the provider, never the key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Protocol, Union, runtime_checkable

# OpenAI request params forwarded as-is by ``ChatRequest.from_openai``; others are ignored (the API
# accepts unknown params leniently, but an upstream may reject them).
OPENAI_PASSTHROUGH = frozenset({
    "top_p", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs",
    "top_logprobs", "user", "parallel_tool_calls", "reasoning_effort", "service_tier", "metadata",
    "prediction", "modalities", "verbosity", "top_k",
})


@dataclass(slots=True)
class ChatRequest:
    """One chat call in OpenAI's chat format (messages, tools and tool_choice as OpenAI spells them)."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    response_format: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    n: int = 1  # choices asked for: only OpenAI-compatible upstreams answer more than one

    @classmethod
    def from_openai(cls, body: dict[str, Any], model: str | None = None) -> "ChatRequest":
        """Build from an OpenAI request body; ``model`` overrides the body's (e.g. the provider's id)."""
        return cls(
            model=model or body.get("model", ""),
            messages=list(body.get("messages") or []),
            tools=body.get("tools") or None,
            tool_choice=body.get("tool_choice"),
            temperature=body.get("temperature"),
            max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
            stop=body.get("stop"),
            response_format=body.get("response_format"),
            extra={k: v for k, v in body.items() if k in OPENAI_PASSTHROUGH},
            n=body.get("n") or 1,
        )


@dataclass(slots=True, frozen=True)
class TextDelta:
    """A piece of the assistant's text; ``logprobs`` holds the upstream's token logprobs for it, when asked for."""

    text: str
    logprobs: list[dict[str, Any]] | None = None
    choice: int = 0  # which of the request's ``n`` choices it belongs to


@dataclass(slots=True, frozen=True)
class ReasoningDelta:
    """A piece of a thinking model's reasoning, under the field name the upstream used for it.

    Proxied answers pass it on; the agent loop does not store reasoning and ignores it."""

    text: str
    field: str = "reasoning_content"
    choice: int = 0


@dataclass(slots=True, frozen=True)
class ToolCallDelta:
    """A piece of tool call ``index``: ``id`` and ``name`` only on its first delta, then argument pieces."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    choice: int = 0


@dataclass(slots=True, frozen=True)
class Finish:
    """The end of the answer, with OpenAI's reason: stop, length, tool_calls or content_filter."""

    reason: str
    choice: int = 0


@dataclass(slots=True, frozen=True)
class Usage:
    """Token counts; comes after ``Finish`` when the provider reports them. ``details`` keeps the upstream's
    breakdowns as OpenAI names them (``prompt_tokens_details``, ``completion_tokens_details``: cached and
    reasoning tokens), for the proxy to pass on."""

    prompt_tokens: int
    completion_tokens: int
    details: dict[str, Any] | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


ChatEvent = Union[TextDelta, ReasoningDelta, ToolCallDelta, Finish, Usage]


@dataclass(slots=True, frozen=True)
class ModelInfo:
    """A model a provider offers."""

    id: str
    owned_by: str
    context_length: int | None = None


class Provider(Protocol):
    """An LLM provider. Instances are thread-safe and hold one HTTP client; ``close()`` releases it."""

    name: str
    kind: str

    def stream_chat(self, request: ChatRequest,
                    cancel: threading.Event | None = None) -> Iterator[ChatEvent]:
        """Yield events; stop quietly within ~1 s once ``cancel`` is set. Raises ProviderError/Timeout."""
        ...

    def list_models(self) -> list[ModelInfo]:
        """The provider's own model list."""
        ...

    def check(self) -> dict[str, Any]:
        """Prove reachability and auth; raise ProviderError with a clear message when either fails."""
        ...

    def close(self) -> None:
        ...


def event_batches(provider: Provider, request: ChatRequest,
                  cancel: threading.Event | None = None) -> Iterator[list[ChatEvent]]:
    """``provider``'s events for ``request`` in lists of what arrived together, when the adapter can tell
    (``stream_chat_batches``: one list per socket read), else one event a list."""
    batches = getattr(provider, "stream_chat_batches", None)
    if batches is not None:
        return batches(request, cancel)
    return ([event] for event in provider.stream_chat(request, cancel))


@runtime_checkable
class EmbeddingProvider(Protocol):
    """A provider that also serves an OpenAI-shaped ``/embeddings`` (OpenAI-compatible kinds, Ollama)."""

    def embed(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        """Embed with upstream ``model``; ``body`` is the client's request (input and options as OpenAI
        spells them). Answers OpenAI's embeddings list; raises ProviderError/Timeout."""
        ...


@dataclass(slots=True)
class ChatResult:
    """A whole answer, assembled from a stream."""

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"
    logprobs: list[dict[str, Any]] | None = None  # token logprobs, when the upstream sent any

    def message(self) -> dict[str, Any]:
        """The answer as an OpenAI assistant message (with the reasoning, when there was any)."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            msg["tool_calls"] = self.tool_calls
        if self.reasoning:
            msg[self.reasoning_field] = self.reasoning
        return msg


class StreamAssembler:
    """Accumulates a stream's events into one answer: the only place streamed tool calls are pieced together.

    Feed it every event with ``add``; streaming consumers forward the same events as they go.
    """

    __slots__ = ("text", "finish_reason", "usage", "reasoning", "reasoning_field", "logprobs", "_calls")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.reasoning: list[str] = []
        self.reasoning_field = "reasoning_content"
        self.logprobs: list[dict[str, Any]] | None = None
        self._calls: dict[int, dict[str, Any]] = {}

    def add(self, event: ChatEvent) -> None:
        kind = type(event)
        if kind is TextDelta:
            self.text.append(event.text)  # type: ignore[union-attr]
            if event.logprobs is not None:  # type: ignore[union-attr]
                if self.logprobs is None:
                    self.logprobs = []
                self.logprobs.extend(event.logprobs)  # type: ignore[union-attr]
        elif kind is ReasoningDelta:
            self.reasoning.append(event.text)  # type: ignore[union-attr]
            self.reasoning_field = event.field  # type: ignore[union-attr]
        elif kind is ToolCallDelta:
            delta: ToolCallDelta = event  # type: ignore[assignment]
            call = self._calls.get(delta.index)
            if call is None:
                call = self._calls[delta.index] = {"id": None, "name": None, "args": []}
            call["id"] = call["id"] or delta.id
            call["name"] = call["name"] or delta.name
            call["args"].append(delta.arguments)
        elif kind is Finish:
            self.finish_reason = event.reason  # type: ignore[union-attr]
        elif kind is Usage:
            self.usage = event  # type: ignore[assignment]

    def tool_calls(self, new_id: Any = None) -> list[dict[str, Any]]:
        """The calls in OpenAI format, ordered by index; ``new_id()`` names a call the provider left unnamed."""
        return [{"id": c["id"] or (new_id() if new_id is not None else None), "type": "function",
                 "function": {"name": c["name"] or "", "arguments": "".join(c["args"])}}
                for _, c in sorted(self._calls.items())]

    def result(self) -> ChatResult:
        return ChatResult(text="".join(self.text), tool_calls=self.tool_calls(),
                          finish_reason=self.finish_reason, usage=self.usage, reasoning="".join(self.reasoning),
                          reasoning_field=self.reasoning_field, logprobs=self.logprobs)


def collect(events: Iterable[ChatEvent]) -> ChatResult:
    """Drain a stream into a ``ChatResult``; tool calls come out in OpenAI format, ordered by index."""
    assembler = StreamAssembler()
    for event in events:
        assembler.add(event)
    return assembler.result()


def collect_choices(events: Iterable[ChatEvent], n: int) -> list[ChatResult]:
    """Drain a stream of ``n`` choices into one ``ChatResult`` each, by choice index; the usage
    (one for the whole answer) goes on every result."""
    assemblers = [StreamAssembler() for _ in range(n)]
    usage: Usage | None = None
    for event in events:
        if type(event) is Usage:
            usage = event  # type: ignore[assignment]
        elif 0 <= event.choice < n:  # type: ignore[union-attr]
            assemblers[event.choice].add(event)  # type: ignore[union-attr]
    results = [a.result() for a in assemblers]
    for result in results:
        result.usage = usage
    return results
