"""Client-compatibility fixtures and helpers: a real ``qorven serve`` per module with the fake upstream
added three ways (OpenAI-compatible ``fake``, Anthropic ``claude``, Ollama ``olla``), the official
``openai`` SDK, OpenAI's published schemas, SSE readers, and the tiny GGUF fixture."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.chat.conftest import sse_events
from tests.fakes import FakeProvider
from tests.support.openai_schemas import validate_openai
from tests.support.upstream import UPSTREAM_KEY, configure_upstream

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


MODELS = ("fake-model", "fake-embed")


def _add(api: httpx.Client, fake: FakeProvider, name: str, kind: str) -> None:
    provider = api.post("/v1/providers", json={"name": name, "kind": kind, "base_url": fake.base_url})
    assert provider.status_code == 201, provider.text
    assert api.put(f"/v1/providers/{provider.json()['id']}/keys", json={"key": UPSTREAM_KEY}).status_code == 200


@pytest.fixture(scope="module")
def served(serve_process, module_fake):
    module_fake.models = list(MODELS)
    with serve_process.client() as api:
        configure_upstream(api, module_fake, "fake", models=MODELS)
        _add(api, module_fake, "claude", "anthropic")
        _add(api, module_fake, "olla", "ollama")
    return serve_process


@pytest.fixture
def client(served, fake):
    """The openai SDK (each test starts with the fake's script and log empty)."""
    with served.openai() as sdk:
        yield sdk


@pytest.fixture
def raw(served, fake):
    """curl's view: plain HTTP with the admin token."""
    with served.client() as api:
        yield api


@pytest.fixture(scope="session")
def openai_schema():
    return validate_openai


def stream_chunks(raw: httpx.Client, body: dict) -> list[dict]:
    """A streamed answer's ``chat.completion.chunk`` objects (curl's view), each checked against OpenAI's schema."""
    with raw.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as r:
        assert r.status_code == 200, r.read()
        data = [d for name, d in sse_events(r.iter_lines()) if name == "message"]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    for chunk in chunks:
        validate_openai("CreateChatCompletionStreamResponse", chunk)
    return chunks
