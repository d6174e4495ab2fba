"""Parallel groups with branches of several steps: results keyed by branch name, a failing
branch keeping the record of what it did, the unwind undoing each branch's completed steps,
branch by branch."""

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
    "Add GPS": "Remove GPS",
}
GROUP_UNDO = ["Cancel Car Insurance", "Return Car", "Drop Breakfast", "Cancel Hotel"]


def build(
    calls: list[str],
    fail: str | set[str] | None = None,
    *,
    gps: bool = False,
    compensate_self: bool = True,
) -> Saga:
    """Flight, then hotel (+ breakfast) beside car (+ insurance, + GPS), then payment."""
    failing = {fail} if isinstance(fail, str) else (fail or set())
    saga = Saga("StayAndDrive", success_state="Booked")

    def act(name: str) -> Any:
        async def action(event: dict[str, Any]) -> str:
            calls.append(name)
            if name in failing:
                raise RuntimeError(f"{name} failed")
            return name.lower().replace(" ", "-")

        return action

    def add(where: Any, name: str) -> None:
        where.step(name, act(name)).compensate(UNDO[name], act(UNDO[name]))

    add(saga, "Book Flight")
    group = saga.parallel("Stay And Drive", compensate_self=compensate_self)
    hotel, car = group.branch("Hotel"), group.branch("Car")
    add(hotel, "Book Hotel")
    add(hotel, "Add Breakfast")
    add(car, "Rent Car")
    add(car, "Insure Car")
    if gps:
        add(car, "Add GPS")
    saga.step("Take Payment", act("Take Payment"))
    return saga


def test_results_are_keyed_by_branch_and_step() -> None:
    calls: list[str] = []
    execution = build(calls).run({})
    assert execution.status == "SUCCEEDED"
    assert execution.output == {
        "bookFlight": "book-flight",
        "stayAndDrive": {
            "hotel": {"bookHotel": "book-hotel", "addBreakfast": "add-breakfast"},
            "car": {"rentCar": "rent-car", "insureCar": "insure-car"},
        },
        "takePayment": "take-payment",
    }
    # each branch runs its steps in order
    assert calls.index("Book Hotel") < calls.index("Add Breakfast")
    assert calls.index("Rent Car") < calls.index("Insure Car")
    assert calls[-1] == "Take Payment"


# The last branch first, each branch's steps in reverse, then the steps before the group;
# only the steps a branch completed, and the step that failed (compensate_self=True).
TWO_BY_TWO = {
    "Book Hotel": ["Cancel Car Insurance", "Return Car", "Cancel Hotel"],
    "Add Breakfast": GROUP_UNDO,
    "Rent Car": ["Return Car", "Drop Breakfast", "Cancel Hotel"],
    "Insure Car": GROUP_UNDO,
}
TWO_BY_TWO_NOT_SELF = {
    "Book Hotel": ["Cancel Car Insurance", "Return Car"],
    "Add Breakfast": ["Cancel Car Insurance", "Return Car", "Cancel Hotel"],
    "Rent Car": ["Drop Breakfast", "Cancel Hotel"],
    "Insure Car": ["Return Car", "Drop Breakfast", "Cancel Hotel"],
}
TWO_BY_THREE = {
    "Book Hotel": ["Remove GPS", "Cancel Car Insurance", "Return Car", "Cancel Hotel"],
    "Add Breakfast": ["Remove GPS", *GROUP_UNDO],
    "Rent Car": ["Return Car", "Drop Breakfast", "Cancel Hotel"],
    "Insure Car": GROUP_UNDO,
    "Add GPS": ["Remove GPS", *GROUP_UNDO],
}
TWO_BY_THREE_NOT_SELF = {
    "Book Hotel": ["Remove GPS", "Cancel Car Insurance", "Return Car"],
    "Add Breakfast": ["Remove GPS", "Cancel Car Insurance", "Return Car", "Cancel Hotel"],
    "Rent Car": ["Drop Breakfast", "Cancel Hotel"],
    "Insure Car": ["Return Car", "Drop Breakfast", "Cancel Hotel"],
    "Add GPS": GROUP_UNDO,
}
CASES = [
    (gps, own, step, undone)
    for gps, own, table in [
        (False, True, TWO_BY_TWO),
        (False, False, TWO_BY_TWO_NOT_SELF),
        (True, True, TWO_BY_THREE),
        (True, False, TWO_BY_THREE_NOT_SELF),
    ]
    for step, undone in table.items()
]
NEXT_IN_BRANCH = {"Book Hotel": "Add Breakfast", "Rent Car": "Insure Car", "Insure Car": "Add GPS"}


