"""The OpenAI-compatible adapter: what it sends, and the kinds' differences."""

from __future__ import annotations

from qorven_local.providers.events import ChatRequest, collect
from tests.fakes import Reply
from tests.providers.conftest import ask


def test_request_body_is_openai_format_with_usage_requested(fake, make_provider):
    request = ChatRequest.from_openai({
        "model": "ignored", "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "required", "temperature": 0.3, "max_completion_tokens": 50,
        "stop": ["END"], "response_format": {"type": "json_object"}, "seed": 7,
        "stream": False, "unknown_param": 1}, model="fake-model")
    collect(make_provider("openai").stream_chat(request))
    body = fake.last_request.body
    assert body["model"] == "fake-model" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["tool_choice"] == "required" and body["temperature"] == 0.3
    assert body["max_completion_tokens"] == 50 and "max_tokens" not in body
    assert body["stop"] == ["END"] and body["response_format"] == {"type": "json_object"}
    assert body["seed"] == 7 and "unknown_param" not in body


def test_non_openai_kinds_send_max_tokens(fake, make_provider):
    collect(make_provider("openai_compatible").stream_chat(ask(max_tokens=12)))
    assert fake.last_request.body["max_tokens"] == 12


def test_messages_are_passed_through_untouched(fake, make_provider):
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"}]
    collect(make_provider("openai").stream_chat(ChatRequest(model="m", messages=messages)))
    assert fake.last_request.body["messages"] == messages


def test_ollama_without_openai_models_falls_back_to_api_tags(fake, make_provider):
    fake.serve_openai_models = False
    models = make_provider("ollama").list_models()
    assert [(m.id, m.owned_by) for m in models] == [("fake-model", "ollama"),
                                                    ("fake-model-large", "ollama")]
    assert fake.last_request.path == "/api/tags"


def test_context_length_is_read_when_the_server_lists_it(fake, make_provider):
    fake.models = [{"id": "big", "context_length": 128000}, "small"]
    models = make_provider("openai_compatible").list_models()
    assert [(m.id, m.context_length) for m in models] == [("big", 128000), ("small", None)]


def test_stream_without_usage_has_no_usage_event(fake, make_provider):
    from qorven_local.providers.openai_compat import OpenAICompatProvider
    provider = OpenAICompatProvider(kind="ollama", name="o", base_url=fake.base_url,
                                    api_key="sk-test-0123456789abcdef", stream_usage=False)
    fake.enqueue(Reply.text("no usage here"))
    try:
        result = collect(provider.stream_chat(ask()))
    finally:
        provider.close()
    assert result.text == "no usage here" and result.usage is None
    assert "stream_options" not in fake.last_request.body


def test_a_server_that_ignores_stream_true_still_works(fake, make_provider):
    fake.enqueue(Reply.tool_calls([{"id": "c1", "name": "f", "arguments": {"a": 1}},
                                   {"id": "c2", "name": "g", "arguments": {}}],
                                  text="Calling.", ignore_stream=True))
    result = collect(make_provider("openai_compatible").stream_chat(ask()))
    assert result.text == "Calling." and result.finish_reason == "tool_calls"
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in result.tool_calls] == [("c1", "f", '{"a": 1}'), ("c2", "g", "{}")]
    assert result.usage is not None and result.usage.prompt_tokens > 0


def test_consecutive_streams_reuse_one_connection(fake, make_provider):
    # The adapter reads past [DONE] to the end of the body, so httpx keeps the connection for the
    # next request: a connection per answer cost the proxy ~0.5 ms of time-to-first-token.
    provider = make_provider("openai")
    for _ in range(3):
        assert collect(provider.stream_chat(ask())).finish_reason == "stop"
    peers = {r.peer for r in fake.requests[-3:]}
    assert len(peers) == 1 and None not in peers
