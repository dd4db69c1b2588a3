"""The index stays in step with the rows; scopes isolate agents, sessions and tenants; dedupe; FTS safety."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from qorven_local.errors import NotFound, ValidationError
from qorven_local.memory.extraction import parse_extracted
from qorven_local.memory.search import fts_query


@pytest.fixture(scope="module")
def world(local_memory):
    agents = local_memory.tenant("default")
    other = local_memory.tenant("other")
    session, _ = local_memory.ctx.sessions.open("default", agents["writer"], "web", None, None)
    m = local_memory.memory
    saved = {
        "a": m.save("default", content="The researcher's lab key code is 4471", kind="fact", scope="agent",
                    agent_id=agents["researcher"])[0],
        "b": m.save("default", content="The analyst's laptop password hint is the cat's name", kind="fact",
                    scope="agent", agent_id=agents["analyst"])[0],
        "w": m.save("default", content="The office closes at six on Fridays", kind="fact", scope="workspace")[0],
        "s": m.save("default", content="In this chat we are drafting the spring newsletter", kind="note",
                    scope="session", session_id=session.id)[0],
        "t": m.save("other", content="Another tenant's office closes at six on Fridays too", kind="fact",
                    scope="workspace")[0],
    }
    return local_memory, agents, other, session, saved


def ids(results):
    return {r["id"] for r in results}


def test_agent_a_never_sees_agent_b_memories_but_both_see_the_workspace(world):
    local, agents, _, _, saved = world
    m = local.memory
    for query in ("lab key code", "laptop password hint", "when does the office close", "4471"):
        seen_a = ids(m.search("default", query=query, scope="agent", agent_id=agents["researcher"], max_results=50))
        seen_b = ids(m.search("default", query=query, scope="agent", agent_id=agents["analyst"], max_results=50))
        assert saved["b"].id not in seen_a and saved["a"].id not in seen_b
        assert saved["w"].id in seen_a and saved["w"].id in seen_b
        assert saved["s"].id not in seen_a | seen_b      # session memories need the session
        assert saved["t"].id not in seen_a | seen_b      # never another tenant's


def test_workspace_scope_sees_all_of_the_tenant_and_session_scope_only_the_session(world):
    local, agents, _, session, saved = world
    m = local.memory
    everything = ids(m.search("default", query="office", scope="workspace", max_results=50))
    assert {saved[k].id for k in "abws"} <= everything and saved["t"].id not in everything
    only = ids(m.search("default", query="newsletter", scope="session", session_id=session.id, max_results=50))
    assert only == {saved["s"].id}
    with_session = ids(m.search("default", query="newsletter", scope="agent", agent_id=agents["writer"],
                                session_id=session.id, max_results=50))
    assert saved["s"].id in with_session


def test_scope_arguments_are_checked_and_other_tenants_ids_are_not_found(world):
    local, agents, other, session, _ = world
    m = local.memory
    with pytest.raises(ValidationError):
        m.search("default", query="x", scope="agent")
    with pytest.raises(ValidationError):
        m.search("default", query="x", scope="session")
    with pytest.raises(NotFound):
        m.search("default", query="x", scope="agent", agent_id=other["researcher"])
    with pytest.raises(NotFound):
        m.search("other", query="x", scope="session", session_id=session.id)
    with pytest.raises(NotFound):
        m.save("other", content="x", scope="agent", agent_id=agents["researcher"])


def test_a_near_duplicate_in_the_same_scope_updates_instead_of_inserting(world):
    local, agents, _, _, _ = world
    m = local.memory
    before = m.counts()
    first, dup1 = m.save("default", content="Dana's favourite tea is jasmine green tea", kind="preference",
                         scope="agent", agent_id=agents["prime"], importance=0.4)
    second, dup2 = m.save("default", content="Dana's favourite tea is jasmine green tea.", kind="preference",
                          scope="agent", agent_id=agents["prime"], importance=0.9)
    assert (dup1, dup2) == (False, True)
    assert second.id == first.id and second.importance == 0.9
    assert second.content.endswith("tea.")
    # the same text in another scope is a different memory
    third, dup3 = m.save("default", content="Dana's favourite tea is jasmine green tea", kind="preference",
                         scope="agent", agent_id=agents["writer"])
    assert not dup3 and third.id != first.id
    after = m.counts()
    assert after["memories"] == before["memories"] + 2
    assert len(set(after.values())) == 1


def test_rows_vectors_and_fulltext_stay_in_step_through_update_and_delete(world):
    local, agents, _, _, _ = world
    m = local.memory
    created = [m.save("default", content=f"Step test memory number {i} about {word}", kind="note",
                      scope="agent", agent_id=agents["developer"], dedupe=False)[0]
               for i, word in enumerate(["kayaks", "violins", "glaciers", "pretzels"])]
    counts = m.counts()
    assert len(set(counts.values())) == 1, counts
    changed = m.update("default", created[0].id, {"content": "Step test memory about harpsichords"})
    assert changed.content.endswith("harpsichords")
    m.update("default", created[1].id, {"kind": "skill", "importance": 0.8})
    found = m.search("default", query="harpsichords", scope="agent", agent_id=agents["developer"], max_results=3)
    assert found[0]["id"] == created[0].id and found[0]["match"]["keyword"] == 1
    kayak_hits = m.search("default", query="kayaks", scope="agent", agent_id=agents["developer"], max_results=50)
    assert created[0].id not in {r["id"] for r in kayak_hits if r["match"]["keyword"]}
    skills = m.search("default", query="violins", scope="agent", agent_id=agents["developer"], kinds=["skill"],
                      max_results=50)
    assert created[1].id in ids(skills) and all(r["kind"] == "skill" for r in skills)
    for memory in created:
        m.delete("default", memory.id)
    after = m.counts()
    assert len(set(after.values())) == 1 and after["memories"] == counts["memories"] - 4
    with pytest.raises(NotFound):
        m.get("default", created[0].id)


FTS_SYNTAX = ['"', '""', '"unbalanced', "(", ")", "((a)", "*", "a*", "-", "-x", "NEAR", "NEAR(a b)", "AND", "OR",
              "NOT", "a AND", "OR b", "^start", "content:", "col:val", "{a b}", "+", "'", "\\", "a\"b", "\u0000",
              "é ü ß 漢字", "🙂", "::", "a:b:c", "NEAR/3", "[x]", ";DROP TABLE memories;--"]


def test_any_query_text_is_safe_for_fts5(world):
    local, agents, _, _, _ = world
    m = local.memory
    rng = random.Random(4)
    queries = list(FTS_SYNTAX) + [" ".join(rng.choice(FTS_SYNTAX + ["office", "INV-1", "x.y"])
                                           for _ in range(rng.randint(1, 6))) for _ in range(60)]
    for i, query in enumerate(q for q in queries if q.strip()):
        # keyword mode exercises every FTS5 query; a few go through the whole hybrid path too
        for mode in ("keyword", "hybrid") if i % 12 == 0 else ("keyword",):
            results = m.search("default", query=query, scope="workspace", max_results=5, mode=mode)
            assert isinstance(results, list)


def test_fts_query_quotes_every_term_and_marks_identifiers_and_phrases_exact():
    q = fts_query('What about "spring newsletter" and INV-2024-0042 or v2.3.1 NEAR(x) *')
    assert q.exact_terms == ['"spring newsletter"', '"inv 2024 0042"', '"v2 3 1"']
    assert all(t.startswith('"') and t.endswith('"') for t in q.any_terms)
    assert '"near"' in q.any_terms and '"about"' not in q.any_terms   # stopwords dropped, NEAR is text
    assert fts_query("the of and").any_terms == []


def test_extraction_replies_are_parsed_robustly():
    assert parse_extracted('```json\n{"memories": [{"content": "Likes tea", "kind": "preference"}]}\n```') == [
        {"content": "Likes tea", "kind": "preference", "importance": None}]
    assert parse_extracted('Sure! Here: ["Lives in Ghent", {"fact": "Has two cats", "kind": "weird"}]') == [
        {"content": "Lives in Ghent", "kind": "fact", "importance": None},
        {"content": "Has two cats", "kind": "fact", "importance": None}]
    assert parse_extracted('{"memories": [{"content": "x", "importance": 7}]}')[0]["importance"] == 1.0
    for junk in ("", "no json here", "{broken", '{"memories": "nope"}', None, '{"memories": []}'):
        assert parse_extracted(junk) == []


def test_after_run_saves_extracted_facts_once_with_dedupe(world):
    local, agents, _, _, _ = world
    m = local.memory
    agent = SimpleNamespace(id=agents["prime"], memory_auto_save=True)
    calls = []

    def complete(messages):
        calls.append(messages)
        return ('{"memories": [{"content": "Dana is allergic to peanuts", "kind": "fact", "importance": 0.9},'
                ' {"content": "Dana is allergic to peanuts.", "kind": "fact"}]}')

    saved = m.after_run("default", agent, None, "Remember: I'm allergic to peanuts", "Noted!", complete)
    assert len(calls) == 1 and "JSON" in calls[0][0]["content"]
    assert [s["deduplicated"] for s in saved] == [False, True]
    assert saved[0]["source"] == "agent" and saved[0]["id"] == saved[1]["id"]
