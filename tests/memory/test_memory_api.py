"""/v1/memory and /v1/embeddings over real HTTP against an in-process server."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from tests.support.openai_schemas import validate_openai
from tests.support.servers import InProcessServer


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with InProcessServer(tmp_path_factory.mktemp("memory-api")) as server:
        yield server


@pytest.fixture(scope="module")
def api(srv):
    with srv.client() as client:
        yield client


@pytest.fixture(scope="module")
def agents(api):
    return {a["name"]: a["id"] for a in api.get("/v1/agents", params={"limit": 200}).json()["data"]}


def save(api, **body):
    return api.post("/v1/memory/save", json=body)


def test_save_then_search_get_patch_delete(api, agents):
    r = save(api, scope="agent", agent_id=agents["writer"], kind="preference", importance=0.7,
             content="The user wants headlines in sentence case")
    assert r.status_code == 201, r.text
    memory = r.json()
    assert memory["object"] == "memory" and memory["id"].startswith("mem_") and memory["deduplicated"] is False
    assert memory["source"] == "admin" and memory["importance"] == 0.7 and memory["last_recalled_at"] is None

    again = save(api, scope="agent", agent_id=agents["writer"], kind="preference",
                 content="The user wants headlines in sentence case.")
    assert again.status_code == 200 and again.json()["deduplicated"] is True and again.json()["id"] == memory["id"]

    found = api.post("/v1/memory/search", json={"scope": "agent", "agent_id": agents["writer"],
                                                "query": "how should titles be capitalised?", "max_results": 3})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["object"] == "list" and body["data"][0]["id"] == memory["id"]
    assert 0 < body["data"][0]["score"] <= 1 and set(body["data"][0]["match"]) == {"semantic", "keyword"}

    assert api.get(f"/v1/memory/{memory['id']}").json()["content"].endswith("case.")
    patched = api.patch(f"/v1/memory/{memory['id']}", json={"content": "Headlines use title case", "kind": "note"})
    assert patched.status_code == 200 and patched.json()["kind"] == "note"
    hit = api.post("/v1/memory/search", json={"scope": "workspace", "query": "title case"}).json()["data"][0]
    assert hit["id"] == memory["id"] and hit["match"]["keyword"] == 1

    gone = api.delete(f"/v1/memory/{memory['id']}")
    assert gone.status_code == 200 and gone.json() == {"id": memory["id"], "object": "memory", "deleted": True}
    assert api.get(f"/v1/memory/{memory['id']}").status_code == 404
    assert api.delete(f"/v1/memory/{memory['id']}").status_code == 404


def test_list_filters_and_paginates_newest_first(api, agents):
    made = [save(api, scope="agent", agent_id=agents["analyst"], kind="fact",
                 content=f"Paging fact {i}: region {name} grew".strip()).json()["id"]
            for i, name in enumerate(["north", "south", "east", "west", "centre"])]
    save(api, scope="workspace", kind="note", content="A workspace note about the paging test")
    seen, cursor = [], None
    while True:
        params = {"agent_id": agents["analyst"], "kind": "fact", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/memory", params=params).json()
        seen += [m["id"] for m in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))
    workspace = api.get("/v1/memory", params={"scope": "workspace"}).json()["data"]
    assert workspace and all(m["scope"] == "workspace" for m in workspace)
    assert api.get("/v1/memory", params={"limit": 0}).status_code == 400
    assert api.get("/v1/memory", params={"cursor": "garbage!"}).status_code == 400
    assert api.get("/v1/memory", params={"kind": "gossip"}).status_code == 400


@pytest.mark.parametrize("body, param", [
    ({"scope": "agent", "content": "no agent given"}, "agent_id"),
    ({"scope": "session", "content": "no session given"}, "session_id"),
    ({"scope": "galaxy", "content": "x"}, "scope"),
    ({"scope": "workspace", "content": ""}, "content"),
    ({"scope": "workspace", "content": "x", "importance": 2}, "importance"),
    ({"scope": "workspace", "content": "x", "kind": "gossip"}, "kind"),
    ({"scope": "workspace", "content": "x", "colour": "red"}, "colour"),
])
def test_save_validation_errors_name_the_field(api, body, param):
    r = save(api, **body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["param"] == param


def test_search_validation_and_unknown_ids(api, agents):
    assert api.post("/v1/memory/search", json={"scope": "agent", "query": "x"}).json()["error"]["param"] == "agent_id"
    assert api.post("/v1/memory/search", json={"scope": "workspace"}).json()["error"]["param"] == "query"
    assert api.post("/v1/memory/search", json={"scope": "workspace", "query": "x", "max_results": 0}).status_code == 400
    r = api.post("/v1/memory/search", json={"scope": "agent", "agent_id": "agt_nope", "query": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert api.post("/v1/memory/search", content=b"{", headers={"content-type": "application/json"}).json()[
        "error"]["code"] == "invalid_json"
    assert api.get("/v1/memory/mem_doesnotexist").status_code == 404
    assert api.patch("/v1/memory/mem_doesnotexist", json={"kind": "note"}).status_code == 404
    assert api.post("/api/memory/search", json={"scope": "workspace", "query": "paging"}).status_code == 200


def test_another_tenants_memories_answer_404_and_never_show(srv, api, agents):
    mine = save(api, scope="workspace", kind="fact", content="Tenant isolation canary: pelican").json()
    other_token = srv.ctx.tokens.issue("acme", "admin", label="other tenant")
    with srv.client(token=other_token) as other:
        assert other.get(f"/v1/memory/{mine['id']}").status_code == 404
        assert other.patch(f"/v1/memory/{mine['id']}", json={"kind": "note"}).status_code == 404
        assert other.delete(f"/v1/memory/{mine['id']}").status_code == 404
        assert other.post("/v1/memory/search", json={"scope": "agent", "agent_id": agents["writer"],
                                                     "query": "pelican"}).status_code == 404
        found = other.post("/v1/memory/search", json={"scope": "workspace", "query": "pelican"}).json()["data"]
        assert mine["id"] not in {m["id"] for m in found}
        assert all(m["id"] != mine["id"] for m in other.get("/v1/memory").json()["data"])
    assert api.get(f"/v1/memory/{mine['id']}").status_code == 200


def test_writes_need_an_admin_token_but_search_does_not(srv, api):
    user_token = srv.ctx.tokens.issue("default", "user", label="user")
    mid = save(api, scope="workspace", kind="note", content="Admin-only write check").json()["id"]
    with srv.client(token=user_token) as user:
        assert user.post("/v1/memory/save", json={"scope": "workspace", "content": "x"}).json()["error"][
            "code"] == "admin_only"
        assert user.patch(f"/v1/memory/{mid}", json={"kind": "fact"}).status_code == 403
        assert user.delete(f"/v1/memory/{mid}").status_code == 403
        assert user.post("/v1/memory/search", json={"scope": "workspace", "query": "write check"}).status_code == 200
        assert user.post("/v1/embeddings", json={"input": "hi", "model": "all-minilm-l6-v2"}).status_code == 200


def test_embeddings_answer_openais_shape(api, srv):
    r = api.post("/v1/embeddings", json={"input": ["The cat sat on the mat", "A dog in the fog"],
                                         "model": "all-minilm-l6-v2"})
    assert r.status_code == 200, r.text
    body = r.json()
    validate_openai("CreateEmbeddingResponse", body)
    assert [d["index"] for d in body["data"]] == [0, 1] and body["model"] == "all-minilm-l6-v2"
    vectors = np.array([d["embedding"] for d in body["data"]], dtype=np.float32)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    expected = srv.ctx.memory.embed(["The cat sat on the mat"])[0]
    assert float(vectors[0] @ expected) > 0.9999
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 4

    one = api.post("/v1/embeddings", json={"input": "The cat sat on the mat", "model": "all-minilm-l6-v2",
                                           "encoding_format": "base64", "dimensions": 384}).json()
    decoded = np.frombuffer(base64.b64decode(one["data"][0]["embedding"]), dtype="<f4")
    assert decoded.shape == (384,) and float(decoded @ expected) > 0.9999


@pytest.mark.parametrize("body, status, param, words", [
    ({"input": "x", "model": "all-minilm-l6-v2", "dimensions": 256}, 400, "dimensions", "384"),
    ({"input": [15496, 995], "model": "all-minilm-l6-v2"}, 400, "input", "token arrays"),
    ({"input": [[15496, 995]], "model": "all-minilm-l6-v2"}, 400, "input", "token arrays"),
    ({"input": "", "model": "all-minilm-l6-v2"}, 400, "input", "empty"),
    ({"input": [], "model": "all-minilm-l6-v2"}, 400, "input", "non-empty"),
    ({"model": "all-minilm-l6-v2"}, 400, "input", "required"),
    ({"input": "x", "model": "all-minilm-l6-v2", "encoding_format": "int8"}, 400, "encoding_format", "base64"),
    ({"input": "x", "model": "text-embedding-3-small"}, 404, "model", "all-minilm-l6-v2"),
])
def test_embeddings_refuse_what_they_cannot_do_clearly(api, body, status, param, words):
    r = api.post("/v1/embeddings", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["param"] == param and words in error["message"]


def test_readyz_reports_the_embedder(api):
    ready = api.get("/readyz").json()
    assert ready["checks"]["embedder"]["ok"] is True and "all-minilm-l6-v2" in ready["checks"]["embedder"]["detail"]


def test_the_openapi_document_covers_the_memory_routes(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/v1/memory", "/v1/memory/search", "/v1/memory/save", "/v1/memory/{memory_id}", "/v1/embeddings"):
        assert path in paths
    assert paths["/v1/memory/save"]["post"]["x-qorven-admin"] is True
