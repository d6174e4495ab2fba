"""Compensation order for a failure at each position: on the compiled graph, then by running it."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from saga.policies import Retry
from saga.running import saga_engine
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
    assert "UndoD" not in travel_saga().handlers()
    assert list(states) == [
        "A",
        "B",
        "G",
        "C",
        "D",
        "Done",
        "Undo G2",
        "Undo G1",
        "Undo B",
        "Undo A",
        "Notify",
        "Saga Failed",
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


# -- by running it -----------------------------------------------------------------------------


class Declined(Exception):
    """A step's business failure."""


def recording_handlers(saga: Saga, failing: set[str], calls: list[str]) -> dict[str, Any]:
    """Every Python action of ``saga`` replaced by one that records its state and maybe fails."""

    def make(key: str, name: str) -> Any:
        def handler(event: Any) -> Any:
            calls.append(name)
            if name in failing:
                raise Declined(f"{name} declined")
            return f"{name} done"

        return handler

    names = {step.handler_key: step.name for step in saga.all_steps()}
    return {key: make(key, name) for key, name in names.items() if key is not None}


FORWARD = ["A", "B", "G", "C", "D"]


@pytest.mark.parametrize(
    ("failing", "states", "calls"),
    [
        ("A", ["A", "Notify", "Saga Failed"], ["A", "Notify"]),
        (
            "B",
            ["A", "B", "Undo B", "Undo A", "Notify", "Saga Failed"],
            ["A", "B", "Undo B", "Undo A", "Notify"],
        ),
        (
            "G2",
            ["A", "B", "G", "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify", "Saga Failed"],
            ["A", "B", "G1", "G2", "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify"],
        ),
        (
            "D",
            [*FORWARD, "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify", "Saga Failed"],
            ["A", "B", "G1", "G2", "C", "D", "Undo G2", "Undo G1", "Undo B", "Undo A", "Notify"],
        ),
    ],
)
def test_unwind_order_when_run(failing: str, states: list[str], calls: list[str]) -> None:
    saga = travel_saga()
    recorded: list[str] = []
    execution = saga.run({"trip": 1}, handlers=recording_handlers(saga, {failing}, recorded))
    assert execution.status == "FAILED"
    assert execution.states == states
    # The group's steps run side by side: when G2 fails, G1 is stopped, and may not have been
    # called yet.
    stopped = {"G1"} if failing == "G2" else set()
    assert sorted(c for c in recorded if c not in stopped) == sorted(
        c for c in calls if c not in stopped
    )
    assert all(recorded.count(c) <= 1 for c in stopped)
    assert [c for c in recorded if not c.startswith("G")] == [
        c for c in calls if not c.startswith("G")
    ]
    assert execution.error == "SagaFailed"
    original = json.loads(execution.cause or "")
    assert original["Error"] == "Declined"
    assert json.loads(original["Cause"])["errorMessage"] == f"{failing} declined"


def test_a_failing_compensation_is_recorded_and_the_unwind_goes_on() -> None:
    saga = travel_saga()
    recorded: list[str] = []
    execution = saga.run(
        {"trip": 1}, handlers=recording_handlers(saga, {"D", "Undo G1", "Notify"}, recorded)
    )
    assert execution.states == [
        *FORWARD,
        "Undo G2",
        "Undo G1",
        "Undo B",
        "Undo A",
        "Notify",
        "Saga Failed",
    ]
    assert [c for c in recorded if c.startswith(("Undo", "Notify"))] == [
        "Undo G2",
        "Undo G1",
        "Undo B",
        "Undo A",
        "Notify",
    ]
    # the original failure is what the Fail state reports, not the compensation's
    assert json.loads(execution.cause or "")["Error"] == "Declined"
    assert "D declined" in json.loads(execution.cause or "")["Cause"]


def test_success_runs_no_compensation() -> None:
    saga = travel_saga()
    recorded: list[str] = []
    execution = saga.run({"trip": 1}, handlers=recording_handlers(saga, set(), recorded))
    assert execution.status == "SUCCEEDED"
    assert execution.states == [*FORWARD, "Done"]
    assert execution.output == {
        "trip": 1,
        "a": "A done",
        "b": "B done",
        "g": ["G1 done", "G2 done"],
        "c": "C done",
        "d": "D done",
    }


def test_errors_records_where_each_failure_went() -> None:
    saga = Saga("S")
    saga.step("Pay", act, error_path="$.error").compensate("Refund", act)
    saga.step("Ship", act)
    recorded: list[str] = []
    execution = saga.run({}, handlers=recording_handlers(saga, {"Ship", "Refund"}, recorded))
    assert execution.states == ["Pay", "Ship", "Refund", "Saga Failed"]
    assert recorded == ["Pay", "Ship", "Refund"]
    original = json.loads(execution.cause or "")
    assert original["Error"] == "Declined" and "Ship declined" in original["Cause"]


def test_run_async_gives_the_same_result() -> None:
    saga = travel_saga()

    async def main() -> tuple[str, list[str]]:
        execution = await saga.run_async(
            {"trip": 1}, handlers=recording_handlers(saga, {"C"}, []), name="async-run"
        )
        return execution.status, execution.states

    status, states = anyio.run(main)
    assert status == "FAILED"
    assert states == [
        "A",
        "B",
        "G",
        "C",
        "Undo G2",
        "Undo G1",
        "Undo B",
        "Undo A",
        "Notify",
        "Saga Failed",
    ]


def test_fail_fast_skips_compensation_and_handlers() -> None:
    saga = Saga("S")
    saga.step("A", act).compensate("Undo A", act)
    saga.step("B", act, fail_fast_on=[Declined])
    saga.on_failure("Notify", act)
    recorded: list[str] = []
    execution = saga.run({}, handlers=recording_handlers(saga, {"B"}, recorded))
    assert execution.states == ["A", "B", "Saga Failed Fast"]
    assert recorded == ["A", "B"]
    assert execution.error == "Declined"
    assert json.loads(execution.cause or "")["Error"] == "Declined"


def test_retries_then_timeout_go_to_compensation() -> None:
    saga = Saga("S")
    saga.step("A", act).compensate("Undo A", act)
    calls: list[int] = []

    async def slow(event: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise Declined("first call")
        await anyio.sleep(30)
        return "late"

    saga.step("B", slow, timeout=1, retry=[Retry(Declined, interval=60, max_retries=1)])
    execution = saga.run({})
    assert execution.states == ["A", "B", "Undo A", "Saga Failed"]
    assert len(calls) == 2
    assert execution.cause == '{"Error":"States.Timeout","Cause":""}'


def test_many_executions_side_by_side_in_one_engine() -> None:
    saga = Saga("Orders")
    saga.step("Reserve", act).compensate("Release", act)

    @saga.step("Charge")
    async def charge(order: dict[str, Any]) -> int:
        await anyio.sleep(0)
        if order["amount"] > 100:
            raise Declined("too much")
        return int(order["amount"])

    async def main() -> list[tuple[str, list[str]]]:
        machine = saga.to_state_machine()
        async with saga_engine(saga) as engine:
            handles = [
                await engine.start_execution(machine, {"amount": amount}, f"order-{amount}")
                for amount in (50, 500, 70)
            ]
            results = [await handle.result() for handle in handles]
        return [(r.status, r.states) for r in results]

    assert anyio.run(main) == [
        ("SUCCEEDED", ["Reserve", "Charge"]),
        ("FAILED", ["Reserve", "Charge", "Release", "Saga Failed"]),
        ("SUCCEEDED", ["Reserve", "Charge"]),
    ]
