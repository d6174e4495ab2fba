"""The golden exports checked by something other than themselves.

``test_export_golden.py`` compares each export with its golden file, which only shows that
the output did not change. Here the goldens are held to outside judges and to the machine:

- every SAM template passes cfn-lint (which expands the SAM transform);
- every DOT graph is parsed by Graphviz's own parser (``dot -Tjson``), and its nodes and
  edges are the machine's states and transitions, read from the golden ASL definition;
- every Mermaid flowchart is parsed (node declarations and edges) and compared the same way.

A transition is ``(from, to, kind)``: ``next`` for ``Next``, a Choice rule or ``Default``,
``catch`` for each catcher (two catchers to one state are two edges), and the start edge from
``StartAt``, in every scope. A Parallel or Map is drawn with its branches inside it: the last
states of each branch (``End`` or ``Succeed``) are joined to the state after it (which it then
does not jump to itself), and DOT also draws a ``branch`` edge from it to each branch's start.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = sorted(p.name.removesuffix(".asl.json") for p in GOLDEN.glob("*.asl.json"))
EXAMPLES = [e for e in EXAMPLES if not e.endswith(".resolved")]
START = "(start)"

Edge = tuple[str, str, str]


def _scopes(scope: dict[str, Any]) -> list[dict[str, Any]]:
    """``scope`` and every scope nested in it (branches, item processors), depth first."""
    out = [scope]
    for state in scope["States"].values():
        for branch in state.get("Branches", []):
            out += _scopes(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor is not None:
            out += _scopes(processor)
    return out


def _branches(state: dict[str, Any]) -> list[dict[str, Any]]:
    processor = state.get("ItemProcessor") or state.get("Iterator")
    return [*state.get("Branches", []), *([processor] if processor is not None else [])]


def _ends(scope: dict[str, Any]) -> list[str]:
    return [
        name
        for name, state in scope["States"].items()
        if state["Type"] == "Succeed" or state.get("End") is True
    ]


def _transitions(scope: dict[str, Any], *, branch_edges: bool) -> Counter[Edge]:
    edges: Counter[Edge] = Counter()
    for name, state in scope["States"].items():
        joins = [
            (end, state["Next"], "next")
            for branch in _branches(state)
            for end in _ends(branch)
            if "Next" in state
        ]
        edges.update(joins)
        targets = [] if joins else [state.get("Next")]
        targets += [state.get("Default"), *(rule["Next"] for rule in state.get("Choices", []))]
        edges.update((name, target, "next") for target in targets if target is not None)
        edges.update((name, catcher["Next"], "catch") for catcher in state.get("Catch", []))
        if branch_edges:
            edges.update((name, branch["StartAt"], "branch") for branch in _branches(state))
    return edges


def machine_graph(example: str, *, branch_edges: bool) -> tuple[set[str], Counter[Edge]]:
    """All state names, and the transitions of every scope with the start edge."""
    definition = json.loads((GOLDEN / f"{example}.asl.json").read_text(encoding="utf-8"))
    scopes = _scopes(definition)
    edges: Counter[Edge] = Counter({(START, definition["StartAt"], "next"): 1})
    for scope in scopes:
        edges += _transitions(scope, branch_edges=branch_edges)
    return {name for scope in scopes for name in scope["States"]}, edges


def _assert_graph(
    example: str, file: str, nodes: set[str], edges: Counter[Edge], start: str
) -> None:
    names, expected = machine_graph(example, branch_edges=file.endswith(".dot"))
    assert nodes - {start} == names, (
        f"{file}: nodes differ from the states of {example}.asl.json: "
        f"missing {sorted(names - nodes)}, extra {sorted(nodes - {start} - names)}"
    )
    drawn = Counter({(START if a == start else a, b, k): n for (a, b, k), n in edges.items()})
    assert drawn == expected, (
        f"{file}: edges differ from the transitions of {example}.asl.json\n"
        f"  not drawn: {sorted((expected - drawn).elements())}\n"
        f"  not in the machine: {sorted((drawn - expected).elements())}"
    )


# -- SAM -----------------------------------------------------------------------------------------


def test_sam_goldens_pass_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        pytest.skip("cfn-lint not installed (pip install -e '.[dev]')")
    files = sorted(GOLDEN.glob("*.sam.yaml"))
    assert [f.name for f in files] == [f"{e}.sam.yaml" for e in EXAMPLES]
    done = subprocess.run(
        [str(cfn_lint), *map(str, files)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- DOT -----------------------------------------------------------------------------------------


def _dot() -> str:
    dot = shutil.which("dot")
    if dot is None:
        pytest.fail("Graphviz's dot is not installed (apt-get install graphviz; .ci/run does)")
    return dot


def parse_dot(path: Path) -> tuple[set[str], Counter[Edge]]:
    """Nodes and edges as Graphviz reads them (catch edges are the dashed ones)."""
    done = subprocess.run(
        [_dot(), "-Tjson", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{path.name}: Graphviz cannot read it: {done.stderr}"
    graph = json.loads(done.stdout)
    by_id: dict[int, str] = {}
    for item in graph.get("objects", []):
        if "nodes" not in item:  # a cluster lists its nodes; a node does not
            by_id[item["_gvid"]] = item["name"]
    edges: Counter[Edge] = Counter()
    for edge in graph.get("edges", []):
        dashed = "dashed" in edge.get("style", "")
        label = edge.get("label", "")
        assert dashed == label.startswith("catch "), (
            f"{path.name}: edge {by_id[edge['tail']]} -> {by_id[edge['head']]} labelled "
            f"{label!r} is {'dashed' if dashed else 'solid'}; catch edges, and only they, dash"
        )
        branch = label.startswith("branch ") or label == "each item"
        kind = "catch" if dashed else "branch" if branch else "next"
        edges[(by_id[edge["tail"]], by_id[edge["head"]], kind)] += 1
    return set(by_id.values()), edges


@pytest.mark.parametrize("example", EXAMPLES)
def test_dot_golden_is_the_machine(example: str) -> None:
    nodes, edges = parse_dot(GOLDEN / f"{example}.dot")
    _assert_graph(example, f"{example}.dot", nodes, edges, "__start")


# -- Mermaid -------------------------------------------------------------------------------------

_MERMAID_NODE = re.compile(
    r'^\s*(?P<id>\w+)(?:\["(?P<box>.*)"\]|\{"(?P<diamond>.*)"\}|\(\["(?P<stadium>.*)"\]\)'
    r'|\("(?P<round>.*)"\)|\(\( \)\))\s*$'
)
_MERMAID_SUBGRAPH = re.compile(r'^\s*subgraph (?P<id>\w+) \["(?P<name>.*)"\]\s*$')
_MERMAID_EDGE = re.compile(
    r'^\s*(?P<tail>\w+) (?P<arrow>-->|-\.->|==>)(?:\|"(?P<label>.*)"\|)? (?P<head>\w+)\s*$'
)
_MERMAID_OTHER = re.compile(
    r"^\s*(flowchart \w+|direction \w+|end|linkStyle .*|classDef .*|class .*)$"
)


def _unescape(text: str) -> str:
    return text.replace("#quot;", '"').replace("#35;", "#")


def parse_mermaid(path: Path) -> tuple[set[str], Counter[Edge], str]:
    """Nodes, edges and the start node's id of a flowchart; every line must be understood."""
    names: dict[str, str] = {}
    raw_edges: list[tuple[str, str, str, str]] = []
    start = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if match := _MERMAID_EDGE.match(line):
            raw_edges.append((match["tail"], match["head"], match["arrow"], match["label"] or ""))
        elif match := _MERMAID_SUBGRAPH.match(line):
            names[match["id"]] = _unescape(match["name"])
        elif match := _MERMAID_NODE.match(line):
            label = next(
                (match[k] for k in ("box", "diamond", "stadium", "round") if match[k] is not None),
                None,
            )
            if label is None:
                start = names[match["id"]] = match["id"]
            else:
                names[match["id"]] = _unescape(label)
        else:
            assert _MERMAID_OTHER.match(line), f"{path.name}:{number}: cannot read {line!r}"
    edges: Counter[Edge] = Counter()
    for tail, head, arrow, label in raw_edges:
        assert tail in names and head in names, f"{path.name}: edge {tail} -> {head} to no node"
        catch = arrow == "-.->"
        assert catch == label.startswith("catch "), (
            f"{path.name}: edge {names[tail]} -> {names[head]} labelled {label!r} drawn {arrow}"
        )
        edges[(names[tail], names[head], "catch" if catch else "next")] += 1
    return set(names.values()), edges, start


@pytest.mark.parametrize("example", EXAMPLES)
def test_mermaid_golden_is_the_machine(example: str) -> None:
    nodes, edges, start = parse_mermaid(GOLDEN / f"{example}.mmd")
    assert start, f"{example}.mmd: no start node"
    _assert_graph(example, f"{example}.mmd", nodes, edges, start)


def test_a_wrong_edge_is_seen(tmp_path: Path) -> None:
    """The comparison can fail: a golden with one edge moved does not match the machine."""
    text = (GOLDEN / "orders.dot").read_text(encoding="utf-8")
    moved = text.replace('"Review" -> "Save Order";', '"Review" -> "Charge Card";')
    assert moved != text
    (tmp_path / "orders.dot").write_text(moved, encoding="utf-8")
    nodes, edges = parse_dot(tmp_path / "orders.dot")
    with pytest.raises(AssertionError, match="not drawn: \\[\\('Review', 'Save Order'"):
        _assert_graph("orders", "orders.dot", nodes, edges, "__start")
