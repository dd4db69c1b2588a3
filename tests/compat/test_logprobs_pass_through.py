"""``logprobs`` / ``top_logprobs`` reach the upstream and its token logprobs come back; null when not asked."""

from __future__ import annotations

from tests.compat.conftest import stream_chunks
from tests.fakes import Reply

ASK = [{"role": "user", "content": "say one two three"}]


def test_whole_answer_carries_token_logprobs_when_asked(client, raw, fake, openai_schema):
    fake.enqueue(Reply.text("one two three"))
    answer = client.chat.completions.create(model="fake/fake-model", messages=ASK, logprobs=True, top_logprobs=2)
    assert fake.last_request.body["logprobs"] is True and fake.last_request.body["top_logprobs"] == 2
    tokens = answer.choices[0].logprobs.content
    assert [t.token for t in tokens] == ["one ", "two ", "three"]
    assert all(len(t.top_logprobs) == 2 and t.logprob == -0.25 for t in tokens)

    fake.enqueue(Reply.text("one two three"))
    body = raw.post("/v1/chat/completions", json={"model": "fake/fake-model", "messages": ASK,
                                                  "logprobs": True}).json()
    openai_schema("CreateChatCompletionResponse", body)
    assert body["choices"][0]["logprobs"]["refusal"] is None
    assert [t["token"] for t in body["choices"][0]["logprobs"]["content"]] == ["one ", "two ", "three"]


def test_streamed_chunks_carry_the_logprobs_of_their_own_text(client, raw, fake):
    fake.enqueue(Reply.text("one two three"))
    stream = client.chat.completions.create(model="fake/fake-model", messages=ASK, logprobs=True, top_logprobs=1,
                                            stream=True)
    with_text = [c.choices[0] for c in stream if c.choices and c.choices[0].delta.content]
    assert [(c.delta.content, [t.token for t in c.logprobs.content]) for c in with_text] == [
        ("one ", ["one "]), ("two ", ["two "]), ("three", ["three"])]

    fake.enqueue(Reply.text("one two"))
    chunks = stream_chunks(raw, {"model": "fake/fake-model", "messages": ASK, "logprobs": True})
    texts = [c["choices"][0] for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert all(c["logprobs"]["content"][0]["token"] == c["delta"]["content"] for c in texts) and len(texts) == 2


def test_logprobs_are_null_when_not_asked(client, raw, fake):
    answer = client.chat.completions.create(model="fake/fake-model", messages=ASK)
    assert answer.choices[0].logprobs is None and "logprobs" not in fake.last_request.body
    chunks = stream_chunks(raw, {"model": "fake/fake-model", "messages": ASK})
    assert all(c["choices"][0]["logprobs"] is None for c in chunks if c["choices"])


def test_langchain_sees_logprobs_in_its_response_metadata(served, fake):
    from langchain_openai import ChatOpenAI

    fake.enqueue(Reply.text("one two three"))
    chat = ChatOpenAI(model="fake/fake-model", base_url=served.url + "/v1", api_key=served.admin_token,
                      logprobs=True, max_retries=0)
    message = chat.invoke("say one two three")
    assert message.content == "one two three"
    assert [t["token"] for t in message.response_metadata["logprobs"]["content"]] == ["one ", "two ", "three"]
