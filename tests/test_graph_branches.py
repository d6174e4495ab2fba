"""Parallel branches are drawn connected to the flow: forked from their state, joined onward."""

from __future__ import annotations

from typing import Any

from asl_export.graph import machine_graph, render_graph
from examples.trip.trip import trip


def _edges(graph: Any) -> list[tuple[str, str, str, str]]:
    return [(s, t, d["kind"], d["label"]) for s, t, d in graph.edges(data=True)]


def test_branch_and_join_edges_in_the_graph() -> None:
    edges = _edges(machine_graph(trip.to_state_machine()))
    assert ("Hotel And Car", "Book Hotel", "branch", "branch 1") in edges
    assert ("Hotel And Car", "Rent Car", "branch", "branch 2") in edges
    assert ("Book Hotel", "Charge Card", "join", "") in edges
    assert ("Rent Car", "Charge Card", "join", "") in edges


def test_dot_connects_the_branches() -> None:
    dot = render_graph(trip.to_state_machine(), "dot", name="BookTrip").splitlines()
    assert '  "Hotel And Car" -> "Book Hotel" [label="branch 1"];' in dot
    assert '  "Hotel And Car" -> "Rent Car" [label="branch 2"];' in dot
    assert '  "Book Hotel" -> "Charge Card";' in dot
    assert '  "Rent Car" -> "Charge Card";' in dot
    assert '  "Hotel And Car" -> "Charge Card";' not in dot  # the flow goes through the branches


def test_mermaid_joins_the_branches_to_the_next_state() -> None:
    mermaid = render_graph(trip.to_state_machine(), "mermaid").splitlines()
    assert '  subgraph s1 ["Hotel And Car"]' in mermaid
    assert '    s9["Book Hotel"]' in mermaid and '    s10["Rent Car"]' in mermaid
    assert "  s0 --> s1" in mermaid  # into the group
    assert "  s9 --> s2" in mermaid and "  s10 --> s2" in mermaid  # out of each branch
    assert "  s1 --> s2" not in mermaid
