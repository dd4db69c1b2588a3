"""The tools agents can call: what a tool is, how it is declared, and how a call runs.

    @tool(permission="auto")
    def current_time(ctx: ToolContext, timezone: str | None = None) -> dict:
        '''Get the current date and time.

        Args:
            timezone: IANA time zone name; default UTC.
        '''

``Tool`` takes its schema from the function (see ``schema.py``). ``ToolRegistry.invoke`` validates
the arguments against that schema, runs the function in a worker thread with a time limit, and
always answers a ``ToolResult``: a failing tool is ``ok=False`` with ``{"code", "message"}``, never an
exception for the caller. Tools signal expected failures by raising ``ToolError(code, message)``.
jsonschema is imported on first use (start-up time).
"""

from __future__ import annotations

import builtins
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal, Protocol

from qorven_local.errors import Conflict, InvalidArguments, NotFound, QorvenError
from qorven_local.tools.context import ToolContext
from qorven_local.tools.schema import derive

log = logging.getLogger(__name__)

Permission = Literal["auto", "admin"]


class ToolError(Exception):
    """An expected failure inside a tool; becomes ``{"ok": false, "error": {code, message}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Tool:
    """A callable the model may use, with the JSON Schema derived from ``fn``."""

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any] = field(repr=False)
    permission: Permission = "auto"
    builtin: bool = False
    timeout_s: float | None = None          # None: the context's settings.tool_timeout_s
    context_param: str | None = None        # the fn parameter that receives the ToolContext
    wire_name: str | None = None            # the name models see when ``name`` has characters they refuse

    @classmethod
    def from_function(cls, fn: Callable[..., Any], *, name: str | None = None,
                      permission: Permission = "auto", builtin: bool = False,
                      timeout_s: float | None = None) -> Tool:
        if permission not in ("auto", "admin"):
            raise ValueError(f"permission must be 'auto' or 'admin', not {permission!r}")
        sig = derive(fn)
        if not sig.description:
            raise TypeError(f"{fn.__name__}: a tool needs a docstring (its first paragraph is the description)")
        return cls(name=name or fn.__name__, description=sig.description, parameters=sig.parameters,
                   fn=fn, permission=permission, builtin=builtin, timeout_s=timeout_s,
                   context_param=sig.context_param)

    def openai_schema(self) -> dict[str, Any]:
        """This tool in OpenAI's ``tools`` request format."""
        return {"type": "function", "function": {
            "name": self.wire_name or self.name, "description": self.description, "parameters": self.parameters}}

    def to_dict(self) -> dict[str, Any]:
        """The API's Tool object without the per-tenant ``enabled`` flag (built-ins: id = name)."""
        return {"id": self.name, "name": self.name, "description": self.description,
                "parameters": self.parameters, "permission": self.permission, "builtin": self.builtin}


