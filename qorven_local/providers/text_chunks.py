"""Text chunks of an OpenAI-style stream read without ``json.loads``, exactly.

An upstream streams most of an answer as chunks that differ only in their text: the same id, model,
created and choice fields around ``"content":"<piece>"``. Once one such chunk has been parsed in full,
its bytes before and after the text are a template: a later chunk with byte-identical surroundings and
one JSON string in the middle parses to the same chunk with that text, so the text is all there is to
read (a plain piece is just decoded; one with escapes goes through ``json.loads`` as a lone string).
Anything else (another shape, a changed field) goes to the full parse, which may teach a new template;
an upstream that changes a field in every chunk (a per-chunk id or padding) is simply parsed in full.
Parsing and walking a chunk was ~5 µs a token; matching one is ~0.5 µs.
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEYS = (b'"content":"', b'"content": "')  # compact, and Python's json.dumps default spacing
_loads = json.loads
_NOT_PLAIN = re.compile(rb'["\\\x00-\x1f]')  # ends the string, starts an escape, or invalid in JSON
_PROBE = "\u2063probe"
_LEARNS = 3  # attempts allowed without a match in between (an upstream that varies every chunk stops trying)


class TextChunkTemplate:
    """The surroundings of one stream's text chunks, learned from a fully parsed one."""

    __slots__ = ("_head", "_tail", "_head_len", "_tail_len", "_budget")

    def __init__(self) -> None:
        self._head = self._tail = b""
        self._head_len = self._tail_len = 0
        self._budget = _LEARNS

    @property
    def may_learn(self) -> bool:
        return self._budget > 0

    def text_of(self, data: bytes) -> str | None:
        """The text of ``data`` when it is a text chunk of the learned shape, else None."""
        if not self._head_len or not data.startswith(self._head) or not data.endswith(self._tail):
            return None
        end = len(data) - self._tail_len
        if end <= self._head_len:  # empty text (not a text chunk) or overlapping head and tail
            return None
        piece = data[self._head_len:end]
        try:
            if _NOT_PLAIN.search(piece) is None:
                text = piece.decode("utf-8")
            else:  # escapes (a newline, a quote): still one string between the same head and tail?
                text = _loads(b'"' + piece + b'"')
                if type(text) is not str:
                    return None
        except ValueError:  # not one JSON string, or not UTF-8: the full parse decides
            return None
        self._budget = _LEARNS
        return text or None

    def learn(self, data: bytes, chunk: dict[str, Any]) -> None:
        """Take ``data`` (parsed as ``chunk``: one choice whose delta content is its only text) as the template.

        The text is found by its key, and then proven to be the delta's content: the same bytes with
        another string in its place must parse to the same chunk with that string as the content.
        """
        content = chunk["choices"][0]["delta"]["content"]
        for key in _KEYS:
            at = data.find(key)
            if at < 0:
                continue
            start = at + len(key)
            end = data.find(b'"', start)
            if end < 0 or _NOT_PLAIN.search(data, start, end) is not None:
                return  # escapes in this piece: learn from a later one
            head, tail = data[:start], data[end:]
            self._budget -= 1  # spent whatever the outcome: each attempt costs a parse
            try:
                probe = json.loads(head + json.dumps(_PROBE)[1:-1].encode() + tail)  # head and tail hold the quotes
                probe["choices"][0]["delta"]["content"] = content
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                return
            if probe != chunk:
                return
            self._head, self._tail = head, tail
            self._head_len, self._tail_len = len(head), len(tail)
            return
