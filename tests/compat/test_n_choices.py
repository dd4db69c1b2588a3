"""``n > 1`` on a provider model reaches the upstream and every choice comes back, whole or streamed
(each chunk naming its choice's ``index``); agents and non-OpenAI upstreams answer 400 for it."""

from __future__ import annotations

import openai
import pytest

from tests.compat.conftest import stream_chunks
from tests.fakes import Reply

ASK = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def agent(served):
    with served.client() as api:
        created = api.post("/v1/agents", json={"name": "solo", "instructions": "Answer briefly."})
        assert created.status_code == 201, created.text
    return "qor:solo"


def test_the_whole_answer_has_every_choice(client, raw, fake, openai_schema):
    fake.enqueue(Reply.text("hello there"))
    answer = client.chat.completions.create(model="fake/fake-model", messages=ASK, n=3)
    assert fake.last_request.body["n"] == 3
    assert [(c.index, c.message.content, c.finish_reason) for c in answer.choices] == [
        (0, "hello there", "stop"), (1, "hello there #1", "stop"), (2, "hello there #2", "stop")]
    assert answer.usage.completion_tokens > 0

    fake.enqueue(Reply.text("hello there"))
    body = raw.post("/v1/chat/completions", json={"model": "fake/fake-model", "messages": ASK, "n": 2}).json()
    openai_schema("CreateChatCompletionResponse", body)
    assert [c["message"]["content"] for c in body["choices"]] == ["hello there", "hello there #1"]


def test_streamed_chunks_carry_each_choices_index(client, raw, fake):
    fake.enqueue(Reply.text("one two three"))
    texts: dict[int, str] = {}
    finished: dict[int, str] = {}
    for chunk in client.chat.completions.create(model="fake/fake-model", messages=ASK, n=2, stream=True):
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finished[choice.index] = choice.finish_reason
    assert fake.last_request.body["n"] == 2
    assert texts == {0: "one two three", 1: "one two three #1"} and finished == {0: "stop", 1: "stop"}

    fake.enqueue(Reply.text("one two"))
    chunks = stream_chunks(raw, {"model": "fake/fake-model", "messages": ASK, "n": 3,
                                 "stream_options": {"include_usage": True}})  # each checked against OpenAI's schema
    roles = [c["choices"][0]["index"] for c in chunks if c["choices"] and c["choices"][0]["delta"].get("role")]
    ends = [c["choices"][0]["index"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert roles == [0, 1, 2] and sorted(ends) == [0, 1, 2]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_n_of_one_is_not_sent_upstream(client, fake):
    client.chat.completions.create(model="fake/fake-model", messages=ASK, n=1)
    assert "n" not in fake.last_request.body


def test_an_agent_answers_400_for_n_above_one(client, raw, fake, agent):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=agent, messages=ASK, n=2)
    error = caught.value.body
    assert error["code"] == "validation_error" and error["param"] == "n" and error["type"] == "invalid_request_error"
    assert "agents" in error["message"] and agent in error["message"]
    streamed = raw.post("/v1/chat/completions", json={"model": agent, "messages": ASK, "n": 2, "stream": True})
    assert streamed.status_code == 400 and streamed.json()["error"]["param"] == "n"
    assert fake.requests == []  # nothing ran


@pytest.mark.parametrize("model", ["claude/fake-model"])
def test_an_upstream_without_choices_answers_400(raw, fake, model):
    r = raw.post("/v1/chat/completions", json={"model": model, "messages": ASK, "n": 2})
    assert r.status_code == 400 and r.json()["error"]["param"] == "n"
    assert "anthropic" in r.json()["error"]["message"] and fake.requests == []


@pytest.mark.parametrize("n", [0, 129, "2", True, 1.5])
def test_a_bad_n_is_a_400_naming_it(raw, fake, n):
    r = raw.post("/v1/chat/completions", json={"model": "fake/fake-model", "messages": ASK, "n": n})
    assert r.status_code == 400 and r.json()["error"]["param"] == "n", r.text
    assert fake.requests == []
