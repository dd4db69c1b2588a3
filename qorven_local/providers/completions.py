"""Legacy text completions (``POST /v1/completions``): which path answers a request.

    CompletionRequest ──► complete(resolved, request) ──► CompletionPiece | Usage

A provider with its own completions (``CompletionProvider``: the OpenAI-compatible kinds proxy their
``/completions``, the local kind runs llama.cpp's ``create_completion``) answers directly; any other
kind is served through chat, one call per prompt. What the chat path cannot do (``suffix``,
``logprobs``, ``n`` > 1) is refused with a ``validation_error`` naming the parameter.
"""

from __future__ import annotations

import threading
from typing import Iterator

from qorven_local.errors import ValidationError
from qorven_local.providers.events import ChatRequest, Finish, TextDelta, Usage
from qorven_local.providers.normalize import for_upstream
from qorven_local.providers.resolution import ResolvedModel
from qorven_local.providers.text_completion import (CompletionEvent, CompletionPiece, CompletionProvider,
                                                   CompletionRequest, finish_reason)


def complete(resolved: ResolvedModel, request: CompletionRequest,
             cancel: threading.Event | None = None) -> Iterator[CompletionEvent]:
    """The completion's events from the provider's own completions, else through chat.

    Checks what the chosen path cannot do before anything is sent upstream.
    """
    adapter = resolved.adapter
    if isinstance(adapter, CompletionProvider):
        return adapter.stream_completion(request, cancel)
    label = f"provider {resolved.provider.name!r} ({resolved.provider.kind}) has no text completions of its own"
    if request.suffix:
        raise ValidationError(f"suffix (fill-in-the-middle) is not supported: {label}", param="suffix")
    if request.logprobs is not None:
        raise ValidationError(f"logprobs is not supported: {label}", param="logprobs")
    if request.n != 1:
        raise ValidationError(f"only n=1 is supported: {label}", param="n")
    return _through_chat(resolved, request, cancel)


def _through_chat(resolved: ResolvedModel, request: CompletionRequest,
                  cancel: threading.Event | None) -> Iterator[CompletionEvent]:
    """One chat call per prompt, the prompt as the user message; usage summed over the calls."""
    prompt_tokens = completion_tokens = 0
    counted = False
    extra = {k: v for k, v in (("top_p", request.top_p), ("seed", request.seed), ("user", request.user))
             if v is not None}
    for index, prompt in enumerate(request.prompts):
        if request.echo:
            yield CompletionPiece(index, prompt)
        if request.max_tokens == 0:  # OpenAI's "echo only"; a chat upstream would take 0 as its default
            yield CompletionPiece(index, finish_reason="length")
            continue
        chat = ChatRequest(model=request.model,
                           messages=for_upstream([{"role": "user", "content": prompt}], resolved.provider.kind),
                           temperature=request.temperature, max_tokens=request.max_tokens, stop=request.stop,
                           extra=extra)
        finished = False
        for event in resolved.adapter.stream_chat(chat, cancel):
            kind = type(event)
            if kind is TextDelta:
                yield CompletionPiece(index, event.text)  # type: ignore[union-attr]
            elif kind is Finish and not finished:
                finished = True
                yield CompletionPiece(index, finish_reason=finish_reason(event.reason))  # type: ignore[union-attr]
            elif kind is Usage:
                counted = True
                prompt_tokens += event.prompt_tokens  # type: ignore[union-attr]
                completion_tokens += event.completion_tokens  # type: ignore[union-attr]
        if cancel is not None and cancel.is_set():
            return
        if not finished:
            yield CompletionPiece(index, finish_reason="stop")
    if counted:
        yield Usage(prompt_tokens, completion_tokens)
