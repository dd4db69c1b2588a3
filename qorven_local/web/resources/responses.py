"""POST /v1/responses (OpenAI's Responses API) over the chat path; GET and DELETE /v1/responses/{id}."""

from __future__ import annotations

import threading
from typing import Any, Callable

import falcon

from qorven_local.agents.events import AnswerDelta, RunEvent, RunFinished
from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.agents.runner import AgentRunner
from qorven_local.agents.runs import RunRequest
from qorven_local.errors import InternalError, QorvenError
from qorven_local.providers.events import ChatEvent, ChatRequest, Finish, TextDelta, ToolCallDelta, Usage, collect
from qorven_local.providers.normalize import for_upstream
from qorven_local.providers.registry import ResolvedModel
from qorven_local.responses.service import ResponseRequest, ResponseService
from qorven_local.responses.stream import ResponseEvents, frame
from qorven_local.security.ratelimit import ConcurrencyCap
from qorven_local.web.io import principal, read_body
from qorven_local.web.spec import operation
from qorven_local.web.sse import SSEBridge, bridge_for, respond_stream

_TEXT = {"type": "string", "maxLength": 1_000_000}
_PART = {"anyOf": [
    {"type": "object", "required": ["type", "text"],
     "properties": {"type": {"enum": ["input_text", "output_text", "text"]}, "text": _TEXT}},
    {"type": "object", "required": ["type", "refusal"],
     "properties": {"type": {"const": "refusal"}, "refusal": _TEXT}},
    {"type": "object", "required": ["type", "image_url"],
     "properties": {"type": {"const": "input_image"}, "image_url": {"type": "string"},
                    "detail": {"enum": ["auto", "low", "high"]}}},
]}
_CONTENT = {"anyOf": [_TEXT, {"type": "array", "items": _PART}]}
_ITEM = {"anyOf": [
    {"type": "object", "required": ["role", "content"], "description": "a message",
     "properties": {"type": {"const": "message"}, "role": {"enum": ["user", "assistant", "system", "developer"]},
                    "content": _CONTENT}},
    {"type": "object", "required": ["type", "call_id", "name"], "description": "a call the model made",
     "properties": {"type": {"const": "function_call"}, "call_id": {"type": "string"}, "name": {"type": "string"},
                    "arguments": {"type": ["string", "null"]}}},
    {"type": "object", "required": ["type", "call_id", "output"], "description": "the client's result of a call",
     "properties": {"type": {"const": "function_call_output"}, "call_id": {"type": "string"},
                    "output": _CONTENT}},
    {"type": "object", "required": ["type"], "description": "reasoning: accepted, not replayed",
     "properties": {"type": {"const": "reasoning"}}},
]}
_FORMAT = {"anyOf": [
    {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["text", "json_object"]}}},
    {"type": "object", "required": ["type", "name", "schema"],
     "properties": {"type": {"const": "json_schema"}, "name": {"type": "string"}, "schema": {"type": "object"},
                    "description": {"type": ["string", "null"]}, "strict": {"type": ["boolean", "null"]}}},
]}
RESPONSE_REQUEST = {
    "type": "object", "required": ["model", "input"],
    "description": "OpenAI's Responses request; unknown params are ignored",
    "properties": {
        "model": {"type": "string", "minLength": 1, "maxLength": 300,
                  "description": "a /v1/models id: <provider>/<model>, qor:<agent> or an agent's name"},
        "input": {"anyOf": [_TEXT, {"type": "array", "minItems": 1, "maxItems": 10_000, "items": _ITEM}],
                  "description": "text, or items: messages (input_text / output_text / input_image parts), "
                                 "function_call, function_call_output"},
        "instructions": {"type": ["string", "null"], "description": "a system message; not carried over"},
        "previous_response_id": {"type": ["string", "null"], "description": "continue a stored response"},
        "tools": {"type": ["array", "null"], "description": "function tools only", "items": {
            "type": "object", "required": ["type", "name"],
            "properties": {"type": {"const": "function"}, "name": {"type": "string"},
                           "description": {"type": ["string", "null"]}, "parameters": {"type": ["object", "null"]},
                           "strict": {"type": ["boolean", "null"]}}}},
        "tool_choice": {"anyOf": [{"enum": ["auto", "none", "required", None]},
                                  {"type": "object", "required": ["type", "name"],
                                   "properties": {"type": {"const": "function"}, "name": {"type": "string"}}}]},
        "max_output_tokens": {"type": ["integer", "null"]},
        "temperature": {"type": ["number", "null"]}, "top_p": {"type": ["number", "null"]},
        "text": {"type": ["object", "null"], "properties": {"format": _FORMAT}},
        "stream": {"type": ["boolean", "null"]},
        "store": {"type": ["boolean", "null"], "description": "false: answer without storing"},
        "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    },
}
RESPONSE = {"type": "object", "required": ["id", "object", "created_at", "status", "model", "output"],
            "description": "OpenAI's Response object; with stream=true, typed SSE events (response.created, "
                           "response.in_progress, response.output_item.added, response.content_part.added, "
                           "response.output_text.delta, response.output_text.done, response.content_part.done, "
                           "response.function_call_arguments.delta, response.function_call_arguments.done, "
                           "response.output_item.done, response.completed, error), each with sequence_number"}
RESPONSE_DELETED = {"type": "object", "required": ["id", "object", "deleted"],
                    "properties": {"id": {"type": "string"}, "object": {"const": "response"},
                                   "deleted": {"const": True}}}

Feed = Callable[[Callable[[ChatEvent], None], threading.Event | None], dict[str, int] | None]


def _usage(usage: Usage | None) -> dict[str, int] | None:
    return None if usage is None else {"prompt_tokens": usage.prompt_tokens,
                                       "completion_tokens": usage.completion_tokens,
                                       "total_tokens": usage.total_tokens}


class ResponsesResource:
    """Create a response: a provider model proxied, or an agent run statelessly on the conversation."""

    def __init__(self, *, responses: ResponseService, model_ids: ModelDirectory, runner: AgentRunner,
                 sse_ping_s: float, streams: ConcurrencyCap) -> None:
        self.responses = responses
        self.model_ids = model_ids
        self.runner = runner
        self.sse_ping_s = sse_ping_s
        self.streams = streams

    @operation(summary="Responses API: answer with a provider model or an agent (model qor:<name>); JSON or SSE",
               tag="chat", request=RESPONSE_REQUEST, response=RESPONSE, stream=True,
               errors=("model_not_found", "not_found", "too_many_runs", "provider_error", "provider_timeout",
                       "no_model_configured"),
               description="See 'Responses and legacy completions' in the API contract. Responses are stored "
                           "per tenant (unless store: false) so previous_response_id continues them; a failure "
                           "after the stream started is an `error` event.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant_id
        request = self.responses.parse(tenant, read_body(req, RESPONSE_REQUEST))
        target = self.model_ids.chat_target(tenant, request.model)
        if target.agent is not None:
            run = RunRequest(tenant_id=tenant, agent=target.agent, session=None, user_message=None, channel="api",
                             messages=request.messages(), client=ChatRequest.from_openai(request.chat_body()))
            feed: Feed = self._agent_feed(run)
        else:
            assert target.model is not None  # a ChatTarget names an agent or a model
            feed = self._model_feed(tenant, target.model, request)
        if not request.stream:
            assembled: list[ChatEvent] = []
            with self.streams.acquire(tenant):  # a proxied call holds a worker thread, as a stream does
                usage = feed(assembled.append, None)
            result = collect(assembled)
            resp.media = self.responses.complete(tenant, request, self.responses.shell(request), result,
                                                 usage or _usage(result.usage))
            return
        self._stream(req, resp, tenant, request, feed)

    def _agent_feed(self, run: RunRequest) -> Feed:
        def feed(emit: Callable[[ChatEvent], None], cancel: threading.Event | None) -> dict[str, int] | None:
            if cancel is None:  # not streamed: the answer is the run's final text, not every turn's deltas
                result = self.runner.run(run)
                emit(TextDelta(result.content))
                _emit_client_calls(emit, result.client_tool_calls)
                emit(Finish(result.finish_reason))
                return result.usage

            def on_event(event: RunEvent) -> None:
                if isinstance(event, AnswerDelta):
                    emit(TextDelta(event.text))
                elif isinstance(event, RunFinished):
                    _emit_client_calls(emit, event.tool_calls)
                    emit(Finish(event.finish_reason))
            run.on_event, run.cancel = on_event, cancel
            return self.runner.run(run).usage
        return feed

    def _model_feed(self, tenant: str, resolved: ResolvedModel, request: ResponseRequest) -> Feed:
        chat = ChatRequest.from_openai(request.chat_body(), model=resolved.upstream_model)
        chat.messages = for_upstream(chat.messages, resolved.provider.kind)

        def feed(emit: Callable[[ChatEvent], None], cancel: threading.Event | None) -> dict[str, int] | None:
            for event in resolved.adapter.stream_chat(chat, cancel):
                emit(event)
            return None
        return feed

    def _stream(self, req: falcon.Request, resp: falcon.Response, tenant: str, request: ResponseRequest,
                feed: Feed) -> None:
        cancel = threading.Event()
        bridge = bridge_for(req, cancel, self.sse_ping_s, self.streams.acquire(tenant))
        events = ResponseEvents(self.responses.shell(request), self.responses.ids.new)
        rid = getattr(req.context, "request_id", None)

        def produce(out: SSEBridge) -> None:
            put = out.put

            def send(batch: list[dict[str, Any]]) -> None:
                if batch:
                    put(b"".join(frame(e) for e in batch))

            try:
                usage = feed(lambda event: send(events.add(event)), cancel)
                if cancel.is_set():  # the client left: a cut answer is neither finished nor stored
                    return
                closing, result, output = events.finish()
                response = self.responses.complete(tenant, request, events.shell, result,
                                                   usage or _usage(result.usage), output)
            except Exception as exc:
                if not events.started:  # nothing sent yet: the failure keeps its HTTP status
                    raise
                error = exc if isinstance(exc, QorvenError) else InternalError(
                    f"internal error; quote request id {rid} when reporting it")
                put(frame(events.error(error)))
                if error is not exc:
                    raise
                return
            send(closing + [events.completed(response)])

        bridge.start(produce, name="responses-stream")
        respond_stream(resp, bridge, rid)


class ResponseResource:
    """One stored response of the caller's tenant."""

    def __init__(self, responses: ResponseService) -> None:
        self.responses = responses

    @operation(summary="A stored response", tag="chat", response=RESPONSE, errors=("not_found",))
    def on_get(self, req: falcon.Request, resp: falcon.Response, response_id: str) -> None:
        resp.media = self.responses.get(principal(req).tenant_id, response_id)

    @operation(summary="Delete a stored response", tag="chat", response=RESPONSE_DELETED, errors=("not_found",))
    def on_delete(self, req: falcon.Request, resp: falcon.Response, response_id: str) -> None:
        resp.media = self.responses.delete(principal(req).tenant_id, response_id)


def _emit_client_calls(emit: Callable[[ChatEvent], None], calls: list[dict[str, Any]] | None) -> None:
    """An agent run that ended on the client's function tools: each call, whole, as the stream's tool call."""
    for index, call in enumerate(calls or ()):
        function = call.get("function") or {}
        emit(ToolCallDelta(index, call.get("id"), function.get("name"), function.get("arguments") or ""))
