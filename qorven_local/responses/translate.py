"""Responses API request pieces → chat form (messages, tools, response_format), and answers → output items.

The Responses API is a second spelling of chat: ``input`` items become chat messages, flat function
tools become chat tools, ``text.format`` becomes ``response_format``. Answers come back from the one
chat path as a ``ChatResult`` and are spelled as Response output items here.
"""

from __future__ import annotations

from typing import Any, Callable

from qorven_local.errors import ValidationError
from qorven_local.providers.events import ChatResult

_ROLES = ("user", "assistant", "system", "developer")
_TEXT_PARTS = ("input_text", "output_text", "text", "refusal")


def _content(content: Any, param: str) -> str | list[dict[str, Any]]:
    """A message's content in chat form: text parts joined to a string; images kept as image_url parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ValidationError("content must be a string or an array of content parts", param=param)
    parts: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS and isinstance(part.get("text", part.get("refusal")), str):
            parts.append({"type": "text", "text": part.get("text", part.get("refusal"))})
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"],
                                                             "detail": part.get("detail") or "auto"}})
        else:
            raise ValidationError(f"unsupported content part type {kind!r} (input_text, output_text, input_image)",
                                  param=f"{param}.{i}.type")
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def input_messages(items: Any) -> list[dict[str, Any]]:
    """``input`` (a string or an item list) as chat messages.

    Consecutive ``function_call`` items become one assistant message with ``tool_calls``;
    ``function_call_output`` items become ``tool`` messages; reasoning items carry nothing we replay.
    """
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    if not isinstance(items, list) or not items:
        raise ValidationError("input must be a string or a non-empty array of items", param="input")
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        param = f"input.{i}"
        if not isinstance(item, dict):
            raise ValidationError("each input item must be an object", param=param)
        kind = item.get("type", "message")
        if kind == "message":
            if item.get("role") not in _ROLES:
                raise ValidationError(f"role must be one of {', '.join(_ROLES)}", param=f"{param}.role")
            messages.append({"role": item["role"], "content": _content(item.get("content"), f"{param}.content")})
        elif kind == "function_call":
            if not isinstance(item.get("call_id"), str) or not isinstance(item.get("name"), str):
                raise ValidationError("a function_call item needs call_id and name", param=param)
            call = {"id": item["call_id"], "type": "function",
                    "function": {"name": item["name"], "arguments": item.get("arguments") or "{}"}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and last.get("tool_calls") is not None:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            if not isinstance(item.get("call_id"), str) or output is None:
                raise ValidationError("a function_call_output item needs call_id and output", param=param)
            text = output if isinstance(output, str) else _content(output, f"{param}.output")
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": text})
        elif kind == "reasoning":
            continue
        else:
            raise ValidationError(f"unsupported input item type {kind!r} (message, function_call, "
                                  "function_call_output)", param=f"{param}.type")
    return messages


def chat_tools(tools: Any) -> list[dict[str, Any]] | None:
    """Responses' flat function tools as chat tools; other tool types are refused (we run no hosted tools)."""
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise ValidationError("tools must be an array", param="tools")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("name"), str):
            raise ValidationError("only function tools ({type: function, name, parameters}) are supported",
                                  param=f"tools.{i}")
        function = {"name": tool["name"], "parameters": tool.get("parameters") or {"type": "object",
                                                                                   "properties": {}}}
        if tool.get("description"):
            function["description"] = tool["description"]
        if tool.get("strict") is not None:
            function["strict"] = tool["strict"]
        out.append({"type": "function", "function": function})
    return out or None


def echo_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The request's tools as a Response object echoes them (OpenAI's FunctionTool shape)."""
    return [{"type": "function", "name": t["function"]["name"],
             "description": t["function"].get("description"),
             "parameters": t["function"]["parameters"], "strict": t["function"].get("strict", True)}
            for t in tools or []]


def chat_tool_choice(choice: Any) -> str | dict[str, Any] | None:
    """``tool_choice`` in chat form: the modes as they are, a named function wrapped as chat spells it."""
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise ValidationError("tool_choice must be auto, none, required or {type: function, name}", param="tool_choice")


def response_format(text: Any) -> dict[str, Any] | None:
    """``text.format`` as chat's ``response_format`` (None for plain text)."""
    if text is None:
        return None
    fmt = text.get("format") if isinstance(text, dict) else None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt is None or kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema" and isinstance(fmt.get("name"), str) and isinstance(fmt.get("schema"), dict):
        schema = {k: fmt[k] for k in ("name", "schema", "description", "strict") if fmt.get(k) is not None}
        return {"type": "json_schema", "json_schema": schema}
    raise ValidationError("text.format must be {type: text}, {type: json_object} or {type: json_schema, name, "
                          "schema}", param="text.format")


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    """An assistant output message with one output_text part."""
    return {"type": "message", "id": item_id, "status": status, "role": "assistant",
            "content": [text_part(text)] if status == "completed" else []}


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def call_item(item_id: str, call: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    """A function_call output item from a chat tool call."""
    return {"type": "function_call", "id": item_id, "call_id": call["id"], "name": call["function"]["name"],
            "arguments": call["function"]["arguments"] if status == "completed" else "", "status": status}


def output_items(result: ChatResult, new_id: Callable[[str], str]) -> list[dict[str, Any]]:
    """A whole answer's output items: its text message (if any), then one item per tool call."""
    items = [message_item(new_id("msg"), result.text)] if result.text or not result.tool_calls else []
    items += [call_item(new_id("fc"), {**call, "id": call["id"] or new_id("call")}) for call in result.tool_calls]
    return items


def usage(counts: dict[str, int] | None) -> dict[str, Any] | None:
    """Chat usage counts as a Response's usage."""
    if counts is None:
        return None
    return {"input_tokens": counts.get("prompt_tokens", 0),
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": counts.get("completion_tokens", 0),
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": counts.get("total_tokens", 0)}


def status_of(finish_reason: str | None) -> tuple[str, dict[str, str] | None]:
    """(status, incomplete_details) for a chat finish reason."""
    if finish_reason == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish_reason == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None
