"""Request parsing: bounded JSON bodies and JSON Schema validation into ``validation_error``.

jsonschema is imported on first use (start-up time).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from qorven_local.errors import InvalidJSON, PayloadTooLarge, ValidationError
from qorven_local.web.spec import Param

if TYPE_CHECKING:
    import jsonschema
    from jsonschema import Draft202012Validator

MAX_JSON_DEPTH = 64


_VALIDATORS: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """One compiled validator per schema object (schemas are module-level constants)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        from jsonschema import Draft202012Validator

        cached = _VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema))
    return cached[1]


def _param_of(error: jsonschema.ValidationError) -> str | None:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' was unexpected", error.message)
        if extra:
            path.append(extra[0])
    elif error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        if missing:
            path.append(missing[0])
    return ".".join(path) or None


# A pattern failure said as a sentence: people never see the regular expression.
PATTERN_RULES = {
    "^[a-z0-9][a-z0-9_-]{0,47}$": "must be 1 to 48 lowercase letters, digits, hyphens or underscores, starting "
                                  "with a letter or digit (for example research-helper)",
    "\\S": "must not be blank",
}


def _message_of(error: jsonschema.ValidationError, param: str | None) -> str:
    if error.validator == "additionalProperties":
        return f"unknown field {param!r}"
    if error.validator == "required":
        return f"{param} is required"
    if error.validator == "pattern":
        rule = PATTERN_RULES.get(str(error.validator_value))
        if rule is None:
            about = error.schema.get("description") if isinstance(error.schema, dict) else None
            rule = f"is not valid ({about})" if about else "is not in the expected form"
        return f"{param or 'the value'} {rule}"
    where = f"{param}: " if param else ""
    text = error.message
    if len(text) > 300:  # never echo a huge input back
        text = text[:300] + "…"
    return where + text


def validate(schema: dict[str, Any], data: Any) -> Any:
    """Validate ``data`` against a JSON Schema; the first error becomes a 400 naming the field."""
    import jsonschema

    validator = _validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        param = _param_of(error)
        raise ValidationError(_message_of(error, param), param=param)
    return data


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


SAFE_INTEGER = 2 ** 53


def _parse_number(text: str) -> float | int:
    """A JSON number with a fraction or exponent; integral ones (``19.0``, ``1e3``) become ints.

    JSON Schema counts 19.0 as an ``integer``, so a body passes validation with it and then reaches
    code that slices, ranges or binds it as an int; making it one here keeps every resource safe.
    Past 2**53 a float is no longer an exact integer (and SQLite's INTEGER stops at 2**63): kept as is.
    """
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    if value.is_integer() and abs(value) < SAFE_INTEGER:
        return int(value)
    return value


def _refuse_constant(name: str) -> float:
    """NaN and Infinity are not JSON (Python's parser accepts them; they would pass range checks)."""
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes, *, limit: int) -> Any:
    """Parse a request body: 413 past ``limit`` bytes, 400 ``invalid_json`` for anything not JSON."""
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    if not raw.strip():
        raise InvalidJSON("request body is empty; send a JSON object")
    try:
        data = json.loads(raw, parse_float=_parse_number, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidJSON("request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJSON(f"request body is not valid JSON: {str(exc)[:200]}") from None
    if _depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise InvalidJSON(f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
    if b"\\u" in raw:  # only escapes can smuggle lone surrogates, which UTF-8 (and SQLite) cannot store
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJSON("request body contains an unpaired UTF-16 surrogate escape") from None
    return data


def validate_query(values: Mapping[str, Any], params: Iterable[Param]) -> None:
    """Hold query parameters to the schemas their operation documents (strings: length, enum, pattern).

    Integers and booleans are parsed (and refused) by the resources; this enforces what the document
    promises for the text parameters, so an over-long or unlisted value is a 400 naming it.
    """
    import jsonschema

    for param in params:
        value = values.get(param.name)
        if value is None or param.schema.get("type") != "string":
            continue
        if isinstance(value, list):  # a repeated parameter: each copy must fit
            items = value
        else:
            items = [value]
        for item in items:
            error = jsonschema.exceptions.best_match(_validator(param.schema).iter_errors(item))
            if error is not None:
                raise ValidationError(f"{param.name}: {_message_of(error, None)}", param=param.name)
