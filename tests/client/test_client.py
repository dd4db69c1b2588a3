"""The Python client against a real server: every endpoint family that exists, typed errors, /ws."""

from __future__ import annotations

import socket

import pytest

from qorven_local.client import (AuthenticationError, BadRequest, Client, ConnectionFailed, Conflict, NotFound,
                                 PermissionDenied, default_server, default_token, error_from_envelope,
                                 RateLimited, ServerError, ServiceUnavailable, ProviderFailed)


@pytest.fixture
def qorven(server):
    with Client(server.url, server.admin_token) as client:
        yield client


def test_agents_create_show_update_delete_by_name(qorven):
    names = [a["name"] for a in qorven.agents.iterate()]
    assert {"prime", "researcher", "writer", "developer", "analyst"} <= set(names)
    agent = qorven.agents.create({"name": "scout", "instructions": "Be brief."})
    assert agent["id"].startswith("agt_") and agent["name"] == "scout"
    assert qorven.agents.resolve("scout")["id"] == agent["id"]
    assert qorven.agents.update(agent["id"], {"description": "finds things"})["description"] == "finds things"
    qorven.agents.delete(agent["id"])
    with pytest.raises(NotFound) as err:
        qorven.agents.get(agent["id"])
    assert err.value.code == "not_found" and err.value.status == 404 and err.value.request_id
    assert qorven.agents.get(agent["id"], include_deleted=True)["deleted_at"]


def test_list_pages_follow_the_cursor(qorven):
    for i in range(7):
        qorven.agents.create({"name": f"bulk-{i}"})
    first = qorven.agents.list(limit=5)
    assert len(first) == 5 and first.has_more and first.next_cursor
    second = qorven.agents.list(limit=5, cursor=first.next_cursor)
    ids = [a["id"] for a in first] + [a["id"] for a in second]
    assert len(set(ids)) == 10
    everything = [a["id"] for a in qorven.agents.iterate()]
    assert len(everything) == len(set(everything)) == 12 and everything[:10] == ids  # 5 built-in + 7


def test_second_open_returns_the_same_session_and_archive_starts_a_new_one(qorven):
    prime = qorven.agents.resolve("prime")
    first = qorven.sessions.open(prime["id"], channel="cli")
    assert qorven.sessions.open(prime["id"], channel="cli")["id"] == first["id"]
    assert qorven.sessions.get(first["id"])["channel"] == "cli"
    assert qorven.sessions.update(first["id"], {"title": "notes"})["title"] == "notes"
    assert qorven.sessions.archive(first["id"])["status"] == "archived"
    fresh = qorven.sessions.open(prime["id"], channel="cli")
    assert fresh["id"] != first["id"]
    listed = [s["id"] for s in qorven.sessions.iterate(agent_id=prime["id"], channel="cli")]
    assert set(listed) == {first["id"], fresh["id"]}
    assert qorven.messages.list(fresh["id"]).data == []


def test_system_endpoints(qorven, server):
    assert qorven.health()["status"] == "ok"
    assert qorven.ready()["status"] == "ready"
    settings = qorven.settings()
    assert settings["data_root"] == str(server.home) and settings["scope"] == "admin"


def test_errors_are_typed_by_code(qorven, server):
    with pytest.raises(Conflict) as err:
        qorven.agents.create({"name": "prime"})
    assert err.value.code == "conflict"
    with pytest.raises(BadRequest) as err:
        qorven.agents.create({"name": "Not A Slug!"})
    assert err.value.code == "validation_error" and err.value.param == "name"
    with pytest.raises(AuthenticationError) as err:
        Client(server.url, "qvn_" + "x" * 43).agents.list()
    assert err.value.code == "unauthorized" and err.value.status == 401
    user_token = server.ctx.tokens.issue("default", "user", "test")
    with pytest.raises(PermissionDenied) as err:
        Client(server.url, user_token).rotate_token()
    assert err.value.code == "admin_only"


def test_unreachable_server_is_connection_failed():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        with pytest.raises(ConnectionFailed):
            Client(f"http://127.0.0.1:{port}", "t").health()


@pytest.mark.parametrize("code,status,cls", [
    ("rate_limited", 429, RateLimited), ("too_many_runs", 503, RateLimited),
    ("no_model_configured", 503, ServiceUnavailable), ("provider_timeout", 504, ProviderFailed),
    ("internal_error", 500, ServerError), ("something_new", 418, BadRequest.__mro__[1]),
])
def test_envelope_codes_map_to_families(code, status, cls):
    error = error_from_envelope(status, {"error": {"code": code, "message": "m", "request_id": "req_1"}}, "7")
    assert type(error) is cls and error.code == code and error.retry_after == 7 and error.request_id == "req_1"


def test_defaults_come_from_env_then_the_local_install(server, monkeypatch):
    monkeypatch.setenv("QORVEN_HOME", str(server.home))
    assert default_token() == server.admin_token
    assert default_server() == "http://127.0.0.1:7421"
    monkeypatch.setenv("QORVEN_SERVER", server.url + "/")
    with Client() as client:
        assert client.server == server.url
        assert client.agents.resolve("prime")["builtin"] is True
    monkeypatch.setenv("QORVEN_TOKEN", "qvn_from_env")
    assert default_token() == "qvn_from_env"


def test_subscribe_receives_the_tenants_events(qorven, server):
    with qorven.subscribe(["activity", "agent:agt_x"]) as live:
        server.ctx.hub.publish("other-tenant", "agent:agt_x", "agent.status", {"status": "thinking"})
        server.ctx.hub.publish("default", "agent:agt_x", "agent.status", {"status": "thinking"})
        event = next(live.events(timeout=5))
        assert event["topic"] == "agent:agt_x" and event["event"] == "agent.status"
        assert event["data"] == {"status": "thinking"}
        live.ping()
        assert live.receive(timeout=5)["type"] == "pong"


def test_subscribe_with_a_bad_token_is_authentication_error(server):
    with pytest.raises(AuthenticationError):
        Client(server.url, "qvn_" + "y" * 43).subscribe(["activity"])
