"""Every non-streamed answer carries ``usage``: the upstream's counts, else an estimate (as include_usage does)."""

from __future__ import annotations

from tests.compat.conftest import stream_chunks
from tests.fakes import Reply

ASK = [{"role": "user", "content": "count these words for me please"}]


def test_whole_answer_has_usage_when_the_upstream_reports_none(client, raw, fake, openai_schema):
    fake.enqueue(Reply.text("a reply of some twenty-eight chars", usage=False))
    answer = client.chat.completions.create(model="fake/fake-model", messages=ASK)
    usage = answer.usage
    assert usage is not None and usage.prompt_tokens >= 1 and usage.completion_tokens >= 1
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    # the same estimate as a streamed answer's include_usage chunk for the same exchange
    fake.enqueue(Reply.text("a reply of some twenty-eight chars", usage=False))
    body = raw.post("/v1/chat/completions", json={"model": "fake/fake-model", "messages": ASK}).json()
    openai_schema("CreateChatCompletionResponse", body)
    fake.enqueue(Reply.text("a reply of some twenty-eight chars", usage=False))
    streamed = stream_chunks(raw, {"model": "fake/fake-model", "messages": ASK,
                                   "stream_options": {"include_usage": True}})
    assert streamed[-1]["choices"] == [] and streamed[-1]["usage"] == body["usage"]


def test_upstream_counts_win_over_the_estimate(client, fake):
    fake.enqueue(Reply.text("one two three"))
    answer = client.chat.completions.create(model="fake/fake-model", messages=ASK)
    assert answer.usage.completion_tokens == 3  # the fake counts pieces; the estimate would say 3 chars // 4


def test_langchain_gets_usage_metadata_without_upstream_counts(served, fake):
    from langchain_openai import ChatOpenAI

    fake.enqueue(Reply.text("a reply of some twenty-eight chars", usage=False))
    chat = ChatOpenAI(model="fake/fake-model", base_url=served.url + "/v1", api_key=served.admin_token, max_retries=0)
    message = chat.invoke("count these words for me please")
    usage = message.usage_metadata
    assert usage["output_tokens"] >= 1 and usage["input_tokens"] >= 1
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_upstream_usage_details_pass_through(client, raw, fake, openai_schema):
    fake.enqueue(Reply.text("Scattering.", reasoning="short wavelengths scatter more"))
    answer = client.chat.completions.create(model="fake/fake-model", messages=ASK)
    assert answer.usage.completion_tokens_details.reasoning_tokens == 4

    fake.enqueue(Reply.text("Scattering.", reasoning="short wavelengths scatter more"))
    chunks = stream_chunks(raw, {"model": "fake/fake-model", "messages": ASK,
                                 "stream_options": {"include_usage": True}})
    assert chunks[-1]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 4}
