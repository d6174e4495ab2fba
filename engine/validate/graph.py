"""Graph checks of a definition: transition targets, scopes, reachability, termination.

Each Parallel branch and Map item processor is a closed scope: its states may only move
among themselves. networkx's traversals are iterative, so huge machines cannot overflow
the stack.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx

from engine._pointer import join
from engine.diagnostics import Diagnostic

__all__ = ["Edge", "Scope", "check_graph"]


@dataclass(frozen=True, slots=True)
class Edge:
    """A transition out of a state: its target name and where it is written."""

    target: str
    location: str


@dataclass(slots=True)
class Scope:
    """One set of states sharing a ``StartAt``: the machine, a branch or an item processor."""

    location: str
    start_at: str
    names: list[str]
    edges: dict[str, list[Edge]] = field(default_factory=dict)
    terminal: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    """States whose own transition is already reported (no follow-up reachability noise)."""

    def state_location(self, name: str) -> str:
        """The pointer of one state of this scope."""
        return join(self.location, "States", name)


def check_graph(scopes: list[Scope], owners: Mapping[str, list[int]]) -> list[Diagnostic]:
    """Transition, reachability and termination diagnostics of every scope.

    ``owners`` maps each state name to the indexes (into ``scopes``) of the scopes defining it.
    """
    out: list[Diagnostic] = []
    for index, scope in enumerate(scopes):
        out.extend(_check_scope(index, scope, owners))
    return out


def _check_scope(index: int, scope: Scope, owners: Mapping[str, list[int]]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(scope.names)
    members = set(scope.names)
    broken = set(scope.broken)
    for name in scope.names:
        for edge in scope.edges.get(name, []):
            if edge.target in members:
                graph.add_edge(name, edge.target)
                continue
            broken.add(name)
            elsewhere = [i for i in owners.get(edge.target, []) if i != index]
            if elsewhere:
                out.append(
                    Diagnostic(
                        "TRANSITION_OUT_OF_SCOPE",
                        edge.location,
                        f"'{edge.target}' is in another scope; a transition must target a "
                        "state of the same States object (branches and item processors are "
                        "closed)",
                    )
                )
            else:
                out.append(
                    Diagnostic(
                        "MISSING_TRANSITION_TARGET",
                        edge.location,
                        f"no state named '{edge.target}'; expected one of the states of this scope",
                    )
                )
    if scope.start_at in members:
        reachable = nx.descendants(graph, scope.start_at) | {scope.start_at}
        for name in scope.names:
            if name not in reachable:
                out.append(
                    Diagnostic(
                        "UNREACHABLE_STATE",
                        scope.state_location(name),
                        f"'{name}' cannot be reached from StartAt '{scope.start_at}'; "
                        "expected every state to be reachable",
                    )
                )
    else:
        where = "another scope" if owners.get(scope.start_at) else "no scope"
        out.append(
            Diagnostic(
                "START_AT_NOT_FOUND",
                join(scope.location, "StartAt"),
                f"StartAt '{scope.start_at}' names no state of this States object "
                f"(it is in {where}); expected one of: {', '.join(scope.names[:10]) or 'none'}",
            )
        )
    can_finish = (scope.terminal | broken) & members
    queue = deque(can_finish)
    while queue:
        for predecessor in graph.predecessors(queue.popleft()):
            if predecessor not in can_finish:
                can_finish.add(predecessor)
                queue.append(predecessor)
    for name in scope.names:
        if name not in can_finish:
            out.append(
                Diagnostic(
                    "NO_TERMINAL_PATH",
                    scope.state_location(name),
                    f"no terminal state (End: true, Succeed or Fail) can be reached from "
                    f"'{name}'; expected a way out of the loop",
                )
            )
    return out
