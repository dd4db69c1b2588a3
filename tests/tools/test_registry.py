"""ToolRegistry.invoke: validation, failures as results, timing and time limits."""

from __future__ import annotations

import time

import pytest

from qorven_local.errors import Conflict, InvalidArguments, NotFound
from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, ToolRegistry, tool


@tool()
def add(a: int, b: int = 1, note: str | None = None) -> dict:
    """Add two integers.

    Args:
        a: First.
        b: Second.
        note: Ignored.
    """
    return {"sum": a + b}


@tool()
def explode(ctx: ToolContext) -> str:
    """Fail with a bug."""
    raise RuntimeError("kaboom")


@tool()
def refuse() -> str:
    """Fail on purpose."""
    raise ToolError("nope", "not today")


@tool()
def raise_not_found() -> str:
    """A domain error from a service."""
    raise NotFound("agent ghost not found")


@tool(timeout_s=0.2)
def sleepy() -> str:
    """Sleep too long."""
    time.sleep(2)
    return "late"


@tool()
def unserialisable() -> object:
    """Return something JSON cannot carry."""
    return object()


@pytest.fixture
def reg() -> ToolRegistry:
    return ToolRegistry([add, explode, refuse, raise_not_found, sleepy, unserialisable])


def test_valid_call_returns_the_result_and_a_duration(reg, ctx):
    result = reg.invoke("add", {"a": 2, "b": 3}, ctx)
    assert result.ok and result.result == {"sum": 5} and result.error is None
    assert isinstance(result.duration_ms, int) and result.duration_ms >= 0
    assert result.to_dict() == {"ok": True, "result": {"sum": 5}, "duration_ms": result.duration_ms}


def test_null_for_an_optional_argument_counts_as_absent(reg, ctx):
    assert reg.invoke("add", {"a": 2, "b": None, "note": None}, ctx).result == {"sum": 3}


@pytest.mark.parametrize("arguments, param, words", [
    ({}, "a", "missing required argument 'a'"),
    ({"a": "two"}, "a", "is not of type 'integer'"),
    ({"a": True}, "a", "is not of type 'integer'"),
    ({"a": 1, "c": 3}, "c", "unknown argument 'c'"),
    ({"a": 1, "note": 5}, "note", "is not of type 'string'"),
])
def test_bad_arguments_raise_invalid_arguments_naming_the_field(reg, ctx, arguments, param, words):
    with pytest.raises(InvalidArguments) as caught:
        reg.invoke("add", arguments, ctx)
    assert caught.value.param == param and caught.value.status == 422
    assert words in caught.value.message


def test_arguments_must_be_an_object(reg, ctx):
    with pytest.raises(InvalidArguments):
        reg.invoke("add", ["a", 1], ctx)


def test_agent_loop_mode_turns_bad_arguments_into_a_result(reg, ctx):
    result = reg.invoke("add", {"a": "x"}, ctx, raise_invalid=False)
    assert not result.ok
    assert result.error["code"] == "invalid_arguments" and result.error["param"] == "a"
    unknown = reg.invoke("nope", {}, ctx, raise_invalid=False)
    assert not unknown.ok and unknown.error["code"] == "not_found"


def test_unknown_tool_is_not_found(reg, ctx):
    with pytest.raises(NotFound):
        reg.invoke("nope", {}, ctx)
    with pytest.raises(NotFound):
        reg.schemas_for(["add", "nope"])


def test_a_bug_inside_a_tool_becomes_ok_false(reg, ctx):
    result = reg.invoke("explode", {}, ctx)
    assert result.to_dict() == {"ok": False, "error": {"code": "tool_failed",
                                                       "message": "RuntimeError: kaboom"},
                                "duration_ms": result.duration_ms}


def test_tool_errors_and_domain_errors_keep_their_code(reg, ctx):
    assert reg.invoke("refuse", {}, ctx).error == {"code": "nope", "message": "not today"}
    assert reg.invoke("raise_not_found", {}, ctx).error == {"code": "not_found",
                                                            "message": "agent ghost not found"}


def test_a_slow_tool_is_cut_off_at_its_timeout(reg, ctx):
    started = time.monotonic()
    result = reg.invoke("sleepy", {}, ctx)
    assert time.monotonic() - started < 1.5
    assert not result.ok and result.error["code"] == "tool_timeout"
    assert result.duration_ms >= 200


def test_non_json_results_are_refused(reg, ctx):
    result = reg.invoke("unserialisable", {}, ctx)
    assert not result.ok and result.error["code"] == "tool_failed"


def test_registry_lists_gets_and_refuses_duplicates(reg):
    assert [t.name for t in reg.list()][:2] == ["add", "explode"]
    assert reg.get("add") is add
    with pytest.raises(Conflict):
        reg.register(add)
    assert reg.schemas_for(["add"]) == [add.openai_schema()]


def test_default_registry_holds_every_builtin(registry):
    assert sorted(t.name for t in registry.list()) == sorted([
        "current_time", "calculator", "memory_search", "memory_save", "delegate",
        "list_files", "read_file", "write_file", "http_get"])
    assert len(registry.schemas_for()) == 9
    assert registry.get("calculator").to_dict()["id"] == "calculator"
