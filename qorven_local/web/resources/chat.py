"""POST /v1/chat/completions: the Qorven form (an agent in a session) and the OpenAI form (an agent,
statelessly, or a provider model, proxied), each as JSON or SSE."""

from __future__ import annotations

import threading
from typing import Any

import falcon

from qorven_local.agents.events import (AnswerDelta, Delegated, MemoryRecalled, RunEvent, RunFinished, RunStarted,
                                        ToolCalled, ToolFinished)
from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.agents.runner import AgentRunner
from qorven_local.agents.runs import Rewind, RunRequest
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import ValidationError
from qorven_local.agents.types import Agent, Session
from qorven_local.providers.events import (ChatRequest, ChatResult, Finish, ReasoningDelta, TextDelta, ToolCallDelta,
                                           Usage, collect, collect_choices, event_batches)
from qorven_local.providers.openai_compat import KINDS as OPENAI_KINDS
from qorven_local.providers.normalize import ROLES, content_text, for_upstream
from qorven_local.providers.registry import ResolvedModel
from qorven_local.security.ratelimit import ConcurrencyCap
from qorven_local.web.io import principal, read_body
from qorven_local.web.spec import operation
from qorven_local.web.sse import DONE, ChunkWriter, SSEBridge, bridge_for, named, respond_stream, tool_event
from qorven_local.web.validation import validate

MAX_CHOICES = 128  # OpenAI's own limit on n
_MESSAGE = {"type": "object", "required": ["role"], "properties": {"role": {"enum": list(ROLES)}}}
OPENAI_FORM = {
    "type": "object", "required": ["model", "messages"],
    "not": {"required": ["agent_id"]},  # a body naming agent_id is the Qorven form, whatever else it holds
    "description": "OpenAI's request; unknown params are ignored",
    "properties": {
        "model": {"type": "string", "minLength": 1, "maxLength": 300,
                  "description": "a /v1/models id: <provider>/<model>, qor:<agent> or an agent's name"},
        "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"type": ["object", "null"]},
        "tools": {"type": ["array", "null"], "items": {"type": "object"}},
        "n": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_CHOICES,
              "description": "choices to generate: passed to OpenAI-compatible provider models; agents answer 1"},
        "temperature": {"type": ["number", "null"]},
        "max_tokens": {"type": ["integer", "null"]}, "max_completion_tokens": {"type": ["integer", "null"]},
        "stop": {"type": ["string", "array", "null"]},
        "top_p": {"type": ["number", "null"]}, "seed": {"type": ["integer", "null"]},
        "response_format": {"type": ["object", "null"]}, "reasoning_effort": {"type": ["string", "null"]},
        "tool_choice": {"type": ["string", "object", "null"]},
    },
}
QORVEN_FORM = {
    "type": "object", "required": ["agent_id"],
    "description": "message is required, except with regenerate: true",
    "properties": {
        "agent_id": {"type": "string", "minLength": 1, "maxLength": 100, "description": "agent id or name"},
        "session_id": {"type": ["string", "null"], "description": "default: the agent's canonical web session"},
        "message": {"type": ["string", "array"], "minLength": 1, "maxLength": 200_000},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"type": ["object", "null"]},
        "model": {"type": ["string", "null"], "minLength": 1, "maxLength": 300,
                  "description": "this run's model (a /v1/models provider model) instead of the conversation's "
                                 "or the agent's"},
        "regenerate": {"type": ["boolean", "null"],
                       "description": "with session_id and no message: answer the session's last user message "
                                      "again, replacing its last assistant turn"},
        "edit_message_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 100,
                            "description": "with session_id and message: replace this user message's text, drop "
                                           "everything after it, and answer it again"},
    },
}
# The document states the message-or-regenerate rule; requests are checked against QORVEN_FORM and then
# by hand (_qorven_run), which names the missing field instead of a schema walk's "anyOf" complaint.
_QORVEN_FORM_DOCUMENTED = {**QORVEN_FORM, "anyOf": [
    {"required": ["message"]}, {"required": ["regenerate"], "properties": {"regenerate": {"const": True}}}]}
