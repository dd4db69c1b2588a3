"""Route and operation declarations: what each responder accepts, answers and requires.

Every responder carries an ``@operation(...)``: its summary, request/response schemas, query
parameters and whether it is public or admin-only. The request gate (``web/middleware.py``) and the
OpenAPI document (``web/openapi.py``) read the same metadata, so what the document says and what
the server enforces cannot drift; a test fails if a route has no operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Param:
    """A query parameter: its name, JSON Schema and description."""

    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "page size")
CURSOR = Param("cursor", {"type": "string"}, "next_cursor of the previous page")
PAGED = (LIMIT, CURSOR)


@dataclass(frozen=True)
class Operation:
    """What one responder accepts and answers, and who may call it."""

    summary: str
    tag: str
    response: dict[str, Any] | None = None
    status: int = 200
    request: dict[str, Any] | None = None
    query: tuple[Param, ...] = ()
    public: bool = False
    admin: bool = False
    errors: tuple[str, ...] = ()
    stream: bool = False             # also answers text/event-stream
    content_types: tuple[str, ...] = ("application/json",)
    request_by_type: dict[str, dict[str, Any]] = field(default_factory=dict)  # a content type's own schema
    also_answers: tuple[str, ...] = ()  # media types the success answer may take besides JSON (a download)
    extra_statuses: dict[int, str] = field(default_factory=dict)
    description: str = ""
    body_required: bool = True       # False: an empty request body means "all defaults"


Responder = TypeVar("Responder", bound=Callable[..., Any])


def operation(**kwargs: Any) -> Callable[[Responder], Responder]:
    """Attach an Operation to a Falcon responder (``on_get`` ...)."""
    op = Operation(**kwargs)

    def mark(fn: Responder) -> Responder:
        setattr(fn, "__qorven_op__", op)
        return fn
    return mark


def operation_of(resource: object, method: str) -> Operation | None:
    """The Operation declared on ``resource``'s responder for ``method``, if any."""
    responder = getattr(resource, "on_" + method.lower(), None)
    return getattr(responder, "__qorven_op__", None)


@dataclass(frozen=True)
class Route:
    """A path template and the Falcon resource that serves it."""

    path: str            # Falcon template, e.g. /v1/agents/{agent_id}
    resource: object

    def operations(self) -> dict[str, Operation]:
        """The declared operations by lower-case method, in HTTP_METHODS order."""
        ops = {}
        for method in HTTP_METHODS:
            op = operation_of(self.resource, method)
            if op is not None:
                ops[method] = op
        return ops

    def undocumented_methods(self) -> list[str]:
        """Methods the resource answers without an ``@operation`` (a test keeps this empty)."""
        return [m for m in HTTP_METHODS if hasattr(self.resource, "on_" + m) and operation_of(self.resource, m) is None]
