"""Relevance on the hand-labelled set in tests/fixtures/memory_relevance.json.

234 memories of five agents plus the workspace, 72 queries asked in agent scope: 57 paraphrases
(the memory's words avoided) and 15 that name an identifier or a quoted phrase that near-identical
distractors lack. Hybrid ranking must reach recall@5 >= 0.9 and beat each signal alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "memory_relevance.json"


@pytest.fixture(scope="module")
def labelled(local_memory):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    agents = local_memory.tenant("default")
    memory = local_memory.memory
    vectors = memory.embed([m["content"] for m in data["memories"]])
    key_of = {}
    for item, vector in zip(data["memories"], vectors):
        saved, deduplicated = memory.save(
            "default", content=item["content"], kind=item["kind"],
            scope="agent" if item["agent"] else "workspace",
            agent_id=agents[item["agent"]] if item["agent"] else None, vector=vector)
        assert not deduplicated, item["key"]
        key_of[saved.id] = item["key"]
    # one batched embedding of every query (searching embeds one at a time otherwise: same vectors, slower)
    query_vectors = dict(zip([q["query"] for q in data["queries"]],
                             memory.embed([q["query"] for q in data["queries"]])))
    return data, agents, key_of, query_vectors


def recall_at(labelled, local_memory, mode: str, k: int = 5, kind: str | None = None) -> float:
    data, agents, key_of, query_vectors = labelled
    queries = [q for q in data["queries"] if kind is None or q["type"] == kind]
    total = 0.0
    for q in queries:
        results = local_memory.memory.search("default", query=q["query"], scope="agent",
                                             agent_id=agents[q["agent"]], max_results=k, mode=mode,
                                             query_vector=query_vectors[q["query"]])
        got = {key_of[r["id"]] for r in results}
        total += len(got & set(q["expected"])) / len(q["expected"])
    return total / len(queries)


def test_the_labelled_set_is_big_enough():
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert len(data["memories"]) >= 200
    assert len(data["queries"]) >= 50
    assert len({m["agent"] for m in data["memories"]}) >= 5
    keys = {m["key"] for m in data["memories"]}
    assert all(set(q["expected"]) <= keys for q in data["queries"])


def test_hybrid_recall_at_5_beats_vector_only_and_keyword_only(labelled, local_memory):
    hybrid = recall_at(labelled, local_memory, "hybrid")
    semantic = recall_at(labelled, local_memory, "semantic")
    keyword = recall_at(labelled, local_memory, "keyword")
    print(f"recall@5 hybrid={hybrid:.3f} semantic={semantic:.3f} keyword={keyword:.3f}")
    assert hybrid >= 0.9
    assert hybrid > semantic > keyword


def test_identifiers_and_quoted_phrases_are_found_even_where_vectors_miss(labelled, local_memory):
    assert recall_at(labelled, local_memory, "hybrid", kind="exact") == 1.0
    assert recall_at(labelled, local_memory, "semantic", kind="exact") < 1.0


def test_an_identifier_query_puts_its_memory_first(labelled, local_memory):
    data, agents, key_of, _ = labelled
    results = local_memory.memory.search("default", query="what is the status of INV-2024-0043?", scope="agent",
                                         agent_id=agents["analyst"], max_results=5)
    assert key_of[results[0]["id"]] == "ana05"
    assert results[0]["match"]["keyword"] == 1
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
