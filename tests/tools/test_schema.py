"""A tool's schema comes from its signature and docstring, and refuses what it cannot describe."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import pytest

from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import Tool, tool


def sample(ctx: ToolContext, city: str, days: int, units: Literal["metric", "imperial"] = "metric",
           ratio: float | None = None, tags: list[str] | None = None, extra: Optional[dict] = None,
           verbose: bool = False, limit: Annotated[int, {"minimum": 1}] = 3) -> dict:
    """Forecast the weather
    for a city.

    Longer explanation that is not part of the description.

    Args:
        city: Name of the city.
        days (int): How many days,
            counted from today.
        units: Unit system.
        ratio: A ratio.
        tags: Labels.

    Returns:
        A forecast.
    """
    return {}


def test_sample_function_gives_the_exact_schema():
    t = Tool.from_function(sample)
    assert t.name == "sample"
    assert t.description == "Forecast the weather for a city."
    assert t.context_param == "ctx"
    assert t.parameters == {
        "type": "object",
        "properties": {
            "city": {"description": "Name of the city.", "type": "string"},
            "days": {"description": "How many days, counted from today.", "type": "integer"},
            "units": {"description": "Unit system.", "type": "string", "enum": ["metric", "imperial"],
                      "default": "metric"},
            "ratio": {"description": "A ratio.", "type": "number"},
            "tags": {"description": "Labels.", "type": "array", "items": {"type": "string"}},
            "extra": {"type": "object"},
            "verbose": {"type": "boolean", "default": False},
            "limit": {"type": "integer", "minimum": 1, "default": 3},
        },
        "required": ["city", "days"],
        "additionalProperties": False,
    }


def test_openai_format_and_decorator_options():
    @tool(permission="admin", name="forecast", timeout_s=2)
    def f(city: str) -> str:
        """Forecast."""
        return city

    assert f.permission == "admin" and f.timeout_s == 2 and not f.builtin
    assert f.openai_schema() == {"type": "function", "function": {
        "name": "forecast", "description": "Forecast.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"], "additionalProperties": False}}}


def test_every_builtin_documents_every_parameter(registry):
    for t in registry.list():
        assert t.builtin and t.description, t.name
        for name, prop in t.parameters["properties"].items():
            assert prop.get("description"), f"{t.name}.{name} has no description"


def _no_hint(x):
    """Doc."""


def _varargs(*items: str):
    """Doc."""


def _bad_type(x: set[str]):
    """Doc."""


def _stray_doc(x: str):
    """Doc.

    Args:
        x: Fine.
        y: Not a parameter: the docstring drifted from the code.
    """


def _no_doc(x: str):
    pass


@pytest.mark.parametrize("fn", [_no_hint, _varargs, _bad_type, _stray_doc, _no_doc])
def test_functions_that_cannot_be_described_are_refused(fn):
    with pytest.raises(TypeError):
        Tool.from_function(fn)


def test_unknown_permission_is_refused():
    with pytest.raises(ValueError):
        tool(permission="root")(sample)
