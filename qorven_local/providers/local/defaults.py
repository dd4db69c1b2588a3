"""Sane sampling defaults for local chat, so a small model gives a short, loop-free first answer.

Without them llama.cpp generates until the context is full (no output cap), repeats itself freely
(no repetition penalty) and may run past the end of its turn into a made-up next one. A request's
own ``max_tokens`` and ``stop`` still win; the template's end-of-turn markers are always added.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from qorven_local.providers.events import ChatRequest

TINY_PARAMS = 1_000_000_000  # below this a model gets a short prompt and no tools in an agent run
MAX_TOKENS = 512          # output cap when the request gives none
REPEAT_PENALTY = 1.15     # llama.cpp's default is 1.0 (none); small models loop without one
# Markers that end a turn (or begin the next) in the common chat templates: ChatML, Llama 3, Gemma,
# Phi, Mistral/Llama 2. Only those the model's own template uses are added as stops.
TURN_MARKERS = ("<|im_end|>", "<|im_start|>", "<|eot_id|>", "<|start_header_id|>", "<end_of_turn>",
                "<start_of_turn>", "<|end|>", "<|endoftext|>", "</s>", "[INST]")


def turn_stops(template: str) -> list[str]:
    """The end/start-of-turn markers a chat template uses (a model's text past them is not its answer)."""
    return [marker for marker in TURN_MARKERS if marker in template]


def generation_defaults(template: str, request: ChatRequest) -> dict[str, Any]:
    """llama.cpp keyword arguments: the output cap, the repetition penalty and the stops."""
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    stops += [marker for marker in turn_stops(template) if marker not in stops]
    return {"max_tokens": request.max_tokens or MAX_TOKENS, "repeat_penalty": REPEAT_PENALTY,
            **({"stop": stops} if stops else {})}


@runtime_checkable
class DescribesModels(Protocol):
    """An adapter whose models are files it can describe (the local kind's)."""

    def describe(self, model: str) -> dict[str, Any] | None:
        ...


def describe_model(adapter: object, model: str) -> dict[str, Any]:
    """What a file-backed adapter knows of a model (size, quantization, params, starter); {} otherwise."""
    return (adapter.describe(model) if isinstance(adapter, DescribesModels) else None) or {}


def is_tiny(params: Any) -> bool:
    """Whether a model with ``params`` weights is too small to follow long instructions or use tools."""
    return isinstance(params, int) and 0 < params < TINY_PARAMS


def file_model_labels(info: dict[str, Any]) -> dict[str, Any]:
    """How the UI labels a model file honestly: a starter model, its size and parameters, tiny or not."""
    params = info.get("params")
    return {"starter": bool(info.get("starter")), "size_bytes": info.get("size_bytes"),
            "params": params if isinstance(params, int) else None, "tiny": is_tiny(params)}
