"""Derive a tool's JSON Schema from its Python signature, type hints and docstring.

The function is the single source of truth: the first docstring paragraph is the description, the
Google-style ``Args:`` section describes each parameter, type hints give the types, defaults and
``Optional`` make a parameter optional, ``Literal[...]`` gives an enum and ``Annotated[T, {...}]``
merges extra JSON Schema keywords (``minimum``, ``maxLength``...). A parameter annotated
``ToolContext`` is the call context and is not part of the schema. Anything we cannot express raises
``TypeError`` at registration, so a schema can never silently drift from the code.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Literal

from qorven_local.tools.context import ToolContext

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$")
_ARG_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True)
class Signature:
    """What a function contributes to its tool: schema, description and how to pass the context."""

    description: str
    parameters: dict[str, Any]
    context_param: str | None


def derive(fn: Callable[..., Any]) -> Signature:
    """Build the description and the parameters JSON Schema of ``fn``."""
    description, arg_docs = parse_docstring(inspect.getdoc(fn) or "")
    hints = typing.get_type_hints(fn, include_extras=True)
    properties: dict[str, Any] = {}
    required: list[str] = []
    context_param = None
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{fn.__name__}: *args/**kwargs cannot be described as a tool schema")
        if name not in hints:
            raise TypeError(f"{fn.__name__}: parameter {name!r} needs a type hint")
        hint = hints[name]
        if hint is ToolContext:
            context_param = name
            continue
        schema, optional = type_schema(hint, where=f"{fn.__name__}.{name}")
        if name in arg_docs:
            schema = {"description": arg_docs[name], **schema}
        if param.default is not inspect.Parameter.empty:
            optional = True
            if param.default is not None:
                schema["default"] = param.default
        if not optional:
            required.append(name)
        properties[name] = schema
    stray = set(arg_docs) - set(properties)
    if stray:
        raise TypeError(f"{fn.__name__}: docstring documents unknown parameters {sorted(stray)}")
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    return Signature(description=description, parameters=parameters, context_param=context_param)


def type_schema(hint: Any, *, where: str) -> tuple[dict[str, Any], bool]:
    """JSON Schema for one type hint, and whether the hint admits ``None`` (so is optional)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        schema, optional = type_schema(args[0], where=where)
        for extra in args[1:]:
            if isinstance(extra, dict):
                schema.update(extra)
        return schema, optional
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"{where}: only Optional[X] unions are supported, got {hint!r}")
        schema, _ = type_schema(rest[0], where=where)
        return schema, len(rest) < len(args)
    if origin is Literal:
        kinds = {_SCALARS.get(type(a)) for a in args}
        if None in kinds or len(kinds) != 1:
            raise TypeError(f"{where}: Literal values must share one str/int/float/bool type")
        return {"type": kinds.pop(), "enum": list(args)}, False
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}, False
    if hint is list or origin is list:
        schema = {"type": "array"}
        if args:
            schema["items"] = type_schema(args[0], where=where)[0]
        return schema, False
    if hint is dict or origin is dict:
        schema = {"type": "object"}
        if args and args[0] is not str:
            raise TypeError(f"{where}: JSON object keys are strings, got {hint!r}")
        if args and args[1] is not Any:
            schema["additionalProperties"] = type_schema(args[1], where=where)[0]
        return schema, False
    if hint is Any:
        return {}, False
    raise TypeError(f"{where}: type {hint!r} has no JSON Schema mapping")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a docstring into its first paragraph and the ``Args:`` descriptions by name."""
    lines = doc.strip().splitlines()
    first: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line):
            break
        first.append(line.strip())
    args: dict[str, str] = {}
    in_args, current, indent = False, None, None
    for line in lines:
        section = _SECTION.match(line)
        if section:
            in_args, current = section.group(1) in ("Args", "Arguments", "Parameters"), None
            continue
        if not in_args or not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        match = _ARG_LINE.match(line.strip())
        if match and (indent is None or depth <= indent):
            indent, current = depth, match.group(1).lstrip("*")
            args[current] = match.group(2).strip()
        elif current is not None:
            # A continuation line of the current parameter's description.
            args[current] = f"{args[current]} {line.strip()}".strip()
    return " ".join(first), args
