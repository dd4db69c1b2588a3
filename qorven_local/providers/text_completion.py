"""The light types of legacy text completions: the request, its streamed pieces, and the adapter protocol.

Adapters with their own completions (``openai_compat.py``, ``local/provider.py``) implement
``CompletionProvider``; ``completions.py`` picks the path that answers a request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, Union, runtime_checkable

from qorven_local.providers.events import Usage

# Request params forwarded as-is to an upstream's own /completions; others are ignored.
COMPLETION_PASSTHROUGH = frozenset({"presence_penalty", "frequency_penalty", "logit_bias", "best_of", "top_k"})
FINISH_REASONS = ("stop", "length", "content_filter")


@dataclass(slots=True)
class CompletionRequest:
    """One legacy completion call; ``prompts`` is the prompt as a list (a string prompt is one item)."""

    model: str
    prompts: list[str]
    suffix: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: str | list[str] | None = None
    n: int = 1
    echo: bool = False
    logprobs: int | None = None
    seed: int | None = None
    user: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_openai(cls, body: dict[str, Any], model: str) -> "CompletionRequest":
        """Build from a validated request body; ``model`` is the model's name upstream."""
        prompt = body.get("prompt")
        return cls(model=model, prompts=[prompt] if isinstance(prompt, str) else list(prompt or [""]),
                   suffix=body.get("suffix"), max_tokens=body.get("max_tokens"),
                   temperature=body.get("temperature"), top_p=body.get("top_p"), stop=body.get("stop"),
                   n=body.get("n") or 1, echo=bool(body.get("echo")), logprobs=body.get("logprobs"),
                   seed=body.get("seed"), user=body.get("user"),
                   extra={k: v for k, v in body.items() if k in COMPLETION_PASSTHROUGH})

    def options(self) -> dict[str, Any]:
        """The sampling options that are set, by OpenAI's names (suffix, echo and prompt excluded)."""
        named = {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p,
                 "stop": self.stop, "logprobs": self.logprobs, "seed": self.seed}
        return {k: v for k, v in named.items() if v is not None}


@dataclass(slots=True, frozen=True)
class CompletionPiece:
    """A piece of choice ``index``'s text; the choice's last piece carries its ``finish_reason``."""

    index: int
    text: str = ""
    logprobs: dict[str, Any] | None = None
    finish_reason: str | None = None


CompletionEvent = Union[CompletionPiece, Usage]


@runtime_checkable
class CompletionProvider(Protocol):
    """A provider with its own text completions."""

    name: str
    kind: str

    def stream_completion(self, request: CompletionRequest,
                          cancel: threading.Event | None = None) -> Iterator[CompletionEvent]:
        """Yield pieces (choice index = prompt position × n + sample) then Usage when known."""
        ...


def finish_reason(reason: str | None) -> str:
    """OpenAI's completion finish reasons: anything else (tool_calls, a server's own) is ``stop``."""
    return reason if reason in FINISH_REASONS else "stop"
