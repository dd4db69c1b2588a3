"""A real ``qorven serve`` per module with the fake upstream added three ways: as an OpenAI-compatible
provider (``fake``), as Anthropic (``claude``) and as Ollama (``olla``); and the official ``openai`` SDK."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.chat.conftest import sse_events
from tests.fakes import FakeProvider
from tests.support.openai_schemas import validate_openai
from tests.support.upstream import UPSTREAM_KEY, configure_upstream

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
