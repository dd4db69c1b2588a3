"""Adapter for Anthropic's Messages API: OpenAI-format requests in, normalized events out.

Request translation (``to_messages_body``): system/developer messages → ``system``; content parts →
blocks; assistant ``tool_calls`` → ``tool_use`` blocks; tool messages → ``tool_result`` blocks in a
user turn (consecutive turns of one role are merged, as Anthropic requires alternation); tools →
``input_schema``; ``tool_choice``; ``stop`` → ``stop_sequences``; a default ``max_tokens``.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterator

from qorven_local.errors import ValidationError
from qorven_local.providers.events import (
    ChatEvent, ChatRequest, Finish, ModelInfo, ReasoningDelta, TextDelta, ToolCallDelta, Usage,
)
from qorven_local.providers.http import HTTPProvider

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
ANTHROPIC_VERSION = "2023-06-01"
STOP_REASONS = {
    "end_turn": "stop", "stop_sequence": "stop", "pause_turn": "stop", "tool_use": "tool_calls",
    "max_tokens": "length", "model_context_window_exceeded": "length", "refusal": "content_filter",
}
# OpenAI params with a Messages API equivalent of the same name; the rest (seed, penalties...) would
# be refused upstream, so they are dropped.
_PASSTHROUGH = ("top_p", "top_k")


class AnthropicProvider(HTTPProvider):
    """A provider speaking ``POST {base_url}/messages`` (base_url ends in ``/v1``; added if missing)."""

    kind = "anthropic"

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, default_max_tokens: int = 4096,
                 **kwargs: Any) -> None:
        base_url = base_url.rstrip("/")
        if not base_url.endswith("/v1"):
            base_url += "/v1"
        super().__init__(base_url=base_url, **kwargs)
        self.default_max_tokens = default_max_tokens

    def _auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return headers

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The Messages API body for ``request``."""
        return to_messages_body(request, self.default_max_tokens)

    def stream_chat(self, request: ChatRequest,
                    cancel: threading.Event | None = None) -> Iterator[ChatEvent]:
        """Stream ``request``; yields TextDelta, ReasoningDelta (thinking), ToolCallDelta, Finish, then Usage."""
        tool_index: dict[int, int] = {}  # content block index → tool call index
        prompt_tokens = 0
        finished = False
        loads = json.loads
        for data in self._stream_sse(self.base_url + "/messages", self.build_body(request), cancel):
            try:
                event = loads(data)
                kind = event["type"]
                if kind == "content_block_delta":
                    delta = event["delta"]
                    dtype = delta.get("type")
                    if dtype == "text_delta":
                        yield TextDelta(delta["text"])
                    elif dtype == "input_json_delta":
                        piece = delta.get("partial_json")
                        if piece:
                            yield ToolCallDelta(tool_index[event["index"]], arguments=piece)
                    elif dtype == "thinking_delta" and delta.get("thinking"):
                        yield ReasoningDelta(delta["thinking"])
                    # signature_delta: not part of the OpenAI surface
                elif kind == "content_block_start":
                    block = event["content_block"]
                    if block.get("type") == "tool_use":
                        index = tool_index[event["index"]] = len(tool_index)
                        yield ToolCallDelta(index, block.get("id"), block.get("name"))
                    elif block.get("type") == "text" and block.get("text"):
                        yield TextDelta(block["text"])
                    elif block.get("type") == "thinking" and block.get("thinking"):
                        yield ReasoningDelta(block["thinking"])
                elif kind == "message_start":
                    prompt_tokens = _prompt_tokens(event["message"].get("usage") or {})
                elif kind == "message_delta":
                    reason = (event.get("delta") or {}).get("stop_reason")
                    if reason:
                        finished = True
                        yield Finish(STOP_REASONS.get(reason, reason))
                    usage = event.get("usage")
                    if usage:
                        prompt_tokens = max(prompt_tokens, _prompt_tokens(usage))
                        yield Usage(prompt_tokens, usage.get("output_tokens") or 0)
                elif kind == "message_stop":
                    break
                elif kind == "error":
                    err = event.get("error") or {}
                    raise self._stream_error(f"failed mid-stream: {err.get('message') or err}",
                                             upstream_type=err.get("type"))
            except (ValueError, TypeError, KeyError, AttributeError, IndexError):
                # Not JSON, or JSON of the wrong shape: either way the upstream is broken.
                raise self._stream_error("sent a malformed stream event") from None
        self._check_finished(finished, cancel)

    def list_models(self) -> list[ModelInfo]:
        payload = self._get_json(self.base_url + "/models", params={"limit": 1000})
        return [ModelInfo(m["id"], "anthropic", m.get("max_input_tokens"))
                for m in payload.get("data") or []]



