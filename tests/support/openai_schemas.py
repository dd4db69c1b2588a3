"""Validate bodies against OpenAI's published component schemas (a copy in tests/fixtures)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "openai-schemas.json"


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return json.loads(SCHEMAS.read_text())


def validate_openai(name: str, body: Any) -> None:
    """Raise jsonschema.ValidationError unless ``body`` matches component schema ``name``."""
    doc = _document()
    registry = Registry().with_resource("urn:openai", Resource.opaque(doc))
    schema = {"$ref": f"urn:openai#/components/schemas/{name}"}
    Draft202012Validator(schema, registry=registry).validate(body)
