"""calculator: arithmetic on numbers, evaluated by walking a whitelisted AST (never eval).

Only number literals, + - * / // % **, unary +/-, parentheses, a few names (pi, e, tau) and a few
math functions are accepted; every other node (names, attributes, subscripts, calls of anything
else, strings, lambdas...) is refused before anything runs. Size limits keep a single expression
from eating the CPU or memory: input length, node count, exponent size and result size.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Annotated, Any, Callable

from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool

MAX_LENGTH = 500
MAX_NODES = 200
MAX_INT_BITS = 4096          # ~1233 decimal digits; int ops above this are refused

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _round(x: float, ndigits: int = 0) -> float:
    if not isinstance(ndigits, int) or abs(ndigits) > 100:
        raise ToolError("invalid_expression", "round() takes a whole number of digits up to 100")
    return round(x, ndigits) if ndigits else round(x)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp,
    "log": math.log, "log10": math.log10, "log2": math.log2, "abs": abs, "round": _round,
    "min": min, "max": max, "floor": math.floor, "ceil": math.ceil,
}


@tool(builtin=True)
def calculator(ctx: ToolContext, expression: Annotated[str, {"minLength": 1, "maxLength": MAX_LENGTH}]) -> dict:
    """Evaluate an arithmetic expression exactly and return the number. Supports + - * / // % **,
    parentheses, decimals, pi, e, tau and sqrt, sin, cos, tan (radians), exp, log (natural, or
    log(x, base)), log10, log2, abs, round, min, max, floor, ceil.

    Args:
        expression: The expression, e.g. "(2 + 3) * sqrt(16) / 4".
    """
    return {"expression": expression, "result": evaluate(expression)}


def evaluate(expression: str) -> int | float:
    """The value of ``expression``; raises ``ToolError`` for anything outside the whitelist."""
    if len(expression) > MAX_LENGTH:
        raise ToolError("invalid_expression", f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ToolError("invalid_expression", "not a valid arithmetic expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ToolError("invalid_expression", f"the expression has more than {MAX_NODES} parts")
    try:
        value = _eval(tree.body)
    except ZeroDivisionError:
        raise ToolError("math_error", "division by zero") from None
    except OverflowError:
        raise ToolError("math_error", "the result is too large") from None
    except (ValueError, TypeError) as exc:
        raise ToolError("math_error", f"math error: {exc}") from None
    return _checked(value)


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        # bool is an int subclass; True/False, strings and complex literals are not numbers here.
        if type(node.value) in (int, float):
            return _checked(node.value)
        raise ToolError("invalid_expression", f"{node.value!r} is not a number")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS \
            and not node.keywords:
        return _checked(_FUNCTIONS[node.func.id](*[_eval(a) for a in node.args]))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
        raise ToolError("invalid_expression", "'^' is not a power here; use ** (e.g. 2 ** 8)")
    raise ToolError("invalid_expression", f"{_describe(node)} is not allowed in a calculation")


def _check_power(base: Any, exponent: Any) -> None:
    """Refuse powers whose integer result would be enormous, before computing them."""
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0:
        if exponent * math.log2(abs(base)) > MAX_INT_BITS:
            raise ToolError("math_error", "the result is too large")


def _checked(value: Any) -> Any:
    if isinstance(value, complex):
        raise ToolError("math_error", "the result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ToolError("math_error", "the result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("math_error", "the result is not a finite number")
    return value


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return f"the name {node.id!r}"
    if isinstance(node, ast.Call):
        return "calling " + (f"{node.func.id!r}" if isinstance(node.func, ast.Name) else "that")
    return {ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Compare: "comparison",
            ast.Lambda: "lambda"}.get(type(node), type(node).__name__)
