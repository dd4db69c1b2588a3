"""Tool calls out of a local model's streamed text: a pure function over the text pieces.

What the model writes back is parsed by ``parse_model_output`` (Hermes/Qwen ``<tool_call>``,
Mistral ``[TOOL_CALLS]``, Llama 3.1 ``<|python_tag|>`` and bare ``{"name", "parameters"}`` JSON).
Raw tool syntax never reaches content.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Callable, Iterable, Iterator

from qorven_local.providers.events import TextDelta, ToolCallDelta

log = logging.getLogger("qorven.providers.local")

# (opening marker, closing marker or None = runs to the end of the output)
_MARKERS: tuple[tuple[str, str | None], ...] = (
    ("<tool_call>", "</tool_call>"),          # Hermes, Qwen 2.5/3, many fine-tunes
    ("[TOOL_CALLS]", None),                   # Mistral
    ("<|python_tag|>", None),                 # Llama 3.1+
    ("<function_call>", "</function_call>"),
)


def _call_objects(payload: str) -> list[dict[str, Any]] | None:
    """The {name, arguments} objects in a tool-call payload (one object, a list, or JSON lines)."""
    payload = payload.strip()
    if not payload:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
        value = []
        for line in payload.replace(";", "\n").splitlines():
            if line.strip():
                try:
                    value.append(json.loads(line))
                except ValueError:
                    return None
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        if not isinstance(item, dict):
            return None
        function = item.get("function")
        fn = function if isinstance(function, dict) else item
        name = fn.get("name")
        args = fn.get("arguments", fn.get("parameters", {}))
        if not isinstance(name, str) or not name:
            return None
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except ValueError:
                return None
        calls.append({"name": name, "arguments": args if args is not None else {}})
    return calls


def parse_model_output(pieces: Iterable[str], tool_names: Iterable[str] = (),
                       new_id: Callable[[], str] | None = None) -> Iterator[TextDelta | ToolCallDelta]:
    """Turn a model's streamed text into text and tool-call events; tool syntax never becomes text.

    Text is passed on as it comes, except a tail that could be the start of a marker (held until
    it is clear). A marker's payload is buffered and parsed when it closes (or at the end); a
    malformed payload is dropped (logged), never shown. With ``tool_names``, an answer that is only
    a JSON object naming one of those tools (Llama 3.1 without its python tag) is a call too.
    """
    new_id = new_id or (lambda: "call_" + uuid.uuid4().hex[:24])
    names = set(tool_names)
    opens = [m for m, _ in _MARKERS]
    buf = ""
    inside: tuple[str, str | None] | None = None
    payload = ""
    index = 0
    started = False      # any non-blank text passed on yet
    bare_json = False    # the answer began with '{' and tools were offered: hold it all

    def emit_calls(text: str) -> Iterator[ToolCallDelta]:
        nonlocal index
        calls = _call_objects(text)
        if calls is None:
            log.warning("dropped a malformed tool call from a local model (%d chars)", len(text))
            return
        for call in calls:
            yield ToolCallDelta(index=index, id=new_id(), name=call["name"],
                                arguments=json.dumps(call["arguments"], ensure_ascii=False))
            index += 1

    for piece in pieces:
        if not piece:
            continue
        if bare_json:
            payload += piece
            continue
        if inside is not None:
            payload += piece
            close = inside[1]
            if close is not None and close in payload:
                body, _, rest = payload.partition(close)
                yield from emit_calls(body)
                inside, payload, buf = None, "", rest
            else:
                continue
        else:
            buf += piece
        if names and not started and buf.lstrip().startswith("{"):
            bare_json, payload, buf = True, buf, ""
            continue
        while buf:
            hits = [(buf.find(m), m, c) for m, c in _MARKERS if m in buf]
            if hits:
                at, marker, close = min(hits)
                if at and buf[:at]:
                    started = started or bool(buf[:at].strip())
                    yield TextDelta(buf[:at])
                rest = buf[at + len(marker):]
                buf = ""
                if close is not None and close in rest:
                    body, _, buf = rest.partition(close)
                    yield from emit_calls(body)
                    continue
                inside, payload = (marker, close), rest
                break
            # hold back a tail that may be the start of a marker
            hold = max((k for m in opens for k in range(1, len(m)) if buf.endswith(m[:k])), default=0)
            out, buf = (buf[:-hold], buf[-hold:]) if hold else (buf, "")
            if out:
                if names and not started and not out.strip():
                    buf = out + buf  # leading blanks: wait to see whether a bare JSON call follows
                    break
                started = started or bool(out.strip())
                yield TextDelta(out)
            break
    if bare_json:
        calls = _call_objects(payload)
        if calls and all(c["name"] in names for c in calls):
            yield from emit_calls(payload)
        else:
            yield TextDelta(payload)  # plain JSON the user asked for, not a call
    elif inside is not None:
        yield from emit_calls(payload)  # unclosed: parse what came
    elif buf:
        yield TextDelta(buf)
