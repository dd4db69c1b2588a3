"""POST /v1/completions: OpenAI's legacy text completions on a provider model, as JSON or SSE.

Agents (``qor:<name>``) do not answer here: an agent is a conversation, not a text continuation, so
the request is refused with a ``validation_error`` that points at the chat and responses endpoints.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterator

import falcon

from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import ValidationError
from qorven_local.providers.completions import complete
from qorven_local.providers.events import Usage
from qorven_local.providers.text_completion import CompletionEvent, CompletionPiece, CompletionRequest, finish_reason
from qorven_local.security.ratelimit import ConcurrencyCap
from qorven_local.web.io import principal, read_body
from qorven_local.web.spec import operation
from qorven_local.web.sse import DONE, SSEBridge, bridge_for, respond_stream
from qorven_local.web.validation import validate

_STOP = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4},
                   {"type": "null"}]}
COMPLETION_REQUEST = {
    "type": "object", "required": ["model", "prompt"],
    "description": "OpenAI's legacy completion request; unknown params are ignored",
    "properties": {
        "model": {"type": "string", "minLength": 1, "maxLength": 300,
                  "description": "a provider model <provider>/<model> (agents answer on /v1/chat/completions)"},
        "prompt": {"oneOf": [{"type": "string", "maxLength": 1_000_000},
                             {"type": "array", "minItems": 1, "maxItems": 64,
                              "items": {"type": "string", "maxLength": 1_000_000}}]},
        "suffix": {"type": ["string", "null"],
                   "description": "fill-in-the-middle: models with FIM tokens and upstreams with /completions"},
        "max_tokens": {"type": ["integer", "null"], "minimum": 0},
        "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
        "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "stop": _STOP,
        "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 128,
              "description": "above 1 only for upstreams with their own /completions"},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"type": ["object", "null"]},
        "echo": {"type": ["boolean", "null"]},
        "logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 5,
                     "description": "only for upstreams with their own /completions"},
        "seed": {"type": ["integer", "null"]},
        "user": {"type": ["string", "null"]},
    },
}
COMPLETION_RESPONSE = {"type": "object", "required": ["id", "object", "created", "model", "choices"],
                       "description": "OpenAI's text_completion; with stream=true, SSE text_completion frames "
                                      "of the same shape, then data: [DONE]"}


class CompletionsResource:
    """Legacy completions: the provider's own completions, llama.cpp for local models, else chat."""

    def __init__(self, *, model_ids: ModelDirectory, clock: Clock, ids: IdFactory, sse_ping_s: float,
                 streams: ConcurrencyCap) -> None:
        self.model_ids = model_ids
        self.clock = clock
        self.ids = ids
        self.sse_ping_s = sse_ping_s
        self.streams = streams  # a completion holds a worker thread like a chat stream: same per-tenant cap

    @operation(summary="Legacy text completions on a provider model (suffix for fill-in-the-middle); JSON or SSE "
                       "(stream=true)", tag="chat", request=COMPLETION_REQUEST, response=COMPLETION_RESPONSE,
               stream=True, errors=("model_not_found", "provider_error", "provider_timeout", "rate_limited"),
               description="Proxied to the provider's own /completions when its kind has one (openai, "
                           "openai_compatible, ollama), run by llama.cpp on local GGUF models, else served "
                           "through chat (one call per prompt; suffix, logprobs and n>1 are then a 400 naming "
                           "the parameter). Agents (qor:<name>) answer 400: use /v1/chat/completions. Streams "
                           "are text_completion frames, one with each choice's finish_reason, the usage frame "
                           "(choices: []) with stream_options.include_usage, then [DONE].")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req)
        validate(COMPLETION_REQUEST, body)
        tenant = principal(req).tenant_id
        target = self.model_ids.chat_target(tenant, body["model"])
        if target.model is None:
            raise ValidationError(f"{body['model']!r} is an agent; agents answer conversations on "
                                  "POST /v1/chat/completions or /v1/responses, not legacy completions", param="model")
        request = CompletionRequest.from_openai(body, target.model.upstream_model)
        completion = _Completion("cmpl-" + self.ids.new("cmp")[4:], int(self.clock.time()), body["model"],
                                 len(request.prompts) * request.n)
        if not body.get("stream"):
            with self.streams.acquire(tenant):
                resp.media = completion.whole(complete(target.model, request), request.prompts)
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        cancel = threading.Event()
        bridge = bridge_for(req, cancel, self.sse_ping_s, self.streams.acquire(tenant))
        resolved = target.model

        def produce(out: SSEBridge) -> None:
            for frame in completion.frames(complete(resolved, request, cancel), request.prompts, include_usage):
                if cancel.is_set():
                    return
                out.put(frame)

        bridge.start(produce, name="completion-stream")
        respond_stream(resp, bridge, getattr(req.context, "request_id", None))


