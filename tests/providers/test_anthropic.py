"""The Anthropic adapter translates OpenAI-format requests into the Messages API and back."""

from __future__ import annotations

import json

import pytest

from qorven_local.errors import ValidationError
from qorven_local.providers.anthropic import to_messages_body
from qorven_local.providers.events import ChatRequest, collect
from tests.fakes import Reply

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


def test_full_tool_round_trip_is_translated_as_anthropic_expects(fake, make_provider):
    provider = make_provider("anthropic")
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
        {"role": "user", "content": "Weather in Paris and Oslo?"},
    ]
    fake.enqueue(Reply.tool_calls([
        {"id": "toolu_a", "name": "get_weather", "arguments": {"city": "Paris"}},
        {"id": "toolu_b", "name": "get_weather", "arguments": {"city": "Oslo"}}],
        text="Checking."))
    first = collect(provider.stream_chat(ChatRequest(
        model="claude-x", messages=messages, tools=[WEATHER_TOOL], tool_choice="auto")))
    assert [c["id"] for c in first.tool_calls] == ["toolu_a", "toolu_b"]

    messages += [first.message(),
                 {"role": "tool", "tool_call_id": "toolu_a", "content": "18C"},
                 {"role": "tool", "tool_call_id": "toolu_b", "content": "3C"}]
    fake.enqueue(Reply.text("Paris 18C, Oslo 3C."))
    second = collect(provider.stream_chat(ChatRequest(
        model="claude-x", messages=messages, tools=[WEATHER_TOOL], stop="\n\n", temperature=1.5)))
    assert second.text == "Paris 18C, Oslo 3C." and second.finish_reason == "stop"

    sent = fake.chat_requests()[-1]
    assert sent.path == "/v1/messages"
    body = sent.body
    assert body["system"] == "You are terse.\n\nUse tools."
    assert body["stream"] is True and body["max_tokens"] == 4096
    assert body["stop_sequences"] == ["\n\n"] and body["temperature"] == 1.0
    assert body["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                              "input_schema": WEATHER_TOOL["function"]["parameters"]}]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Oslo?"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "18C"},
            {"type": "tool_result", "tool_use_id": "toolu_b", "content": "3C"}]},
    ]
    assert fake.chat_requests()[0].body["tool_choice"] == {"type": "auto"}


def _body(**kw) -> dict:
    kw.setdefault("messages", [{"role": "user", "content": "hi"}])
    return to_messages_body(ChatRequest(model="claude-x", **kw))


@pytest.mark.parametrize("choice, expected", [
    ("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"}),
    ({"type": "function", "function": {"name": "get_weather"}},
     {"type": "tool", "name": "get_weather"}),
])
def test_tool_choice_mapping(choice, expected):
    assert _body(tools=[WEATHER_TOOL], tool_choice=choice)["tool_choice"] == expected


def test_parallel_tool_calls_false_disables_parallel_tool_use():
    body = _body(tools=[WEATHER_TOOL], extra={"parallel_tool_calls": False})
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


def test_content_parts_become_blocks():
    body = _body(messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}])
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}]


def test_unsupported_part_is_a_validation_error():
    with pytest.raises(ValidationError):
        _body(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}])


def test_defaults_and_passthrough():
    body = _body(max_tokens=99, extra={"top_p": 0.5, "seed": 3, "user": "u1"})
    assert body["max_tokens"] == 99 and body["top_p"] == 0.5 and "seed" not in body
    assert body["metadata"] == {"user_id": "u1"} and "system" not in body and "tools" not in body


def test_consecutive_user_turns_are_merged_and_empty_assistant_text_dropped():
    body = _body(messages=[
        {"role": "user", "content": "a"}, {"role": "user", "content": "b"},
        {"role": "assistant", "content": ""}, {"role": "assistant", "content": "c"}])
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "c"}]}]


def test_json_response_format_becomes_a_system_instruction():
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    body = _body(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert json.dumps(schema) in body["system"]


def test_upstream_max_tokens_stop_reason_is_length(fake, make_provider):
    fake.enqueue(Reply.text("cut", finish_reason="length"))
    assert collect(make_provider("anthropic").stream_chat(
        ChatRequest(model="c", messages=[{"role": "user", "content": "x"}]))).finish_reason == "length"


def test_base_url_without_v1_still_reaches_messages(fake):
    from qorven_local.providers.kinds import create_provider
    provider = create_provider("anthropic", fake.root_url, "sk-test-0123456789abcdef")
    try:
        assert provider.list_models()[0].id == "fake-model"
    finally:
        provider.close()
