"""The state machine as a networkx graph, drawn as Mermaid or Graphviz DOT.

Nodes are states (nested Parallel/Map states carry their container as ``parent``); edges are
``next``, ``default``, ``choice`` and ``catch`` transitions, plus ``branch`` edges from a
Parallel or Map state to the start of each branch (or of its item processor) and ``join``
edges from each branch's last states to the state that follows the Parallel or Map, so the
branches are drawn connected to the flow rather than floating beside it (Mermaid draws the
Parallel as a subgraph that incoming edges enter, so only DOT draws the ``branch`` edges). A
state is a compensation (part of the unwind chain) when named in ``compensations`` or when it
is reached only through Catch edges; transitions into the unwind chain are compensation edges,
drawn apart from forward ones.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from typing import Any, Literal

import networkx as nx

from engine.model import (
    Catcher,
    ChoiceRule,
    ChoiceState,
    MapState,
    ParallelState,
    State,
    StateMachine,
)

__all__ = ["GraphFormat", "machine_graph", "render_graph", "to_dot", "to_mermaid"]

GraphFormat = Literal["mermaid", "dot"]
_CATCH_COLOUR = "#d62728"
_COMPENSATION_COLOUR = "#e67e22"
_LABEL_LIMIT = 60


def _describe(rule: ChoiceRule) -> str:
    if rule.and_ is not None:
        return " and ".join(f"({_describe(r)})" for r in rule.and_)
    if rule.or_ is not None:
        return " or ".join(f"({_describe(r)})" for r in rule.or_)
    if rule.not_ is not None:
        return f"not ({_describe(rule.not_)})"
    if rule.condition is not None:
        return str(rule.condition)
    tests = " ".join(
        f"{op} {json.dumps(v, ensure_ascii=False)}" for op, v in rule.operators().items()
    )
    return f"{rule.variable} {tests}".strip()


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_LIMIT else text[: _LABEL_LIMIT - 1] + "…"


def _catch_label(catcher: Catcher) -> str:
    return "catch " + ", ".join(catcher.error_equals)


def _transitions(state: State) -> Iterator[tuple[str, str, str]]:
    """(target, kind, label) for every transition out of ``state``, in definition order."""
    if isinstance(state, ChoiceState):
        for rule in state.choices:
            if rule.next is not None:
                yield rule.next, "choice", _short(_describe(rule))
        if state.default is not None:
            yield state.default, "default", "default"
    else:
        following = getattr(state, "next", None)
        if following is not None:
            yield following, "next", ""
    for catcher in getattr(state, "catch", None) or ():
        yield catcher.next, "catch", _short(_catch_label(catcher))


def _children(state: State) -> list[tuple[str, Mapping[str, State]]]:
    if isinstance(state, ParallelState):
        return [(branch.start_at, branch.states) for branch in state.branches]
    if isinstance(state, MapState) and (state.item_processor or state.iterator):
        return [(state.processor.start_at, state.processor.states)]
    return []


def _branch_ends(states: Mapping[str, State]) -> list[str]:
    """The states of a branch that end it successfully (``End`` or ``Succeed``)."""
    return [
        name
        for name, state in states.items()
        if state.type == "Succeed" or getattr(state, "end", None) is True
    ]


def _drawn_edges(graph: nx.MultiDiGraph[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """The edges to draw: a Parallel or Map whose branches join its successor is not also
    drawn jumping there directly."""
    joined = {
        (graph.nodes[source]["parent"], target)
        for source, target, data in graph.edges(data=True)
        if data["kind"] == "join"
    }
    return [
        (source, target, data)
        for source, target, data in graph.edges(data=True)
        if not (data["kind"] == "next" and (source, target) in joined)
    ]


def _unwind(start: str, states: Mapping[str, State]) -> set[str]:
    """States of one scope not reachable from its start without taking a Catch edge."""
    forward: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in forward or name not in states:
            continue
        forward.add(name)
        pending.extend(t for t, kind, _ in _transitions(states[name]) if kind != "catch")
    return set(states) - forward


def _add_scope(
    graph: nx.MultiDiGraph[str],
    *,
    start: str,
    states: Mapping[str, State],
    parent: str | None,
    inherited: bool,
    compensations: Collection[str],
) -> None:
    unwind = _unwind(start, states)
    for name, state in states.items():
        graph.add_node(
            name,
            type=state.type,
            parent=parent,
            start=name == start,
            compensation=inherited or name in unwind or name in compensations,
        )
    for name, state in states.items():
        for target, kind, label in _transitions(state):
            graph.add_edge(name, target, kind=kind, label=label)
        children = _children(state)
        following = getattr(state, "next", None)
        for index, (sub_start, sub_states) in enumerate(children, start=1):
            label = "each item" if isinstance(state, MapState) else f"branch {index}"
            graph.add_edge(name, sub_start, kind="branch", label=label)
            if following is not None:
                for last in _branch_ends(sub_states):
                    graph.add_edge(last, following, kind="join", label="")
        for sub_start, sub_states in children:
            _add_scope(
                graph,
                start=sub_start,
                states=sub_states,
                parent=name,
                inherited=graph.nodes[name]["compensation"],
                compensations=compensations,
            )


def machine_graph(
    machine: StateMachine, compensations: Collection[str] | None = None
) -> nx.MultiDiGraph[str]:
    """The transition graph; node and edge attributes say what is forward and what unwinds."""
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(start=machine.start_at)
    _add_scope(
        graph,
        start=machine.start_at,
        states=machine.states,
        parent=None,
        inherited=False,
        compensations=compensations or (),
    )
    for _, target, data in graph.edges(data=True):
        known = target in graph.nodes
        data["compensation"] = (
            data["kind"] != "catch" and known and graph.nodes[target]["compensation"]
        )
    return graph


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;").replace("\n", " ") + '"'


_MERMAID_SHAPES = {
    "Choice": "{%s}",
    "Pass": "(%s)",
    "Wait": "(%s)",
    "Succeed": "([%s])",
    "Fail": "([%s])",
}


def to_mermaid(graph: nx.MultiDiGraph[str]) -> str:
    """Mermaid ``flowchart TD`` text: catch edges dotted red, compensation edges thick orange."""
    ids = {name: f"s{index}" for index, name in enumerate(graph.nodes)}
    lines = ["flowchart TD"]

    def emit_scope(parent: str | None, indent: str) -> None:
        for name, data in graph.nodes(data=True):
            if data["parent"] != parent:
                continue
            if data["type"] in ("Parallel", "Map"):
                lines.append(f"{indent}subgraph {ids[name]} [{_mermaid_text(name)}]")
                lines.append(f"{indent}  direction TB")
                emit_scope(name, indent + "  ")
                lines.append(f"{indent}end")
            else:
                shape = _MERMAID_SHAPES.get(data["type"], "[%s]")
                lines.append(f"{indent}{ids[name]}{shape % _mermaid_text(name)}")

    lines.append("  start(( ))")
    emit_scope(None, "  ")
    lines.append(f"  start --> {ids[graph.graph['start']]}")
    catch_links: list[int] = []
    compensation_links: list[int] = []
    drawn = [edge for edge in _drawn_edges(graph) if edge[2]["kind"] != "branch"]
    for index, (source, target, data) in enumerate(drawn, start=1):
        target_id = ids.get(target, f"missing{index}")
        arrow = "-.->" if data["kind"] == "catch" else "==>" if data["compensation"] else "-->"
        label = f"|{_mermaid_text(data['label'])}|" if data["label"] else ""
        lines.append(f"  {ids[source]} {arrow}{label} {target_id}")
        if data["kind"] == "catch":
            catch_links.append(index)
        elif data["compensation"]:
            compensation_links.append(index)
    if catch_links:
        joined = ",".join(map(str, catch_links))
        lines.append(f"  linkStyle {joined} stroke:{_CATCH_COLOUR},color:{_CATCH_COLOUR}")
    if compensation_links:
        joined = ",".join(map(str, compensation_links))
        lines.append(f"  linkStyle {joined} stroke:{_COMPENSATION_COLOUR}")
    compensation_nodes = [ids[n] for n, d in graph.nodes(data=True) if d["compensation"]]
    if compensation_nodes:
        lines.append(f"  classDef compensation stroke:{_COMPENSATION_COLOUR},stroke-width:2px")
        lines.append(f"  class {','.join(compensation_nodes)} compensation")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_DOT_SHAPES = {"Choice": "diamond", "Succeed": "doublecircle", "Fail": "doubleoctagon"}


def to_dot(graph: nx.MultiDiGraph[str], name: str = "StateMachine") -> str:
    """Graphviz DOT text: catch edges dashed red, compensation edges bold orange."""
    lines = [f"digraph {_dot_text(name)} {{", "  rankdir=TB;", "  node [shape=box, style=rounded];"]
    lines.append('  "__start" [shape=point, label=""];')
    clusters = iter(range(len(graph.nodes) + 1))

    def emit_scope(parent: str | None, indent: str) -> None:
        for state, data in graph.nodes(data=True):
            if data["parent"] != parent:
                continue
            attributes = [f"shape={_DOT_SHAPES.get(data['type'], 'box')}"]
            if data["compensation"]:
                attributes.append(f'color="{_COMPENSATION_COLOUR}"')
            lines.append(f"{indent}{_dot_text(state)} [{', '.join(attributes)}];")
            if data["type"] in ("Parallel", "Map"):
                lines.append(f"{indent}subgraph cluster_{next(clusters)} {{")
                lines.append(f"{indent}  label={_dot_text(state)};")
                emit_scope(state, indent + "  ")
                lines.append(f"{indent}}}")

    emit_scope(None, "  ")
    lines.append(f'  "__start" -> {_dot_text(graph.graph["start"])};')
    for source, target, data in _drawn_edges(graph):
        attributes = []
        if data["label"]:
            attributes.append(f"label={_dot_text(data['label'])}")
        if data["kind"] == "catch":
            attributes += [
                "style=dashed",
                f'color="{_CATCH_COLOUR}"',
                f'fontcolor="{_CATCH_COLOUR}"',
            ]
        elif data["compensation"]:
            attributes += ["style=bold", f'color="{_COMPENSATION_COLOUR}"']
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_dot_text(source)} -> {_dot_text(target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_graph(
    machine: StateMachine,
    fmt: GraphFormat = "mermaid",
    *,
    compensations: Collection[str] | None = None,
    name: str = "StateMachine",
) -> str:
    """The machine drawn as Mermaid or DOT text."""
    graph = machine_graph(machine, compensations)
    return to_mermaid(graph) if fmt == "mermaid" else to_dot(graph, name)