def tool(permission: Permission = "auto", *, name: str | None = None, builtin: bool = False,
         timeout_s: float | None = None) -> Callable[[Callable[..., Any]], Tool]:
    """Decorator turning a documented, type-hinted function into a ``Tool``."""
    def wrap(fn: Callable[..., Any]) -> Tool:
        return Tool.from_function(fn, name=name, permission=permission, builtin=builtin,
                                  timeout_s=timeout_s)
    return wrap


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call, in the shape the invoke endpoint and ``tool_result`` events use."""

    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        if self.ok:
            return {"ok": True, "result": self.result, "duration_ms": self.duration_ms}
        return {"ok": False, "error": self.error, "duration_ms": self.duration_ms}


class ToolSource(Protocol):
    """Tools that exist per tenant (the tenant's MCP servers' tools), added to the built-ins by ``for_tenant``."""

    def tools(self, tenant_id: str) -> builtins.list[Tool]: ...


class ToolRegistry:
    """Tools by name; thread-safe to read while calls run."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._lock = threading.Lock()
        self._sources: builtins.list[ToolSource] = []
        for t in tools:
            self.register(t)

    def add_source(self, source: ToolSource) -> None:
        """Add per-tenant tools (built while the context is built, before any request)."""
        self._sources.append(source)

    def for_tenant(self, tenant_id: str) -> ToolRegistry:
        """This registry plus the tenant's own tools (a name taken by a built-in stays the built-in's)."""
        if not self._sources:
            return self
        view = ToolRegistry(self.list())
        for source in self._sources:
            for t in source.tools(tenant_id):
                view._tools.setdefault(t.name, t)
        return view

    def from_wire(self, name: str) -> str:
        """The tool name for the name a model called (its ``wire_name``, or the name itself)."""
        if name in self._tools:
            return name
        return next((t.name for t in self._tools.values() if t.wire_name == name), name)

    def register(self, t: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (or a plain documented function); a taken name is a ``Conflict``."""
        if not isinstance(t, Tool):
            t = Tool.from_function(t)
        with self._lock:
            if t.name in self._tools:
                raise Conflict(f"tool {t.name} is already registered")
            self._tools[t.name] = t
        return t

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise NotFound(f"tool {name} not found") from None

    def has(self, name: str) -> bool:
        return name in self._tools

    def list(self) -> builtins.list[Tool]:
        return builtins.list(self._tools.values())

    def names(self) -> builtins.list[str]:
        return builtins.list(self._tools)

    def admin_names(self) -> builtins.list[str]:
        """The tools only an admin may invoke directly or give to an agent."""
        return [t.name for t in self._tools.values() if t.permission == "admin"]

    def schemas_for(self, names: Iterable[str] | None = None) -> builtins.list[dict[str, Any]]:
        """OpenAI ``tools`` entries for ``names`` (all tools when None); unknown names are NotFound."""
        chosen = self.list() if names is None else [self.get(n) for n in names]
        return [t.openai_schema() for t in chosen]

    def invoke(self, name: str, arguments: Any, ctx: ToolContext, *,
               raise_invalid: bool = True) -> ToolResult:
        """Validate ``arguments``, run the tool with its time limit, and report the outcome.

        With ``raise_invalid`` (the invoke endpoint) an unknown tool raises ``NotFound`` and bad
        arguments raise ``InvalidArguments`` (422, ``param`` = the field). Without it (the agent
        loop) both become ``ok=False`` results the model can read and correct.
        """
        started = time.perf_counter()
        try:
            t = self.get(name)
            args = validate_arguments(t, arguments)
        except (NotFound, InvalidArguments) as exc:
            if raise_invalid:
                raise
            error = {"code": exc.code, "message": exc.message}
            if exc.param:
                error["param"] = exc.param
            return ToolResult(ok=False, error=error, duration_ms=_ms_since(started))
        if t.context_param:
            args[t.context_param] = ctx
        timeout = t.timeout_s if t.timeout_s is not None else ctx.settings.tool_timeout_s
        ok, payload = _run_with_timeout(t, args, timeout)
        if ok:
            try:
                json.dumps(payload)
            except (TypeError, ValueError):
                log.error("tool %s returned a non-JSON result of type %s", name, type(payload).__name__)
                ok, payload = False, {"code": "tool_failed", "message": "the tool returned a non-JSON result"}
        duration = _ms_since(started)
        return ToolResult(ok=True, result=payload, duration_ms=duration) if ok else \
            ToolResult(ok=False, error=payload, duration_ms=duration)


def validate_arguments(t: Tool, arguments: Any) -> dict[str, Any]:
    """Check ``arguments`` against the tool's schema; raise ``InvalidArguments`` naming the field."""
    import jsonschema

    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise InvalidArguments(f"arguments for {t.name} must be a JSON object")
    optional = set(t.parameters["properties"]) - set(t.parameters.get("required", ()))
    # Models often send null for an optional argument they mean to leave out.
    args = {k: v for k, v in arguments.items() if not (v is None and k in optional)}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(t.parameters).iter_errors(args))
    if error is None:
        return args
    if error.validator == "required" and not error.path:
        param = next(r for r in t.parameters["required"] if r not in args)
        message = f"missing required argument {param!r}"
    elif error.validator == "additionalProperties" and not error.path:
        param = sorted(set(args) - set(t.parameters["properties"]))[0]
        message = f"unknown argument {param!r}"
    else:
        param = str(error.path[0]) if error.path else None
        message = f"argument {param!r}: {error.message}" if param else error.message
    raise InvalidArguments(f"{t.name}: {message}", param=param)


def _run_with_timeout(t: Tool, args: dict[str, Any], timeout: float) -> tuple[bool, Any]:
    """Run the tool in a daemon thread; Python cannot kill a thread, so on timeout we stop waiting.

    Tools bound their own work too (http_get has a deadline, calculator caps sizes), so an
    abandoned thread finishes soon after; the caller is never held past ``timeout``.
    """
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, t.fn(**args)))
        except ToolError as exc:
            outcome.append((False, {"code": exc.code, "message": exc.message}))
        except QorvenError as exc:
            outcome.append((False, {"code": exc.code, "message": exc.message}))
        except Exception as exc:  # a bug in a tool must not crash the agent loop
            log.exception("tool %s failed", t.name)
            # An OSError's text carries its absolute path (the data root); the model only gets why.
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            outcome.append((False, {"code": "tool_failed", "message": f"{type(exc).__name__}: {detail}"}))

    worker = threading.Thread(target=run, name=f"tool-{t.name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return False, {"code": "tool_timeout", "message": f"{t.name} did not finish within {timeout:g} s"}
    return outcome[0]


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)

