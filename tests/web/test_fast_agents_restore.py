"""Restoring the built-in agents, and the agent name rule said as a sentence, in process."""

from __future__ import annotations

import pytest

from tests.support.envelope import check_envelope

pytestmark = pytest.mark.fast
BUILTINS = {"prime", "researcher", "writer", "developer", "analyst"}


def by_name(client):
    return {a["name"]: a for a in client.simulate_get("/v1/agents").json["data"]}


def test_restore_brings_back_deleted_builtins_and_leaves_edited_ones_alone(fast_admin):
    agents = by_name(fast_admin)
    fast_admin.simulate_patch(f"/v1/agents/{agents['prime']['id']}", json={"instructions": "Be brief."})
    for name in ("writer", "analyst"):
        assert fast_admin.simulate_delete(f"/v1/agents/{agents[name]['id']}").status_code == 200
    assert BUILTINS - set(by_name(fast_admin)) == {"writer", "analyst"}

    r = fast_admin.simulate_post("/v1/agents/restore-builtins")
    assert r.status_code == 200, r.text
    assert r.json["object"] == "agent.restore"
    assert sorted(a["name"] for a in r.json["restored"]) == ["analyst", "writer"]
    assert sorted(r.json["unchanged"]) == ["developer", "prime", "researcher"]
    after = by_name(fast_admin)
    assert BUILTINS <= set(after)
    assert after["writer"]["id"] == agents["writer"]["id"] and after["writer"]["deleted_at"] is None
    assert after["prime"]["instructions"] == "Be brief."

    again = fast_admin.simulate_post("/v1/agents/restore-builtins", json={})
    assert again.json["restored"] == [] and sorted(again.json["unchanged"]) == sorted(BUILTINS)


def test_restore_skips_a_name_taken_by_another_agent(fast_admin):
    writer = by_name(fast_admin)["writer"]
    fast_admin.simulate_delete(f"/v1/agents/{writer['id']}")
    mine = fast_admin.simulate_post("/v1/agents", json={"name": "writer", "instructions": "Mine."}).json
    r = fast_admin.simulate_post("/v1/agents/restore-builtins")
    assert r.json["restored"] == [] and "writer" in r.json["unchanged"]
    assert by_name(fast_admin)["writer"]["id"] == mine["id"]


def test_a_bad_agent_name_is_answered_with_a_sentence_not_a_regex(fast_admin):
    for name in ("Research Helper", "-x", "a" * 49, ""):
        r = fast_admin.simulate_post("/v1/agents", json={"name": name})
        check_envelope(r, 400, "validation_error")
        message = r.json["error"]["message"]
        assert r.json["error"]["param"] == "name", message
        if name:
            assert "lowercase letters, digits, hyphens or underscores" in message, message
            assert "[a-z" not in message and "^" not in message, message
