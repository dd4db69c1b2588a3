"""Agents and sessions through their resources, in process."""

from __future__ import annotations

import pytest

from tests.support.envelope import check_envelope

pytestmark = pytest.mark.fast


def test_agent_create_read_patch_soft_delete(fast_admin):
    created = fast_admin.simulate_post("/v1/agents", json={"name": "scribe", "tools": ["calculator"],
                                                            "temperature": 0.3})
    assert created.status_code == 201, created.text
    agent = created.json
    assert agent["object"] == "agent" and agent["id"].startswith("agt_") and agent["display_name"] == "scribe"
    assert fast_admin.simulate_get(f"/v1/agents/{agent['id']}").json["tools"] == ["calculator"]

    patched = fast_admin.simulate_patch(f"/v1/agents/{agent['id']}", json={"display_name": "Scribe"})
    assert patched.status_code == 200 and patched.json["display_name"] == "Scribe"

    deleted = fast_admin.simulate_delete(f"/v1/agents/{agent['id']}")
    assert deleted.status_code == 200 and deleted.json["deleted_at"]
    check_envelope(fast_admin.simulate_get(f"/v1/agents/{agent['id']}"), 404, "not_found")
    kept = fast_admin.simulate_get(f"/v1/agents/{agent['id']}", params={"include_deleted": "true"})
    assert kept.status_code == 200
    assert agent["id"] not in {a["id"] for a in fast_admin.simulate_get("/v1/agents").json["data"]}


def test_the_five_builtin_agents_exist_and_keep_their_names(fast_admin):
    agents = {a["name"]: a for a in fast_admin.simulate_get("/v1/agents").json["data"]}
    assert {"prime", "researcher", "writer", "developer", "analyst"} <= set(agents)
    assert agents["prime"]["builtin"] is True
    check_envelope(fast_admin.simulate_patch(f"/v1/agents/{agents['prime']['id']}", json={"name": "boss"}),
                   409, "conflict")


def test_a_chat_session_is_canonical_and_a_task_session_always_new(fast_admin):
    first = fast_admin.simulate_post("/v1/sessions", json={"agent_id": "writer", "channel": "cli"})
    again = fast_admin.simulate_post("/v1/sessions", json={"agent_id": "writer", "channel": "cli"})
    assert (first.status_code, again.status_code) == (201, 200) and first.json["id"] == again.json["id"]
    tasks = {fast_admin.simulate_post("/v1/sessions", json={"agent_id": "writer", "channel": "task"}).json["id"]
             for _ in range(2)}
    assert len(tasks) == 2


def test_a_session_is_renamed_archived_and_its_messages_listed(fast_admin):
    session = fast_admin.simulate_post("/v1/sessions", json={"agent_id": "analyst", "channel": "api"}).json
    renamed = fast_admin.simulate_patch(f"/v1/sessions/{session['id']}", json={"title": "Notes"})
    assert renamed.json["title"] == "Notes"
    page = fast_admin.simulate_get("/v1/messages", params={"session_id": session["id"]}).json
    assert page == {"object": "list", "data": [], "has_more": False, "next_cursor": None}
    archived = fast_admin.simulate_delete(f"/v1/sessions/{session['id']}")
    assert archived.json["status"] == "archived"
    check_envelope(fast_admin.simulate_post("/v1/sessions", json={"agent_id": "nobody"}), 404, "not_found",
                   "agent_id")
    check_envelope(fast_admin.simulate_get("/v1/messages"), 400, "validation_error", "session_id")


def test_another_tenants_agent_answers_404(fast_app, fast_admin):
    mine = fast_admin.simulate_post("/v1/agents", json={"name": "secretive"}).json
    other = fast_app.client(token=fast_app.issue_token("user", tenant="other"))
    check_envelope(other.simulate_get(f"/v1/agents/{mine['id']}"), 404, "not_found")
