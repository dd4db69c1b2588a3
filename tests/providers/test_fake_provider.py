"""The fake provider works with the official openai SDK, since other tests rely on it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest

from tests.fakes import FakeProvider, Reply
from tests.providers.conftest import KEY

MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture
def client(fake):
    with openai.OpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0, timeout=5) as sdk:
        yield sdk


def test_sdk_non_streaming_text(fake, client):
    fake.enqueue(Reply.text("Sunny, 21 degrees."))
    answer = client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert answer.choices[0].message.content == "Sunny, 21 degrees."
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.completion_tokens == 3


def test_sdk_streaming_text_with_usage(fake, client):
    fake.enqueue(Reply.text("Sunny, 21 degrees.", chunks=4))
    chunks = list(client.chat.completions.create(
        model="fake-model", messages=MESSAGES, stream=True,
        stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Sunny, 21 degrees."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4


def test_sdk_streaming_parallel_tool_calls(fake, client):
    fake.enqueue(Reply.tool_calls([
        {"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}},
        {"id": "call_2", "name": "get_weather", "arguments": {"city": "Oslo"}}]))
    calls: dict[int, dict] = {}
    finish = None
    for chunk in client.chat.completions.create(model="fake-model", messages=MESSAGES,
                                                stream=True):
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or []:
                call = calls.setdefault(tc.index, {"id": tc.id, "name": None, "args": ""})
                if tc.function.name:
                    call["name"] = tc.function.name
                call["args"] += tc.function.arguments or ""
    assert finish == "tool_calls"
    assert [(c["id"], c["name"], json.loads(c["args"])) for c in calls.values()] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_weather", {"city": "Oslo"})]


def test_sdk_non_streaming_tool_call(fake, client):
    fake.enqueue(Reply.tool_calls([{"name": "get_weather", "arguments": {"city": "Paris"}}]))
    message = client.chat.completions.create(model="fake-model", messages=MESSAGES).choices[0].message
    assert message.tool_calls[0].function.name == "get_weather"
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Paris"}


def test_sdk_sees_errors_with_their_status(fake, client):
    fake.enqueue(Reply.error(429, retry_after=3), Reply.error(500))
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert info.value.response.headers["retry-after"] == "3"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="fake-model", messages=MESSAGES)


def test_sdk_without_the_key_gets_401(fake):
    with openai.OpenAI(base_url=fake.base_url, api_key="sk-other", max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError):
            sdk.models.list()


def test_sdk_lists_models(client):
    assert [m.id for m in client.models.list()] == ["fake-model", "fake-model-large"]


def test_request_log_records_path_headers_and_body(fake, client):
    client.chat.completions.create(model="fake-model", messages=MESSAGES, temperature=0.2)
    request = fake.last_request
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["temperature"] == 0.2 and request.body["messages"] == MESSAGES
    fake.reset()
    assert fake.requests == []


def test_delay_spaces_the_chunks(fake, client):
    fake.enqueue(Reply.text("a b c d", delay=0.05))
    started = time.monotonic()
    list(client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True))
    assert time.monotonic() - started >= 0.2


def test_bulk_mode_streams_n_tokens(fake, client):
    fake.enqueue(Reply.bulk(500))
    chunks = [c for c in client.chat.completions.create(model="fake-model", messages=MESSAGES,
                                                        stream=True) if c.choices]
    assert sum(1 for c in chunks if c.choices[0].delta.content) == 500


def test_anthropic_wire_format_event_sequence(fake):
    fake.enqueue(Reply.tool_calls([{"id": "toolu_1", "name": "f", "arguments": {"a": 1}}],
                                  text="Hi"))
    body = {"model": "claude", "max_tokens": 10, "stream": True,
            "messages": [{"role": "user", "content": "x"}]}
    with httpx.stream("POST", fake.base_url + "/messages", json=body,
                      headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"}) as resp:
        events = [line[7:] for line in resp.iter_lines() if line.startswith("event: ")]
    assert events == ["message_start", "content_block_start", "ping", "content_block_delta",
                      "content_block_stop", "content_block_start", "content_block_delta",
                      "content_block_delta", "content_block_delta", "content_block_stop",
                      "message_delta", "message_stop"]


def test_ollama_tags(fake):
    tags = httpx.get(fake.root_url + "/api/tags").json()
    assert [m["name"] for m in tags["models"]] == ["fake-model", "fake-model-large"]


def test_runs_standalone_for_benchmarks():
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.fake_provider", "--port", "0",
                             "--tokens", "50"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        base_url = line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:")
        with openai.OpenAI(base_url=base_url, api_key="any", max_retries=0, timeout=5) as sdk:
            answer = sdk.chat.completions.create(model="m", messages=MESSAGES)
        assert answer.choices[0].message.content == "tok " * 50
    finally:
        proc.terminate()
        proc.wait(5)


def test_stop_releases_a_hanging_request():
    fake = FakeProvider().start()
    fake.enqueue(Reply.hang())
    with httpx.Client(timeout=5) as http:
        started = time.monotonic()
        threading.Timer(0.2, fake.stop).start()
        with pytest.raises(httpx.HTTPError):
            http.post(fake.base_url + "/chat/completions",
                      json={"model": "m", "messages": MESSAGES})
    assert time.monotonic() - started < 3
