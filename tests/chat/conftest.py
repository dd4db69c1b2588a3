"""Chat helpers: a server configured with both of the fake upstream's models, OpenAI's published schemas,
and an SSE reader. The fake upstream itself (``fake``, ``module_fake``) is tests/conftest.py's."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes import FakeProvider
from tests.support.openai_schemas import validate_openai
from tests.support.upstream import configure_upstream


def configure(api: httpx.Client, fake: FakeProvider, name: str = "fake") -> dict:
    """Add the fake as a provider with its key, select its models and make fake-model the default."""
    provider = configure_upstream(api, fake, name, models=("fake-model", "fake-model-large"))
    assert api.get("/v1/models/catalog").json()["errors"] == []  # fetched: unknown models are now 404
    return provider


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
