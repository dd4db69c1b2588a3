"""The client's memory family (save, search, list, get, update, delete, embeddings) against a server."""

from __future__ import annotations

import math

import pytest

from qorven_local.client import BadRequest, Client, NotFound


@pytest.fixture
def qorven(server):
    with Client(server.url, server.admin_token) as client:
        yield client


def test_save_search_update_delete(qorven):
    prime = qorven.agents.resolve("prime")
    saved = qorven.memory.save("Ada prefers tea over coffee in the morning", scope="agent", agent_id=prime["id"],
                               kind="preference", importance=0.8)
    assert saved["id"].startswith("mem_") and saved["kind"] == "preference"
    qorven.memory.save("The quarterly report is due on Friday", scope="workspace", kind="fact")
    found = qorven.memory.search("what does Ada like to drink?", scope="agent", agent_id=prime["id"])
    assert found[0]["id"] == saved["id"] and 0 <= found[0]["score"] <= 1
    again = qorven.memory.save("Ada prefers tea over coffee in the morning", scope="agent", agent_id=prime["id"],
                               kind="preference")
    assert again["id"] == saved["id"] and again.get("deduplicated") is True
    assert qorven.memory.get(saved["id"])["content"].startswith("Ada")
    assert qorven.memory.update(saved["id"], {"importance": 0.3})["importance"] == pytest.approx(0.3)
    assert {m["id"] for m in qorven.memory.list()} >= {saved["id"]}
    qorven.memory.delete(saved["id"])
    with pytest.raises(NotFound):
        qorven.memory.get(saved["id"])
    with pytest.raises(BadRequest):
        qorven.memory.search("", scope="agent", agent_id=prime["id"])


def test_embeddings_are_unit_vectors_of_384(qorven):
    vectors = qorven.embeddings(["first", "second"])
    assert len(vectors) == 2 and all(len(v) == 384 for v in vectors)
    assert math.isclose(sum(x * x for x in vectors[0]), 1.0, rel_tol=1e-3)
