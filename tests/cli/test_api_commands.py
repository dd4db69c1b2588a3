"""``qorven agents|sessions`` as subprocesses against a real server."""

from __future__ import annotations

import json

from tests.cli.conftest import run_qorven


def test_agents_create_list_show_delete(qorven):
    created = qorven("agents", "create", "scout", "--instructions", "Be brief.", "--description", "finds things")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created scout (agt_")
    listed = qorven("agents", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:3] == ["NAME", "ID", "MODEL"]
    assert {r.split()[0] for r in rows} >= {"prime", "researcher", "writer", "developer", "analyst", "scout"}
    shown = json.loads(qorven("agents", "show", "scout").stdout)
    assert shown["instructions"] == "Be brief." and shown["description"] == "finds things"
    assert qorven("agents", "delete", "scout").returncode == 0
    names = [a["name"] for a in json.loads(qorven("agents", "list", "--json").stdout)]
    assert "scout" not in names


def test_api_errors_are_one_line_and_a_nonzero_exit(qorven):
    again = qorven("agents", "create", "prime")
    assert again.returncode == 1 and again.stderr.strip().startswith("qorven: conflict:")
    missing = qorven("agents", "show", "nobody")
    assert missing.returncode == 1 and "not_found" in missing.stderr
    bad = qorven("agents", "list", QORVEN_TOKEN="qvn_" + "z" * 43)
    assert bad.returncode == 1 and "unauthorized" in bad.stderr
    assert "Traceback" not in again.stderr + missing.stderr + bad.stderr


def test_unreachable_server_says_so():
    out = run_qorven("agents", "list", env={"QORVEN_SERVER": "http://127.0.0.1:9", "QORVEN_TOKEN": "t"})
    assert out.returncode == 3 and "is Qorven running?" in out.stderr


def test_defaults_to_the_local_install_token(server):
    out = run_qorven("agents", "list", "--json", env={"QORVEN_HOME": str(server.home), "QORVEN_SERVER": server.url})
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)) == 5


def test_sessions_list_shows_agent_names(qorven, server):
    with server.client() as api:
        prime = next(a for a in api.get("/v1/agents").json()["data"] if a["name"] == "prime")
        api.post("/v1/sessions", json={"agent_id": prime["id"], "channel": "cli", "title": "planning"})
    out = qorven("sessions", "list", "--agent", "prime")
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.splitlines()
    assert header.split()[:3] == ["ID", "AGENT", "CHANNEL"]
    assert row.split()[1:3] == ["prime", "cli"] and row.rstrip().endswith("planning")
