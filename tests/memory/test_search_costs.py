"""What keeps searches cheap in a large store: common terms leave the FTS5 expression, the
keyword search runs beside the query embedding and the KNN searches its partitions in two halves
side by side without changing any result, and the bit-KNN takes fewer candidates per partition
when it searches many.

The production threshold (``COMMON_TERM_DOCS``) only bites at thousands of memories, so
these tests build the ranker over the same store with a threshold of a few memories.
"""

from __future__ import annotations

import threading

import pytest

from qorven_local.memory.search import MIN_KEYWORD_TERMS, FtsQuery, HybridSearch, fts_query


@pytest.fixture(scope="module")
def harbour(local_memory):
    agents = local_memory.tenant("default")
    m = local_memory.memory
    notes = [
        "The harbour crane lifts containers every morning",
        "The harbour office opens at eight",
        "The harbour pilot boards ships at the outer buoy",
        "The harbour ferry leaves from quay four",
        "Crane seven at the harbour was repainted turquoise",
        "The turquoise crane needs a new winch cable",
    ]
    saved = [m.save("default", content=text, kind="fact", scope="workspace")[0] for text in notes]
    return local_memory, agents, saved


def test_without_common_keeps_exact_terms_and_at_least_the_rarest_terms():
    query = fts_query('harbour crane turquoise winch "quay four"')
    counts = {'"harbour"': 900, '"crane"': 700, '"turquoise"': 2, '"winch"': 1, '"quay four"': 800}
    pruned = query.without_common(counts, common=100)
    assert pruned.any_terms == ['"quay four"', '"turquoise"', '"winch"']  # the exact phrase stays
    assert pruned.exact_terms == ['"quay four"']

    everything_common = fts_query("harbour crane ferry").without_common(
        {'"harbour"': 900, '"crane"': 700, '"ferry"': 300}, common=100)
    assert everything_common.any_terms == ['"crane"', '"ferry"']  # the two rarest, in query order
    assert len(everything_common.any_terms) == MIN_KEYWORD_TERMS
    assert FtsQuery(['"a"'], []).without_common({'"a"': 10**6}, common=1).any_terms == ['"a"']


def test_term_counts_are_capped_just_above_the_threshold(harbour):
    local, _, _ = harbour
    ranker = HybridSearch(local.memory.store, local.memory.index, common_term_docs=2)
    counts = ranker.term_counts("default", ['"harbour"', '"turquoise"', '"winch"', '"absent"'])
    assert counts == {'"harbour"': 3, '"turquoise"': 2, '"winch"': 1, '"absent"': 0}


def test_common_words_no_longer_decide_the_keyword_ranking(harbour):
    local, _, saved = harbour
    memory = local.memory
    partitions = memory._partitions("default", "workspace", None, None)
    text = "harbour crane turquoise winch"
    full = HybridSearch(memory.store, memory.index, common_term_docs=10**9)
    pruned = HybridSearch(memory.store, memory.index, common_term_docs=2)
    full_ranks, _ = full.keyword_ranks(text, partitions, 10, None)
    pruned_ranks, _ = pruned.keyword_ranks(text, partitions, 10, None)
    by_seq = {m.seq: m.content for m in saved}
    # Every memory sharing two of the words matches the full expression ("harbour crane" ones too);
    # harbour and crane are in 3 memories each (common at 2), so only turquoise + winch decide.
    assert {by_seq[s] for s in full_ranks} >= {saved[0].content, saved[4].content, saved[5].content}
    assert [by_seq[s] for s in pruned_ranks] == [saved[5].content]


@pytest.fixture
def split_knn(harbour, monkeypatch):
    """The KNN shares its partitions out in this small store too (production: 30k memories up)."""
    monkeypatch.setattr(harbour[0].memory.index, "split_min_memories", 0)
    return harbour


def test_searching_side_by_side_gives_the_same_hits_as_one_thread(split_knn):
    local, agents, _ = split_knn
    memory = local.memory
    agent = agents["Assistant"] if "Assistant" in agents else next(iter(agents.values()))
    for text in ("crane inspection report", "the buoy where pilots board", "winch cable"):
        memory.save("default", content=f"Agent note: {text}", kind="note", scope="agent", agent_id=agent)
    scopes = [memory._partitions("default", "workspace", None, None),
              memory._partitions("default", "agent", agent, None)]
    assert all(len(partitions) >= 2 for partitions in scopes)  # so the KNN really runs in halves
    for partitions in scopes:
        for text in ("who repainted the crane", "when does the office open", '"quay four" ferry', "winch"):
            with memory.store.db.write():  # inside a write every step stays on this thread
                serial = memory.ranker.search(text, memory.embedder.embed_one(text), partitions, 5)
            beside = memory.ranker.search(text, None, partitions, 5, embed=lambda t=text: memory.embedder.embed_one(t))
            assert [(h.seq, h.semantic, h.keyword, round(h.score, 9)) for h in beside] == \
                   [(h.seq, h.semantic, h.keyword, round(h.score, 9)) for h in serial]
            assert beside, text


def test_inside_a_write_both_sides_see_the_uncommitted_rows(split_knn):
    local, agents, _ = split_knn
    memory = local.memory
    agent = next(iter(agents.values()))
    db = memory.store.db
    with pytest.raises(RuntimeError, match="roll back"):
        with db.write():
            memory.save("default", content="The lighthouse keeper logs the gannets", kind="fact", scope="workspace")
            memory.save("default", content="The night watch counts the storm petrels", kind="fact",
                        scope="agent", agent_id=agent)
            found = memory.search("default", query="lighthouse gannets", scope="workspace", mode="hybrid")
            assert found and found[0]["content"] == "The lighthouse keeper logs the gannets"
            assert found[0]["match"] == {"semantic": 1, "keyword": 1}
            found = memory.search("default", query="storm petrels at night", scope="agent", agent_id=agent)
            assert found and found[0]["content"] == "The night watch counts the storm petrels"
            assert found[0]["match"] == {"semantic": 1, "keyword": 1}
            raise RuntimeError("roll back")
    assert not memory.search("default", query="lighthouse gannets", scope="workspace", mode="keyword")


def test_a_small_store_searches_its_partitions_on_one_thread(harbour, monkeypatch):
    local, agents, _ = harbour
    memory = local.memory
    memory.save("default", content="The tug captain radios the harbour master", kind="fact", scope="agent",
                agent_id=next(iter(agents.values())))
    threads: list[str] = []
    real = memory.index._rescored

    def watched(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(memory.index, "_rescored", watched)
    partitions = memory._partitions("default", "workspace", None, None)
    assert len(partitions) >= 2
    vector = memory.embedder.embed_one("harbour crane")
    memory.index.nearest(partitions, vector, 5)
    assert threads == [threading.current_thread().name]  # one call, here: the store is small
    threads.clear()
    monkeypatch.setattr(memory.index, "split_min_memories", memory.store.seq_high_water())
    memory.index.nearest(partitions, vector, 5)
    assert len(threads) == 2  # at the threshold it shares the partitions out


def test_each_partition_gives_fewer_candidates_the_more_partitions_are_searched(local_memory):
    index = local_memory.memory.index
    assert [index.candidates_per_partition(n) for n in (1, 2, 3, 4, 11, 500)] == [100, 100, 66, 50, 40, 40]
