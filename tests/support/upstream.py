"""The fake model upstream (tests/fakes) added to a server as a provider, the way a user adds one."""

from __future__ import annotations

from typing import Iterable

import httpx

from tests.fakes import FakeProvider

# The key the fake upstream expects and the tests hand the server; secrecy tests look for it in logs.
UPSTREAM_KEY = "sk-live-upstream-test-0123456789abcdef"


def configure_upstream(api: httpx.Client, fake: FakeProvider, name: str = "fake",
                       models: Iterable[str] = ("fake-model",)) -> dict:
    """Add ``fake`` as provider ``name`` with its key, select ``models`` and make the first the default.

    Returns the created provider.
    """
    selected = [f"{name}/{model}" for model in models]
    provider = api.post("/v1/providers", json={"name": name, "kind": "openai_compatible", "base_url": fake.base_url})
    assert provider.status_code == 201, provider.text
    assert api.put(f"/v1/providers/{provider.json()['id']}/keys", json={"key": UPSTREAM_KEY}).status_code == 200
    assert api.put("/v1/models/selected", json={"models": selected}).status_code == 200
    assert api.put("/v1/models/default", json={"model": selected[0]}).status_code == 200
    return provider.json()
