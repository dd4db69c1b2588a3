"""/v1/providers and /v1/models against a real in-process server with the fake provider upstream."""

from __future__ import annotations

import pytest

from qorven_local.providers.detect import LocalServer, detect_local
from tests.fakes import FakeProvider

KEY = "sk-live-providers-0123456789abcdef"


@pytest.fixture
def fake():
    with FakeProvider(api_key=KEY, models=["fake-model", {"id": "big", "context_length": 32768}]) as server:
        yield server


def add_provider(api, fake, name="fake", key=KEY):
    created = api.post("/v1/providers", json={"name": name, "kind": "openai_compatible", "base_url": fake.base_url})
    assert created.status_code == 201, created.text
    if key:
        assert api.put(f"/v1/providers/{created.json()['id']}/keys", json={"key": key}).status_code == 200
    return created.json()


def test_provider_crud_keys_are_write_only(server, admin, fake):
    provider = add_provider(admin, fake, key=None)
    assert provider["id"].startswith("prv_") and provider["has_key"] is False and provider["key_hint"] is None
    assert admin.post("/v1/providers", json={"name": "FAKE", "kind": "openai_compatible",
                                             "base_url": fake.base_url}).json()["error"]["code"] == "conflict"
    keyed = admin.put(f"/v1/providers/{provider['id']}/keys", json={"key": KEY}).json()
    assert keyed["has_key"] is True and keyed["key_hint"] == "…" + KEY[-4:]
    listed = admin.get("/v1/providers").json()
    assert [p["id"] for p in listed["data"]] == [provider["id"]] and listed["has_more"] is False
    assert KEY not in admin.get(f"/v1/providers/{provider['id']}").text

    renamed = admin.patch(f"/v1/providers/{provider['id']}", json={"name": "local", "enabled": False}).json()
    assert renamed["name"] == "local" and renamed["enabled"] is False and renamed["has_key"] is True
    removed = admin.delete(f"/v1/providers/{provider['id']}/keys").json()
    assert removed["has_key"] is False and removed["key_hint"] is None
    assert admin.delete(f"/v1/providers/{provider['id']}").status_code == 200
    assert admin.get(f"/v1/providers/{provider['id']}").status_code == 404


def test_changing_the_host_clears_the_key_but_the_path_does_not(server, admin, fake):
    provider = add_provider(admin, fake)
    same_host = admin.patch(f"/v1/providers/{provider['id']}", json={"base_url": fake.root_url + "/v1/"}).json()
    assert same_host["has_key"] is True
    moved = admin.patch(f"/v1/providers/{provider['id']}",
                        json={"base_url": f"http://localhost:{fake.port}/v1"}).json()
    assert moved["has_key"] is False and moved["key_hint"] is None


def test_invalid_provider_input_is_a_validation_error(server, admin):
    for body, param in (({"name": "x", "kind": "nope"}, "kind"),
                        ({"name": "a/b", "kind": "ollama"}, "name"),
                        ({"name": "x", "kind": "openai_compatible"}, "base_url"),
                        ({"name": "x", "kind": "openai", "base_url": "ftp://h/v1"}, "base_url"),
                        ({"name": "x", "kind": "openai", "base_url": "http://u:p@h/v1"}, "base_url")):
        r = admin.post("/v1/providers", json=body)
        assert r.status_code == 400 and r.json()["error"]["param"] == param, (body, r.text)


