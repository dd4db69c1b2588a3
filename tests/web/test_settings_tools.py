"""What the Settings screen offers, through a real server: a backup, the memories, a token for another tool."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.support.envelope import check_envelope
from tests.support.servers import InProcessServer


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server for the module and its admin client."""
    with InProcessServer(tmp_path_factory.mktemp("settings") / "home") as srv, srv.client() as client:
        yield srv, client


def test_a_backup_is_a_consistent_sqlite_file_kept_and_downloaded(site, tmp_path):
    shared, api = site
    api.post("/v1/agents", json={"name": "kept-in-backup"}).raise_for_status()
    r = api.post("/v1/backup")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.sqlite3"
    name = r.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert name.startswith("qorven-backup-") and name.endswith(".db")
    copy = tmp_path / name
    copy.write_bytes(r.content)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in conn.execute("SELECT name FROM agents WHERE deleted_at IS NULL")}
    assert {"prime", "kept-in-backup"} <= names
    assert (shared.ctx.config.home / "backups" / name).read_bytes() == r.content


def test_memories_export_as_json_lines_of_this_tenant_only(site):
    shared, api = site
    api.post("/v1/memory/save", json={"scope": "workspace", "kind": "fact", "content": "The office plant is a fern."}
             ).raise_for_status()
    other = shared.ctx.tokens.issue("elsewhere", "admin", label="other tenant")
    with shared.client(other) as them:
        them.post("/v1/memory/save", json={"scope": "workspace", "kind": "fact", "content": "Theirs."}
                  ).raise_for_status()
        assert [json.loads(x)["content"] for x in them.get("/v1/memory/export").text.splitlines()] == ["Theirs."]
    r = api.get("/api/memory/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    assert "attachment" in r.headers["content-disposition"]
    records = [json.loads(line) for line in r.text.splitlines()]
    assert [m["content"] for m in records] == ["The office plant is a fern."]
    assert records[0]["kind"] == "fact" and records[0]["tenant_id"] == "default"


def test_a_token_for_another_tool_is_shown_once_and_works(site):
    shared, api = site
    r = api.post("/v1/auth/tokens", json={"label": "Obsidian plugin"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["object"] == "token.created" and made["scope"] == "user" and made["token"].startswith("qvn_")
    assert made["hint"] == "…" + made["token"][-4:]
    listed = [t for t in api.get("/v1/auth/tokens").json()["data"] if t["label"] == "Obsidian plugin"]
    assert len(listed) == 1 and "token" not in listed[0] and listed[0]["scope"] == "user"
    with shared.client(made["token"]) as tool:
        assert tool.get("/v1/agents").status_code == 200
        check_envelope(tool.post("/v1/backup"), 403, "admin_only")
        check_envelope(tool.post("/v1/auth/tokens", json={"label": "more"}), 403, "admin_only")


@pytest.mark.parametrize("body, param", [({}, "label"), ({"label": "  "}, "label"), ({"label": "x", "scope": "root"},
                                                                                       "scope"),
                                         ({"label": "x", "tenant": "other"}, "tenant")])
def test_bad_token_requests_are_400s(site, body, param):
    r = site[1].post("/v1/auth/tokens", json=body)
    check_envelope(r, 400, "validation_error")
    assert r.json()["error"]["param"] == param
