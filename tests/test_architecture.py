"""The layering of docs/architecture.md, enforced on the import graph of src/linkage.

Read from the source (every import, lazy and type-only ones too), not from what a
run happened to import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import linkage

ROOT = Path(linkage.__file__).parent

# Lowest first. A module may import from a lower layer, or from its own package;
# never from its own layer (so stages never import stages) nor from a higher one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("exceptions", "_version", "_memory"),
    ("io", "_codes", "_kinds"),
    ("normalise", "national"),
    ("identifiers", "_keyfile", "synthetic"),
    ("keys",),
    ("comparisons", "rules", "preparers"),  # the libraries a spec is made of
    ("config",),
    ("presets",),
    (
        "prepare",
        "blocking",
        "compare",
        "model",
        "resolve",
        "pseudonymise",
        "evaluate",
        "trace",
        "overrides",
    ),
    ("pipeline", "review"),
    ("exchange", "charts", "dedupe", "encoding"),
    ("cli",),
    ("__main__",),
)
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = ("linkage", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The linkage modules ``name`` imports: ``from a import b`` names ``a.b`` where
    that is a module, else ``a``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return {m for m in found if m == "linkage" or m.startswith("linkage.")}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_every_module_has_a_layer() -> None:
    tops = {_top(m) for m in MODULES} - {""}
    assert tops <= set(LAYER), f"add {sorted(tops - set(LAYER))} to LAYERS"


def _upward(module: str, targets: set[str]) -> list[str]:
    """The targets ``module`` may not import: its own layer or higher, outside its package."""
    top = _top(module)
    return sorted(t for t in targets if _top(t) != top and not LAYER.get(_top(t), 99) < LAYER[top])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "linkage"))
def test_imports_only_lower_layers(module: str) -> None:
    wrong = _upward(module, GRAPH[module])
    assert not wrong, f"{module} (layer {LAYER[_top(module)]}) imports {wrong}"


def test_nothing_inside_imports_the_top_level_package() -> None:
    offenders = sorted(m for m, targets in GRAPH.items() if m != "linkage" and "linkage" in targets)
    assert not offenders, f"{offenders} import names from linkage/__init__.py"


def test_no_import_cycles() -> None:
    assert not _cycles(GRAPH)


def test_the_checks_catch_what_they_are_for() -> None:
    # The graph is read as the tests above read it ...
    assert "linkage.rules" in GRAPH["linkage.config"]
    assert "linkage.model._em" in GRAPH["linkage.model._fit"]
    # ... and a stage importing a stage, config importing a stage, or a cycle shows.
    assert _upward("linkage.compare", {"linkage.blocking"}) == ["linkage.blocking"]
    assert _upward("linkage.config", {"linkage.presets", "linkage.rules"}) == ["linkage.presets"]
    assert _upward("linkage.model._fit", {"linkage.model._em"}) == []
    planted = {"linkage.a": {"linkage.b"}, "linkage.b": {"linkage.c"}, "linkage.c": {"linkage.a"}}
    assert _cycles(planted) == [["linkage.a", "linkage.b", "linkage.c"]]


def test_the_architecture_doc_states_these_layers() -> None:
    doc = ROOT.parent.parent / "docs" / "architecture.md"
    if not doc.exists():
        pytest.skip("not a source checkout")
    stated = {
        name.strip("`/"): int(rank)
        for rank, names in re.findall(r"^\| (\d+) \| (`[^|]+`) \|", doc.read_text(), re.M)
        for name in names.split(", ")
    }
    assert stated == {name: rank for name, rank in LAYER.items() if name != "__main__"}
