"""The model's context: instructions, memories and history within a budget, with tool calls kept whole."""

from __future__ import annotations

from qorven_local.agents.context import build_messages, fit_history, paired_tool_calls
from qorven_local.agents.types import Agent


def agent(**kw) -> Agent:
    fields = dict(id="agt_1", tenant_id="t", name="a", display_name="A", description="", instructions="Be kind.",
                  model=None, tools=[], memory_enabled=True, memory_auto_save=False, temperature=None, builtin=False,
                  created_at="", updated_at="")
    return Agent(**{**fields, **kw})


CALL = {"role": "assistant", "content": "Let me check.", "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "calculator", "arguments": "{}"}},
    {"id": "c2", "type": "function", "function": {"name": "calculator", "arguments": "{}"}}]}


def test_tool_calls_without_all_their_results_are_not_sent():
    complete = [{"role": "user", "content": "q"}, CALL, {"role": "tool", "tool_call_id": "c1", "content": "1"},
                {"role": "tool", "tool_call_id": "c2", "content": "2"}, {"role": "assistant", "content": "3"}]
    assert paired_tool_calls(complete) == complete
    cut = [{"role": "user", "content": "q"}, CALL, {"role": "tool", "tool_call_id": "c1", "content": "1"},
           {"role": "user", "content": "next"}]
    assert paired_tool_calls(cut) == [{"role": "user", "content": "q"},
                                      {"role": "assistant", "content": "Let me check."},
                                      {"role": "user", "content": "next"}]
    assert paired_tool_calls([{"role": "tool", "tool_call_id": "x", "content": "1"},
                              {"role": "user", "content": "hi"}]) == [{"role": "user", "content": "hi"}]


def test_history_keeps_the_newest_turns_that_fit():
    history = [{"role": "user", "content": "x" * 400}, {"role": "assistant", "content": "y" * 400},
               {"role": "user", "content": "z" * 40}]
    assert fit_history(history, 30) == history[2:]
    assert fit_history(history, 10_000) == history
    assert fit_history(history, 0) == history[2:]  # the newest turn always goes
    assert fit_history([{"role": "tool", "tool_call_id": "c", "content": "1"}, history[2]], 1000) == [history[2]]


def test_system_prompt_carries_instructions_extra_context_and_memories():
    messages = build_messages(agent=agent(), history=[], user_message="hello",
                              memories=[{"id": "mem_1", "content": "The user is Ada.", "score": 0.9}],
                              extra_system="You are in a room with writer.")
    assert messages[-1] == {"role": "user", "content": "hello"}
    system = messages[0]["content"]
    assert system.startswith("Be kind.") and "You are in a room with writer." in system
    assert "- The user is Ada." in system
