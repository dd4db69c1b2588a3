"""The Responses API's typed stream events, from the chat path's stream events.

``ResponseEvents`` turns ``TextDelta`` / ``ToolCallDelta`` / ``Finish`` / ``Usage`` into
``response.*`` events, each with its ``sequence_number``, and pieces the answer together with the
one ``StreamAssembler``. Events are rendered as SSE frames (``event: <type>`` + ``data: <json>``).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from qorven_local.errors import QorvenError
from qorven_local.providers.events import ChatEvent, ChatResult, StreamAssembler, TextDelta, ToolCallDelta
from qorven_local.responses import translate


def frame(event: dict[str, Any]) -> bytes:
    """One event as an SSE frame."""
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event['type']}\ndata: {data}\n\n".encode("utf-8")


class ResponseEvents:
    """The event sequence of one streamed Response (not thread-safe: one producer feeds it)."""

    def __init__(self, shell: dict[str, Any], new_id: Callable[[str], str]) -> None:
        self.shell = shell
        self.new_id = new_id
        self.assembler = StreamAssembler()
        self.sequence = 0
        self.message: tuple[int, str] | None = None      # (output_index, item id) of the text message
        self.calls: dict[int, tuple[int, str, str]] = {}  # tool call index -> (output_index, item id, call id)
        self.opened = 0                                   # output items opened so far
        self.started = False                              # response.created sent

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, **fields, "sequence_number": self.sequence}
        self.sequence += 1
        return event

    def _start(self) -> list[dict[str, Any]]:
        """response.created and response.in_progress, before the first event that has anything to say."""
        if self.started:
            return []
        self.started = True
        return [self._event("response.created", response=self.shell),
                self._event("response.in_progress", response=self.shell)]

    def add(self, event: ChatEvent) -> list[dict[str, Any]]:
        """The events one chat stream event makes (none for Finish and Usage: they show in the end)."""
        self.assembler.add(event)
        if type(event) is TextDelta and not event.text or type(event) not in (TextDelta, ToolCallDelta):
            return []
        out = self._start()
        if type(event) is TextDelta:
            if self.message is None:
                self.message = (self.opened, self.new_id("msg"))
                self.opened += 1
                index, item_id = self.message
                out.append(self._event("response.output_item.added", output_index=index,
                                       item=translate.message_item(item_id, "", "in_progress")))
                out.append(self._event("response.content_part.added", item_id=item_id, output_index=index,
                                       content_index=0, part=translate.text_part("")))
            index, item_id = self.message
            out.append(self._event("response.output_text.delta", item_id=item_id, output_index=index,
                                   content_index=0, delta=event.text, logprobs=[]))
        elif type(event) is ToolCallDelta:
            call = self.calls.get(event.index)
            if call is None:
                call = self.calls[event.index] = (self.opened, self.new_id("fc"), event.id or self.new_id("call"))
                self.opened += 1
                out.append(self._event("response.output_item.added", output_index=call[0], item=translate.call_item(
                    call[1], {"id": call[2], "function": {"name": event.name or "", "arguments": ""}}, "in_progress")))
            if event.arguments:
                out.append(self._event("response.function_call_arguments.delta", item_id=call[1],
                                       output_index=call[0], delta=event.arguments))
        return out

    def finish(self) -> tuple[list[dict[str, Any]], ChatResult, list[dict[str, Any]]]:
        """The closing events of every open item, the whole answer, and its output items in order."""
        result = self.assembler.result()
        out = self._start()
        items: list[tuple[int, dict[str, Any]]] = []
        if self.message is not None:
            index, item_id = self.message
            item = translate.message_item(item_id, result.text)
            out += [self._event("response.output_text.done", item_id=item_id, output_index=index, content_index=0,
                                text=result.text, logprobs=[]),
                    self._event("response.content_part.done", item_id=item_id, output_index=index, content_index=0,
                                part=item["content"][0]),
                    self._event("response.output_item.done", output_index=index, item=item)]
            items.append((index, item))
        by_index = dict(zip(sorted(self.calls), result.tool_calls))
        for call_index, (index, item_id, call_id) in sorted(self.calls.items()):
            call = by_index[call_index]
            call["id"] = call["id"] or call_id
            item = translate.call_item(item_id, call)
            out += [self._event("response.function_call_arguments.done", item_id=item_id, output_index=index,
                                name=item["name"], arguments=item["arguments"]),
                    self._event("response.output_item.done", output_index=index, item=item)]
            items.append((index, item))
        if not items:  # an empty answer is still one (empty) message
            item = translate.message_item(self.new_id("msg"), "")
            out.append(self._event("response.output_item.added", output_index=0,
                                   item=translate.message_item(item["id"], "", "in_progress")))
            out.append(self._event("response.output_item.done", output_index=0, item=item))
            items.append((0, item))
        return out, result, [item for _, item in sorted(items, key=lambda pair: pair[0])]

    def completed(self, response: dict[str, Any]) -> dict[str, Any]:
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        return self._event(kind, response=response)

    def error(self, error: QorvenError) -> dict[str, Any]:
        return self._event("error", code=error.code, message=error.message, param=error.param)
