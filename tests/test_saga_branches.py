"""Parallel groups with branches of several steps: results keyed by branch name, a failing
branch stopping its siblings, the unwind undoing the group branch by branch."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine
from saga import Saga, SagaDefinitionError
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
UNDO = {
    "Book Flight": "Cancel Flight",
    "Book Hotel": "Cancel Hotel",
    "Add Breakfast": "Drop Breakfast",
    "Rent Car": "Return Car",
    "Insure Car": "Cancel Car Insurance",
}
GROUP_UNDO = ["Cancel Car Insurance", "Return Car", "Drop Breakfast", "Cancel Hotel"]


def build(calls: list[str], fail: str | None = None) -> Saga:
    """Flight, then hotel (+ breakfast) beside car (+ insurance), then payment."""
    saga = Saga("StayAndDrive", success_state="Booked")

    def act(name: str) -> Any:
        async def action(event: dict[str, Any]) -> str:
            calls.append(name)
            if name == fail:
                raise RuntimeError(f"{name} failed")
            return name.lower().replace(" ", "-")

        return action

    def add(where: Any, name: str) -> None:
        where.step(name, act(name)).compensate(UNDO[name], act(UNDO[name]))

    add(saga, "Book Flight")
    group = saga.parallel("Stay And Drive")
    hotel, car = group.branch("Hotel"), group.branch("Car")
    add(hotel, "Book Hotel")
    add(hotel, "Add Breakfast")
    add(car, "Rent Car")
    add(car, "Insure Car")
    saga.step("Take Payment", act("Take Payment"))
    return saga


def test_results_are_keyed_by_branch_and_step() -> None:
    calls: list[str] = []
    execution = build(calls).run({})
    assert execution.status == "SUCCEEDED"
    assert execution.output["stayAndDrive"] == {
        "hotel": {"bookHotel": "book-hotel", "addBreakfast": "add-breakfast"},
        "car": {"rentCar": "rent-car", "insureCar": "insure-car"},
    }
    # each branch runs its steps in order
    assert calls.index("Book Hotel") < calls.index("Add Breakfast")
    assert calls.index("Rent Car") < calls.index("Insure Car")
    assert calls[-1] == "Take Payment"


@pytest.mark.parametrize("step", ["Book Hotel", "Add Breakfast", "Rent Car", "Insure Car"])
def test_a_failing_branch_step_undoes_the_group_branch_by_branch(step: str) -> None:
    calls: list[str] = []
    execution = build(calls, fail=step).run({})
    assert execution.status == "FAILED"
    assert json.loads(execution.cause or "")["Error"] == "RuntimeError"
    # the last branch first, each branch's steps in reverse, then the steps before the group
    assert [u.state for u in execution.unwind] == [*GROUP_UNDO, "Cancel Flight"]
    # A sibling step stopped mid-call may still finish its call later (as a Lambda does after
    # Step Functions gives up on it), so only the compensations' own order is fixed.
    undone = [c for c in calls if c in UNDO.values()]
    assert undone == [*GROUP_UNDO, "Cancel Flight"]
    assert "Take Payment" not in calls
    branch_steps = {"Book Hotel": "Add Breakfast", "Rent Car": "Insure Car"}
    if step in branch_steps:  # the failing branch stops: its next step never runs
        assert branch_steps[step] not in calls


def test_a_later_failure_undoes_every_branch_then_the_flight() -> None:
    calls: list[str] = []
    execution = build(calls, fail="Take Payment").run({})
    assert execution.status == "FAILED"
    assert calls[-6:] == ["Take Payment", *GROUP_UNDO, "Cancel Flight"]


def test_the_first_step_failing_undoes_nothing() -> None:
    calls: list[str] = []
    assert build(calls, fail="Book Flight").run({}).status == "FAILED"
    assert calls == ["Book Flight"]


def test_export_passes_both_validators_and_runs_the_same() -> None:
    calls: list[str] = []
    saga = build(calls, fail="Insure Car")
    text = saga.to_json()
    document = engine.substitute(json.loads(text), {k: ARN + k for k in saga.handlers()})
    assert statelint_problems([document]) == [[]]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is not installed")
    assert asl_validator_problems([document], command) == [[]]
    direct = saga.run({}, name="x")
    exported = engine.run(engine.load(text), {}, handlers=saga.handlers(), name="x")
    assert (exported.status, exported.output, exported.cause, exported.states) == (
        direct.status,
        direct.output,
        direct.cause,
        direct.states,
    )
    group = json.loads(text)["States"]["Stay And Drive"]
    assert [b["StartAt"] for b in group["Branches"]] == ["Book Hotel", "Rent Car"]
    assert group["Branches"][0]["States"]["Book Hotel"]["Next"] == "Add Breakfast"
    assert group["ResultSelector"]["car"] == {
        "rentCar.$": "$[1].rentCar",
        "insureCar.$": "$[1].insureCar",
    }


def test_one_step_branches_and_named_branches_mix() -> None:
    saga = Saga("Mixed")
    group = saga.parallel("Both")
    group.step("Solo", lambda event: "solo")
    group.branch("Pair").step("First", lambda event: 1)
    assert saga.run({}).output["both"] == {"solo": "solo", "pair": {"first": 1}}


def test_an_empty_branch_and_a_duplicate_branch_are_refused() -> None:
    saga = Saga("Bad")
    group = saga.parallel("G")
    group.branch("Hotel").step("A", lambda event: 1)
    with pytest.raises(SagaDefinitionError, match="distinct name"):
        group.branch("hotel")
    group.branch("Car")
    with pytest.raises(SagaDefinitionError, match="branch 'Car' has no steps"):
        saga.to_state_machine()
