"""One agent run: context → model stream → tool calls → persist → events, up to a step limit.

A stateful run stores, in order: the user message, each assistant message that asked for tools
(with ``tool_calls``), one ``tool`` message per result (with ``tool_call_id``), and the final
assistant message. Rows are written whole, once their content is known, so a failed or cancelled
run never leaves a half-written row: it ends with a ``failed`` assistant message carrying the error
(a cancelled one with a ``stopped`` message), and whatever text had streamed. Each fact is told once, as an event of ``agents/events.py``, to
the run's listener.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from typing import Any

from qorven_local.agents import events
from qorven_local.agents.client_options import client_tool_names, offered_tools, step_request
from qorven_local.agents.context import HISTORY_LIMIT, build_messages, paired_tool_calls, stored_to_openai
from qorven_local.agents.delegation import Delegation, ParentRun
from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.agents.runs import RunRequest, RunResult
from qorven_local.agents.sessions import SessionService
from qorven_local.agents.small_models import fitted_to_model
from qorven_local.clock import Clock, IdFactory
from qorven_local.config import Config
from qorven_local.errors import InternalError, ModelNotFound, NoModelConfigured, QorvenError
from qorven_local.memory.service import MemoryService, recalled_entries
from qorven_local.agents.types import Message
from qorven_local.providers.events import ChatRequest, StreamAssembler, TextDelta, Usage, collect
from qorven_local.providers.normalize import for_upstream, last_user_text
from qorven_local.providers.registry import ProviderRegistry, ResolvedModel
from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolRegistry
from qorven_local.tools.service import tool_settings
from qorven_local.tools.workspaces import tenant_workspace

log = logging.getLogger("qorven.agents")

MAX_STEPS = 8


@dataclass(frozen=True)
class RunServices:
    """What a run uses: built once by the AgentRunner, shared by all its runs."""

    sessions: SessionService
    memory: MemoryService
    providers: ProviderRegistry
    model_ids: ModelDirectory
    tools: ToolRegistry
    delegation: Delegation
    config: Config
    ids: IdFactory
    clock: Clock


class _Cancelled(Exception):
    """The run's cancel event was set: unwind to ``execute``, which stores what had streamed."""


def run_agent(services: RunServices, req: RunRequest, emit: events.RunListener) -> RunResult:
    """Run ``req`` to the end (see the module docstring); the caller has already admitted it."""
    return _Run(services, req, emit).execute()