@pytest.mark.parametrize(("gps", "compensate_self", "step", "undone"), CASES)
def test_a_failing_branch_step_undoes_what_each_branch_completed(
    gps: bool, compensate_self: bool, step: str, undone: list[str]
) -> None:
    calls: list[str] = []
    saga = build(calls, fail=step, gps=gps, compensate_self=compensate_self)
    execution = saga.run({})
    assert execution.status == "FAILED"
    # the original error reaches the Fail state
    error = json.loads(execution.cause or "")
    assert error["Error"] == "RuntimeError"
    assert json.loads(error["Cause"])["errorMessage"] == f"{step} failed"
    assert [u.state for u in execution.unwind] == [*undone, "Cancel Flight"]
    assert [c for c in calls if c in UNDO.values()] == [*undone, "Cancel Flight"]
    assert "Take Payment" not in calls
    if step in NEXT_IN_BRANCH:  # the failing branch stops: its next step never runs
        assert NEXT_IN_BRANCH[step] not in calls
    # the sibling branch is not stopped: it runs to its end
    sibling = ["Rent Car", "Insure Car", *(["Add GPS"] if gps else [])]
    if step in sibling:
        sibling = ["Book Hotel", "Add Breakfast"]
    assert set(sibling) <= set(calls)


def test_both_branches_failing_undo_each_and_report_the_first_branch_error() -> None:
    calls: list[str] = []
    execution = build(calls, fail={"Add Breakfast", "Insure Car"}).run({})
    assert execution.status == "FAILED"
    assert "Add Breakfast failed" in json.loads(execution.cause or "")["Cause"]
    assert [u.state for u in execution.unwind] == [*GROUP_UNDO, "Cancel Flight"]


def test_a_later_failure_undoes_every_branch_then_the_flight() -> None:
    calls: list[str] = []
    execution = build(calls, fail="Take Payment", gps=True).run({})
    assert execution.status == "FAILED"
    assert calls[-7:] == ["Take Payment", "Remove GPS", *GROUP_UNDO, "Cancel Flight"]


def test_the_first_step_failing_undoes_nothing() -> None:
    calls: list[str] = []
    assert build(calls, fail="Book Flight").run({}).status == "FAILED"
    assert calls == ["Book Flight"]


@pytest.mark.parametrize("step", ["Book Hotel", "Insure Car", "Take Payment", None])
def test_export_passes_both_validators_and_runs_the_same(step: str | None) -> None:
    calls: list[str] = []
    saga = build(calls, fail=step, gps=True)
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


def test_the_compiled_shape() -> None:
    states = json.loads(build([]).to_json())["States"]
    group = states["Stay And Drive"]
    assert [b["StartAt"] for b in group["Branches"]] == ["Book Hotel", "Rent Car"]
    hotel = group["Branches"][0]["States"]
    assert hotel["Book Hotel"]["Next"] == "Add Breakfast"
    assert hotel["Book Hotel"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": "Book Hotel (failed)"}
    ]
    assert hotel["Book Hotel (failed)"] == {
        "Type": "Pass",
        "Parameters": {"failed.$": "$", "notRun": {"addBreakfast": True}},
        "End": True,
    }
    assert hotel["Add Breakfast (done)"] == {
        "Type": "Pass",
        "Parameters": {"done.$": "$"},
        "End": True,
    }
    assert group["ResultSelector"] == {
        "records.$": "$",
        "done.$": "$[*].done",
        "failed.$": "$[*].failed",
    }
    assert group["Next"] == "Stay And Drive (any failed?)"
    assert states["Stay And Drive (record error)"] == {
        "Type": "Pass",
        "InputPath": "$.stayAndDrive.failed[0]",
        "ResultPath": "$.error",
        "Next": "Insure Car (if done)",
    }
    assert states["Stay And Drive (result)"]["Parameters"]["car"] == {
        "rentCar.$": "$[1].rentCar",
        "insureCar.$": "$[1].insureCar",
    }
    assert states["Insure Car (if done)"] == {
        "Type": "Choice",
        "Choices": [
            {
                "Variable": "$.stayAndDrive.records[1].notRun.insureCar",
                "IsPresent": True,
                "Next": "Rent Car (if done)",
            }
        ],
        "Default": "Cancel Car Insurance",
    }


def test_a_group_keeping_records_refuses_group_retry_and_no_result_path() -> None:
    from saga import Retry

    for options, message in [
        ({"retry": [Retry("X")]}, "give the steps retry= instead"),
        ({"result_path": None}, "result_path=None"),
    ]:
        saga = Saga("Bad")
        group = saga.parallel("G", **options)  # type: ignore[arg-type]
        pair = group.branch("Pair")
        pair.step("A", lambda event: 1)
        pair.step("B", lambda event: 2)
        with pytest.raises(SagaDefinitionError, match=message):
            saga.to_state_machine()


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
