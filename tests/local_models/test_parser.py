"""parse_model_output on realistic model outputs: tool calls become ToolCallDeltas, never text."""

from __future__ import annotations

import json
from itertools import count

import pytest

from qorven_local.providers.events import TextDelta, ToolCallDelta, collect
from qorven_local.providers.local.parser import parse_model_output

TOOLS = ["get_weather", "search"]


def run(pieces, tools=TOOLS):
    ids = count()
    return collect(parse_model_output(pieces, tools, new_id=lambda: f"call_{next(ids)}"))


def split_every(text: str, n: int) -> list[str]:
    return [text[i:i + n] for i in range(0, len(text), n)]


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_hermes_tool_call_streamed_in_any_piece_size(size):
    out = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    result = run(split_every(out, size))
    assert result.text == "Let me check.\n"
    assert result.tool_calls == [{"id": "call_0", "type": "function",
                                  "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]


def test_two_hermes_calls_and_text_after():
    out = ('<tool_call>{"name": "search", "arguments": {"q": "a"}}</tool_call>\n'
           '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}</tool_call>')
    result = run(split_every(out, 5))
    assert [c["function"]["name"] for c in result.tool_calls] == ["search", "get_weather"]
    assert json.loads(result.tool_calls[1]["function"]["arguments"]) == {"city": "Oslo"}
    assert "<tool_call>" not in result.text and "{" not in result.text


def test_mistral_tool_calls_list():
    out = '[TOOL_CALLS] [{"name": "search", "arguments": {"q": "llama"}}, {"name": "get_weather", "arguments": {}}]'
    result = run(split_every(out, 4))
    assert result.text == ""
    assert [c["function"]["name"] for c in result.tool_calls] == ["search", "get_weather"]


def test_llama31_python_tag_and_parameters():
    out = '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Rome"}}'
    result = run(split_every(out, 2))
    assert result.text == ""
    assert json.loads(result.tool_calls[0]["function"]["arguments"]) == {"city": "Rome"}


def test_llama31_bare_json_call_only_for_offered_tools():
    call = '{"name": "search", "parameters": {"q": "x"}}'
    assert run(split_every(call, 3)).tool_calls[0]["function"]["name"] == "search"
    # the same JSON without tools offered, or naming an unknown tool, is plain text
    assert run(split_every(call, 3), tools=[]).text == call
    other = '{"name": "rm_rf", "parameters": {}}'
    assert run([other]).text == other and run([other]).tool_calls == []


def test_plain_text_passes_through_and_lookalikes_are_not_held_forever():
    result = run(["Use <b>bold</b> and a < b, ", "then [TOOL", " not a call."])
    assert result.text == "Use <b>bold</b> and a < b, then [TOOL not a call."
    assert result.tool_calls == []


def test_text_streams_before_the_end():
    events = parse_model_output(iter(["Hello", " world", " <tool"]), TOOLS)
    assert next(events) == TextDelta("Hello")
    assert next(events) == TextDelta(" world")


def test_malformed_call_is_dropped_not_shown():
    result = run(['Sure. <tool_call>{"name": "search", "arguments": {oops}</tool_call> done'])
    assert result.tool_calls == []
    assert result.text == "Sure.  done"
    assert "tool_call" not in result.text


def test_unclosed_call_at_the_end_is_still_parsed():
    result = run(['<tool_call>{"name": "search", "arguments": {"q": "end"}}'])
    assert result.tool_calls[0]["function"]["name"] == "search"
    assert result.text == ""


def test_deltas_carry_id_and_name_once():
    events = list(parse_model_output(['<tool_call>{"name":"search","arguments":{}}</tool_call>'], TOOLS,
                                     new_id=lambda: "call_x"))
    assert events == [ToolCallDelta(index=0, id="call_x", name="search", arguments="{}")]
