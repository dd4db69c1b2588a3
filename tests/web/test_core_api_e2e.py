"""Agents, sessions and messages end to end against a real ``qorven serve`` subprocess."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx


def other_tenant_token(proc, tenant="other"):
    out = subprocess.run([sys.executable, "-m", "qorven_local.cli.main", "auth", "create-token", "--tenant",
                          tenant, "--home", str(proc.home)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_agent_crud_and_soft_delete(serve_process):
    with serve_process.client() as api:
        created = api.post("/v1/agents", json={"name": "scribe", "instructions": "Write briefly.",
                                                "tools": ["calculator"], "memory": {"auto_save": True},
                                                "temperature": 0.3})
        assert created.status_code == 201, created.text
        agent = created.json()
        assert agent["object"] == "agent" and agent["id"].startswith("agt_")
        assert agent["display_name"] == "scribe" and agent["memory"] == {"enabled": True, "auto_save": True, "max_recall": 5}
        assert api.post("/v1/agents", json={"name": "scribe"}).json()["error"]["code"] == "conflict"

        patched = api.patch(f"/v1/agents/{agent['id']}", json={"display_name": "Scribe", "temperature": None})
        assert patched.status_code == 200 and patched.json()["display_name"] == "Scribe"
        assert patched.json()["temperature"] is None

        session = api.post("/v1/sessions", json={"agent_id": agent["id"]}).json()
        deleted = api.delete(f"/v1/agents/{agent['id']}")
        assert deleted.status_code == 200 and deleted.json()["deleted_at"]
        assert api.get(f"/v1/agents/{agent['id']}").status_code == 404
        hidden = api.get(f"/v1/agents/{agent['id']}", params={"include_deleted": "true"})
        assert hidden.status_code == 200 and hidden.json()["deleted_at"] == deleted.json()["deleted_at"]
        assert agent["id"] not in {a["id"] for a in api.get("/v1/agents", params={"limit": 200}).json()["data"]}
        everyone = api.get("/v1/agents", params={"limit": 200, "include_deleted": "true"}).json()["data"]
        assert agent["id"] in {a["id"] for a in everyone}
        # its sessions are kept, and the name is free again
        assert api.get(f"/v1/sessions/{session['id']}").status_code == 200
        assert api.post("/v1/agents", json={"name": "scribe"}).status_code == 201
        assert api.patch(f"/v1/agents/{agent['id']}", json={"description": "x"}).status_code == 404


def test_builtin_agents_keep_their_names(serve_process):
    with serve_process.client() as api:
        prime = next(a for a in api.get("/v1/agents").json()["data"] if a["name"] == "prime")
        assert prime["builtin"] is True
        r = api.patch(f"/v1/agents/{prime['id']}", json={"name": "boss"})
        assert r.status_code == 409
        assert api.patch(f"/v1/agents/{prime['id']}", json={"description": "Team lead"}).status_code == 200


def test_twenty_concurrent_posts_make_one_canonical_session(serve_process):
    with serve_process.client() as api:
        agent = api.post("/v1/agents", json={"name": "racer"}).json()

    def open_session(_):
        with serve_process.client() as c:
            return c.post("/v1/sessions", json={"agent_id": agent["id"], "channel": "telegram", "peer": "u42"})

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(open_session, range(20)))
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    with serve_process.client() as api:
        again = api.post("/v1/sessions", json={"agent_id": "racer", "channel": "telegram", "peer": "u42"})
        assert again.status_code == 200 and again.json()["id"] == responses[0].json()["id"]
        other_peer = api.post("/v1/sessions", json={"agent_id": agent["id"], "channel": "telegram", "peer": "u7"})
        assert other_peer.status_code == 201
        tasks = {api.post("/v1/sessions", json={"agent_id": agent["id"], "channel": "task"}).json()["id"]
                 for _ in range(3)}
        assert len(tasks) == 3  # non-chat channels always create


def test_archived_canonical_session_is_replaced(serve_process):
    with serve_process.client() as api:
        first = api.post("/v1/sessions", json={"agent_id": "writer", "channel": "cli"}).json()
        archived = api.delete(f"/v1/sessions/{first['id']}")
        assert archived.json()["status"] == "archived"
        second = api.post("/v1/sessions", json={"agent_id": "writer", "channel": "cli"})
        assert second.status_code == 201 and second.json()["id"] != first["id"]
        r = api.patch(f"/v1/sessions/{first['id']}", json={"status": "active"})
        assert r.status_code == 409
        renamed = api.patch(f"/v1/sessions/{second.json()['id']}", json={"title": "Notes"})
        assert renamed.json()["title"] == "Notes"
        listed = api.get("/v1/sessions", params={"agent_id": second.json()["agent_id"], "status": "archived"})
        assert [s["id"] for s in listed.json()["data"]] == [first["id"]]


def test_pagination_over_250_items_with_inserts_between_pages(serve_process):
    with serve_process.client() as api:
        agent = api.post("/v1/agents", json={"name": "pager"}).json()
        ids = []
        for _ in range(250):
            r = api.post("/v1/sessions", json={"agent_id": agent["id"], "channel": "task"})
            ids.append(r.json()["id"])
        seen, cursor, inserted = [], None, []
        while True:
            params = {"agent_id": agent["id"], "limit": 37}
            if cursor:
                params["cursor"] = cursor
            page = api.get("/v1/sessions", params=params).json()
            seen.extend(s["id"] for s in page["data"])
            # new rows arrive while the client pages
            for _ in range(3):
                inserted.append(api.post("/v1/sessions", json={"agent_id": agent["id"], "channel": "task"})
                                .json()["id"])
            if not page["has_more"]:
                assert page["next_cursor"] is None
                break
            cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)), "duplicates across pages"
    assert seen == list(reversed(ids)), "gaps or wrong order (newest first)"
    assert not set(inserted) & set(seen)


def test_tenant_isolation(serve_process):
    token = other_tenant_token(serve_process)
    with serve_process.client() as api, serve_process.client(token=token) as other:
        mine = api.post("/v1/agents", json={"name": "secretive"}).json()
        session = api.post("/v1/sessions", json={"agent_id": mine["id"]}).json()
        assert other.get(f"/v1/agents/{mine['id']}").status_code == 404
        assert other.patch(f"/v1/agents/{mine['id']}", json={"description": "x"}).status_code == 404
        assert other.delete(f"/v1/agents/{mine['id']}").status_code == 404
        assert other.get(f"/v1/sessions/{session['id']}").status_code == 404
        assert other.get("/v1/messages", params={"session_id": session["id"]}).status_code == 404
        assert other.post("/v1/sessions", json={"agent_id": mine["id"]}).status_code == 404
        other_names = {a["name"] for a in other.get("/v1/agents").json()["data"]}
        assert "secretive" not in other_names and "prime" in other_names  # its own built-ins
        assert other.post("/v1/agents", json={"name": "secretive"}).status_code == 201  # names are per tenant
        assert session["id"] not in {s["id"] for s in other.get("/v1/sessions").json()["data"]}
        assert api.get(f"/v1/agents/{mine['id']}").status_code == 200


def test_messages_list_needs_a_session_and_filters_by_channel(serve_process):
    with serve_process.client() as api:
        r = api.get("/v1/messages")
        assert r.status_code == 400 and r.json()["error"]["param"] == "session_id"
        session = api.post("/v1/sessions", json={"agent_id": "analyst", "channel": "api"}).json()
        page = api.get("/v1/messages", params={"session_id": session["id"], "channel": "telegram"}).json()
        assert page == {"object": "list", "data": [], "has_more": False, "next_cursor": None}
