"""The protocol's pieces: request building, stream collection, SSE parsing, the factory."""

from __future__ import annotations

import pytest

from qorven_local.providers.anthropic import AnthropicProvider
from qorven_local.providers.events import (
    ChatRequest, Finish, TextDelta, ToolCallDelta, Usage, collect,
)
from qorven_local.providers.http import _sse_data
from qorven_local.providers.kinds import create_provider, default_base_url
from qorven_local.providers.openai_compat import OpenAICompatProvider


def test_collect_assembles_interleaved_tool_calls_by_index():
    result = collect([
        TextDelta("Hi"), ToolCallDelta(1, "b", "g", '{"y"'), ToolCallDelta(0, "a", "f", ""),
        ToolCallDelta(0, arguments='{"x": 1}'), ToolCallDelta(1, arguments=": 2}"),
        Finish("tool_calls"), Usage(10, 5)])
    assert result.text == "Hi" and result.finish_reason == "tool_calls"
    assert result.usage.total_tokens == 15
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in result.tool_calls] == [("a", "f", '{"x": 1}'), ("b", "g", '{"y": 2}')]
    assert result.message()["tool_calls"] == result.tool_calls


def test_from_openai_is_lenient():
    req = ChatRequest.from_openai({"model": "m", "messages": [], "max_tokens": 5,
                                   "stream": True, "n": 3, "top_p": 0.9})
    assert req.max_tokens == 5 and req.extra == {"top_p": 0.9}


def test_sse_parser_handles_split_lines_crlf_comments_and_multiline_data():
    chunks = [b": ping\r\n\r\nevent: x\r\nda", b"ta: {\"a\":", b"1}\r\n\r\ndata: one\ndata: two\n\n",
              b"data:[DONE]\n\n", b"data: a\n", b"data: b\n\n", b"data: c\n\n", b"data: d"]
    assert list(_sse_data(iter(chunks), None)) == [
        b'{"a":1}', b"one\ntwo", b"[DONE]", b"a\nb", b"c", b"d"]


def test_factory_builds_each_kind_with_defaults():
    anthropic, ollama = create_provider("anthropic"), create_provider("ollama")
    anthropic.close(), ollama.close()
    assert isinstance(anthropic, AnthropicProvider)
    assert anthropic.base_url == "https://api.anthropic.com/v1"
    assert isinstance(ollama, OpenAICompatProvider) and ollama.kind == "ollama"
    assert ollama.base_url == "http://127.0.0.1:11434/v1" == default_base_url("ollama")
    with pytest.raises(ValueError):
        create_provider("openai_compatible")
    with pytest.raises(ValueError):
        create_provider("gemini", "http://x")
