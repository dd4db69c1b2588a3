"""Client-compatibility helpers: OpenAI's published schemas, an SSE reader, and the tiny GGUF fixture."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.support.openai_schemas import validate_openai

try:  # the local-model fixture needs the gguf writer (the local extra); its tests skip without it
    from tests.local_models.conftest import tiny_gguf  # noqa: F401  (a fixture, re-exported)
except pytest.skip.Exception:
    pass


def sdk(server, timeout: float = 20) -> openai.OpenAI:
    """The official SDK pointed at a test server (``InProcessServer`` or ``ServeProcess``), no retries."""
    return openai.OpenAI(base_url=server.url + "/v1", api_key=server.admin_token, max_retries=0, timeout=timeout)


def sse_data(response: httpx.Response) -> list[str]:
    """The ``data:`` payloads of an SSE response, in order (comments and blank lines dropped)."""
    return [line[5:].strip() for line in response.iter_lines() if line.startswith("data:")]


def completion_chunks(response: httpx.Response) -> list[dict]:
    """The parsed ``text_completion`` chunks of a streamed completion, after checking it ends with [DONE]
    and every chunk has OpenAI's completion shape (a null finish_reason while a choice streams, as
    OpenAI's own streams send)."""
    assert response.status_code == 200, response.read()
    assert response.headers["content-type"].startswith("text/event-stream")
    data = sse_data(response)
    assert data[-1] == "[DONE]", data[-3:]
    chunks = [json.loads(d) for d in data[:-1]]
    for chunk in chunks:
        final = [c for c in chunk["choices"] if c["finish_reason"] is not None]
        validate_openai("CreateCompletionResponse", {**chunk, "choices": final})
        for choice in chunk["choices"]:
            assert set(choice) == {"text", "index", "logprobs", "finish_reason"}, choice
            assert isinstance(choice["text"], str) and choice["finish_reason"] in (None, "stop", "length")
    return chunks
