"""The keyword index knows each memory's partition (migration m007): FTS5 filters scopes itself.

``memory_fts.part`` holds ``p<partition_id>``; keyword searches restrict the MATCH to the scope's
partitions (so FTS5 scores only those rows), the part column never matches query text nor scores,
and the migration rebuilds the index from existing rows.
"""

from __future__ import annotations

import collections
import itertools
import re

import pytest

from qorven_local.memory.search import _at_least_two, fts_query
from qorven_local.storage.memory import part_token
from qorven_local.storage.migrations import m007_memory_fts_partition


@pytest.fixture(scope="module")
def world(local_memory):
    agents = local_memory.tenant("default")
    local_memory.tenant("other")
    m = local_memory.memory
    saved = {
        "a": m.save("default", content="Harbour crane seven lifts the blue containers", kind="fact", scope="agent",
                    agent_id=agents["researcher"])[0],
        "a2": m.save("default", content="Harbour crane nine lifts the red containers", kind="note", scope="agent",
                     agent_id=agents["researcher"])[0],
        "b": m.save("default", content="Harbour crane seven was repainted blue in spring", kind="fact",
                    scope="agent", agent_id=agents["analyst"])[0],
        "w": m.save("default", content="The harbour office keeps the crane keys", kind="fact", scope="workspace")[0],
        "t": m.save("other", content="Another tenant's harbour crane lifts containers", kind="fact",
                    scope="workspace")[0],
    }
    return local_memory, agents, saved


def keyword_ids(m, **kwargs):
    return [r["id"] for r in m.search("default", mode="keyword", max_results=50, **kwargs)]


def test_every_fts_row_holds_its_partition_token(world):
    local, _, saved = world
    db = local.ctx.db
    columns = [r[1] for r in db.query("PRAGMA table_info(memory_fts)")]
    assert columns == ["content", "part"]
    for memory in saved.values():
        stored = local.memory.get(memory.tenant_id, memory.id)
        rows = {r[0] for r in db.query("SELECT rowid FROM memory_fts WHERE memory_fts MATCH ?",
                                       (f'part : "{part_token(stored.partition_id)}"',))}
        in_partition = {r[0] for r in db.query("SELECT seq FROM memories WHERE partition_id = ?",
                                               (stored.partition_id,))}
        assert stored.seq in rows and rows == in_partition


def test_keyword_search_is_restricted_to_the_scope_inside_fts(world):
    local, agents, saved = world
    m = local.memory
    researcher = keyword_ids(m, query="harbour crane containers", scope="agent", agent_id=agents["researcher"])
    assert set(researcher) == {saved["a"].id, saved["a2"].id, saved["w"].id}
    analyst = keyword_ids(m, query="harbour crane blue", scope="agent", agent_id=agents["analyst"])
    assert set(analyst) == {saved["b"].id, saved["w"].id}
    workspace = keyword_ids(m, query="harbour crane", scope="workspace")
    assert set(workspace) == {saved[k].id for k in ("a", "a2", "b", "w")}       # never the other tenant's
    notes = keyword_ids(m, query="harbour crane", scope="agent", agent_id=agents["researcher"], kinds=["note"])
    assert notes == [saved["a2"].id]


def test_query_text_never_matches_the_part_column(world):
    local, agents, saved = world
    m = local.memory
    token = part_token(saved["w"].partition_id)
    assert keyword_ids(m, query=token, scope="workspace") == []
    assert keyword_ids(m, query=f"part:{token} harbour", scope="workspace") == []  # quoted text, no column filter


def test_the_migration_rebuilds_the_index_from_the_rows(world):
    local, agents, saved = world
    m = local.memory
    before = {q: keyword_ids(m, query=q, scope="workspace") for q in ("harbour crane", "blue containers", "keys")}
    with local.ctx.db.write() as conn:
        m007_memory_fts_partition.migrate(conn)
    counts = m.counts()
    assert len(set(counts.values())) == 1, counts
    assert {q: keyword_ids(m, query=q, scope="workspace") for q in before} == before
    test_every_fts_row_holds_its_partition_token(world)


@pytest.mark.parametrize("n", range(1, 9))
def test_at_least_two_is_exactly_two_or_more_terms_each_weighted_alike(n):
    terms = [f'"t{i}"' for i in range(n)]
    query = fts_query(" ".join(f"word{chr(97 + i)}" for i in range(n)))
    assert query.match_any == (query.any_terms[0] if n == 1 else _at_least_two(query.any_terms))
    if n < 2:
        return
    python = _at_least_two(terms).replace("AND", "and").replace("OR", "or")
    counts = collections.Counter(re.findall(r'"t\d"', _at_least_two(terms)))
    assert set(counts) == set(terms) and len(set(counts.values())) == 1     # BM25 favours no term
    assert sum(counts.values()) <= n * (n - 1)                                # never more work than all pairs
    names = {t: t.strip('"') for t in terms}
    for bits in itertools.product([False, True], repeat=n):
        env = {names[t]: bit for t, bit in zip(terms, bits)}
        assert eval(python.replace('"', ""), {}, env) == (sum(bits) >= 2)