class _Completion:
    """One ``text_completion``'s id, time, model and choice count; renders it whole or as SSE frames."""

    def __init__(self, completion_id: str, created: int, model: str, choices: int) -> None:
        self.head = {"id": completion_id, "object": "text_completion", "created": created, "model": model}
        self.choices = choices

    def whole(self, events: Iterator[CompletionEvent], prompts: list[str]) -> dict[str, Any]:
        texts: list[list[str]] = [[] for _ in range(self.choices)]
        logprobs: list[dict[str, list[Any]] | None] = [None] * self.choices
        reasons: list[str | None] = [None] * self.choices
        usage: Usage | None = None
        for event in events:
            if type(event) is Usage:
                usage = event
                continue
            piece: CompletionPiece = event  # type: ignore[assignment]
            if not 0 <= piece.index < self.choices:
                continue  # an upstream inventing choices we did not ask for
            texts[piece.index].append(piece.text)
            if piece.logprobs:
                merged = logprobs[piece.index] = logprobs[piece.index] or {}
                for key, values in piece.logprobs.items():
                    if isinstance(values, list):
                        merged.setdefault(key, []).extend(values)
            if piece.finish_reason:
                reasons[piece.index] = finish_reason(piece.finish_reason)
        joined = ["".join(t) for t in texts]
        choices = [{"text": joined[i], "index": i, "logprobs": logprobs[i], "finish_reason": reasons[i] or "stop"}
                   for i in range(self.choices)]
        return {**self.head, "choices": choices, "usage": _usage(usage, prompts, sum(map(len, joined)))}

    def frames(self, events: Iterator[CompletionEvent], prompts: list[str], include_usage: bool) -> Iterator[bytes]:
        """One frame a piece (a choice's finish frame carries its reason), missing finishes, usage, [DONE]."""
        finished: set[int] = set()
        usage: Usage | None = None
        chars = 0
        for event in events:
            if type(event) is Usage:
                usage = event
                continue
            piece: CompletionPiece = event  # type: ignore[assignment]
            reason = finish_reason(piece.finish_reason) if piece.finish_reason else None
            if reason is not None:
                if piece.index in finished:
                    continue
                finished.add(piece.index)
            chars += len(piece.text)
            yield self._frame([{"text": piece.text, "index": piece.index, "logprobs": piece.logprobs,
                                "finish_reason": reason}])
        for index in range(self.choices):
            if index not in finished:
                yield self._frame([{"text": "", "index": index, "logprobs": None, "finish_reason": "stop"}])
        if include_usage:
            yield self._frame([], usage=_usage(usage, prompts, chars))
        yield DONE

    def _frame(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        payload = {**self.head, "choices": choices, **extra}
        return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n\n"


def _usage(usage: Usage | None, prompts: list[str], completion_chars: int) -> dict[str, int]:
    """The upstream's counts, else rough ones (4 characters a token) for upstreams that report none."""
    if usage is None:
        prompt = max(1, sum(len(p) for p in prompts) // 4)
        usage = Usage(prompt, max(1, completion_chars // 4) if completion_chars else 0)
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens}
