"""``POST /v1/providers/test``: a provider is tested before it is saved (the create body; nothing is
stored), an unreachable one is named by host:port, and a provider's ``status`` reflects real results."""

from __future__ import annotations

import socket

from tests.support.upstream import UPSTREAM_KEY


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unsaved_provider_is_tested_without_being_stored(admin, fake):
    body = {"name": "fake", "kind": "openai_compatible", "base_url": fake.base_url, "key": UPSTREAM_KEY}
    res = admin.post("/v1/providers/test", json=body)
    assert res.status_code == 200, res.text
    result = res.json()
    assert result["ok"] is True and result["provider_id"] is None and "fake-model" in result["models"]
    assert fake.requests and fake.requests[-1].path.endswith("/models")  # it really reached the upstream
    assert admin.get("/v1/providers").json()["data"] == []

    port = closed_port()
    down = admin.post("/v1/providers/test", json={**body, "base_url": f"http://127.0.0.1:{port}/v1"}).json()
    assert down["ok"] is False and f"127.0.0.1:{port}" in down["error"]["message"]
    assert admin.get("/v1/providers").json()["data"] == []
    bad = admin.post("/v1/providers/test", json={"name": "x", "kind": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"


def test_the_provider_status_follows_real_results_not_enabled(admin, fake):
    port = closed_port()
    created = admin.post("/v1/providers", json={"name": "later", "kind": "openai_compatible",
                                                "base_url": f"http://127.0.0.1:{port}/v1"}).json()
    assert created["status"] == "untested" and created["enabled"] is True
    pid = created["id"]
    assert admin.post(f"/v1/providers/{pid}/test").json()["ok"] is False
    after = admin.get(f"/v1/providers/{pid}").json()
    assert after["status"] == "unreachable" and f"127.0.0.1:{port}" in after["last_error"]
    assert admin.patch(f"/v1/providers/{pid}", json={"base_url": fake.base_url}).json()["status"] == "untested"
    assert admin.put(f"/v1/providers/{pid}/keys", json={"key": UPSTREAM_KEY}).status_code == 200
    assert admin.post(f"/v1/providers/{pid}/test").json()["ok"] is True
    assert admin.get(f"/v1/providers/{pid}").json()["status"] == "reachable"
