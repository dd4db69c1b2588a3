"""memory_search / memory_save / delegate call their Protocol services, and fail clearly without them."""

from __future__ import annotations

import pytest

from qorven_local.errors import InvalidArguments, NotFound
from qorven_local.tools.context import Delegate, MemoryService


class ListMemory:
    """The smallest MemoryService: a list, matched by shared words."""

    def __init__(self):
        self.items: list[dict] = []

    def search(self, query: str, max_results: int) -> list[dict]:
        words = set(query.lower().split())
        hits = [dict(m, score=len(words & set(m["content"].lower().split())) / len(words))
                for m in self.items]
        return sorted((h for h in hits if h["score"] > 0), key=lambda h: -h["score"])[:max_results]

    def save(self, content: str, kind: str) -> dict:
        memory = {"id": f"mem_{len(self.items) + 1}", "kind": kind, "content": content}
        self.items.append(memory)
        return memory


class Agents:
    """A Delegate that answers as the named agent and records who was asked what."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []

    def __call__(self, agent_name: str, task: str) -> str:
        if agent_name not in ("researcher", "writer"):
            raise NotFound(f"agent {agent_name} not found")
        self.calls.append((agent_name, task))
        return f"{agent_name} did: {task}"


def test_the_test_services_satisfy_the_protocols():
    assert isinstance(ListMemory(), MemoryService) and isinstance(Agents(), Delegate)


def test_memory_tools_without_a_memory_service(registry, ctx):
    for name, args in (("memory_search", {"query": "tea"}), ("memory_save", {"content": "likes tea"})):
        result = registry.invoke(name, args, ctx)
        assert result.error == {"code": "memory_unavailable",
                                "message": "memory is not available in this context"}


def test_saved_memories_are_found_again(registry, make_ctx):
    ctx = make_ctx(memory=ListMemory())
    saved = registry.invoke("memory_save", {"content": "Ada prefers green tea", "kind": "preference"}, ctx)
    assert saved.result == {"saved": {"id": "mem_1", "kind": "preference", "content": "Ada prefers green tea"}}
    registry.invoke("memory_save", {"content": "The boat leaves at noon"}, ctx)
    assert ctx.memory.items[1]["kind"] == "note"  # the default kind
    found = registry.invoke("memory_search", {"query": "green tea", "max_results": 1}, ctx).result
    assert found["query"] == "green tea"
    assert [m["id"] for m in found["results"]] == ["mem_1"] and found["results"][0]["score"] == 1.0


def test_memory_arguments_are_checked_by_the_schema(registry, make_ctx):
    ctx = make_ctx(memory=ListMemory())
    for name, args, param in (("memory_save", {"content": "x", "kind": "secret"}, "kind"),
                              ("memory_save", {"content": ""}, "content"),
                              ("memory_search", {"query": "x", "max_results": 0}, "max_results"),
                              ("memory_search", {"query": "x", "max_results": 500}, "max_results")):
        with pytest.raises(InvalidArguments) as caught:
            registry.invoke(name, args, ctx)
        assert caught.value.param == param


def test_delegate_asks_the_other_agent(registry, make_ctx):
    agents = Agents()
    result = registry.invoke("delegate", {"agent": "researcher", "task": "find tide tables"},
                             make_ctx(delegate=agents))
    assert result.result == {"agent": "researcher", "answer": "researcher did: find tide tables"}
    assert agents.calls == [("researcher", "find tide tables")]


def test_delegate_error_paths(registry, make_ctx, ctx):
    args = {"agent": "researcher", "task": "t"}
    assert registry.invoke("delegate", args, ctx).error["code"] == "delegation_unavailable"
    agents = Agents()
    self_ask = registry.invoke("delegate", {"agent": "prime", "task": "t"}, make_ctx(delegate=agents))
    assert self_ask.error["code"] == "self_delegation"
    self_by_id = registry.invoke("delegate", {"agent": "agt_1", "task": "t"}, make_ctx(delegate=agents))
    assert self_by_id.error["code"] == "self_delegation"
    too_deep = registry.invoke("delegate", args, make_ctx(delegate=agents, depth=3))
    assert too_deep.error["code"] == "delegation_too_deep"
    assert registry.invoke("delegate", args, make_ctx(delegate=agents, depth=2)).ok
    unknown = registry.invoke("delegate", {"agent": "ghost", "task": "t"}, make_ctx(delegate=agents))
    assert unknown.error == {"code": "not_found", "message": "agent ghost not found"}
    assert agents.calls == [("researcher", "t")]