def test_user_tokens_read_but_cannot_write(server, admin, fake):
    add_provider(admin, fake)
    token = server.ctx.tokens.issue("default", "user", label="reader")
    with server.client(token) as user:
        assert user.get("/v1/providers").status_code == 200
        r = user.post("/v1/providers", json={"name": "x", "kind": "ollama"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "admin_only"
        assert user.put("/v1/models/default", json={"model": None}).status_code == 403


def test_connection_test_reports_auth_failures_and_success(server, admin, fake):
    provider = add_provider(admin, fake, key="sk-wrong-key-000000000000")
    failed = admin.post(f"/v1/providers/{provider['id']}/test").json()
    assert failed["ok"] is False and "rejected the API key" in failed["error"]["message"]
    assert "sk-wrong-key" not in str(failed)
    admin.put(f"/v1/providers/{provider['id']}/keys", json={"key": KEY})
    ok = admin.post(f"/v1/providers/{provider['id']}/test", json={}).json()
    assert ok["ok"] is True and ok["models"] == ["fake-model", "big"] and ok["latency_ms"] >= 0


def test_catalog_selection_default_and_models_list(server, admin, fake):
    provider = add_provider(admin, fake)
    catalog = admin.get("/v1/models/catalog").json()
    assert catalog["errors"] == []
    by_id = {m["id"]: m for m in catalog["data"]}
    assert set(by_id) == {"fake/fake-model", "fake/big"}
    assert by_id["fake/big"]["context_length"] == 32768 and by_id["fake/big"]["provider_id"] == provider["id"]
    assert not any(m["selected"] for m in catalog["data"])

    fake.models.append("newer")
    assert "fake/newer" not in {m["id"] for m in admin.get("/v1/models/catalog").json()["data"]}  # cached
    assert "fake/newer" in {m["id"] for m in admin.get("/v1/models/catalog?refresh=true").json()["data"]}

    assert admin.put("/v1/models/selected", json={"models": ["fake/fake-model"]}).json() == {
        "models": ["fake/fake-model"]}
    bad = admin.put("/v1/models/selected", json={"models": ["nope/x"]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "models.0"
    assert admin.get("/v1/models/default").json() == {"model": None}
    assert admin.put("/v1/models/default", json={"model": "fake/big"}).json() == {"model": "fake/big"}

    models = admin.get("/v1/models").json()
    ids = [m["id"] for m in models["data"]]
    assert ids[:2] == ["fake/fake-model", "fake/big"]  # the default is selected too
    assert "qor:prime" in ids and "all-minilm-l6-v2" in ids
    entry = {m["id"]: m for m in models["data"]}
    assert entry["fake/big"]["qorven"] == {"kind": "model", "provider_id": provider["id"], "default": True,
                                           "context_length": 32768, "starter": False}
    assert entry["qor:prime"]["qorven"]["kind"] == "agent"
    assert entry["all-minilm-l6-v2"]["qorven"]["kind"] == "embedding"

    assert admin.get("/v1/models/fake/big").json()["id"] == "fake/big"
    assert admin.get("/v1/models/qor:writer").json()["qorven"]["kind"] == "agent"
    missing = admin.get("/v1/models/fake/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"

    # renaming the provider renames its model ids; deleting it clears the default
    admin.patch(f"/v1/providers/{provider['id']}", json={"name": "local"})
    assert admin.get("/v1/models/default").json() == {"model": "local/big"}
    admin.delete(f"/v1/providers/{provider['id']}")
    assert admin.get("/v1/models/default").json() == {"model": None}
    assert [m["id"] for m in admin.get("/v1/models").json()["data"] if m["qorven"]["kind"] == "model"] == []


def test_catalog_lists_an_unreachable_provider_as_an_error(server, admin):
    admin.post("/v1/providers", json={"name": "gone", "kind": "ollama", "base_url": "http://127.0.0.1:9/v1"})
    catalog = admin.get("/v1/models/catalog").json()
    assert catalog["data"] == [] and catalog["errors"][0]["provider"] == "gone"
    assert catalog["errors"][0]["code"] == "provider_error"


def test_detect_reports_each_local_server(fake):
    targets = (LocalServer("Fake", "openai_compatible", fake.base_url, fake.base_url + "/models"),
               LocalServer("Ollama-like", "ollama", fake.base_url, fake.root_url + "/api/tags"),
               LocalServer("Nobody", "openai_compatible", "http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/models"))
    fake.api_key = None
    found = detect_local(targets, timeout=0.5)
    assert [(d["name"], d["reachable"]) for d in found] == [("Fake", True), ("Ollama-like", True), ("Nobody", False)]
    assert found[0]["models"] == ["fake-model", "big"] and found[1]["models"] == ["fake-model", "big"]


def test_detect_endpoint_answers_fast(server, admin):
    r = admin.get("/v1/providers/detect")
    assert r.status_code == 200 and r.elapsed.total_seconds() < 3
    assert [d["name"] for d in r.json()["data"]] == ["Ollama", "LM Studio", "llama.cpp", "Jan"]
    assert {d["kind"] for d in r.json()["data"]} == {"ollama", "openai_compatible"}
