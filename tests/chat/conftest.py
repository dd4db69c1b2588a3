"""Chat fixtures: the fake provider upstream, a configured server, and OpenAI's published schemas."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes import FakeProvider
from tests.support.openai_schemas import validate_openai

KEY = "sk-live-chat-test-0123456789abcdef"


def configure(api: httpx.Client, fake: FakeProvider, name: str = "fake") -> dict:
    """Add the fake as a provider with its key, select its models and make fake-model the default."""
    provider = api.post("/v1/providers", json={"name": name, "kind": "openai_compatible", "base_url": fake.base_url})
    assert provider.status_code == 201, provider.text
    assert api.put(f"/v1/providers/{provider.json()['id']}/keys", json={"key": KEY}).status_code == 200
    assert api.put("/v1/models/selected", json={"models": [f"{name}/fake-model", f"{name}/fake-model-large"]}).status_code == 200
    assert api.put("/v1/models/default", json={"model": f"{name}/fake-model"}).status_code == 200
    assert api.get("/v1/models/catalog").json()["errors"] == []  # fetched: unknown models are now 404
    return provider.json()


@pytest.fixture(scope="module")
def module_fake():
    with FakeProvider(api_key=KEY) as server:
        yield server


@pytest.fixture
def fake(module_fake):
    module_fake.reset()
    module_fake.api_key = KEY
    yield module_fake
    module_fake.reset()


@pytest.fixture(scope="session")
def openai_schema():
    """Validate a body against one of OpenAI's published component schemas."""
    return validate_openai


def sse_events(lines) -> list[tuple[str, str]]:
    """(event name, data) of each SSE event in an iterable of text lines (comments as ('comment', text))."""
    events, name, data = [], "message", []
    for line in lines:
        if line.startswith(":"):
            events.append(("comment", line[1:].strip()))
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif not line and data:
            events.append((name, "\n".join(data)))
            name, data = "message", []
    if data:
        events.append((name, "\n".join(data)))
    return events
