"""Embeddings from a provider model: ``POST /v1/embeddings`` with ``model: "<provider>/<model>"``.

The built-in ``all-minilm-l6-v2`` is served by ``memory/embedder.py``; any other model id is resolved
like a chat model and proxied to its provider's own ``/embeddings``, which only the OpenAI-compatible
kinds (and Ollama) have.
"""

from __future__ import annotations

from typing import Any

from qorven_local.errors import ValidationError
from qorven_local.providers.events import EmbeddingProvider
from qorven_local.providers.resolution import ResolvedModel


def embed_with_provider(resolved: ResolvedModel, body: dict[str, Any]) -> dict[str, Any]:
    """The upstream's OpenAI-shaped answer, named by our model id, with usage (estimated when it sent none)."""
    adapter = resolved.adapter
    if not isinstance(adapter, EmbeddingProvider):
        raise ValidationError(
            f"model {resolved.model_id!r} cannot embed: provider {resolved.provider.name!r} is of kind "
            f"{resolved.provider.kind!r}, which has no embeddings endpoint; use an OpenAI-compatible or Ollama "
            "provider, or the built-in all-minilm-l6-v2", param="model")
    answer = adapter.embed(resolved.upstream_model, body)
    usage = answer.get("usage")
    if not isinstance(usage, dict) or not isinstance(usage.get("prompt_tokens"), int):
        tokens = max(1, len(str(body.get("input") or "")) // 4)  # 4 characters a token, as chat estimates
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    data = [{"object": "embedding", "index": item.get("index", i), "embedding": item["embedding"]}
            for i, item in enumerate(answer["data"])]
    return {"object": "list", "data": data, "model": resolved.model_id,
            "usage": {"prompt_tokens": usage["prompt_tokens"],
                      "total_tokens": usage.get("total_tokens", usage["prompt_tokens"])}}
