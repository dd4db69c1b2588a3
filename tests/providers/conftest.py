"""Fixtures: a running fake provider that needs a key, and adapters pointed at it over real HTTP."""

from __future__ import annotations

from typing import Iterator

import pytest

from qorven_local.providers.events import ChatRequest, Provider
from qorven_local.providers.kinds import create_provider
from tests.fakes import FakeProvider

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(api_key=KEY) as server:
        yield server


@pytest.fixture
def make_provider(fake: FakeProvider):
    """Build an adapter of a kind against the fake; a short read timeout keeps hang tests fast."""
    made: list[Provider] = []

    def make(kind: str, *, api_key: str | None = KEY, read_timeout: float = 5.0) -> Provider:
        provider = create_provider(kind, fake.base_url, api_key, name=f"test-{kind}",
                                   read_timeout=read_timeout)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def ask(text: str = "hi", **kw) -> ChatRequest:
    return ChatRequest(model="fake-model", messages=[{"role": "user", "content": text}], **kw)
