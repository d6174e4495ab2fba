"""The import graph of engine, saga and asl_export: no loops, and every arrow runs down the layers.

The graph is built from the source with ``ast``: imports at module level and inside functions both
count (a deferred import is still a dependency). Imports under ``if TYPE_CHECKING:`` never run, so
they are kept apart: they must respect the layers, but they are not counted for loops. The layers
are read from README's "Layers" section, so the table a reader sees is the rule the test applies.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "saga", "asl_export")

# Loops that still exist, each with why it is not cut yet. The test fails when one of these is
# gone (or has changed), so the list can only shrink.
ALLOWED_LOOPS: dict[frozenset[str], str] = {}

# Imports that run up the engine's layers, each with why it is not turned round yet. Same rule:
# the test fails when one of these is gone.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


@dataclass
class ImportGraph:
    """Module-to-module imports: ``runtime`` ones (top level or in functions) and type-only ones."""

    runtime: nx.DiGraph = field(default_factory=nx.DiGraph)
    type_only: nx.DiGraph = field(default_factory=nx.DiGraph)

    def all_edges(self) -> set[tuple[str, str]]:
        return set(self.runtime.edges()) | set(self.type_only.edges())


def _modules(root: Path, packages: tuple[str, ...]) -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, whether it is a package ``__init__``)."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]
) -> list[str]:
    """The known modules an import statement names (``from pkg import sub`` names ``pkg.sub``)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            names.append(submodule if submodule in known else source)
    targets = []
    for name in names:
        target = name
        while target not in known and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in known and target != module:
            targets.append(target)
    return targets


def build_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> ImportGraph:
    """The import graph of ``packages`` under ``root``, read from their source."""
    modules = _modules(root, packages)
    known = set(modules)
    graph = ImportGraph()
    for module, (path, is_package) in modules.items():
        graph.runtime.add_node(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        type_only: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node):
                for statement in node.body:
                    type_only.update(id(inner) for inner in ast.walk(statement))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            target_graph = graph.type_only if id(node) in type_only else graph.runtime
            for target in _targets(node, module, is_package, known):
                target_graph.add_edge(module, target)
    return graph


def loops(graph: nx.DiGraph) -> list[frozenset[str]]:
    """Every set of modules that import one another in a circle."""
    return sorted(
        (frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1),
        key=sorted,
    )


def describe_loop(graph: nx.DiGraph, members: frozenset[str]) -> str:
    """One circle through the loop, written ``a -> b -> a``, and the loop's members."""
    cycle = nx.find_cycle(graph.subgraph(members))
    path = " -> ".join([cycle[0][0], *(edge[1] for edge in cycle)])
    return f"{path}  (loop of {len(members)}: {', '.join(sorted(members))})"


# ---------------------------------------------------------------------------------------------
# README's layer tables


def _layers_section(readme: str) -> str:
    match = re.search(r"^### Layers\n(.*?)(?=^#{1,3} )", readme + "\n## end\n", re.M | re.S)
    assert match, "README.md has no '### Layers' section"
    return match.group(1)


def _table_rows(section: str, header: str) -> list[list[str]]:
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _backticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def package_rules(readme: str) -> dict[str, set[str]]:
    """Package → the packages it may import, from README."""
    rows = _table_rows(_layers_section(readme), "| package | may import |")
    return {_backticked(name)[0]: set(_backticked(allowed)) for name, allowed in rows}


LAYERED = ("engine", "saga")
"""The packages whose inside README splits into layers."""

Layers = list[tuple[str, list[str]]]


def package_layers(readme: str, package: str) -> Layers:
    """The layers of ``package`` from the bottom up, each with its module prefixes.

    ``__init__`` names the package itself; ``*`` stands for every module no other row names.
    """
    rows = _table_rows(_layers_section(readme), f"| layer | modules of `{package}` |")
    layers = []
    for name, cell in rows:
        prefixes = []
        for entry in _backticked(cell):
            stem = entry.rstrip("/").replace("/", ".")
            prefixes.append(
                package if stem == "__init__" else "*" if stem == "*" else f"{package}.{stem}"
            )
        layers.append((name, prefixes))
    return list(reversed(layers))


def layer_of(module: str, layers: Layers) -> int | None:
    """The index (0 = bottom) of the layer holding ``module``, or None when it has none."""
    fallback = None
    for index, (_, prefixes) in enumerate(layers):
        for prefix in prefixes:
            if prefix == "*":
                fallback = index
            elif module == prefix or ("." in prefix and module.startswith(prefix + ".")):
                return index
    return fallback


# ---------------------------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return build_graph(ROOT)


