"""Only admin tokens put admin-permission tools on an agent, so a user token cannot reach through an agent what
``POST /v1/tools/{id}/invoke`` (admin only) refuses it."""

from __future__ import annotations

import pytest


@pytest.fixture
def user(server):
    with server.client(server.ctx.tokens.issue("default", "user")) as client:
        yield client


def refused(r) -> bool:
    return r.status_code == 403 and r.json()["error"]["code"] == "admin_only" and r.json()["error"]["param"] == "tools"


def test_the_tools_that_change_stored_state_are_admin_only(admin):
    tools = {t["id"]: t["permission"] for t in admin.get("/v1/tools", params={"limit": 100}).json()["data"]}
    assert tools["write_file"] == tools["memory_save"] == "admin"
    assert tools["read_file"] == tools["calculator"] == "auto"


def test_a_user_token_cannot_create_an_agent_with_an_admin_only_tool(admin, user):
    assert refused(user.post("/v1/agents", json={"name": "sneaky", "tools": ["read_file", "write_file"]}))
    assert user.get("/v1/agents/sneaky").status_code == 404  # nothing half-created
    assert user.post("/v1/agents", json={"name": "reader", "tools": ["read_file"]}).status_code == 201
    assert admin.post("/v1/agents", json={"name": "scribe", "tools": ["write_file"]}).status_code == 201


def test_a_user_token_cannot_add_an_admin_only_tool_but_may_keep_or_drop_one(admin, user):
    reader = user.post("/v1/agents", json={"name": "reader", "tools": ["read_file"]}).json()
    assert refused(user.patch(f"/v1/agents/{reader['id']}", json={"tools": ["read_file", "memory_save"]}))
    assert admin.get(f"/v1/agents/{reader['id']}").json()["tools"] == ["read_file"]

    developer = next(a for a in user.get("/v1/agents").json()["data"] if a["name"] == "developer")
    assert "write_file" in developer["tools"]  # built-in agents come with the tools an admin would grant
    kept = user.patch(f"/v1/agents/{developer['id']}", json={"instructions": "Be terse.",
                                                             "tools": developer["tools"]})
    assert kept.status_code == 200, kept.text
    dropped = [t for t in developer["tools"] if t != "write_file"]
    assert user.patch(f"/v1/agents/{developer['id']}", json={"tools": dropped}).status_code == 200
    assert refused(user.patch(f"/v1/agents/{developer['id']}", json={"tools": dropped + ["write_file"]}))
    assert admin.patch(f"/v1/agents/{developer['id']}", json={"tools": dropped + ["write_file"]}).status_code == 200


def test_the_openapi_document_lists_admin_only_on_agent_writes(admin):
    paths = admin.get("/openapi.json").json()["paths"]
    for method in ("post", "patch"):
        path = "/v1/agents" if method == "post" else "/v1/agents/{agent_id}"
        assert "admin_only" in paths[path][method]["responses"]["403"]["description"]