class _Run:
    """The state of one run while it executes: its answer id, streamed text, tool log and usage."""

    def __init__(self, services: RunServices, req: RunRequest, emit: events.RunListener) -> None:
        self.services = services
        self.req = req
        self.agent = req.agent
        self.tenant = req.tenant_id
        self.session = req.session
        self.session_id = req.session.id if req.session else None
        self.emit = emit
        self.cancel = req.cancel or threading.Event()
        self.answer_id = services.ids.new("msg") if req.session else None
        self.model_id: str | None = None  # the model answering, once resolved: stored on its messages
        self.partial: list[str] = []
        self.tool_log: list[dict[str, Any]] = []
        self.usage: dict[str, int] | None = None
        self.tools_ran = False
        self.tool_calls_left = int(services.config.max_tool_calls_per_turn)
        self.client_calls: list[dict[str, Any]] | None = None  # calls of client tools, returned to the client
        self.recalled: list[dict[str, Any]] | None = None  # what the answer was given (None: memory is off)
        self.registry: ToolRegistry = services.tools  # the tenant's view (built-ins + its MCP tools), set per run

    def status(self, status: str) -> None:
        self.emit(events.StatusChanged(agent_id=self.agent.id, session_id=self.session_id, status=status))

    def store(self, *, finish: bool = False, **fields: Any) -> Message | None:
        """Insert one whole message row into the run's session (no-op for stateless runs); ``finish``
        writes the answer over its ``streaming`` row instead."""
        if self.session is None:
            return None
        if fields.get("role") == "assistant":
            fields.setdefault("model", self.model_id)
        message = Message(id=fields.pop("id", None) or self.services.ids.new("msg"), tenant_id=self.tenant,
                          session_id=self.session.id, agent_id=self.agent.id, channel=self.req.channel,
                          created_at=self.services.clock.iso(), **fields)
        if finish:
            self.services.sessions.finish_message(message)
        else:
            self.services.sessions.store_message(message)
        return message

    def store_and_tell(self, **fields: Any) -> None:
        """Store a message and tell the listener it exists."""
        stored = self.store(**fields)
        if stored is not None:
            self.emit(events.MessageStored(stored))

    # -- the run --------------------------------------------------------------------------------
    def execute(self) -> RunResult:
        resolved = self._resolve_model()
        self.model_id = resolved.model_id
        self.agent = fitted_to_model(self.agent, resolved)  # tiny models: a short prompt, no tools
        query = self.req.user_message if self.req.user_message is not None else last_user_text(self.req.messages or [])
        if self.req.rewind is not None and self.session is not None:  # only now: a run that cannot start loses nothing
            query = self.services.sessions.rewind(self.tenant, self.session.id, self.req.rewind.message_id,
                                                  self.req.rewind.text).content or ""
        recalled = self._recall(query)
        self.recalled = recalled_entries(recalled) if self.agent.memory_enabled else None
        if self.session is not None:
            history = paired_tool_calls([stored_to_openai(m) for m in
                                         self.services.sessions.recent_messages(self.tenant, self.session.id,
                                                                                HISTORY_LIMIT)])
        else:
            history = list(self.req.messages or [])
        messages = build_messages(agent=self.agent, history=history, user_message=self.req.user_message,
                                  memories=recalled, extra_system=self.req.extra_system,
                                  context_tokens=resolved.context_length)
        if self.req.user_message is not None:
            self.store_and_tell(role="user", content=self.req.user_message)
        if self.session is not None and self.answer_id is not None:
            self.emit(events.RunStarted(session_id=self.session.id, agent_id=self.agent.id,
                                        message_id=self.answer_id))
            # the answer's row exists from the start (readers of the session see it coming; /ws sends its
            # message.created before any message.delta), and is written whole when the run ends
            self.store_and_tell(id=self.answer_id, role="assistant", content=None, status="streaming")
        if self.agent.memory_enabled:
            self.emit(events.MemoryRecalled(self.recalled or []))
        self.status("thinking")
        try:
            content, finish = self._steps(resolved, messages)
        except _Cancelled:
            self._fail(None, status="stopped")
            self.status("idle")
            return self._result("".join(self.partial), "cancelled")
        except BaseException as exc:
            error = exc if isinstance(exc, QorvenError) else InternalError("the agent run failed unexpectedly")
            if not isinstance(exc, QorvenError):
                log.exception("agent run of %s failed", self.agent.name)
            if self.tools_ran:
                error.headers["x-should-retry"] = "false"
            self._fail({"code": error.code, "message": error.message})
            self.status("error")
            if error is exc:
                raise
            raise error from exc
        final = self.store(finish=True, id=self.answer_id, role="assistant", content=content, usage=self.usage,
                           recalled=self.recalled)
        if final is not None:
            self.emit(events.MessageCompleted(final))
        self.status("idle")
        self.emit(events.RunFinished(finish_reason=finish, usage=self.usage, tool_calls=self.client_calls))
        if self.client_calls is None:  # a turn waiting on the client's tools is not an answer to learn from yet
            self._after_run(resolved, query, content)
        return self._result(content, finish)

    def _result(self, content: str, finish: str) -> RunResult:
        return RunResult(session_id=self.session_id, message_id=self.answer_id, content=content,
                         tool_calls=self.tool_log, usage=self.usage, finish_reason=finish,
                         client_tool_calls=self.client_calls)

    def _resolve_model(self) -> ResolvedModel:
        model = (self.req.model or (self.session.model if self.session else None)
                 or self.services.model_ids.agent_model(self.agent))
        if not model:
            raise NoModelConfigured(f"agent {self.agent.name} has no model and no default model is set: set up a "
                                    "model on the Models screen, or set a default with PUT /v1/models/default")
        try:
            return self.services.providers.resolve(self.tenant, model)
        except ModelNotFound as exc:
            whose = ("this run's" if self.req.model else "this conversation's"
                     if self.session and self.session.model else f"agent {self.agent.name}'s")
            raise NoModelConfigured(f"{whose} model is not usable: {exc.message}") from None

    def _recall(self, query: str) -> list[dict[str, Any]]:
        """The memories scoring at least ``QORVEN_RECALL_MIN_SCORE``, at most the agent's ``max_recall``."""
        if not self.agent.memory_enabled or not query:
            return []
        limit = self.agent.memory_max_recall
        try:
            return list(self.services.memory.recall(self.tenant, self.agent.id, query, limit=limit,
                                                    session_id=self.session_id,
                                                    min_score=float(self.services.config.recall_min_score)) or [])
        except Exception:  # a broken recall must not stop the answer
            log.warning("memory recall failed for agent %s", self.agent.name, exc_info=True)
            return []

    def _tool_context(self) -> ToolContext:
        """The run's ToolContext; each call gets a copy whose ``delegate`` knows the call (``_call_tool``)."""
        services = self.services
        return ToolContext(tenant_id=self.tenant,
                           workspace_dir=tenant_workspace(services.config.workspace_dir, self.tenant),
                           agent_id=self.agent.id, agent_name=self.agent.name, session_id=self.session_id,
                           settings=tool_settings(services.config),
                           memory=services.memory.for_agent(self.tenant, self.agent.id, self.session_id),
                           depth=self.req.depth)

    def _steps(self, resolved: ResolvedModel, messages: list[dict[str, Any]]) -> tuple[str, str]:
        registry = self.registry = self.services.tools.for_tenant(self.tenant)
        client = self.req.client
        client_names = client_tool_names(client)
        allowed = [name for name in self.agent.tools if registry.has(name)]
        own = registry.schemas_for(allowed) if allowed else None
        tools, client_only = offered_tools(own, client), offered_tools(None, client)
        tool_ctx = self._tool_context() if own else None
        messages = for_upstream(messages, resolved.provider.kind)
        for step in range(MAX_STEPS):
            # The last step, or a spent tool budget, offers none of the agent's tools: the model has to
            # answer (or call a client tool, which ends the run too).
            last = step == MAX_STEPS - 1 or self.tool_calls_left <= 0
            request = step_request(client, model=resolved.upstream_model, messages=messages,
                                   tools=client_only if last else tools, temperature=self.agent.temperature,
                                   first=step == 0)
            text, calls, finish = self._stream(resolved, request)
            if not calls:
                return text, finish or "stop"
            if client_names and any(call["function"]["name"] in client_names for call in calls):
                self.client_calls = [call for call in calls if call["function"]["name"] in client_names]
                return text, "tool_calls"
            assistant = {"role": "assistant", "content": text or None, "tool_calls": calls}
            self.store_and_tell(role="assistant", content=text or None, tool_calls=calls)
            self.partial = []
            messages = messages + [assistant]
            for call in calls:
                messages.append(self._call_tool(call, allowed, tool_ctx))
            if self.cancel.is_set():  # only now: every call asked for has its result stored
                raise _Cancelled
            self.status("thinking")
        return "", "length"  # unreachable: the last step offers none of the agent's tools

    def _stream(self, resolved: ResolvedModel, request: ChatRequest) -> tuple[str, list[dict[str, Any]], str | None]:
        answer = StreamAssembler()
        answer.text = self.partial  # a cancelled or failed run stores what had streamed
        emit, cancel, answer_id = self.emit, self.cancel, self.answer_id
        for event in resolved.adapter.stream_chat(request, cancel):
            if isinstance(event, Usage):  # summed over the run's model calls
                usage = self.usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
                usage["prompt_tokens"] += event.prompt_tokens
                usage["completion_tokens"] += event.completion_tokens
                usage["total_tokens"] += event.total_tokens
                self.usage = usage
            else:
                answer.add(event)
                if isinstance(event, TextDelta):
                    emit(events.AnswerDelta(message_id=answer_id, text=event.text))
            if cancel.is_set():
                break
        if cancel.is_set():
            raise _Cancelled
        return "".join(answer.text), answer.tool_calls(lambda: self.services.ids.new("call")), answer.finish_reason

    def _call_tool(self, call: dict[str, Any], allowed: list[str], tool_ctx: ToolContext | None) -> dict[str, Any]:
        name = self.registry.from_wire(call["function"]["name"])
        call_id = call["id"]
        raw = call["function"]["arguments"]
        try:
            arguments: Any = json.loads(raw) if raw.strip() else {}
        except ValueError:
            arguments = raw
        self.emit(events.ToolCalled(agent_id=self.agent.id, session_id=self.session_id, call_id=call_id, tool=name,
                                    arguments=arguments))
        self.status("tool")
        outcome: dict[str, Any]
        self.tool_calls_left -= 1
        if self.tool_calls_left < 0:
            limit = self.services.config.max_tool_calls_per_turn
            outcome = {"ok": False, "error": {"code": "budget_exceeded", "message": f"this turn already made {limit} "
                                              "tool calls, its limit; answer with what you have"}, "duration_ms": 0}
        elif name not in allowed or tool_ctx is None:
            outcome = {"ok": False, "error": {"code": "unknown_tool", "message": f"{name!r} is not one of your tools"},
                       "duration_ms": 0}
        elif not isinstance(arguments, dict):
            outcome = {"ok": False, "error": {"code": "invalid_arguments",
                                              "message": "arguments must be a JSON object"}, "duration_ms": 0}
        else:
            self.tools_ran = True
            parent = ParentRun(emit=self.emit, cancel=self.cancel, call_id=call_id, budget=self.req.budget)
            delegate = self.services.delegation.delegate_for(self.tenant, self.agent, self.req.depth, parent)
            outcome = self.registry.invoke(name, arguments, replace(tool_ctx, delegate=delegate),
                                                 raise_invalid=False).to_dict()
        self.tool_log.append({"call_id": call_id, "tool": name, "arguments": arguments, **outcome})
        content = json.dumps(outcome["result"] if outcome["ok"] else {"error": outcome["error"]},
                             ensure_ascii=False, default=str)
        self.store_and_tell(role="tool", content=content, tool_call_id=call_id)
        self.emit(events.ToolFinished(agent_id=self.agent.id, session_id=self.session_id, call_id=call_id, tool=name,
                                      outcome=outcome))
        return {"role": "tool", "tool_call_id": call_id, "content": content}

    def _fail(self, error: dict[str, Any] | None, status: str = "failed") -> None:
        """Store the unfinished answer with what had streamed: ``failed`` with its error, or ``stopped``."""
        try:
            failed = self.store(finish=True, id=self.answer_id, role="assistant",
                                content="".join(self.partial) or None, status=status, error=error, usage=self.usage,
                                recalled=self.recalled)
        except Exception:
            log.exception("could not store the failed message of a run")
            return
        if failed is not None:
            self.emit(events.MessageCompleted(failed))

    def _after_run(self, resolved: ResolvedModel, user_text: str, answer: str) -> None:
        memory = self.services.memory
        if not self.agent.memory_auto_save or not answer:
            return
        adapter, upstream = resolved.adapter, resolved.upstream_model

        def complete(messages: list[dict[str, Any]]) -> str:
            return collect(adapter.stream_chat(ChatRequest(model=upstream, messages=messages))).text

        def work() -> None:
            try:
                memory.after_run(self.tenant, self.agent, self.session_id, user_text, answer, complete=complete)
            except Exception:
                log.warning("saving memories after a run of %s failed", self.agent.name, exc_info=True)

        threading.Thread(target=work, name="memory-after-run", daemon=True).start()
