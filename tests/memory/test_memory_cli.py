"""``qorven memory reindex|import|export`` on a local data root, and a resumable reindex."""

from __future__ import annotations

import json

import pytest

from qorven_local.cli.main import main
from qorven_local.memory.reindex import reindex
from qorven_local.memory.transfer import export_memories
from tests.memory.conftest import LocalMemory


@pytest.fixture
def home(tmp_path):
    local = LocalMemory(tmp_path / "home")
    agents = local.tenant("default")
    for i, text in enumerate(["Dana drinks oat milk", "The build server is ci-eu-2", "Standup is at 9:15",
                              "Invoices are due in 30 days", "The logo is forest green"]):
        local.memory.save("default", content=text, kind="fact", scope="agent" if i % 2 else "workspace",
                          agent_id=agents["prime"] if i % 2 else None)
    local.close()
    return tmp_path / "home"


def test_export_then_import_into_a_fresh_home_round_trips(home, tmp_path, capsys):
    out = tmp_path / "memories.jsonl"
    assert main(["memory", "export", str(out), "--home", str(home)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 5 and all(r["tenant_id"] == "default" and r["id"].startswith("mem_") for r in records)

    # the same home: every id is taken, nothing changes
    assert main(["memory", "import", str(out), "--home", str(home)]) == 0
    assert "skipped 5" in capsys.readouterr().err

    # a fresh home has other agent ids: agent memories fail clearly, workspace ones import with their ids
    fresh = LocalMemory(tmp_path / "fresh")
    fresh.tenant("default")
    fresh.close()
    assert main(["memory", "import", str(out), "--home", str(tmp_path / "fresh")]) == 1
    err = capsys.readouterr().err
    assert "imported 3" in err and "failed 2" in err and "agent agt_" in err and "not found" in err
    again = LocalMemory(tmp_path / "fresh")
    try:
        stored = {m["id"]: m for m in export_memories(again.memory.store, "default")}
        assert {r["id"] for r in records if r["scope"] == "workspace"} == set(stored)
        assert all(m["source"] == "import" for m in stored.values())
        found = again.memory.search("default", query="what colour is the logo", scope="workspace", max_results=1)
        assert found[0]["content"] == "The logo is forest green"
    finally:
        again.close()


def test_import_reports_bad_lines(home, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"content": "ok", "scope": "workspace"}\n{"content": ""}\n{"content": "x", "kind": "gossip"}\n')
    assert main(["memory", "import", str(bad), "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "line 3" in err and "imported 1" in err
    bad.write_text("not json\n")
    with pytest.raises(SystemExit):
        main(["memory", "import", str(bad), "--home", str(home)])


def test_reindex_runs_as_a_command_with_a_progress_bar(home, capsys):
    assert main(["memory", "reindex", "--home", str(home)]) == 0
    err = capsys.readouterr().err
    assert "reindex [" in err and "5/5" in err and "re-embedded 5 memories" in err


def test_an_interrupted_reindex_resumes_where_it_stopped(home):
    local = LocalMemory(home)
    try:
        m = local.memory
        seen = []

        def stop_after_first_batch(done, total):
            seen.append((done, total))
            if done >= 2:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            reindex(local.ctx.db, m.store, m.embedder, progress=stop_after_first_batch, batch=2)
        assert seen[-1] == (2, 5)
        assert reindex(local.ctx.db, m.store, m.embedder, batch=2) == 3               # only what was left
        assert reindex(local.ctx.db, m.store, m.embedder, batch=2) == 5               # a completed run is followed by a full one
        counts = m.counts()
        assert len(set(counts.values())) == 1
        hit = m.search("default", query="when is the daily standup", scope="workspace", max_results=1)
        assert hit[0]["content"] == "Standup is at 9:15"
    finally:
        local.close()
