"""Compensation order for a failure at each position: on the compiled graph, then by running it."""

from __future__ import annotations

from typing import Any

import pytest

from saga.saga import Saga


def act(event: Any) -> Any:
    return event


def travel_saga() -> Saga:
    """A, B (compensates itself), parallel group G (G1, G2), C without compensation, D."""
    saga = Saga("Travel", success_state="Done")
    saga.step("A", act).compensate("Undo A", act)
    saga.step("B", act, compensate_self=True).compensate("Undo B", act)
    group = saga.parallel("G")
    group.step("G1", act).compensate("Undo G1", act)
    group.step("G2", act).compensate("Undo G2", act)
    saga.step("C", act)
    saga.step("D", act).compensate("Undo D", act)
    saga.on_failure("Notify", act)
    return saga


def unwind_from(machine: dict[str, Any], failing: str) -> list[str]:
    """The states visited after ``failing`` fails: its last catcher, then ``Next`` to a Fail."""
    states = machine["States"]
    order = [failing]
    name = states[failing]["Catch"][-1]["Next"]
    while True:
        order.append(name)
        state = states[name]
        if state["Type"] == "Fail":
            return order
        assert state["Catch"][-1]["Next"] == state["Next"]  # a failure continues the unwind too
        name = state["Next"]


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        ("A", ["A", "Notify", "Saga Failed"]),
        ("B", ["B", "Undo B", "Undo A", "Notify", "Saga Failed"]),
        ("G", ["G", "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify", "Saga Failed"]),
        ("C", ["C", "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify", "Saga Failed"]),
        ("D", ["D", "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify", "Saga Failed"]),
        ("Undo G1", ["Undo G1", "Undo B", "Undo A", "Notify", "Saga Failed"]),
        ("Undo A", ["Undo A", "Notify", "Saga Failed"]),
    ],
)
def test_unwind_order_on_the_compiled_graph(failing: str, expected: list[str]) -> None:
    machine = travel_saga().to_state_machine().to_dict()
    assert unwind_from(machine, failing) == expected


def test_forward_chain_and_unreachable_compensation_left_out() -> None:
    machine = travel_saga().to_state_machine().to_dict()
    states = machine["States"]
    chain, name = [], machine["StartAt"]
    while "Next" in states[name] or states[name].get("End"):
        chain.append(name)
        if states[name].get("End"):
            break
        name = states[name]["Next"]
    assert chain == ["A", "B", "G", "C", "D", "Done"]
    assert "Undo D" not in states  # D is last and does not compensate itself
    assert list(states) == [
        "A", "B", "G", "C", "D", "Done",
        "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify", "Saga Failed",
    ]


def test_self_compensating_last_step_keeps_its_compensation() -> None:
    saga = Saga("S")
    saga.step("A", act).compensate("Undo A", act)
    saga.step("B", act, compensate_self=True).compensate("Undo B", act)
    machine = saga.to_state_machine().to_dict()
    assert unwind_from(machine, "B") == ["B", "Undo B", "Undo A", "Saga Failed"]
    assert unwind_from(machine, "A") == ["A", "Saga Failed"]


def test_group_without_compensate_self_skips_its_own_compensations() -> None:
    saga = Saga("S")
    saga.step("A", act).compensate("Undo A", act)
    group = saga.parallel("G", compensate_self=False)
    group.step("G1", act).compensate("Undo G1", act)
    saga.step("B", act)
    machine = saga.to_state_machine().to_dict()
    assert unwind_from(machine, "G") == ["G", "Undo A", "Saga Failed"]
    assert unwind_from(machine, "B") == ["B", "Undo G1", "Undo A", "Saga Failed"]
