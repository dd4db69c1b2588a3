"""Agents as models offer the client's tools beside their own; a call to a client tool goes back to the client.

The client runs it and sends the result as a ``tool`` message in its next request, and the agent
continues, exactly as with a plain model. On a name clash the client's tool wins.
"""

from __future__ import annotations

import json

from tests.compat.agents_as_models import AGENT, client, raw, served, stream_chunks  # noqa: F401
from tests.fakes import Reply
from tests.support.openai_schemas import validate_openai
from tests.support.wait import wait_until

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
ASK = [{"role": "user", "content": "weather in Paris?"}]
CALL = {"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_w1"}


def offered(body: dict) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools") or []]


def test_a_client_tool_call_comes_back_and_the_follow_up_completes(client, fake):
    fake.enqueue(Reply.tool_calls([CALL]))
    response = client.chat.completions.with_raw_response.create(model=AGENT, messages=ASK, tools=[WEATHER])
    validate_openai("CreateChatCompletionResponse", response.http_response.json())
    choice = response.parse().choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    assert (call.id, call.type, call.function.name, json.loads(call.function.arguments)) == (
        "call_w1", "function", "get_weather", {"city": "Paris"})
    assert offered(fake.last_request.body) == ["current_time", "get_weather"]  # the agent's own, then the client's
    assert len(fake.chat_requests()) == 1  # the run ended on the client's call

    fake.enqueue(Reply.text("Sunny in Paris"))
    follow_up = ASK + [choice.message.model_dump(exclude_none=True),
                       {"role": "tool", "tool_call_id": call.id, "content": '{"sky": "sunny"}'}]
    answer = client.chat.completions.create(model=AGENT, messages=follow_up, tools=[WEATHER])
    assert answer.choices[0].message.content == "Sunny in Paris" and answer.choices[0].finish_reason == "stop"
    sent = fake.last_request.body["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == "call_w1"
    assert sent[-1] == {"role": "tool", "tool_call_id": "call_w1", "content": '{"sky": "sunny"}'}


def test_a_streamed_client_tool_call_arrives_as_openai_deltas(client, raw, fake):
    fake.enqueue(Reply.tool_calls([CALL], text="Let me check. "))
    with client.chat.completions.stream(model=AGENT, messages=ASK, tools=[WEATHER]) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "Let me check. "
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls] == [
        ("call_w1", "get_weather", {"city": "Paris"})]

    fake.enqueue(Reply.tool_calls([CALL]))
    chunks = stream_chunks(raw, {"model": AGENT, "messages": ASK, "tools": [WEATHER]})
    for chunk in chunks:
        validate_openai("CreateChatCompletionStreamResponse", chunk)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls") or []]
    assert deltas[0]["index"] == 0 and deltas[0]["id"] == "call_w1" and deltas[0]["type"] == "function"
    assert deltas[0]["function"]["name"] == "get_weather"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]] \
        == ["tool_calls"]


def test_the_agent_tools_still_run_on_the_server_before_a_client_call(client, fake):
    fake.enqueue(Reply.tool_calls([{"name": "current_time", "arguments": {}}]), Reply.tool_calls([CALL]))
    answer = client.chat.completions.create(model=AGENT, messages=ASK, tools=[WEATHER])
    assert answer.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in answer.choices[0].message.tool_calls] == ["get_weather"]
    first, second = fake.chat_requests()
    assert second.body["messages"][-1]["role"] == "tool"  # current_time ran here, its result went upstream
    assert offered(second.body) == ["current_time", "get_weather"]


def test_a_client_tool_named_like_an_agent_tool_wins(client, fake):
    mine = {"type": "function", "function": {"name": "current_time", "description": "the client's clock",
                                             "parameters": {"type": "object", "properties": {}}}}
    fake.enqueue(Reply.tool_calls([{"name": "current_time", "arguments": {}, "id": "call_c1"}]))
    answer = client.chat.completions.create(model=AGENT, messages=ASK, tools=[mine])
    assert answer.choices[0].finish_reason == "tool_calls"
    assert answer.choices[0].message.tool_calls[0].id == "call_c1"  # returned to the client, not run here
    sent = fake.last_request.body["tools"]
    assert sent == [mine]  # offered once: the client's schema, the agent's own left out
    assert len(fake.chat_requests()) == 1


def test_tool_choice_required_is_sent_on_the_first_model_call_only(client, fake):
    fake.enqueue(Reply.tool_calls([{"name": "current_time", "arguments": {}}]), Reply.text("done"))
    answer = client.chat.completions.create(model=AGENT, messages=ASK, tools=[WEATHER], tool_choice="required")
    assert answer.choices[0].message.content == "done"
    first, second = fake.chat_requests()
    # kept on every call it would force tools until the run's tool budget ran out
    assert first.body["tool_choice"] == "required" and "tool_choice" not in second.body


def test_memory_is_learned_from_the_finished_turn_not_from_one_waiting_on_a_client_tool(client, fake):
    fake.enqueue(Reply.tool_calls([CALL], text="I will look that up for you."), Reply.text("Sunny in Paris"))
    asked = client.chat.completions.create(model="qor:prime", messages=ASK, tools=[WEATHER])  # prime auto-saves
    assert asked.choices[0].finish_reason == "tool_calls"
    follow_up = ASK + [asked.choices[0].message.model_dump(exclude_none=True),
                       {"role": "tool", "tool_call_id": "call_w1", "content": "sunny"}]
    assert client.chat.completions.create(model="qor:prime", messages=follow_up,
                                          tools=[WEATHER]).choices[0].message.content == "Sunny in Paris"
    # memory extraction is a tool-less model call made after a run; only the finished turn makes one
    extractions = lambda: [r for r in fake.chat_requests() if "tools" not in r.body]  # noqa: E731
    wait_until(extractions, message="the finished turn's memory extraction")
    assert len(fake.chat_requests()) == 3 and len(extractions()) == 1
