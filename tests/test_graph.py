"""The state machine graph and its Mermaid and DOT drawings."""

from __future__ import annotations

from typing import Any

from asl_export.graph import machine_graph, render_graph, to_dot, to_mermaid
from engine.loader import load
from engine.model import StateMachine
from tests.test_export_golden import airline, orders


def _edges(graph: Any) -> list[tuple[str, str, str, bool]]:
    return [(s, t, d["kind"], d["compensation"]) for s, t, d in graph.edges(data=True)]


def test_airline_unwind_chain_is_found_from_catch_edges() -> None:
    graph = machine_graph(airline())
    compensations = sorted(n for n, d in graph.nodes(data=True) if d["compensation"])
    assert compensations == [
        "Booking DLQ",
        "Booking Failed",
        "Cancel Booking",
        "Notify Booking Failed",
        "Refund Payment",
        "Release Flight Seat",
    ]
    edges = _edges(graph)
    assert ("Reserve Booking", "Collect Payment", "next", False) in edges
    assert ("Reserve Booking", "Cancel Booking", "catch", False) in edges
    assert ("Cancel Booking", "Release Flight Seat", "next", True) in edges
    assert ("Cancel Booking", "Release Flight Seat", "catch", False) in edges
    assert len(edges) == 18  # 10 Next + 8 Catch


def test_given_compensations_are_marked_too() -> None:
    graph = machine_graph(orders(), compensations={"Rejected"})
    assert graph.nodes["Rejected"]["compensation"] is True
    assert ("Route", "Rejected", "default", True) in _edges(graph)
    assert graph.nodes["Review"]["compensation"] is False


def test_choice_edges_are_labelled_with_their_rule() -> None:
    graph = machine_graph(orders())
    labels = [d["label"] for s, _, d in graph.edges(data=True) if s == "Route"]
    assert labels == [
        "($.validation.ok BooleanEquals true) and ($.total NumericLe…",  # cut at 60
        "$.validation.ok BooleanEquals true",
        "default",
    ]


def test_nested_states_name_their_container() -> None:
    graph = machine_graph(orders())
    assert graph.nodes["Pack Item"]["parent"] == "Ship Items"
    assert graph.nodes["Emit Event"]["parent"] == "Announce"
    assert graph.nodes["Announce"]["type"] == "Parallel"


def _small() -> StateMachine:
    return load(
        {
            "StartAt": "Do",
            "States": {
                "Do": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:eu-west-1:1:function:f",
                    "Catch": [{"ErrorEquals": ["Oops"], "Next": "Undo"}],
                    "Next": "Done",
                },
                "Undo": {"Type": "Pass", "Next": "Failed"},
                "Failed": {"Type": "Fail", "Error": "E"},
                "Done": {"Type": "Succeed"},
            },
        },
        validate=False,
    )


def test_mermaid_drawing() -> None:
    assert to_mermaid(machine_graph(_small())) == (
        "flowchart TD\n"
        "  start(( ))\n"
        '  s0["Do"]\n'
        '  s1("Undo")\n'
        '  s2(["Failed"])\n'
        '  s3(["Done"])\n'
        "  start --> s0\n"
        "  s0 --> s3\n"
        '  s0 -.->|"catch Oops"| s1\n'
        "  s1 ==> s2\n"
        "  linkStyle 2 stroke:#d62728,color:#d62728\n"
        "  linkStyle 3 stroke:#e67e22\n"
        "  classDef compensation stroke:#e67e22,stroke-width:2px\n"
        "  class s1,s2 compensation\n"
    )


def test_dot_drawing() -> None:
    assert to_dot(machine_graph(_small()), "Small") == (
        'digraph "Small" {\n'
        "  rankdir=TB;\n"
        "  node [shape=box, style=rounded];\n"
        '  "__start" [shape=point, label=""];\n'
        '  "Do" [shape=box];\n'
        '  "Undo" [shape=box, color="#e67e22"];\n'
        '  "Failed" [shape=doubleoctagon, color="#e67e22"];\n'
        '  "Done" [shape=doublecircle];\n'
        '  "__start" -> "Do";\n'
        '  "Do" -> "Done";\n'
        '  "Do" -> "Undo" [label="catch Oops", style=dashed, color="#d62728", '
        'fontcolor="#d62728"];\n'
        '  "Undo" -> "Failed" [style=bold, color="#e67e22"];\n'
        "}\n"
    )


def test_quotes_in_state_names_are_escaped() -> None:
    machine = load(
        {"StartAt": 'Say "hi"', "States": {'Say "hi"': {"Type": "Succeed"}}}, validate=False
    )
    assert '  s0(["Say #quot;hi#quot;"])\n' in render_graph(machine, "mermaid")
    assert '  "Say \\"hi\\"" [shape=doublecircle];\n' in render_graph(machine, "dot")


def test_nested_scopes_are_drawn_as_subgraphs() -> None:
    mermaid = render_graph(orders(), "mermaid")
    assert '  subgraph s4 ["Announce"]\n    direction TB\n    s11["Notify Customer"]\n' in mermaid
    dot = render_graph(orders(), "dot")
    assert (
        '  subgraph cluster_0 {\n    label="Announce";\n    "Notify Customer" [shape=box];\n' in dot
    )
