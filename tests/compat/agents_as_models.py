"""Shared by the agents-as-models tests: a real ``qorven serve`` with the fake upstream as its default model,
an agent ``opts`` (temperature 0.2, the ``current_time`` tool) and the official ``openai`` SDK pointed at it."""

from __future__ import annotations

import json
from typing import Iterator

import httpx
import openai
import pytest

from tests.chat.conftest import configure, sse_events

AGENT = "qor:opts"
AGENT_TEMPERATURE = 0.2


@pytest.fixture(scope="module")
def served(serve_process, module_fake):
    with serve_process.client() as api:
        configure(api, module_fake)
        created = api.post("/v1/agents", json={"name": "opts", "instructions": "You are Opts.",
                                               "tools": ["current_time"], "temperature": AGENT_TEMPERATURE})
        assert created.status_code == 201, created.text
    return serve_process


@pytest.fixture
def client(served, fake) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=served.url + "/v1", api_key=served.admin_token, max_retries=0, timeout=20) as c:
        yield c


@pytest.fixture
def raw(served, fake) -> Iterator[httpx.Client]:
    with served.client() as api:
        yield api


def stream_chunks(api: httpx.Client, body: dict) -> list[dict]:
    """The ``chat.completion.chunk`` objects of a streamed answer (asserting it ends with ``[DONE]``)."""
    with api.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as response:
        assert response.status_code == 200, response.read()
        data = [d for name, d in sse_events(response.iter_lines()) if name == "message"]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]
