"""The house rules of docs/ARCHITECTURE.md, checked on the import graph of ``qorven_local``.

The graph is built with ``ast`` from every import statement in the package: at module top, inside
functions and under ``if TYPE_CHECKING:``. The layer table is read from the ``layers`` block of
docs/ARCHITECTURE.md, so the document and the check cannot drift apart.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qorven_local"
DOC = ROOT / "docs" / "ARCHITECTURE.md"


@dataclass(frozen=True)
class Import:
    source: str          # importing module, e.g. qorven_local.agents.loop
    target: str          # imported module of ours (or a third-party top-level name)
    line: int
    type_only: bool      # under ``if TYPE_CHECKING:``


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> list[Import]:
    """Every import in ``module``: ours resolved to the module imported, others to their top-level name."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, _ours(alias.name), node.lineno, type_only))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                name = f"{target}.{alias.name}"
                found.append(Import(module, name if name in MODULES else _ours(target), node.lineno, type_only))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return found


def _ours(name: str) -> str:
    """The deepest module of ours that ``name`` names, or the top-level name of a third-party import."""
    if not name.startswith("qorven_local"):
        return name.split(".")[0]
    parts = name.split(".")
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts)


ALL_IMPORTS = [imp for module in sorted(MODULES) for imp in imports_of(module)]


def read_layers() -> list[list[str]]:
    """The ``layers`` block of docs/ARCHITECTURE.md: one layer per line, lowest first, module patterns."""
    match = re.search(r"```layers\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match, "docs/ARCHITECTURE.md has no ```layers block"
    layers = []
    for line in match.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            _, _, patterns = line.partition(":")
            layers.append(patterns.split())
    return layers


LAYERS = read_layers()


def layer_of(module: str) -> int:
    """The layer of a module: a pattern naming the module beats one naming its package; longer beats shorter."""
    relative = module.removeprefix("qorven_local").lstrip(".") or "__init__"
    best: tuple[int, int] | None = None
    for index, patterns in enumerate(LAYERS):
        for pattern in patterns:
            if fnmatch.fnmatchcase(relative, pattern):
                rank = 1000 + len(pattern)  # a pattern for the module itself beats its package's
            elif fnmatchcase_package(relative, pattern):
                rank = len(pattern)
            else:
                continue
            if best is None or rank > best[0]:
                best = (rank, index)
    assert best is not None, f"{module} is in no layer of docs/ARCHITECTURE.md"
    return best[1]


def fnmatchcase_package(relative: str, pattern: str) -> bool:
    """``agents`` also names every module inside the ``agents`` package."""
    return "*" not in pattern and relative.startswith(pattern + ".")


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_imports_only_go_down_the_layers():
    wrong = []
    for imp in ALL_IMPORTS:
        if imp.target not in MODULES or imp.target == "qorven_local":
            continue
        if layer_of(imp.target) > layer_of(imp.source):
            wrong.append(f"{imp.source}:{imp.line} imports {imp.target} "
                         f"(layer {layer_of(imp.source)} -> {layer_of(imp.target)})")
    assert not wrong, "imports against the layer order of docs/ARCHITECTURE.md:\n" + "\n".join(wrong)


def test_no_import_cycles():
    """Module-level cycles, counting imports inside functions (they only hide a cycle, not remove it)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in ALL_IMPORTS:
        if imp.target in MODULES and not imp.type_only and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    cycles = _strongly_connected(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(sorted(c)) for c in cycles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


THIRD_PARTY_RULES = {
    # library: module patterns (relative to qorven_local) allowed to import it
    "falcon": ["web", "web.*"],
    "waitress": ["server"],
    "httpx": ["providers.*", "channels.*", "tools.builtin.http_get", "client", "cli.doctor", "mcp.connections",
              "cli.mcp"],
}


@pytest.mark.parametrize("library", sorted(THIRD_PARTY_RULES))
def test_third_party_libraries_stay_in_their_layer(library):
    allowed = THIRD_PARTY_RULES[library]
    wrong = []
    for imp in ALL_IMPORTS:
        if imp.target != library:
            continue
        relative = imp.source.removeprefix("qorven_local.")
        if not any(fnmatch.fnmatchcase(relative, pattern) for pattern in allowed):
            wrong.append(f"{imp.source}:{imp.line}")
    assert not wrong, f"{library} imported outside {allowed}: " + ", ".join(wrong)


def test_the_graph_sees_imports_inside_functions_and_type_checking_blocks():
    """The checks above are only as good as the graph: it must see every kind of import."""
    kinds = {(imp.type_only, imp.target) for imp in ALL_IMPORTS}
    assert any(type_only for type_only, _ in kinds), "no TYPE_CHECKING import seen"
    assert any(imp.target == "falcon" for imp in ALL_IMPORTS)
    layers_seen = {layer_of(m) for m in MODULES}
    assert len(layers_seen) == len(LAYERS), "a layer of docs/ARCHITECTURE.md holds no module"


def test_docstrings_name_only_files_in_the_repository():
    """A docstring citing a design note must cite one that ships with the code."""
    missing = []
    for module, path in MODULES.items():
        for name in re.findall(r"\b([\w./-]+\.md)\b", path.read_text(encoding="utf-8")):
            candidates = [ROOT / name, ROOT / "docs" / Path(name).name]
            if not any(c.exists() for c in candidates):
                missing.append(f"{module}: {name}")
    assert not missing, "files named in the code but not in the repository:\n" + "\n".join(missing)
