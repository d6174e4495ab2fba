"""A layered (Sugiyama-style) layout of a state machine, computed from the model alone.

Each scope (the machine, every Parallel branch, every Map processor) is laid out top to
bottom: back edges turned round, states given the longest-path layer from the start, long
edges broken by dummy points, layers ordered by barycentre sweeps, then x coordinates pulled
towards neighbours without overlap. A Parallel or Map state is a container box holding its
branches' layouts side by side. Everything is deterministic: same model, same coordinates.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import networkx as nx

from engine.model import MapState, ParallelState, State, StateMachine

__all__ = ["Box", "Layout", "Route", "layout_machine", "text_width"]

NODE_HEIGHT: Final = 38.0
_MIN_WIDTH: Final = 110.0
_MAX_WIDTH: Final = 260.0
_CHAR_WIDTH: Final = 7.0
_NODE_GAP: Final = 36.0
_DUMMY_GAP: Final = 14.0
_LAYER_GAP: Final = 52.0
_PAD: Final = 16.0
_TITLE: Final = 26.0
_BRANCH_GAP: Final = 20.0
_MARGIN: Final = 24.0
_SWEEPS: Final = 4


def text_width(text: str) -> float:
    """An estimate of ``text``'s width in pixels at the drawing's 13 px sans-serif font."""
    return len(text) * _CHAR_WIDTH


@dataclass
class Box:
    """A state's rectangle; containers also hold the rectangles of their branches."""

    name: str
    state_type: str
    x: float
    y: float
    width: float
    height: float
    branches: list[tuple[float, float, float, float]] = field(default_factory=list)

    @property
    def container(self) -> bool:
        """Whether this box holds branches (a Parallel or Map state)."""
        return self.state_type in ("Parallel", "Map")


@dataclass
class Route:
    """A transition drawn as a polyline through ``points`` (source port first)."""

    source: str
    target: str
    kind: str
    label: str
    compensation: bool
    points: list[tuple[float, float]]


@dataclass
class Layout:
    """Every box and route in absolute coordinates, and the drawing's size."""

    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float
    start: str


@dataclass
class _Scope:
    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float


def _node_width(name: str) -> float:
    return min(_MAX_WIDTH, max(_MIN_WIDTH, text_width(name) + 32))


def _children(state: State) -> list[tuple[str, Mapping[str, State]]]:
    if isinstance(state, ParallelState):
        return [(branch.start_at, branch.states) for branch in state.branches]
    if isinstance(state, MapState) and (state.item_processor or state.iterator):
        return [(state.processor.start_at, state.processor.states)]
    return []


