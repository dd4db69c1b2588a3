"""Memory save/search and the tools catalogue and invoke, in process (the embedder loads once per run)."""

from __future__ import annotations

import pytest

from tests.support.envelope import check_envelope

pytestmark = pytest.mark.fast
BUILTINS = ["current_time", "calculator", "memory_search", "memory_save", "delegate", "list_files", "read_file",
            "write_file", "http_get"]


def test_a_saved_memory_is_found_by_meaning_and_deduplicated(fast_admin):
    saved = fast_admin.simulate_post("/v1/memory/save", json={
        "scope": "workspace", "kind": "preference", "content": "The user wants headlines in sentence case"})
    assert saved.status_code == 201, saved.text
    memory = saved.json
    assert memory["object"] == "memory" and memory["id"].startswith("mem_") and memory["deduplicated"] is False
    again = fast_admin.simulate_post("/v1/memory/save", json={
        "scope": "workspace", "kind": "preference", "content": "The user wants headlines in sentence case."})
    assert again.status_code == 200 and again.json["deduplicated"] is True and again.json["id"] == memory["id"]

    found = fast_admin.simulate_post("/v1/memory/search", json={
        "scope": "workspace", "query": "how should titles be capitalised?", "max_results": 3})
    assert found.status_code == 200, found.text
    assert found.json["object"] == "list" and found.json["data"][0]["id"] == memory["id"]
    assert 0 < found.json["data"][0]["score"] <= 1


def test_memory_validation_names_the_field(fast_admin):
    check_envelope(fast_admin.simulate_post("/v1/memory/save", json={"scope": "galaxy", "content": "x"}),
                   400, "validation_error", "scope")


def test_the_tools_catalogue_lists_every_builtin(fast_admin):
    listed = fast_admin.simulate_get("/v1/tools").json
    assert [t["id"] for t in listed["data"]] == BUILTINS and listed["has_more"] is False
    assert all(t["object"] == "tool" and t["parameters"]["type"] == "object" for t in listed["data"])
    check_envelope(fast_admin.simulate_get("/v1/tools/teleport"), 404, "not_found")


def test_invoke_runs_a_tool_and_reports_its_failure_as_ok_false(fast_admin):
    done = fast_admin.simulate_post("/v1/tools/calculator/invoke", json={"arguments": {"expression": "(2 + 3) * 7"}})
    assert done.status_code == 200 and done.json["ok"] is True and done.json["result"]["result"] == 35
    assert isinstance(done.json["duration_ms"], int)
    failed = fast_admin.simulate_post("/v1/tools/calculator/invoke", json={"arguments": {"expression": "1/0"}})
    assert failed.status_code == 200 and failed.json["ok"] is False
    check_envelope(fast_admin.simulate_post("/v1/tools/calculator/invoke", json={"arguments": {"expression": 5}}),
                   422, "invalid_arguments")