def _prompt_tokens(usage: dict[str, Any]) -> int:
    # Cached prompt tokens are reported apart; OpenAI's prompt_tokens includes them.
    return ((usage.get("input_tokens") or 0) + (usage.get("cache_creation_input_tokens") or 0)
            + (usage.get("cache_read_input_tokens") or 0))


# ---------------------------------------------------------------------------------------------
# OpenAI chat format → Messages API


def to_messages_body(request: ChatRequest, default_max_tokens: int = 4096) -> dict[str, Any]:
    """Translate an OpenAI-format ``ChatRequest`` into a streaming Messages API body."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for msg in request.messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            system.append(_plain_text(msg.get("content")))
            continue
        if role == "user":
            blocks = _blocks(msg.get("content"))
        elif role == "assistant":
            blocks = _blocks(msg.get("content"))
            blocks += [_tool_use(call) for call in msg.get("tool_calls") or []]
        elif role == "tool":
            role, blocks = "user", [_tool_result(msg)]
        else:
            raise ValidationError(f"unsupported message role {role!r}", param="messages")
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    body: dict[str, Any] = {
        "model": request.model, "messages": turns, "stream": True,
        "max_tokens": request.max_tokens or default_max_tokens,
    }
    if request.response_format and request.response_format.get("type") != "text":
        system.append(_json_instruction(request.response_format))
    if system:
        body["system"] = "\n\n".join(s for s in system if s)
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
    choice = _tool_choice(request.tool_choice, request.extra.get("parallel_tool_calls"))
    if choice and request.tools:
        body["tool_choice"] = choice
    if request.temperature is not None:
        body["temperature"] = min(request.temperature, 1.0)  # Anthropic's range is 0..1, OpenAI's 0..2
    if request.stop:
        body["stop_sequences"] = [request.stop] if isinstance(request.stop, str) else list(request.stop)
    for key in _PASSTHROUGH:
        if key in request.extra:
            body[key] = request.extra[key]
    if request.extra.get("user"):
        body["metadata"] = {"user_id": str(request.extra["user"])}
    return body


def _plain_text(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(p.get("text", "") for p in content if p.get("type") in ("text", "input_text"))


def _blocks(content: Any) -> list[dict[str, Any]]:
    """OpenAI content (string or parts) → Anthropic content blocks; empty text is dropped (refused upstream)."""
    if content is None or isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for part in content:
        ptype = part.get("type")
        if ptype in ("text", "input_text"):
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        elif ptype == "image_url":
            url = part["image_url"]["url"] if isinstance(part["image_url"], dict) else part["image_url"]
            blocks.append({"type": "image", "source": _source(url)})
        elif ptype == "file" and str((part.get("file") or {}).get("file_data", "")).startswith("data:"):
            blocks.append({"type": "document", "source": _source(part["file"]["file_data"])})
        elif ptype == "refusal":
            blocks.append({"type": "text", "text": part.get("refusal", "")})
        else:
            raise ValidationError(f"content part type {ptype!r} is not supported by Anthropic",
                                  param="messages")
    return blocks


def _source(url: str) -> dict[str, Any]:
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        return {"type": "base64", "media_type": header[5:].split(";")[0], "data": data}
    return {"type": "url", "url": url}


def _tool_use(call: dict[str, Any]) -> dict[str, Any]:
    fn = call.get("function") or {}
    try:
        args = json.loads(fn.get("arguments") or "{}")
    except ValueError:
        args = {}  # the model once produced broken JSON; Anthropic only takes an object
    return {"type": "tool_use", "id": call.get("id"), "name": fn.get("name"),
            "input": args if isinstance(args, dict) else {}}


def _tool_result(msg: dict[str, Any]) -> dict[str, Any]:
    content = msg.get("content")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": msg.get("tool_call_id")}
    result["content"] = content if isinstance(content, str) else _blocks(content)
    return result


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function") or tool
    out = {"name": fn["name"],
           "input_schema": fn.get("parameters") or {"type": "object", "properties": {}}}
    if fn.get("description"):
        out["description"] = fn["description"]
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None and parallel is not False:
        return None
    if isinstance(choice, dict):
        out = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    else:
        out = {"type": {"required": "any", "none": "none"}.get(choice or "auto", "auto")}
    if parallel is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


def _json_instruction(fmt: dict[str, Any]) -> str:
    # The Messages API has no JSON mode; asking in the system prompt is the documented workaround.
    schema = (fmt.get("json_schema") or {}).get("schema")
    if schema:
        return "Respond with a single JSON object that matches this JSON Schema:\n" + json.dumps(schema)
    return "Respond with a single JSON object and nothing else."
