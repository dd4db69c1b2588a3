"""Responses API requests: parsed into the chat form, answered objects built, stored and read per tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import NotFound, ValidationError
from qorven_local.providers.events import ChatResult
from qorven_local.responses import translate
from qorven_local.responses.types import StoredResponse
from qorven_local.storage.responses import ResponseStore

_NUMBERS = (("temperature", (int, float)), ("top_p", (int, float)), ("max_output_tokens", (int,)))


@dataclass
class ResponseRequest:
    """A ``POST /v1/responses`` body in chat form, plus what the Response object echoes."""

    model: str
    history: list[dict[str, Any]]          # the conversation (previous response's, then this input)
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    response_format: dict[str, Any] | None = None
    text: dict[str, Any] = field(default_factory=lambda: {"format": {"type": "text"}})
    previous_response_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    store: bool = True

    def messages(self) -> list[dict[str, Any]]:
        """What the model sees: the instructions (never carried over from a previous response), then history."""
        head = [{"role": "system", "content": self.instructions}] if self.instructions else []
        return head + self.history

    def chat_body(self) -> dict[str, Any]:
        """The request as an OpenAI chat body (what the provider path and agents take)."""
        body: dict[str, Any] = {"model": self.model, "messages": self.messages()}
        for key, value in (("tools", self.tools), ("tool_choice", self.tool_choice),
                           ("temperature", self.temperature), ("top_p", self.top_p),
                           ("max_tokens", self.max_output_tokens), ("response_format", self.response_format)):
            if value is not None:
                body[key] = value
        return body


class ResponseService:
    """Parses Responses requests, builds Response objects and keeps them per tenant."""

    def __init__(self, store: ResponseStore, clock: Clock, ids: IdFactory) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids

    def parse(self, tenant_id: str, body: Any) -> ResponseRequest:
        """Validate a request body and resolve ``previous_response_id`` (another tenant's id: 404)."""
        if not isinstance(body, dict):
            raise ValidationError("the body must be a JSON object")
        model = body.get("model")
        if not isinstance(model, str) or not model or len(model) > 300:
            raise ValidationError("model is required: a /v1/models id (<provider>/<model>, qor:<agent>)",
                                  param="model")
        if "input" not in body:
            raise ValidationError("input is required: a string or an array of items", param="input")
        for name, types in _NUMBERS:
            value = body.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
                raise ValidationError(f"{name} must be a number", param=name)
        instructions = body.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise ValidationError("instructions must be a string", param="instructions")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ValidationError("metadata must be an object of strings", param="metadata")
        history: list[dict[str, Any]] = []
        previous = body.get("previous_response_id")
        if previous is not None:
            if not isinstance(previous, str):
                raise ValidationError("previous_response_id must be a string", param="previous_response_id")
            history = list(self._stored(tenant_id, previous, "previous_response_id").messages)
        text = body.get("text")
        return ResponseRequest(
            model=model, history=history + translate.input_messages(body["input"]), instructions=instructions,
            tools=translate.chat_tools(body.get("tools")), tool_choice=translate.chat_tool_choice(body.get("tool_choice")),
            temperature=body.get("temperature"), top_p=body.get("top_p"),
            max_output_tokens=body.get("max_output_tokens"), response_format=translate.response_format(text),
            text={"format": text["format"]} if isinstance(text, dict) and text.get("format") else
            {"format": {"type": "text"}},
            previous_response_id=previous, metadata=metadata, stream=bool(body.get("stream")),
            store=body.get("store") is not False)

    def shell(self, req: ResponseRequest) -> dict[str, Any]:
        """A new Response object, in progress, with no output yet."""
        return {
            "id": self.ids.new("resp"), "object": "response", "created_at": int(self.clock.time()),
            "status": "in_progress", "completed_at": None, "error": None, "incomplete_details": None,
            "instructions": req.instructions, "max_output_tokens": req.max_output_tokens, "model": req.model,
            "output": [], "parallel_tool_calls": True, "previous_response_id": req.previous_response_id,
            "reasoning": None, "store": req.store, "temperature": req.temperature, "text": req.text,
            "tool_choice": _echo_choice(req.tool_choice), "tools": translate.echo_tools(req.tools),
            "top_p": req.top_p, "truncation": "disabled", "metadata": req.metadata,
        }

    def complete(self, tenant_id: str, req: ResponseRequest, shell: dict[str, Any], result: ChatResult,
                 usage: dict[str, int] | None, output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The finished Response object for ``result`` (``output`` when the stream already named its items);
        stored unless the request said ``store: false``."""
        status, incomplete = translate.status_of(result.finish_reason)
        response = {**shell, "status": status, "incomplete_details": incomplete,
                    "completed_at": int(self.clock.time()) if status == "completed" else None,
                    "output": output if output is not None else translate.output_items(result, self.ids.new),
                    **({"usage": translate.usage(usage)} if usage is not None else {})}
        if req.store:
            self.store.insert(StoredResponse(
                id=response["id"], tenant_id=tenant_id, model=req.model, body=response,
                messages=req.history + [result.message()], created_at=self.clock.iso()))
        return response

    def get(self, tenant_id: str, response_id: str) -> dict[str, Any]:
        return self._stored(tenant_id, response_id).body

    def delete(self, tenant_id: str, response_id: str) -> dict[str, Any]:
        if not self.store.delete(tenant_id, response_id):
            raise NotFound(f"response {response_id} not found")
        return {"id": response_id, "object": "response", "deleted": True}

    def _stored(self, tenant_id: str, response_id: str, param: str | None = None) -> StoredResponse:
        stored = self.store.get(tenant_id, response_id)
        if stored is None:
            raise NotFound(f"response {response_id} not found", param=param)
        return stored


def _echo_choice(choice: str | dict[str, Any] | None) -> str | dict[str, Any]:
    if isinstance(choice, dict):
        return {"type": "function", "name": choice["function"]["name"]}
    return choice or "auto"
