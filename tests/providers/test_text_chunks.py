"""Text chunks read through a learned template give exactly what json.loads gives, or nothing."""

from __future__ import annotations

import json

import pytest

from qorven_local.providers.events import collect
from qorven_local.providers.text_chunks import TextChunkTemplate
from tests.fakes import Reply
from tests.providers.conftest import ask


def chunk(text: str, *, created: int = 1700000000, ensure_ascii: bool = False, spaced: bool = False,
          **extra: object) -> bytes:
    payload = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": created, "model": "m",
               "choices": [{"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}],
               **extra}
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(payload, ensure_ascii=ensure_ascii, separators=separators).encode()


def learned(data: bytes) -> TextChunkTemplate:
    template = TextChunkTemplate()
    template.learn(data, json.loads(data))
    return template


PIECES = ["tok ", "é ü", "😀", "line\nbreak", 'a "quote"', "back\\slash", "tab\there", "\u2028", "}]}"]


@pytest.mark.parametrize("spaced", [False, True], ids=["compact", "spaced"])
@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["utf8", "ascii-escaped"])
def test_every_piece_reads_as_json_loads_reads_it(spaced, ensure_ascii):
    template = learned(chunk("first", spaced=spaced))
    for piece in PIECES:
        data = chunk(piece, spaced=spaced, ensure_ascii=ensure_ascii)
        assert template.text_of(data) == json.loads(data)["choices"][0]["delta"]["content"] == piece


def test_a_chunk_with_any_other_field_changed_is_left_to_the_full_parse():
    template = learned(chunk("first"))
    assert template.text_of(chunk("x", created=1700000001)) is None
    assert template.text_of(chunk("x", usage={"prompt_tokens": 1})) is None
    assert template.text_of(chunk("")) is None  # an empty piece is no text delta
    assert template.text_of(b"[DONE]") is None


@pytest.mark.parametrize("middle", [b'a","b', b"a\\", b"\xff\xfe", b"a\x01b"],
                         ids=["two-strings", "dangling-escape", "not-utf8", "raw-control-char"])
def test_bytes_that_are_not_one_json_string_are_left_to_the_full_parse(middle):
    good = chunk("first")
    template = learned(good)
    at = good.index(b"first")
    data = good[:at] + middle + good[at + len(b"first"):]
    assert template.text_of(data) is None


def test_text_in_another_field_is_never_taken_for_the_content():
    # the first "content" key belongs to a field the adapter ignores, holding the same text
    data = json.dumps({"x": {"content": "same"}, "choices": [
        {"index": 0, "delta": {"content": "same"}, "finish_reason": None}]}, separators=(",", ":")).encode()
    template = learned(data)
    assert template.text_of(data.replace(b'{"content":"same"}', b'{"content":"other"}', 1)) is None


def test_an_upstream_that_changes_every_chunk_stops_being_learned():
    template = TextChunkTemplate()
    attempts = 0
    for n in range(10):
        data = chunk("tok", created=n)
        if template.may_learn:
            attempts += 1
            template.learn(data, json.loads(data))
        assert template.text_of(chunk("tok", created=n + 1)) is None
    assert attempts == 3


def test_streamed_text_with_escapes_and_other_scripts_arrives_exactly(fake, make_provider):
    text = 'Say "hi"\n\tthen {"json": [1, 2]} \\ back-slash, é, ü, 中文, 😀 and\nmore ' * 20
    fake.enqueue(Reply.text(text))
    assert collect(make_provider("openai_compatible").stream_chat(ask())).text == text
