"""Agents as models honour the client's options: each reaches the upstream request, on every model call."""

from __future__ import annotations

import openai
import pytest

from tests.support.openai_schemas import validate_openai

from tests.compat.agents_as_models import AGENT, AGENT_TEMPERATURE, client, raw, served, stream_chunks  # noqa: F401
from tests.fakes import Reply

USER = [{"role": "user", "content": "hello"}]


def test_each_client_option_reaches_the_upstream(client, raw, fake):
    fake.enqueue(Reply.text("fine"))
    answer = client.chat.completions.with_raw_response.create(
        model=AGENT, messages=USER, temperature=0.7, top_p=0.5, max_tokens=77, stop=["END"], seed=7,
        reasoning_effort="low")
    validate_openai("CreateChatCompletionResponse", answer.http_response.json())
    assert answer.parse().choices[0].message.content == "fine"
    sent = fake.last_request.body
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"], sent["stop"], sent["seed"],
            sent["reasoning_effort"]) == (0.7, 0.5, 77, ["END"], 7, "low")
    assert sent["model"] == "fake-model" and sent["messages"][0]["content"].startswith("You are Opts.")


def test_max_completion_tokens_reaches_the_upstream(client, fake):
    fake.enqueue(Reply.text("short"))
    client.chat.completions.create(model=AGENT, messages=USER, max_completion_tokens=55, stop="END")
    sent = fake.last_request.body
    assert sent["max_tokens"] == 55 and sent["stop"] == "END"  # an openai_compatible upstream: the classic name


def test_json_mode_reaches_the_upstream_streamed_and_not(client, raw, fake):
    fake.enqueue(Reply.text('{"ok": true}'), Reply.text('{"ok": 1}'))
    answer = client.chat.completions.create(model=AGENT, messages=USER, response_format={"type": "json_object"})
    assert answer.choices[0].message.content == '{"ok": true}'
    assert fake.last_request.body["response_format"] == {"type": "json_object"}

    chunks = stream_chunks(raw, {"model": AGENT, "messages": USER, "response_format": {"type": "json_object"}})
    for chunk in chunks:
        validate_openai("CreateChatCompletionStreamResponse", chunk)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == '{"ok": 1}'
    assert fake.last_request.body["response_format"] == {"type": "json_object"}


def test_the_agent_temperature_stays_when_the_client_sends_none(client, fake):
    fake.enqueue(Reply.text("warm"))
    client.chat.completions.create(model=AGENT, messages=USER, seed=3)
    assert fake.last_request.body["temperature"] == AGENT_TEMPERATURE and fake.last_request.body["seed"] == 3


def test_options_apply_to_every_model_call_of_a_run_with_agent_tools(client, fake):
    fake.enqueue(Reply.tool_calls([{"name": "current_time", "arguments": {}}]), Reply.text("it is now"))
    answer = client.chat.completions.create(model=AGENT, messages=USER, temperature=0.9, seed=11, max_tokens=40)
    assert answer.choices[0].message.content == "it is now" and answer.choices[0].finish_reason == "stop"
    first, second = fake.chat_requests()
    assert second.body["messages"][-1]["role"] == "tool"  # the agent's own tool ran on the server
    for sent in (first.body, second.body):
        assert (sent["temperature"], sent["seed"], sent["max_tokens"]) == (0.9, 11, 40)


@pytest.mark.parametrize("option, value", [("top_p", "high"), ("seed", 1.5), ("response_format", "json"),
                                           ("reasoning_effort", 3), ("tool_choice", 7)])
def test_an_option_of_the_wrong_type_is_a_400_naming_it(client, fake, option, value):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=AGENT, messages=USER, extra_body={option: value})
    assert caught.value.code == "validation_error" and caught.value.param == option
    assert fake.chat_requests() == []