def _back_edges(order: list[str], out: Mapping[str, list[str]], start: str) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first search from ``start`` (then the rest)."""
    back: set[tuple[str, str]] = set()
    colour: dict[str, int] = {}
    for root in [start, *order]:
        if root in colour or root not in out:
            continue
        colour[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node, successors = stack[-1]
            following = next(successors, None)
            if following is None:
                colour[node] = 2
                stack.pop()
            elif following not in colour:
                colour[following] = 1
                stack.append((following, iter(out[following])))
            elif colour[following] == 1:
                back.add((node, following))
    return back


def _gap(left: str, right: str, widths: Mapping[str, float]) -> float:
    return _NODE_GAP if widths[left] and widths[right] else _DUMMY_GAP


def _place_layer(
    layer: list[str], desired: Mapping[str, float], widths: Mapping[str, float]
) -> dict[str, float]:
    """Centres in order, as near the desired ones as the gaps allow: the mean of a packing
    from the left and one from the right (both keep order and gaps, so their mean does)."""
    from_left: dict[str, float] = {}
    previous: str | None = None
    for node in layer:
        left = desired[node] - widths[node] / 2
        if previous is not None:
            bound = from_left[previous] + widths[previous] / 2 + _gap(previous, node, widths)
            left = max(left, bound)
        from_left[node] = left + widths[node] / 2
        previous = node
    from_right: dict[str, float] = {}
    previous = None
    for node in reversed(layer):
        right = desired[node] + widths[node] / 2
        if previous is not None:
            bound = from_right[previous] - widths[previous] / 2 - _gap(node, previous, widths)
            right = min(right, bound)
        from_right[node] = right - widths[node] / 2
        previous = node
    return {node: (from_left[node] + from_right[node]) / 2 for node in layer}


def _layout_scope(
    start: str,
    states: Mapping[str, State],
    edges: list[tuple[str, str, str, str, bool]],
) -> _Scope:
    order = list(states)
    widths: dict[str, float] = {}
    heights: dict[str, float] = {}
    inner: dict[str, list[_Scope]] = {}
    for name, state in states.items():
        children = _children(state)
        if children:
            scopes = [_layout_scope(s, st, edges) for s, st in children]
            inner[name] = scopes
            content = sum(s.width for s in scopes) + _BRANCH_GAP * (len(scopes) - 1)
            widths[name] = max(_node_width(name) + 40, content + 2 * _PAD)
            heights[name] = max(s.height for s in scopes) + _TITLE + 2 * _PAD
        else:
            widths[name] = _node_width(name)
            heights[name] = NODE_HEIGHT

    local = [e for e in edges if e[0] in states and e[1] in states]
    out: dict[str, list[str]] = {name: [] for name in order}
    for source, target, _, _, _ in sorted(local, key=lambda e: e[2] == "catch"):
        if source != target:
            out[source].append(target)
    back = _back_edges(order, out, start)
    dag: nx.DiGraph[str] = nx.DiGraph()
    dag.add_nodes_from(order)
    for source, targets in out.items():
        for target in targets:
            if (source, target) not in back:
                dag.add_edge(source, target)
    layer: dict[str, int] = {}
    for node in nx.topological_sort(dag):
        preds = list(dag.predecessors(node))
        layer[node] = max((layer[p] + 1 for p in preds), default=0)

    # dummy points for long edges; chains[i] is the node sequence of local edge i
    rank_of = {name: index for index, name in enumerate(_discovery(start, order, out))}
    chains: list[list[str]] = []
    for index, (source, target, _, _, _) in enumerate(local):
        if source == target:
            chains.append([source])
            continue
        upper, lower = (target, source) if (source, target) in back else (source, target)
        chain = [upper]
        for level in range(layer[upper] + 1, layer[lower]):
            dummy = f"\0{index}:{level}"
            layer[dummy] = level
            widths[dummy] = 0.0
            heights[dummy] = 0.0
            rank_of[dummy] = rank_of[upper]
            chain.append(dummy)
        chain.append(lower)
        chains.append(chain)

    depth = max(layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for node in sorted(layer, key=lambda n: (rank_of.get(n, 0), n.startswith("\0"))):
        layers[layer[node]].append(node)
    up: dict[str, list[str]] = {n: [] for n in layer}
    down: dict[str, list[str]] = {n: [] for n in layer}
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            if layer[b] == layer[a] + 1:
                down[a].append(b)
                up[b].append(a)

    position = {n: i for r in layers for i, n in enumerate(r)}

    def sweep(neighbours: Mapping[str, list[str]], sequence: list[list[str]]) -> None:
        for row in sequence:
            keys = {}
            for index, node in enumerate(row):
                near = [position[n] for n in neighbours[node]]
                keys[node] = sum(near) / len(near) if near else float(index)
            row.sort(key=lambda n: keys[n])
            position.update({n: i for i, n in enumerate(row)})

    for _ in range(_SWEEPS):
        sweep(up, layers[1:])
        sweep(down, layers[-2::-1])

    centre: dict[str, float] = {}
    for row in layers:
        x = 0.0
        for index, node in enumerate(row):
            if index:
                x += _gap(row[index - 1], node, widths)
            centre[node] = x + widths[node] / 2
            x += widths[node]
    for _ in range(_SWEEPS):
        for neighbours, rows in ((up, layers[1:]), (down, layers[-2::-1])):
            for row in rows:
                desired = {}
                for node in row:
                    near = [centre[n] for n in neighbours[node]]
                    desired[node] = sum(near) / len(near) if near else centre[node]
                centre.update(_place_layer(row, desired, widths))
    lefts = [centre[n] - widths[n] / 2 for n in layer]
    shift = -min(lefts, default=0.0)
    right = max((centre[n] + widths[n] / 2 + shift for n in layer), default=0.0)

    tops: list[float] = []
    y = 0.0
    for row in layers:
        tops.append(y)
        y += max((heights[n] for n in row), default=0.0) + _LAYER_GAP
    height = max(0.0, y - _LAYER_GAP)
    row_height = [max((heights[n] for n in row), default=0.0) for row in layers]

    boxes: dict[str, Box] = {}
    for name in order:
        x = centre[name] + shift - widths[name] / 2
        top = tops[layer[name]]
        boxes[name] = Box(name, states[name].type, x, top, widths[name], heights[name])
    routes: list[Route] = []
    for (source, target, kind, label, compensation), chain in zip(local, chains, strict=True):
        points: list[tuple[float, float]] = []
        for node in chain[1:-1]:
            x = centre[node] + shift
            points += [(x, tops[layer[node]]), (x, tops[layer[node]] + row_height[layer[node]])]
        if (source, target) in back:
            points.reverse()
        routes.append(Route(source, target, kind, label, compensation, points))
    _add_ports(boxes, routes, back)
    scope = _Scope(boxes, routes, right, height)
    for name, scopes in inner.items():
        _nest(scope, boxes[name], scopes)
    return scope


def _discovery(start: str, order: list[str], out: Mapping[str, list[str]]) -> list[str]:
    """States in depth-first discovery order from ``start`` (forward edges first)."""
    seen: dict[str, None] = {}
    for root in [start, *order]:
        pending = [root]
        while pending:
            node = pending.pop()
            if node in seen or node not in out:
                continue
            seen[node] = None
            pending.extend(reversed(out[node]))
    return list(seen)


def _add_ports(boxes: Mapping[str, Box], routes: list[Route], back: set[tuple[str, str]]) -> None:
    """End points on the boxes: forward edges leave the bottom and enter the top, spread out
    along the side; back edges and self-loops use the right side."""
    leaving: dict[str, list[Route]] = {}
    entering: dict[str, list[Route]] = {}
    for route in routes:
        if route.source == route.target or (route.source, route.target) in back:
            continue
        leaving.setdefault(route.source, []).append(route)
        entering.setdefault(route.target, []).append(route)

    def towards(route: Route, end: str) -> float:
        if route.points:
            return route.points[0 if end == "source" else -1][0]
        other = boxes[route.target if end == "source" else route.source]
        return other.x + other.width / 2

    starts: dict[int, tuple[float, float]] = {}
    ends: dict[int, tuple[float, float]] = {}
    for name, group in leaving.items():
        box = boxes[name]
        group.sort(key=lambda r: (towards(r, "source"), r.kind == "catch"))
        for index, route in enumerate(group):
            x = box.x + box.width * (index + 1) / (len(group) + 1)
            starts[id(route)] = (x, box.y + box.height)
    for name, group in entering.items():
        box = boxes[name]
        group.sort(key=lambda r: (towards(r, "target"), r.kind == "catch"))
        for index, route in enumerate(group):
            x = box.x + box.width * (index + 1) / (len(group) + 1)
            ends[id(route)] = (x, box.y)
    for route in routes:
        source, target = boxes[route.source], boxes[route.target]
        if id(route) in starts:
            route.points = [starts[id(route)], *route.points, ends[id(route)]]
            continue
        # a back edge or a self-loop: out of the source's right side, into the target's
        out_point = (source.x + source.width, source.y + source.height / 2)
        in_point = (target.x + target.width, target.y + target.height / 2)
        bend = max(source.x + source.width, target.x + target.width) + 24
        route.points = [
            out_point,
            (bend, out_point[1]),
            *[(max(x, bend), y) for x, y in route.points],
            (bend, in_point[1]),
            in_point,
        ]


def _nest(parent: _Scope, box: Box, scopes: list[_Scope]) -> None:
    """Place the branch layouts inside container ``box`` (coordinates made relative to it)."""
    content = sum(s.width for s in scopes) + _BRANCH_GAP * (len(scopes) - 1)
    x = box.x + (box.width - content) / 2
    y = box.y + _TITLE + _PAD
    for scope in scopes:
        box.branches.append((x - 8, y - 8, scope.width + 16, scope.height + 16))
        for inner in scope.boxes.values():
            _move(inner, x, y)
            parent.boxes[inner.name] = inner
        for route in scope.routes:
            route.points = [(px + x, py + y) for px, py in route.points]
            parent.routes.append(route)
        x += scope.width + _BRANCH_GAP


def _move(box: Box, dx: float, dy: float) -> None:
    box.x += dx
    box.y += dy
    box.branches = [(x + dx, y + dy, w, h) for x, y, w, h in box.branches]


def layout_machine(machine: StateMachine, graph: nx.MultiDiGraph[str]) -> Layout:
    """Lay out ``machine``; ``graph`` is its :func:`asl_export.graph.machine_graph`."""
    edges = [
        (source, target, str(data["kind"]), str(data["label"]), bool(data["compensation"]))
        for source, target, data in graph.edges(data=True)
        if target in graph.nodes
    ]
    scope = _layout_scope(machine.start_at, machine.states, edges)
    top = _MARGIN + 28  # room for the start marker
    for box in scope.boxes.values():
        _move(box, _MARGIN, top)
    for route in scope.routes:
        route.points = [(x + _MARGIN, y + top) for x, y in route.points]
    extent = max(
        [scope.width]
        + [x - _MARGIN for r in scope.routes for x, _ in r.points]
        + [b.x + b.width - _MARGIN for b in scope.boxes.values()]
    )
    return Layout(
        boxes=scope.boxes,
        routes=scope.routes,
        width=extent + 2 * _MARGIN,
        height=scope.height + top + _MARGIN,
        start=machine.start_at,
    )
