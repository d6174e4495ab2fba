"""``saga graph --format svg``: the layered drawing, and an execution's path coloured on it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import engine
from asl_export.execution_path import execution_path, infer_roles
from asl_export.graph import machine_graph
from asl_export.layout import layout_machine
from asl_export.report import render_report
from asl_export.svg import render_svg
from engine.loader import load
from engine.model import StateMachine
from engine.store import SQLiteStore
from saga.cli import main
from tests._airline_runs import SCENARIO_EXECUTIONS, run_airline_into

SVG = "{http://www.w3.org/2000/svg}"

FLOW: dict[str, Any] = {
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Result": {"n": 0}, "Next": "Check"},
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Fan Out"}],
            "Default": "Bump",
        },
        "Bump": {
            "Type": "Pass",
            "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
            "Next": "Check",
        },
        "Fan Out": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "A1",
                    "States": {
                        "A1": {"Type": "Pass", "Next": "A2"},
                        "A2": {"Type": "Pass", "End": True},
                    },
                },
                {
                    "StartAt": "B1",
                    "States": {
                        "B1": {
                            "Type": "Task",
                            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
                            "Retry": [
                                {"ErrorEquals": ["Busy"], "IntervalSeconds": 3, "MaxAttempts": 2}
                            ],
                            "End": True,
                        }
                    },
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$[1].items",
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
            "Next": "Done",
        },
        "Oops": {"Type": "Fail", "Error": "Oops"},
        "Done": {"Type": "Succeed"},
    },
}


class Busy(Exception):
    pass


def _flaky_after(failures: int) -> Any:
    calls = {"n": 0}

    def flaky(event: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise Busy(f"busy {calls['n']}")
        return {"items": [1, 2, 3]}

    return flaky


def _states(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg.split("\n", 1)[1])
    return {g.attrib["data-state"]: g for g in root.iter(f"{SVG}g") if "data-state" in g.attrib}


def _classes(element: ET.Element) -> set[str]:
    return set(element.attrib["class"].split())


def _edges(svg: str) -> dict[tuple[str, str], list[set[str]]]:
    root = ET.fromstring(svg.split("\n", 1)[1])
    out: dict[tuple[str, str], list[set[str]]] = {}
    for path in root.iter(f"{SVG}path"):
        if "data-source" in path.attrib:
            key = (path.attrib["data-source"], path.attrib["data-target"])
            out.setdefault(key, []).append(_classes(path))
    return out


@pytest.fixture(scope="module")
def airline(tmp_path_factory: pytest.TempPathFactory) -> tuple[StateMachine, SQLiteStore]:
    path = run_airline_into(tmp_path_factory.mktemp("airline") / "runs.db")
    store = SQLiteStore(path)
    record = store.get(SCENARIO_EXECUTIONS["payment-declined"])
    return load(record.definition), store


def test_every_state_is_drawn_once_and_boxes_do_not_overlap() -> None:
    machine = load(FLOW)
    layout = layout_machine(machine, machine_graph(machine))
    assert set(layout.boxes) == {
        "Init", "Check", "Bump", "Fan Out", "A1", "A2", "B1", "Each", "Item", "Oops", "Done"
    }  # fmt: skip
    boxes = list(layout.boxes.values())
    for index, a in enumerate(boxes):
        for b in boxes[index + 1 :]:
            if a.container and b.name in ("A1", "A2", "B1", "Item"):
                continue
            if b.container and a.name in ("A1", "A2", "B1", "Item"):
                continue
            apart = (
                a.x + a.width <= b.x or b.x + b.width <= a.x
                or a.y + a.height <= b.y or b.y + b.height <= a.y
            )  # fmt: skip
            assert apart, (a, b)


def test_parallel_and_map_are_containers_holding_their_branches() -> None:
    machine = load(FLOW)
    boxes = layout_machine(machine, machine_graph(machine)).boxes
    fan_out, each = boxes["Fan Out"], boxes["Each"]
    assert fan_out.container and len(fan_out.branches) == 2
    assert each.container and len(each.branches) == 1
    for inner, outer in (("A1", fan_out), ("A2", fan_out), ("B1", fan_out), ("Item", each)):
        box = boxes[inner]
        assert outer.x < box.x and box.x + box.width < outer.x + outer.width
        assert outer.y < box.y and box.y + box.height < outer.y + outer.height
    # A1 and A2 in one branch lane, B1 in the other
    (lane_a, lane_b) = fan_out.branches
    assert lane_a[0] <= boxes["A1"].x < lane_a[0] + lane_a[2]
    assert lane_b[0] <= boxes["B1"].x < lane_b[0] + lane_b[2]


def test_layers_follow_the_flow_and_a_loop_goes_back_up() -> None:
    machine = load(FLOW)
    layout = layout_machine(machine, machine_graph(machine))
    boxes = layout.boxes
    assert boxes["Init"].y < boxes["Check"].y < boxes["Bump"].y
    assert boxes["Check"].y < boxes["Fan Out"].y < boxes["Each"].y < boxes["Done"].y
    back = next(r for r in layout.routes if (r.source, r.target) == ("Bump", "Check"))
    assert back.points[0][1] > back.points[-1][1]  # drawn from Bump up to Check


def test_static_drawing_marks_catch_and_compensation_edges(airline: Any) -> None:
    machine, _ = airline
    svg = render_svg(machine)
    assert svg == render_svg(machine)  # deterministic
    edges = _edges(svg)
    assert "k-catch" in edges[("Collect Payment", "Cancel Booking")][0]
    assert "compensation" in edges[("Cancel Booking", "Release Flight Seat")][0]
    assert edges[("Reserve Flight", "Reserve Booking")] == [{"edge", "k-next"}]
    # Refund Payment goes on to Cancel Booking both by Next and by its Catch
    kinds = sorted(
        next(iter(c & {"k-next", "k-catch"})) for c in edges[("Refund Payment", "Cancel Booking")]
    )
    assert kinds == ["k-catch", "k-next"]
    root = ET.fromstring(svg.split("\n", 1)[1])
    labels = [t for t in root.iter(f"{SVG}text") if "label" in t.attrib.get("class", "")]
    assert {(t.findtext(f"{SVG}title"), "".join(t.itertext())[-5:]) for t in labels} == {
        ("catch States.ALL", "catch")
    }
    states = _states(svg)
    assert "role-compensation" in _classes(states["Cancel Booking"])
    assert "role-failure-handler" in _classes(states["Booking DLQ"])
    assert not any(c.startswith("o-") for c in _classes(states["Reserve Flight"]))


def test_payment_declined_path_is_coloured_by_outcome(airline: Any) -> None:
    machine, store = airline
    svg = render_svg(machine, store.history(SCENARIO_EXECUTIONS["payment-declined"]))
    outcomes = {
        name: next(c[2:] for c in _classes(g) if c.startswith("o-"))
        for name, g in _states(svg).items()
    }
    assert outcomes == {
        "Reserve Flight": "succeeded",
        "Reserve Booking": "succeeded",
        "Collect Payment": "caught",
        "Confirm Booking": "not-reached",
        "Notify Booking Confirmed": "not-reached",
        "Booking Confirmed": "not-reached",
        "Refund Payment": "not-reached",
        "Cancel Booking": "compensation",
        "Release Flight Seat": "compensation",
        "Notify Booking Failed": "failure-handling",
        "Booking DLQ": "failure-handling",
        "Booking Failed": "failed",
    }
    edges = _edges(svg)
    caught = edges[("Collect Payment", "Cancel Booking")][0]
    assert {"taken", "caught", "k-catch"} <= caught
    assert "taken" in edges[("Cancel Booking", "Release Flight Seat")][0]
    assert "idle" in edges[("Collect Payment", "Confirm Booking")][0]


def test_retries_are_counted_with_their_backoff(airline: Any) -> None:
    machine, store = airline
    history = store.history(SCENARIO_EXECUTIONS["transient-reservation-error"])
    path = execution_path(machine, history)
    reserve = path.states["Reserve Booking"]
    assert (reserve.outcome, reserve.retries) == ("retried", 2)
    assert [a.error for a in reserve.visits[0].attempts] == [
        "BookingReservationException",
        "BookingReservationException",
        None,
    ]
    svg = render_svg(machine, history)
    badge = _states(svg)["Reserve Booking"].find(f"{SVG}g/{SVG}text")
    assert badge is not None and badge.text == "↻2"


def test_parallel_branch_retries_and_map_iterations_on_a_virtual_clock() -> None:
    machine = load(FLOW)
    execution = engine.run(machine, {}, handlers={"flaky": _flaky_after(2)})
    assert execution.status == "SUCCEEDED"
    path = execution_path(machine, execution.history)
    b1 = path.states["B1"]
    assert (b1.outcome, b1.retries) == ("retried", 2)
    assert [a.backoff for a in b1.visits[0].attempts] == [None, 3.0, 6.0]
    assert len(path.states["Item"].visits) == 3
    assert path.states["Oops"].outcome == "not-reached"
    counts = {(e.source, e.target): e.count for e in path.edges}
    assert counts[("Check", "Bump")] == 2
    assert counts[("Bump", "Check")] == 2
    assert counts[("Check", "Fan Out")] == 1


def test_a_failed_branch_caught_by_the_parallel() -> None:
    machine = load(FLOW)
    execution = engine.run(machine, {}, handlers={"flaky": _flaky_after(5)})
    assert (execution.status, execution.error) == ("FAILED", "Oops")
    path = execution_path(machine, execution.history)
    assert path.states["B1"].outcome == "failed"
    assert path.states["B1"].visits[0].error == "Busy"
    assert path.states["Fan Out"].outcome == "caught"
    assert path.states["Oops"].outcome == "failed"
    assert [(e.source, e.target, e.caught) for e in path.edges if e.source == "Fan Out"] == [
        ("Fan Out", "Oops", True)
    ]


def test_roles_are_inferred_from_the_unwind_shape(airline: Any) -> None:
    machine, _ = airline
    assert infer_roles(machine) == {
        "Refund Payment": "compensation",
        "Cancel Booking": "compensation",
        "Release Flight Seat": "compensation",
        "Notify Booking Failed": "failure-handler",
        "Booking DLQ": "failure-handler",
    }


def test_names_are_escaped() -> None:
    machine = load({"StartAt": 'A <b> & "c"', "States": {'A <b> & "c"': {"Type": "Succeed"}}})
    svg = render_svg(machine)
    assert 'data-state="A &lt;b&gt; &amp; &quot;c&quot;"' in svg
    assert list(_states(svg)) == ['A <b> & "c"']


def test_cli_draws_svg_and_colours_a_stored_execution(
    airline: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, store = airline
    out = tmp_path / "declined.svg"
    name = SCENARIO_EXECUTIONS["payment-declined"]
    code = main(
        [
            "graph",
            "examples.airline_booking.saga:booking",
            "--format",
            "svg",
            "--execution",
            name,
            "--store",
            store.location,
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    states = _states(out.read_text(encoding="utf-8"))
    assert "o-caught" in _classes(states["Collect Payment"])
    assert "o-failure-handling" in _classes(states["Booking DLQ"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "svg", "--execution", "x"], "--execution needs --store PATH"),
        (["--format", "dot", "--execution", "x"], "colours an SVG drawing only"),
    ],
)
def test_cli_rejects_execution_options_it_cannot_use(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", "examples.airline_booking.saga:booking", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_unknown_execution(airline: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, store = airline
    argv = ["graph", "examples/greet/greet.asl.json", "--format", "svg"]
    assert main([*argv, "--execution", "nope", "--store", store.location]) == 2
    assert f"no execution named 'nope' in {store.location}" in capsys.readouterr().err


def test_svg_of_a_definition_file_is_well_formed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "examples/greet/greet.asl.json", "--format", "svg"]) == 0
    text = capsys.readouterr().out
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')
    assert list(_states(text)) == ["Greet", "Done"]
    assert json.loads(json.dumps(text))  # plain text, no bytes


def test_containers_nest() -> None:
    inner = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
            {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
        ],
        "End": True,
    }
    machine = load(
        {
            "StartAt": "Outer",
            "States": {
                "Outer": {
                    "Type": "Map",
                    "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": inner}},
                    "End": True,
                }
            },
        }
    )
    boxes = layout_machine(machine, machine_graph(machine)).boxes

    def inside(name: str, outer: str) -> bool:
        a, b = boxes[name], boxes[outer]
        return (
            b.x < a.x
            and a.x + a.width < b.x + b.width
            and b.y < a.y
            and a.y + a.height < b.y + b.height
        )

    assert inside("Inner", "Outer") and inside("Left", "Inner") and inside("Right", "Inner")
    assert boxes["Left"].x + boxes["Left"].width < boxes["Right"].x
    execution = engine.run(machine, [1, 2])
    path = execution_path(machine, execution.history)
    assert [len(path.states[n].visits) for n in ("Outer", "Inner", "Left", "Right")] == [1, 2, 2, 2]
    assert {s.outcome for s in path.states.values()} == {"succeeded"}


def test_an_execution_of_another_machine_colours_what_matches(airline: Any) -> None:
    _, store = airline
    other = load({"StartAt": "Collect Payment", "States": {"Collect Payment": {"Type": "Succeed"}}})
    history = store.history(SCENARIO_EXECUTIONS["payment-declined"])
    path = execution_path(other, history, roles={})
    assert list(path.states) == ["Collect Payment"]
    assert path.states["Collect Payment"].outcome == "caught"
    assert path.unwind == []
    svg = render_svg(other, history)
    assert list(_states(svg)) == ["Collect Payment"]
    name = SCENARIO_EXECUTIONS["payment-declined"]
    page = render_report(other, store.get(name), history, roles={"Cancel Booking": "compensation"})
    assert 'data-state="Collect Payment"' in page
