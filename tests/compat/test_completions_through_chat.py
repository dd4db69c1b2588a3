"""POST /v1/completions on a provider kind without its own completions (Anthropic): served through chat.

The official ``openai`` SDK against a real server; the fake upstream speaks Anthropic's wire format and
its request log shows the prompt arriving as one user message on ``/v1/messages``.
"""

from __future__ import annotations

import openai
import pytest

from tests.compat.conftest import completion_chunks, sdk
from tests.fakes import Reply
from tests.support.openai_schemas import validate_openai

KEY = "sk-ant-test-0123456789abcdef"
MODEL = "claude/claude-test"


@pytest.fixture
def api(server, fake):
    fake.api_key = KEY
    with server.client() as api:
        created = api.post("/v1/providers", json={"name": "claude", "kind": "anthropic", "base_url": fake.root_url,
                                                  "key": KEY})
        assert created.status_code == 201, created.text
        yield api


@pytest.fixture
def client(server, api):
    with sdk(server) as c:
        yield c


def messages_posts(fake) -> list:
    return [r for r in fake.requests if r.method == "POST"]


def test_sdk_plain_completion_through_chat(client, api, fake):
    fake.enqueue(Reply.text("bright and cold", finish_reason="length"))
    answer = client.completions.create(model=MODEL, prompt="The morning was", max_tokens=5, temperature=0,
                                       stop=["."], echo=True)
    [choice] = answer.choices
    assert choice.text == "The morning wasbright and cold" and choice.finish_reason == "length"
    assert choice.logprobs is None and answer.object == "text_completion"
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens > 0
    [sent] = messages_posts(fake)
    assert sent.path == "/v1/messages" and sent.body["model"] == "claude-test"
    assert sent.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "The morning was"}]}]
    assert sent.body["max_tokens"] == 5 and sent.body["stop_sequences"] == ["."]

    whole = api.post("/v1/completions", json={"model": MODEL, "prompt": ["a", "b c"]})
    assert whole.status_code == 200, whole.text
    validate_openai("CreateCompletionResponse", whole.json())
    assert [(c["index"], c["text"]) for c in whole.json()["choices"]] == [(0, "a"), (1, "b c")]


def test_sdk_stream_through_chat(client, api, fake):
    chunks = list(client.completions.create(model=MODEL, prompt="one two three", stream=True,
                                            stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    with api.stream("POST", "/v1/completions", json={"model": MODEL, "prompt": "x y", "stream": True}) as r:
        parsed = completion_chunks(r)
    assert "".join(c["choices"][0]["text"] for c in parsed) == "x y"


def test_max_tokens_zero_only_echoes_without_calling_upstream(client, fake):
    answer = client.completions.create(model=MODEL, prompt="Just this", max_tokens=0, echo=True)
    assert answer.choices[0].text == "Just this" and answer.choices[0].finish_reason == "length"
    assert messages_posts(fake) == []


@pytest.mark.parametrize("option, value", [("suffix", " end"), ("logprobs", 1), ("n", 2)])
def test_what_chat_cannot_do_is_a_clear_400(client, fake, option, value):
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=MODEL, prompt="hi", **{option: value})
    body = caught.value.body
    assert body["code"] == "validation_error" and body["param"] == option
    assert "'claude' (anthropic) has no text completions of its own" in body["message"]
    assert messages_posts(fake) == []  # refused before anything went upstream


def test_streamed_refusal_is_an_http_400_not_a_stream(api, fake):
    resp = api.post("/v1/completions", json={"model": MODEL, "prompt": "hi", "suffix": "x", "stream": True})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "suffix"
    assert messages_posts(fake) == []
