"""POST /v1/completions on an OpenAI-compatible provider: proxied to the upstream's own /completions.

The official ``openai`` SDK (``client.completions.create``, plain and streamed) and raw HTTP (what curl
sends) against a real ``qorven serve``; the fake upstream's request log shows what reached it.
"""

from __future__ import annotations

import openai
import pytest

from tests.chat.conftest import configure
from tests.compat.conftest import completion_chunks, sdk
from tests.fakes import Reply
from tests.support.openai_schemas import validate_openai

MODEL = "fake/fake-model"


@pytest.fixture(scope="module")
def served(serve_process, module_fake):
    """One ``qorven serve`` with the fake upstream as provider ``fake`` (kind openai_compatible)."""
    with serve_process.client() as api:
        assert configure(api, module_fake)["kind"] == "openai_compatible"  # a kind with its own /completions
    return serve_process


@pytest.fixture
def client(served, fake):
    with sdk(served) as c:
        yield c


@pytest.fixture
def raw(served, fake):
    """Plain HTTP, as curl sends it."""
    with served.client() as api:
        yield api


def completion_posts(fake) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path == "/v1/completions"]


def test_sdk_plain_completion_is_proxied_with_every_option(client, raw, fake):
    fake.enqueue(Reply.text(" a quiet river", finish_reason="length"))
    answer = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=7, temperature=0.2,
                                       top_p=0.9, stop=["\n"], seed=3, user="u-1", suffix=" The end.",
                                       presence_penalty=0.5)
    assert answer.object == "text_completion" and answer.id.startswith("cmpl-") and answer.model == MODEL
    [choice] = answer.choices
    assert choice.text == " a quiet river" and choice.finish_reason == "length" and choice.index == 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens > 0
    [sent] = completion_posts(fake)
    body = sent.body
    assert body["model"] == "fake-model" and body["prompt"] == "Once upon a time"  # our prefix is not upstream's
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["stop"], body["seed"], body["user"],
            body["suffix"], body["presence_penalty"]) == (7, 0.2, 0.9, ["\n"], 3, "u-1", " The end.", 0.5)
    assert not fake.chat_requests()[0].path.endswith("/chat/completions")

    whole = raw.post("/v1/completions", json={"model": MODEL, "prompt": "x y"})
    assert whole.status_code == 200, whole.text
    validate_openai("CreateCompletionResponse", whole.json())
    assert whole.json()["choices"][0]["text"] == "x y"
    for alias in ("/api/completions", "/api/v1/completions"):  # the UI's prefixes serve the same handler
        assert raw.post(alias, json={"model": MODEL, "prompt": "z"}).json()["choices"][0]["text"] == "z"


def test_sdk_stream_with_usage_then_done(client, raw, fake):
    stream = client.completions.create(model=MODEL, prompt="one two three", stream=True,
                                       stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "one two three"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    assert all(c.object == "text_completion" and c.model == MODEL for c in chunks)
    assert len({c.id for c in chunks}) == 1

    with raw.stream("POST", "/v1/completions", json={"model": MODEL, "prompt": "a b", "stream": True}) as r:
        parsed = completion_chunks(r)
    assert "".join(c["choices"][0]["text"] for c in parsed) == "a b"
    assert completion_posts(fake)[-1].body["stream"] is True


def test_prompt_list_n_echo_and_logprobs_pass_through(client, fake):
    fake.enqueue(Reply.text("same"))
    answer = client.completions.create(model=MODEL, prompt=["first", "second"], n=2, echo=True, logprobs=1)
    assert [c.index for c in answer.choices] == [0, 1, 2, 3]
    assert all(c.text == "same" for c in answer.choices)
    assert answer.choices[0].logprobs.tokens == ["same"] and answer.choices[0].logprobs.token_logprobs == [-0.5]
    body = completion_posts(fake)[-1].body
    assert body["prompt"] == ["first", "second"] and body["n"] == 2 and body["echo"] is True
    assert body["logprobs"] == 1


def test_upstream_failure_is_a_provider_error_and_mid_stream_an_error_frame(client, raw, fake):
    fake.enqueue(Reply.error(500, "upstream broke"))
    with pytest.raises(openai.APIStatusError) as caught:
        client.completions.create(model=MODEL, prompt="hi")
    assert caught.value.status_code == 502 and caught.value.body["code"] == "provider_error"
    fake.enqueue(Reply.text("one two three four", error_after=2))
    with raw.stream("POST", "/v1/completions", json={"model": MODEL, "prompt": "p", "stream": True}) as r:
        data = [line for line in r.iter_lines() if line.startswith("data:")]
    assert r.status_code == 200 and '"code":"provider_error"' in data[-1] and "[DONE]" not in data[-1]


@pytest.mark.parametrize("body, param", [
    ({"model": MODEL}, "prompt"),
    ({"model": MODEL, "prompt": 5}, "prompt"),
    ({"model": MODEL, "prompt": "x", "max_tokens": "ten"}, "max_tokens"),
    ({"model": MODEL, "prompt": "x", "temperature": 9}, "temperature"),
    ({"model": MODEL, "prompt": "x", "stop": 1}, "stop"),
    ({"prompt": "x"}, "model"),
])
def test_bad_input_is_a_validation_error(raw, fake, body, param):
    resp = raw.post("/v1/completions", json=body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "validation_error" and error["param"] == param
    validate_openai("ErrorResponse", resp.json())
    assert completion_posts(fake) == []


def test_agents_and_unknown_models_are_refused_clearly(client, fake):
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="qor:analyst", prompt="hi")
    assert caught.value.body["param"] == "model" and "/v1/chat/completions" in caught.value.body["message"]
    with pytest.raises(openai.NotFoundError) as missing:
        client.completions.create(model="fake/no-such-model", prompt="hi")
    assert missing.value.body["code"] == "model_not_found"
    assert completion_posts(fake) == []
