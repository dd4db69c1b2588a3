"""The official ``openai`` SDK against a real ``qorven serve``, with the fake provider upstream.

Every raw response is also checked against OpenAI's published component schemas.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.chat.conftest import configure, sse_events
from tests.fakes import Reply


@pytest.fixture(scope="module")
def served(serve_process, module_fake):
    with serve_process.client() as api:
        configure(api, module_fake)
    return serve_process


@pytest.fixture
def client(served, fake):
    with openai.OpenAI(base_url=served.url + "/v1", api_key=served.admin_token, max_retries=0, timeout=20) as c:
        yield c


@pytest.fixture
def raw(served, fake):
    with served.client() as api:
        yield api


def chunks_of(response: httpx.Response) -> tuple[list[dict], list[tuple[str, str]]]:
    events = sse_events(response.iter_lines())
    data = [d for name, d in events if name == "message"]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]], events


def test_non_streaming_with_a_provider_model(client, raw, fake, openai_schema):
    answer = client.chat.completions.create(model="fake/fake-model", messages=[{"role": "user", "content": "hi there"}])
    assert answer.choices[0].message.content == "hi there" and answer.choices[0].finish_reason == "stop"
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    assert fake.last_request.body["model"] == "fake-model"  # the provider prefix is ours, not upstream's
    body = raw.post("/v1/chat/completions", json={"model": "fake/fake-model",
                                                  "messages": [{"role": "user", "content": "x"}]}).json()
    openai_schema("CreateChatCompletionResponse", body)


def test_streaming_with_include_usage(client, raw, fake, openai_schema):
    stream = client.chat.completions.create(model="fake/fake-model", stream=True,
                                            stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "one two three"}])
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3

    with raw.stream("POST", "/v1/chat/completions", json={
            "model": "fake/fake-model", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "a b"}]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        parsed, events = chunks_of(r)
    assert all(name == "message" for name, _ in events)  # no named events in the OpenAI form
    for chunk in parsed:
        openai_schema("CreateChatCompletionStreamResponse", chunk)


def test_streamed_parallel_tool_calls_are_reassembled_by_the_sdk(client, raw, fake, openai_schema):
    calls = [{"name": "get_weather", "arguments": {"city": "Paris"}},
             {"name": "get_time", "arguments": {"zone": "Europe/Paris"}}]
    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object", "properties": {}}}}
             for n in ("get_weather", "get_time")]
    fake.enqueue(Reply.tool_calls(calls, arg_chunks=4))
    with client.chat.completions.stream(model="fake/fake-model", tools=tools,
                                        messages=[{"role": "user", "content": "weather and time?"}]) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "tool_calls"
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [
        ("call_fake_0", "get_weather", {"city": "Paris"}), ("call_fake_1", "get_time", {"zone": "Europe/Paris"})]
    assert fake.last_request.body["tools"] == tools  # client tools pass through

    fake.enqueue(Reply.tool_calls(calls[:1]))
    with raw.stream("POST", "/v1/chat/completions", json={"model": "fake/fake-model", "stream": True, "tools": tools,
                                                          "messages": [{"role": "user", "content": "w"}]}) as r:
        parsed, _ = chunks_of(r)
    deltas = [c["choices"][0]["delta"]["tool_calls"][0] for c in parsed if c["choices"][0]["delta"].get("tool_calls")]
    assert deltas[0] == {"index": 0, "id": "call_fake_0", "type": "function",
                         "function": {"name": "get_weather", "arguments": ""}}
    assert all(set(d) == {"index", "function"} for d in deltas[1:])
    for chunk in parsed:
        openai_schema("CreateChatCompletionStreamResponse", chunk)


def test_tool_round_trip_reaches_the_provider(client, fake):
    history = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "weather in "}, {"type": "text", "text": "Paris?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
    ]
    fake.enqueue(Reply.text("It is 21 degrees."))
    answer = client.chat.completions.create(
        model="fake/fake-model", messages=history, tool_choice="auto", stop=["\n\n"], max_completion_tokens=50,
        response_format={"type": "text"}, temperature=0.2, extra_body={"some_future_param": {"x": 1}},
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}])
    assert answer.choices[0].message.content == "It is 21 degrees."
    sent = fake.last_request.body
    # local servers get the shapes they accept: developer → system, text parts → a string
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["messages"][1] == {"role": "user", "content": "weather in Paris?"}
    assert sent["messages"][2]["tool_calls"][0]["id"] == "call_1"
    assert sent["messages"][3] == {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'}
    assert sent["max_tokens"] == 50 and sent["stop"] == ["\n\n"] and sent["tool_choice"] == "auto"
    assert "some_future_param" not in sent


def test_unknown_model_is_not_found(client, raw, openai_schema):
    for model in ("nope/model", "fake/not-offered-model-x", "no-such-agent"):
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.code == "model_not_found", model
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope/model", stream=True, messages=[{"role": "user", "content": "hi"}])
    error = raw.post("/v1/chat/completions", json={"model": "nope/x", "messages": [{"role": "user", "content": "x"}]})
    openai_schema("ErrorResponse", {"error": {**error.json()["error"]}})


def test_mid_stream_provider_failure_raises_api_error(client, raw, fake, openai_schema):
    fake.enqueue(Reply.text("one two three four", error_after=2))
    stream = client.chat.completions.create(model="fake/fake-model", stream=True,
                                            messages=[{"role": "user", "content": "x"}])
    seen = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content if chunk.choices else None)
    assert "one " in seen and "failed mid-stream" in str(caught.value)

    fake.enqueue(Reply.text("one two three", malformed_after=1))
    with raw.stream("POST", "/v1/chat/completions", json={"model": "fake/fake-model", "stream": True,
                                                          "messages": [{"role": "user", "content": "x"}]}) as r:
        events = sse_events(r.iter_lines())
    last = json.loads(events[-1][1])
    assert last["error"]["code"] == "provider_error" and events[-1][1] != "[DONE]"
    openai_schema("ErrorResponse", last)


def test_upstream_errors_before_the_stream_keep_their_status(client, fake):
    fake.enqueue(Reply.error(429, retry_after=7))
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="fake/fake-model", stream=True, messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 502 and caught.value.code == "provider_error"
    assert caught.value.response.headers["retry-after"] == "7"


def test_agents_answer_through_the_sdk(client, fake):
    fake.enqueue(Reply.text("Hello from the writer"))
    answer = client.chat.completions.create(model="qor:writer", messages=[
        {"role": "system", "content": "The user likes brevity."}, {"role": "user", "content": "hello"}])
    assert answer.choices[0].message.content == "Hello from the writer" and answer.model == "qor:writer"
    sent = fake.last_request.body["messages"]
    assert sent[0]["role"] == "system" and sent[0]["content"].startswith("You are Writer")
    assert sent[1:] == [{"role": "system", "content": "The user likes brevity."}, {"role": "user", "content": "hello"}]
    assert [t["function"]["name"] for t in fake.last_request.body["tools"]] == [
        "read_file", "write_file", "list_files", "memory_search"]

    fake.enqueue(Reply.text("streamed agent answer"))
    chunks = list(client.chat.completions.create(model="writer", stream=True, stream_options={"include_usage": True},
                                                 messages=[{"role": "user", "content": "hi"}]))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "streamed agent answer"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_models_list_matches_openai_schema(client, raw, openai_schema):
    ids = [m.id for m in client.models.list()]
    assert ids[:2] == ["fake/fake-model", "fake/fake-model-large"] and "qor:prime" in ids
    openai_schema("ListModelsResponse", raw.get("/v1/models").json())
    assert client.models.retrieve("fake/fake-model").owned_by == "fake"
