"""Small helpers resources share: read a validated body, read query params, write a page."""

from __future__ import annotations

from typing import Any, Callable

import falcon

from qorven_local.errors import ValidationError
from qorven_local.models import Page, Principal
from qorven_local.storage.paging import page_items
from qorven_local.web.validation import parse_json, validate


def principal(req: falcon.Request) -> Principal:
    return req.context.principal


def read_body(req: falcon.Request, schema: dict[str, Any] | None = None) -> Any:
    """The request's JSON body (bounded by the gate's limit), validated against ``schema``."""
    limit = getattr(req.context, "body_limit", 1024 * 1024)
    raw = req.bounded_stream.read(limit + 1)
    data = parse_json(raw, limit=limit)
    if schema is not None:
        validate(schema, data)
    return data


def query_required(req: falcon.Request, name: str) -> str:
    value = req.get_param(name)
    if not value:
        raise ValidationError(f"query parameter {name} is required", param=name)
    return value


def query_int(req: falcon.Request, name: str) -> int | None:
    value = req.get_param(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", param=name) from None


def query_bool(req: falcon.Request, name: str, default: bool = False) -> bool:
    value = req.get_param(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ValidationError(f"{name} must be true or false", param=name)


def query_choice(req: falcon.Request, name: str, choices: tuple[str, ...] | None = None) -> str | None:
    value = req.get_param(name)
    if value is not None and choices is not None and value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(choices)}", param=name)
    return value


def page_args(req: falcon.Request) -> dict[str, Any]:
    return {"limit": query_int(req, "limit"), "cursor": req.get_param("cursor") or None}


def page_body(page: Page, serialize: Callable[[Any], dict[str, Any]] = lambda x: x.to_dict()) -> dict[str, Any]:
    return {"object": "list", "data": [serialize(item) for item in page.items], "has_more": page.has_more,
            "next_cursor": page.next_cursor, **page.extra}


def paged_list(req: falcon.Request, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A computed list answered as one page of ``limit``/``cursor`` (items keyed by their ``id``)."""
    page = page_items(items, key=lambda item: str(item["id"]), **page_args(req))
    return {**page_body(page, lambda item: item), **extra}