@pytest.fixture(scope="module")
def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_graph_reads_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.a import A\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import json\n"
        "from . import b\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.sub.c import C\n"
        "class A:\n"
        "    def f(self):\n"
        "        from .sub import c\n"
        "        return c\n"
    )
    (pkg / "b.py").write_text("import pkg.sub.c\nfrom pkg import a\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from ..b import thing\nfrom pkg.sub import missing\n")

    built = build_graph(tmp_path, ("pkg",))

    assert sorted(built.runtime.edges()) == [
        ("pkg", "pkg.a"),
        ("pkg.a", "pkg.b"),
        ("pkg.a", "pkg.sub.c"),
        ("pkg.b", "pkg.a"),
        ("pkg.b", "pkg.sub.c"),
        ("pkg.sub.c", "pkg.b"),
        ("pkg.sub.c", "pkg.sub"),
    ]
    assert sorted(built.type_only.edges()) == [("pkg.a", "pkg.sub.c")]
    assert loops(built.runtime) == [frozenset({"pkg.a", "pkg.b", "pkg.sub.c"})]
    description = describe_loop(built.runtime, loops(built.runtime)[0])
    assert description.endswith("(loop of 3: pkg.a, pkg.b, pkg.sub.c)")
    circle = description.split("  (")[0].split(" -> ")
    assert circle[0] == circle[-1] and len(circle) in (3, 4)


def test_readme_layer_tables_are_read(readme: str) -> None:
    assert package_rules(readme) == {
        "engine": {"engine"},
        "asl_export": {"asl_export", "engine"},
        "saga": {"saga", "asl_export", "engine"},
    }
    layers = package_layers(readme, "engine")
    assert layers[0][0] == "base" and layers[-1][0] == "facade"
    assert layer_of("engine.model", layers) == 1
    assert layer_of("engine.states.task_state", layers) == layer_of("engine.interpreter", layers)
    assert layer_of("engine", layers) == len(layers) - 1
    assert layer_of("engine.modelling", layers) is None
    saga_layers = package_layers(readme, "saga")
    assert layer_of("saga.cli.run_cmd", saga_layers) == len(saga_layers) - 1
    assert layer_of("saga.compile", saga_layers) == layer_of("saga", saga_layers) == 0


def test_no_import_loops(graph: ImportGraph) -> None:
    found = loops(graph.runtime)
    unexpected = [describe_loop(graph.runtime, loop) for loop in found if loop not in ALLOWED_LOOPS]
    gone = [sorted(loop) for loop in ALLOWED_LOOPS if loop not in found]
    assert not unexpected, "import loops:\n" + "\n".join(unexpected)
    assert not gone, f"allowlisted loops that no longer exist (remove them): {gone}"


def test_packages_import_only_what_readme_allows(graph: ImportGraph, readme: str) -> None:
    rules = package_rules(readme)
    assert set(rules) == set(PACKAGES)
    wrong = sorted(
        f"{source} -> {target}"
        for source, target in graph.all_edges()
        if target.split(".")[0] not in rules[source.split(".")[0]]
    )
    assert not wrong, "imports across packages against README's layers:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", LAYERED)
def test_every_module_has_a_layer(graph: ImportGraph, readme: str, package: str) -> None:
    layers = package_layers(readme, package)
    modules = [m for m in graph.runtime.nodes if m.split(".")[0] == package]
    missing = sorted(m for m in modules if layer_of(m, layers) is None)
    assert not missing, f"{package} modules missing from README's layer table: {missing}"


def _upward(graph: ImportGraph, layers: Layers, package: str) -> set[tuple[str, str]]:
    upward = set()
    for source, target in graph.all_edges():
        if source.split(".")[0] != package or target.split(".")[0] != package:
            continue
        low, high = layer_of(target, layers), layer_of(source, layers)
        if low is not None and high is not None and low > high:
            upward.add((source, target))
    return upward


def test_an_upward_import_is_found(readme: str) -> None:
    made = ImportGraph()
    made.runtime.add_edges_from(
        [("engine.model", "engine.errors"), ("engine.paths", "engine.local_engine")]
    )
    made.type_only.add_edge("engine.model", "engine.validate.checker")
    made.runtime.add_edge("saga.compile", "saga.cli.run_cmd")
    assert _upward(made, package_layers(readme, "engine"), "engine") == {
        ("engine.paths", "engine.local_engine"),
        ("engine.model", "engine.validate.checker"),
    }
    assert _upward(made, package_layers(readme, "saga"), "saga") == {
        ("saga.compile", "saga.cli.run_cmd")
    }


def test_imports_run_down_the_layers(graph: ImportGraph, readme: str) -> None:
    upward: set[tuple[str, str]] = set()
    unexpected = []
    for package in LAYERED:
        layers = package_layers(readme, package)
        found = _upward(graph, layers, package)
        upward |= found

        def named(module: str, layers: Layers = layers) -> str:
            return f"{module} ({layers[layer_of(module, layers) or 0][0]})"

        unexpected += [f"{named(s)} -> {named(t)}" for s, t in found - set(ALLOWED_UPWARD)]
    gone = sorted(edge for edge in ALLOWED_UPWARD if edge not in upward)
    assert not unexpected, "imports up the layers:\n" + "\n".join(sorted(unexpected))
    assert not gone, f"allowlisted upward imports that no longer exist (remove them): {gone}"
