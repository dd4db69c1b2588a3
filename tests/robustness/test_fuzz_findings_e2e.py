"""What the schema fuzzer found, pinned end to end so it stays fixed."""

from __future__ import annotations

import pytest

from tests.support.servers import InProcessServer


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with InProcessServer(tmp_path_factory.mktemp("findings")) as server:
        yield server


def _json(api, method, path, raw: bytes):
    return api.request(method, path, content=raw, headers={"Content-Type": "application/json"})


def test_integral_floats_are_integers(srv):
    """JSON Schema counts 19.0 as an integer: it must then behave as one (it crashed memory search)."""
    with srv.client() as api:
        r = _json(api, "POST", "/v1/agents", b'{"name": "floaty", "temperature": 1.0}')
        assert r.status_code == 201, r.text
        assert r.json()["temperature"] == 1
        r = _json(api, "POST", "/v1/agents", b'{"name": "floaty-half", "temperature": 0.5}')
        assert r.status_code == 201 and r.json()["temperature"] == 0.5


@pytest.mark.parametrize("raw", [b'{"name": "nan", "temperature": NaN}', b'{"name": "inf", "temperature": Infinity}',
                                 b'{"name": "ninf", "temperature": -Infinity}', b'{"name": "big", "temperature": 1e400}'])
def test_non_finite_numbers_are_not_json(srv, raw):
    """Python's parser accepts NaN/Infinity and 1e400 → inf; they slip past range checks (nan > 2 is False)."""
    with srv.client() as api:
        r = _json(api, "POST", "/v1/agents", raw)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json", r.text


def test_query_parameters_are_held_to_their_documented_schema(srv):
    with srv.client() as api:
        r = api.get("/v1/sessions", params={"q": "x" * 201})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["param"] == "q"
        assert api.get("/v1/sessions", params={"q": "x" * 200}).status_code == 200


@pytest.mark.parametrize("key", ["sk-ünïcode", "sk-with space", "sk-line\nbreak", "sk-tab\t", "\u0000"])
def test_provider_keys_must_be_sendable_in_a_header(srv, key):
    """A non-ASCII key was stored, then every /v1/models/catalog call failed with a 500."""
    with srv.client() as api:
        created = api.post("/v1/providers", json={"name": "p-" + str(abs(hash(key)))[:6], "kind": "openai",
                                                  "key": key})
        assert created.status_code == 400 and created.json()["error"]["param"] == "key", created.text
        ok = api.post("/v1/providers", json={"name": "p-ok-" + str(abs(hash(key)))[:6], "kind": "ollama",
                                             "base_url": "http://127.0.0.1:9/v1"})
        assert ok.status_code == 201, ok.text
        put = api.put(f"/v1/providers/{ok.json()['id']}/keys", json={"key": key})
        assert put.status_code == 400 and put.json()["error"]["param"] == "key"
        assert api.delete(f"/v1/providers/{ok.json()['id']}").status_code in (200, 204)


def test_the_document_says_what_the_server_does(srv):
    with srv.client() as api:
        doc = api.get("/openapi.json").json()
    rotate = doc["paths"]["/v1/auth/rotate"]["post"]
    assert rotate["requestBody"]["required"] is False   # an empty POST rotates with the defaults
    assert "404" in doc["paths"]["/v1/sessions"]["post"]["responses"]   # an unknown agent_id
    assert "404" in doc["paths"]["/v1/messages"]["get"]["responses"]    # an unknown session_id
    chat = doc["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    event = chat["text/event-stream"]["schema"]
    assert event["type"] == "object" and "data" in event["properties"]  # one parsed event, per OpenAPI 3.1
    name = doc["paths"]["/v1/providers"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "pattern" in name["properties"]["name"] and "pattern" in name["properties"]["key"]
