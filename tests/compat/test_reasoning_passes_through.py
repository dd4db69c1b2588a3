"""Thinking models' reasoning (``reasoning_content`` / ``reasoning``) reaches OpenAI clients, streamed and whole."""

from __future__ import annotations

import pytest

from tests.compat.conftest import stream_chunks
from tests.fakes import Reply

ASK = [{"role": "user", "content": "why is the sky blue?"}]
THOUGHT = "Rayleigh scattering favours short wavelengths."


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_streamed_reasoning_arrives_in_the_upstreams_spelling(client, raw, fake, field):
    fake.enqueue(Reply.text("Scattering.", reasoning=THOUGHT, reasoning_field=field))
    chunks = list(client.chat.completions.create(model="fake/fake-model", messages=ASK, stream=True))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join((d.model_extra or {}).get(field) or "" for d in deltas) == THOUGHT
    assert "".join(d.content or "" for d in deltas) == "Scattering."

    fake.enqueue(Reply.text("Scattering.", reasoning=THOUGHT, reasoning_field=field))
    raw_deltas = [c["choices"][0]["delta"] for c in stream_chunks(raw, {"model": "fake/fake-model", "messages": ASK})
                  if c["choices"]]
    pieces = [d[field] for d in raw_deltas if field in d]
    assert "".join(pieces) == THOUGHT and len(pieces) > 1  # streamed as it came, not gathered at the end
    # the reasoning comes before the answer's text, as the upstream sent it
    first_text = next(i for i, d in enumerate(raw_deltas) if d.get("content"))
    assert max(i for i, d in enumerate(raw_deltas) if field in d) < first_text


def test_whole_answer_carries_message_reasoning_content(client, raw, fake, openai_schema):
    fake.enqueue(Reply.text("Scattering.", reasoning=THOUGHT))
    answer = client.chat.completions.create(model="fake/fake-model", messages=ASK)
    assert answer.choices[0].message.content == "Scattering."
    assert answer.choices[0].message.model_extra["reasoning_content"] == THOUGHT

    fake.enqueue(Reply.text("Scattering.", reasoning=THOUGHT, reasoning_field="reasoning"))
    body = raw.post("/v1/chat/completions", json={"model": "fake/fake-model", "messages": ASK}).json()
    openai_schema("CreateChatCompletionResponse", body)
    assert body["choices"][0]["message"]["reasoning"] == THOUGHT

    body = raw.post("/v1/chat/completions", json={"model": "fake/fake-model", "messages": ASK}).json()
    assert "reasoning_content" not in body["choices"][0]["message"]  # no reasoning, no field


def test_anthropic_thinking_blocks_become_reasoning_content(client, fake):
    fake.enqueue(Reply.text("Scattering.", reasoning=THOUGHT))
    chunks = list(client.chat.completions.create(model="claude/fake-model", messages=ASK, stream=True))
    assert "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
                   for c in chunks if c.choices) == THOUGHT
    assert fake.last_request.path == "/v1/messages"

    fake.enqueue(Reply.text("Scattering.", reasoning=THOUGHT))
    answer = client.chat.completions.create(model="claude/fake-model", messages=ASK)
    assert answer.choices[0].message.model_extra["reasoning_content"] == THOUGHT
    assert answer.choices[0].message.content == "Scattering."


def test_an_agent_on_a_thinking_model_stores_only_the_answer(raw, fake):
    agent = raw.post("/v1/agents", json={"name": "thinker", "instructions": "Answer.", "model": "fake/fake-model",
                                         "tools": []})
    assert agent.status_code == 201, agent.text
    fake.enqueue(Reply.text("Scattering.", reasoning=THOUGHT))
    answer = raw.post("/v1/chat/completions", json={"agent_id": "thinker", "message": "why?"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "Scattering."
    session = answer.json()["qorven"]["session_id"]
    stored = raw.get("/v1/messages", params={"session_id": session}).json()["data"]
    assert [m["content"] for m in stored if m["role"] == "assistant"] == ["Scattering."]
    assert THOUGHT not in str(stored)
