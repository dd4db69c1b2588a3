"""Both adapters against the fake over real HTTP: text, tool calls, usage, errors, hangs, cancel."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest

from qorven_local.errors import ProviderError, ProviderTimeout
from qorven_local.providers.events import Finish, TextDelta, ToolCallDelta, Usage, collect
from tests.fakes import Reply
from tests.providers.conftest import KEY, ask

KINDS = ["openai", "anthropic"]


@pytest.mark.parametrize("kind", KINDS)
def test_streamed_text_arrives_in_pieces_then_finish_then_usage(fake, make_provider, kind):
    fake.enqueue(Reply.text("Hello there, friend", chunks=3))
    events = list(make_provider(kind).stream_chat(ask()))
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(texts) == 3 and "".join(texts) == "Hello there, friend"
    assert isinstance(events[-2], Finish) and events[-2].reason == "stop"
    assert isinstance(events[-1], Usage) and events[-1].completion_tokens == 3
    assert events[-1].prompt_tokens > 0


@pytest.mark.parametrize("kind", KINDS)
def test_collect_gives_the_whole_text_for_non_streaming_callers(fake, make_provider, kind):
    fake.enqueue(Reply.text("The answer is 42."))
    result = collect(make_provider(kind).stream_chat(ask()))
    assert result.text == "The answer is 42."
    assert result.finish_reason == "stop" and result.tool_calls == []
    assert result.message() == {"role": "assistant", "content": "The answer is 42."}


@pytest.mark.parametrize("kind", KINDS)
def test_default_reply_echoes_the_last_user_message(fake, make_provider, kind):
    assert collect(make_provider(kind).stream_chat(ask("echo me"))).text == "echo me"


@pytest.mark.parametrize("kind", KINDS)
def test_single_tool_call_is_reassembled_from_argument_pieces(fake, make_provider, kind):
    fake.enqueue(Reply.tool_calls([{"id": "call_1", "name": "get_weather",
                                    "arguments": {"city": "Paris", "unit": "celsius"}}],
                                  arg_chunks=4))
    events = list(make_provider(kind).stream_chat(ask()))
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert deltas[0].id == "call_1" and deltas[0].name == "get_weather"
    assert all(d.id is None and d.name is None for d in deltas[1:])
    assert len([d for d in deltas if d.arguments]) == 4
    result = collect(events)
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [{"id": "call_1", "type": "function", "function": {
        "name": "get_weather", "arguments": json.dumps({"city": "Paris", "unit": "celsius"})}}]


@pytest.mark.parametrize("kind", KINDS)
def test_parallel_tool_calls_after_text_keep_their_own_arguments(fake, make_provider, kind):
    fake.enqueue(Reply.tool_calls([
        {"id": "call_a", "name": "get_weather", "arguments": {"city": "Paris"}},
        {"id": "call_b", "name": "get_time", "arguments": {"timezone": "Europe/Oslo"}},
    ], text="Let me check both.", arg_chunks=3))
    result = collect(make_provider(kind).stream_chat(ask()))
    assert result.text == "Let me check both."
    assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in result.tool_calls] == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_time", {"timezone": "Europe/Oslo"})]


@pytest.mark.parametrize("kind", KINDS)
def test_length_finish_reason_is_reported(fake, make_provider, kind):
    fake.enqueue(Reply.text("cut sho", finish_reason="length"))
    assert collect(make_provider(kind).stream_chat(ask())).finish_reason == "length"


@pytest.mark.parametrize("kind", KINDS)
def test_server_error_is_a_provider_error_with_the_upstream_status(fake, make_provider, kind):
    fake.enqueue(Reply.error(500, "the GPUs are on fire"))
    with pytest.raises(ProviderError) as info:
        list(make_provider(kind).stream_chat(ask()))
    err = info.value
    assert err.status == 502 and err.details["status"] == 500
    assert "test-" + kind in err.message and "500" in err.message
    assert "the GPUs are on fire" in err.details["upstream_message"]


@pytest.mark.parametrize("kind", KINDS)
def test_rate_limit_carries_retry_after(fake, make_provider, kind):
    fake.enqueue(Reply.error(429, retry_after=7))
    with pytest.raises(ProviderError) as info:
        list(make_provider(kind).stream_chat(ask()))
    assert info.value.details["status"] == 429
    assert info.value.retry_after == 7 and info.value.details["retry_after"] == 7


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_key_is_a_provider_error_that_never_shows_the_key(fake, make_provider, kind):
    wrong = "sk-wrong-key-which-must-not-leak"
    with pytest.raises(ProviderError) as info:
        list(make_provider(kind, api_key=wrong).stream_chat(ask()))
    err = info.value
    assert err.details["status"] == 401 and "rejected the API key" in err.message
    # The fake echoes the presented key in its 401 body, like a careless upstream.
    assert wrong not in str(err) and wrong not in json.dumps(err.details)
    assert wrong not in repr(make_provider(kind, api_key=wrong))


@pytest.mark.parametrize("kind", KINDS)
def test_scripted_401_is_reported_as_a_key_problem(fake, make_provider, kind):
    fake.enqueue(Reply.error(401, f"Incorrect API key provided: {KEY}"))
    with pytest.raises(ProviderError) as info:
        list(make_provider(kind).stream_chat(ask()))
    assert KEY not in str(info.value) and KEY not in json.dumps(info.value.details)


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_chunk_mid_stream_is_a_provider_error(fake, make_provider, kind):
    fake.enqueue(Reply.text("one two three four", malformed_after=2))
    seen = []
    with pytest.raises(ProviderError, match="malformed"):
        for event in make_provider(kind).stream_chat(ask()):
            seen.append(event)
    assert [e.text for e in seen] == ["one ", "two "]


@pytest.mark.parametrize("kind", KINDS)
def test_error_event_mid_stream_is_a_provider_error(fake, make_provider, kind):
    fake.enqueue(Reply.text("one two three", error_after=1))
    with pytest.raises(ProviderError, match="failed mid-stream"):
        list(make_provider(kind).stream_chat(ask()))


@pytest.mark.parametrize("kind", KINDS)
def test_connection_dropped_mid_stream_is_a_provider_error(fake, make_provider, kind):
    fake.enqueue(Reply.text("one two three", disconnect_after=1))
    with pytest.raises(ProviderError):
        list(make_provider(kind).stream_chat(ask()))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("after", [None, 2], ids=["never-answers", "stalls-mid-stream"])
def test_hang_becomes_a_provider_timeout(fake, make_provider, kind, after):
    fake.enqueue(Reply.hang(after=after))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as info:
        list(make_provider(kind, read_timeout=0.5).stream_chat(ask()))
    assert time.monotonic() - started < 3
    assert info.value.status == 504 and "test-" + kind in info.value.message


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("after", [None, 2], ids=["before-headers", "mid-stream"])
def test_cancel_stops_a_hung_stream_within_a_second(fake, make_provider, kind, after):
    if after is None and urllib.request.getproxies():
        pytest.skip("behind a proxy, httpx's own transport cannot be interrupted before headers")
    provider = make_provider(kind, read_timeout=30)
    fake.enqueue(Reply.hang(after=after), Reply.text("still usable"))
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    events = list(provider.stream_chat(ask(), cancel))
    assert time.monotonic() - started < 1.5
    assert len(events) == (0 if after is None else 2)
    assert collect(provider.stream_chat(ask())).text == "still usable"


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_between_chunks_stops_reading(fake, make_provider, kind):
    fake.enqueue(Reply.text("word " * 200, delay=0.01))
    cancel = threading.Event()
    received = 0
    for event in make_provider(kind).stream_chat(ask(), cancel):
        received += 1
        if received == 3:
            cancel.set()
    assert received == 3


@pytest.mark.parametrize("kind", KINDS)
def test_unreachable_host_is_a_provider_error_naming_the_provider(fake, make_provider, kind):
    provider = make_provider(kind)
    fake.stop()
    with pytest.raises(ProviderError, match="unreachable"):
        list(provider.stream_chat(ask()))


@pytest.mark.parametrize("kind", KINDS)
def test_key_travels_only_in_headers(fake, make_provider, kind):
    collect(make_provider(kind).stream_chat(ask()))
    request = fake.last_request
    assert KEY not in request.path and KEY not in json.dumps(request.body)
    if kind == "anthropic":
        assert request.headers["x-api-key"] == KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
    else:
        assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("kind", KINDS)
def test_one_provider_serves_concurrent_streams(fake, make_provider, kind):
    provider = make_provider(kind)
    results: dict[int, str] = {}

    def run(i: int) -> None:
        results[i] = collect(provider.stream_chat(ask(f"thread {i} says hi"))).text

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {i: f"thread {i} says hi" for i in range(8)}


@pytest.mark.parametrize("kind", KINDS)
def test_model_listing_and_check(fake, make_provider, kind):
    provider = make_provider(kind)
    assert [m.id for m in provider.list_models()] == ["fake-model", "fake-model-large"]
    report = provider.check()
    assert report["ok"] is True and report["models"] == 2 and report["latency_ms"] >= 0


@pytest.mark.parametrize("kind", KINDS)
def test_check_with_a_wrong_key_says_so(fake, make_provider, kind):
    with pytest.raises(ProviderError, match="rejected the API key"):
        make_provider(kind, api_key="sk-nope").check()


@pytest.mark.parametrize("kind", KINDS)
def test_forbidden_is_not_blamed_on_the_key(fake, make_provider, kind):
    fake.enqueue(Reply.error(403, "model not available in your region"))
    with pytest.raises(ProviderError, match="refused access.*region"):
        list(make_provider(kind).stream_chat(ask()))


def test_redirects_are_not_followed(fake, make_provider):
    fake.enqueue(Reply.error(307, "moved"))
    with pytest.raises(ProviderError, match="redirect"):
        list(make_provider("openai").stream_chat(ask()))
    assert len(fake.chat_requests()) == 1


@pytest.mark.parametrize("kind, frame", [
    ("openai", b'{"choices": [{"delta": "not an object"}]}'),
    ("openai", b'["a list"]'),
    ("anthropic", b'{"type": "content_block_delta", "index": 5, '
                  b'"delta": {"type": "input_json_delta", "partial_json": "{"}}'),
    ("anthropic", b'{"no": "type"}'),
])
def test_json_of_the_wrong_shape_is_a_malformed_stream(make_provider, kind, frame):
    provider = make_provider(kind)
    provider._stream_sse_batches = lambda url, body, cancel: iter([[frame]])  # skip HTTP: shape only
    with pytest.raises(ProviderError, match="malformed"):
        list(provider.stream_chat(ask()))