CHAT_REQUEST = {"oneOf": [_QORVEN_FORM_DOCUMENTED, OPENAI_FORM]}
CHAT_RESPONSE = {"type": "object", "required": ["id", "object", "created", "model", "choices"],
                 "description": "OpenAI's chat.completion (Qorven form adds qorven: {session_id, message_id, "
                                "tool_calls}); with stream=true, SSE chat.completion.chunk frames"}


def check_openai_form(body: dict[str, Any]) -> None:
    """What OPENAI_FORM says, checked by hand: this is the hot path, and a schema walk costs ~0.3 ms."""
    model = body.get("model")
    if not isinstance(model, str) or not model or len(model) > 300:
        raise ValidationError("model is required: a /v1/models id (<provider>/<model>, qor:<agent>)", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValidationError("messages must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if type(message) is not dict or message.get("role") not in ROLES:
            raise ValidationError(f"messages.{i}.role must be one of {', '.join(ROLES)}", param=f"messages.{i}.role")
    for name, types in (("stream", (bool,)), ("stream_options", (dict,)), ("tools", (list,)),
                        ("temperature", (int, float)), ("max_tokens", (int,)), ("max_completion_tokens", (int,)),
                        ("stop", (str, list)), ("top_p", (int, float)), ("seed", (int,)),
                        ("response_format", (dict,)), ("reasoning_effort", (str,)), ("tool_choice", (str, dict))):
        value = body.get(name)
        # bool is an int subclass in Python, but true is not a temperature or a token count
        if value is not None and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            raise ValidationError(f"{name} has the wrong type", param=name)
    tools = body.get("tools")
    if tools is not None and any(type(t) is not dict for t in tools):
        raise ValidationError("tools must be an array of objects", param="tools")
    n = body.get("n")
    if n is not None and (type(n) is not int or not 1 <= n <= MAX_CHOICES):
        raise ValidationError(f"n must be an integer from 1 to {MAX_CHOICES}", param="n")


def _is_qorven_form(body: dict[str, Any]) -> bool:
    return "agent_id" in body or ("message" in body and "messages" not in body)


def _usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens, **(usage.details or {})}


class ChatCompletionsResource:
    """Chat completions: an agent run (Qorven form, or the OpenAI form naming an agent) or a proxied model."""

    def __init__(self, *, agents: AgentService, sessions: SessionService, model_ids: ModelDirectory,
                 runner: AgentRunner, clock: Clock, ids: IdFactory, sse_ping_s: float,
                 streams: ConcurrencyCap) -> None:
        self.agents = agents
        self.sessions = sessions
        self.model_ids = model_ids
        self.runner = runner
        self.clock = clock
        self.ids = ids
        self.sse_ping_s = sse_ping_s
        self.streams = streams  # each stream or proxied call holds a worker thread: capped per tenant

    @operation(summary="Chat: run an agent (Qorven form or model qor:<name>) or proxy a provider model; JSON "
                       "or SSE (stream=true)", tag="chat", request=CHAT_REQUEST, response=CHAT_RESPONSE,
               stream=True, errors=("model_not_found", "too_many_runs", "provider_error", "provider_timeout",
                                    "no_model_configured"),
               description="See the Chat section of the API contract: role-first delta, one finish_reason "
                           "chunk, stream_options.include_usage, [DONE], `data: {\"error\":...}` mid-stream, "
                           "`: ping` keep-alive; the Qorven form adds named events session, memory, tool_call, "
                           "tool_result. Errors after tools ran carry x-should-retry: false.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req)
        if not isinstance(body, dict):
            raise ValidationError("the body must be a JSON object")
        tenant = principal(req).tenant_id
        read_schema = QORVEN_FORM if _is_qorven_form(body) else OPENAI_FORM
        if read_schema is QORVEN_FORM:
            validate(QORVEN_FORM, body)
        else:
            check_openai_form(body)
        stream = bool(body.get("stream"))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) if stream else False
        created = int(self.clock.time())
        completion_id = "chatcmpl-" + self.ids.new("cmp")[4:]
        rid = getattr(req.context, "request_id", None)

        if read_schema is QORVEN_FORM:
            agent = self.agents.require(tenant, body["agent_id"], param="agent_id")
            session = self._session(tenant, agent, body.get("session_id"))
            run = self._qorven_run(tenant, agent, session, body)
            model_name = "qor:" + agent.name
            self._agent(req, resp, run, model_name, stream, include_usage, completion_id, created, rid, named_events=True)
            return
        target = self.model_ids.chat_target(tenant, body["model"])
        if target.agent is not None:
            if (body.get("n") or 1) > 1:
                raise ValidationError(f"n > 1 is not supported for agents: {body['model']} runs once and gives one "
                                      "answer (send the request n times, or use a provider model)", param="n")
            run = RunRequest(tenant_id=tenant, agent=target.agent, session=None, user_message=None, channel="api",
                             messages=list(body["messages"]), client=ChatRequest.from_openai(body))
            self._agent(req, resp, run, body["model"], stream, include_usage, completion_id, created, rid,
                        named_events=False)
        else:
            assert target.model is not None  # a ChatTarget names an agent or a model
            self._proxy(req, resp, target.model, body, stream, include_usage, completion_id, created, rid)

    def _session(self, tenant: str, agent: Agent, session_id: str | None) -> Session:
        if session_id:
            session = self.sessions.get(tenant, session_id)
            if session.agent_id != agent.id:
                raise ValidationError(f"session {session_id} belongs to another agent", param="session_id")
            return session
        return self.sessions.open(tenant, agent.id, "web")[0]

    def _qorven_run(self, tenant: str, agent: Agent, session: Session, body: dict[str, Any]) -> RunRequest:
        """The run a Qorven-form body asks for: a new message, a regenerated answer or an edited message."""
        regenerate, edit_id, message = body.get("regenerate") is True, body.get("edit_message_id"), body.get("message")
        if body.get("model"):
            self.sessions.check_model(tenant, body["model"])
        if message is None and not regenerate:
            raise ValidationError("message is required", param="message")
        rewind = None
        if regenerate or edit_id:
            if not body.get("session_id"):
                raise ValidationError("session_id is required to regenerate or edit", param="session_id")
            if regenerate and edit_id:
                raise ValidationError("regenerate and edit_message_id cannot be combined", param="regenerate")
            if regenerate and message is not None:
                raise ValidationError("regenerate takes no message: it answers the last one again", param="message")
            point = self.sessions.rewind_point(tenant, session.id, edit_id,
                                               param="edit_message_id" if edit_id else "regenerate")
            rewind = Rewind(point.id, content_text(message) if edit_id else None)
        return RunRequest(tenant_id=tenant, agent=agent, session=session,
                          user_message=None if rewind else content_text(message), channel=session.channel,
                          model=body.get("model") or None, rewind=rewind)

    # -- agents ---------------------------------------------------------------------------------
    def _agent(self, req: falcon.Request, resp: falcon.Response, run: RunRequest, model_name: str, stream: bool,
               include_usage: bool, completion_id: str, created: int, rid: str | None, named_events: bool) -> None:
        runner = self.runner
        if not stream:
            result = runner.run(run)
            resp.media = _agent_completion(completion_id, created, model_name, result.content, result.client_tool_calls,
                                     _reason(result.finish_reason), result.usage,
                                     qorven={"session_id": result.session_id, "message_id": result.message_id,
                                             "tool_calls": result.tool_calls} if named_events else None)
            return
        cancel = run.cancel = threading.Event()
        bridge = bridge_for(req, cancel, self.sse_ping_s, self.streams.acquire(run.tenant_id))
        writer = ChunkWriter(completion_id, created, model_name)
        put = bridge.put
        state = {"role": False}

        def on_event(event: RunEvent) -> None:
            match event:
                case AnswerDelta():
                    frame = writer.text(event.text)
                    if not state["role"]:
                        state["role"] = True
                        frame = writer.role() + frame
                    put(frame)
                case RunFinished():
                    frame = b"" if state["role"] else writer.role()
                    state["role"] = True
                    for index, call in enumerate(event.tool_calls or ()):  # each client tool call in one delta
                        frame += writer.tool_call(index, call["id"], call["function"]["name"],
                                                  call["function"]["arguments"])
                    frame += writer.finish(_reason(event.finish_reason))
                    if include_usage:
                        frame += writer.usage(event.usage or {"prompt_tokens": 0, "completion_tokens": 0,
                                                              "total_tokens": 0})
                    put(frame + DONE)
                case RunStarted() if named_events:
                    put(named("session", {"session_id": event.session_id, "agent_id": event.agent_id,
                                          "message_id": event.message_id}))
                case MemoryRecalled() if named_events:
                    put(named("memory", {"recalled": event.recalled}))
                case ToolCalled() | ToolFinished() | Delegated() if named_events:
                    put(named(*tool_event(event)))

        run.on_event = on_event

        def produce(_: SSEBridge) -> None:
            runner.run(run)  # its events reach the client through on_event

        bridge.start(produce, name="agent-run")
        respond_stream(resp, bridge, rid)

    # -- provider models ------------------------------------------------------------------------
    def _proxy(self, req: falcon.Request, resp: falcon.Response, resolved: ResolvedModel, body: dict[str, Any],
               stream: bool, include_usage: bool, completion_id: str, created: int, rid: str | None) -> None:
        request = ChatRequest.from_openai(body, model=resolved.upstream_model)
        request.messages = for_upstream(request.messages, resolved.provider.kind)
        adapter = resolved.adapter
        model_name = body["model"]
        tenant = principal(req).tenant_id
        # logprobs go to the client only when it asked for them, whatever an upstream sends unasked
        want_logprobs = body.get("logprobs") is True
        n = request.n
        if n > 1 and resolved.provider.kind not in OPENAI_KINDS:
            raise ValidationError(f"n > 1 needs an OpenAI-compatible provider: {resolved.provider.kind} "
                                  "providers answer one choice", param="n")
        if not stream:
            with self.streams.acquire(tenant):
                events = adapter.stream_chat(request)
                results = [collect(events)] if n == 1 else collect_choices(events, n)
            chars = sum(len(r.text) + len(r.reasoning) for r in results)
            resp.media = _completion(completion_id, created, model_name, results,
                                     _usage_or_estimate(results[0].usage, request.messages, chars), want_logprobs)
            return
        cancel = threading.Event()
        writer = ChunkWriter(completion_id, created, model_name)
        finished: dict[int, str] = {}  # choice index -> finish_reason sent
        state: dict[str, Any] = {"usage": None, "chars": 0}

        def frame_of(event: Any) -> bytes | None:
            kind = type(event)
            if kind is TextDelta:
                state["chars"] += len(event.text)
                return writer.text(event.text, event.logprobs if want_logprobs else None, event.choice)
            if kind is ReasoningDelta:
                state["chars"] += len(event.text)
                return writer.reasoning(event.text, event.field, event.choice)
            if kind is ToolCallDelta:
                return writer.tool_call(event.index, event.id, event.name, event.arguments, event.choice)
            if kind is Finish:
                if event.choice in finished or event.choice >= n:
                    return None
                finished[event.choice] = event.reason
                return writer.finish(event.reason, event.choice)
            if kind is Usage:
                state["usage"] = event
            return None

        def frames_of(batch: list[Any]) -> bytes:
            """The frames of what arrived together: one write for the whole read."""
            if len(batch) == 1:
                return frame_of(batch[0]) or b""
            return b"".join([frame for frame in map(frame_of, batch) if frame is not None])

        def tail() -> bytes:
            out = b"".join(writer.finish("stop", i) for i in range(n) if i not in finished)
            if include_usage:
                out += writer.usage(_usage_or_estimate(state["usage"], request.messages, state["chars"]))
            return out + DONE

        # The first events are awaited on this thread: no hand-off before the first token, and an
        # upstream failure before it is an ordinary HTTP error. Events come in lists of what one
        # socket read held, each list one write: a burst goes out together, a lone token at once.
        slot = self.streams.acquire(tenant)
        try:
            batches = event_batches(adapter, request, cancel)
            first = writer.role() if n == 1 else b"".join(writer.role(i) for i in range(n))
            for batch in batches:
                frames = frames_of(batch)
                if frames:
                    first += frames
                    break
            else:
                first += tail()
                resp.content_type = "text/event-stream; charset=utf-8"
                resp.set_header("Cache-Control", "no-cache")
                resp.data = first
                slot.release()
                return
        except BaseException:
            slot.release()
            raise

        bridge = bridge_for(req, cancel, self.sse_ping_s, slot)
        bridge.put(first)

        def produce(out: SSEBridge) -> None:
            put = out.put
            for batch in batches:
                frames = frames_of(batch)
                if frames:
                    put(frames)
            if not cancel.is_set():
                put(tail())

        respond_stream(resp, bridge, rid, after_first=lambda: bridge.start(produce, name="proxy-stream"))


def _reason(reason: str) -> str:
    return reason if reason in ("stop", "length", "tool_calls", "content_filter") else "stop"


def _usage_or_estimate(usage: Usage | None, messages: list[dict[str, Any]], completion_chars: int) -> dict[str, Any]:
    """The upstream's counts, else rough ones: streamed (include_usage) and whole answers both carry usage."""
    return _usage_dict(usage) or _estimate_usage(messages, completion_chars)


def _estimate_usage(messages: list[dict[str, Any]], completion_chars: int) -> dict[str, int]:
    """Rough counts (4 characters a token) for upstreams that report none."""
    prompt = max(1, sum(len(content_text(m.get("content"))) for m in messages) // 4)
    completion = max(1, completion_chars // 4) if completion_chars else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(completion_id: str, created: int, model: str, results: list[ChatResult], usage: dict | None,
                want_logprobs: bool) -> dict[str, Any]:
    """A proxied ``chat.completion`` with one choice per result (``n`` of them)."""
    choices = [_choice(i, r.text, r.tool_calls or None, r.finish_reason or "stop",
                       {r.reasoning_field: r.reasoning} if r.reasoning else None,
                       r.logprobs if want_logprobs else None) for i, r in enumerate(results)]
    return _envelope(completion_id, created, model, choices, usage)


def _agent_completion(completion_id: str, created: int, model: str, content: str, tool_calls: list | None,
                      finish_reason: str, usage: dict | None, qorven: dict | None = None) -> dict[str, Any]:
    """An agent's ``chat.completion`` (one choice; the Qorven form adds ``qorven``)."""
    return _envelope(completion_id, created, model, [_choice(0, content, tool_calls, finish_reason)], usage, qorven)


def _choice(index: int, content: str, tool_calls: list | None, finish_reason: str,
            reasoning: dict[str, str] | None = None, logprobs: list | None = None) -> dict[str, Any]:
    """One choice; ``reasoning`` is ``{field: text}`` as the upstream named it, ``logprobs`` its tokens'."""
    message: dict[str, Any] = {"role": "assistant", "content": content if content or not tool_calls else None,
                               "refusal": None, **(reasoning or {})}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"index": index, "message": message,
            "logprobs": None if logprobs is None else {"content": logprobs, "refusal": None},
            "finish_reason": _reason(finish_reason)}


def _envelope(completion_id: str, created: int, model: str, choices: list[dict[str, Any]], usage: dict | None,
              qorven: dict | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
                           "choices": choices}
    if usage is not None:
        out["usage"] = usage
    if qorven is not None:
        out["qorven"] = qorven
    return out
