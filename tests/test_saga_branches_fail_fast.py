"""``fail_fast_on`` on a parallel group with branches of several steps: the error, raised in
any branch, is re-raised from its branch (the siblings are stopped) and ends the saga in the
fail-fast state with exactly the error and cause a plain step's ``fail_fast_on`` gives, and
no compensation runs; any other error still undoes what each branch completed."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine
from saga import Saga
from saga.testing import faults
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems
from tests.test_saga_branches import TWO_BY_TWO, UNDO

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
FATAL = "Trip.Fatal"
HOTEL_FAIL_FAST = "Hotel in Stay And Drive (fail fast)"
BRANCH_STEPS = ["Book Hotel", "Add Breakfast", "Rent Car", "Insure Car"]


class Fatal(Exception):
    """A Python step's fail-fast error."""

    error_name = FATAL


def build(calls: list[str], *, fatal: str | None = None, query_language: str = "JSONPath") -> Saga:
    """Flight, then hotel (+ breakfast) beside car (+ insurance), then payment; the group fails
    fast on ``Trip.Fatal``, which the step ``fatal`` raises (a Python exception)."""
    saga = Saga("StayAndDrive", success_state="Booked", query_language=query_language)

    def act(name: str) -> Any:
        def action(event: dict[str, Any]) -> str:
            calls.append(name)
            if name == fatal:
                raise Fatal(f"{name} cannot go on")
            return name.lower().replace(" ", "-")

        return action

    def add(where: Any, name: str) -> None:
        where.step(name, act(name)).compensate(UNDO[name], act(UNDO[name]))

    add(saga, "Book Flight")
    group = saga.parallel("Stay And Drive", fail_fast_on=[FATAL])
    hotel, car = group.branch("Hotel"), group.branch("Car")
    add(hotel, "Book Hotel")
    add(hotel, "Add Breakfast")
    add(car, "Rent Car")
    add(car, "Insure Car")
    saga.step("Take Payment", act("Take Payment"))
    return saga


def _plain_fail_fast_cause(error: str, cause: str | None) -> str:
    """The cause a plain step's ``fail_fast_on`` gives: its error output as compact JSON."""
    output = {"Error": error} if cause is None else {"Error": error, "Cause": cause}
    return json.dumps(output, separators=(",", ":"))


@pytest.mark.parametrize("step", BRANCH_STEPS)
@pytest.mark.parametrize("cause", ["no rooms left", None], ids=["cause", "no cause"])
def test_a_fail_fast_error_in_any_branch_step_skips_the_unwind(
    step: str, cause: str | None
) -> None:
    calls: list[str] = []
    saga = build(calls)
    execution = saga.run({}, interceptors=[faults.fails(step, error=FATAL, cause=cause)])
    assert (execution.status, execution.error) == ("FAILED", FATAL)
    assert execution.cause == _plain_fail_fast_cause(FATAL, cause)
    assert execution.states[-1] == "Saga Failed Fast"
    assert execution.unwind == []
    assert [c for c in calls if c in UNDO.values()] == []
    assert "Take Payment" not in calls
    branch = "Hotel" if step in ("Book Hotel", "Add Breakfast") else "Car"
    reraise = f"{branch} in Stay And Drive (re-raise{'' if cause else ', no cause'})"
    entered = [e.state_name for e in execution.history if e.type == "FailStateEntered"]
    assert entered == [reraise, "Saga Failed Fast"]


def test_the_error_and_cause_are_those_of_a_plain_fail_fast_step() -> None:
    grouped = build([], fatal="Add Breakfast").run({})
    plain = Saga("Plain")
    plain.step("Book Flight", lambda event: "f").compensate("Cancel Flight", lambda event: None)

    def add_breakfast(event: dict[str, Any]) -> str:
        raise Fatal("Add Breakfast cannot go on")

    plain.step("Add Breakfast", add_breakfast, fail_fast_on=[FATAL])
    alone = plain.run({})
    assert (grouped.status, grouped.error) == (alone.status, alone.error) == ("FAILED", FATAL)
    grouped_cause, alone_cause = json.loads(grouped.cause or ""), json.loads(alone.cause or "")
    assert grouped_cause["Error"] == alone_cause["Error"] == FATAL
    inner = json.loads(grouped_cause["Cause"])
    assert (inner["errorType"], inner["errorMessage"]) == (FATAL, "Add Breakfast cannot go on")
    assert set(inner) == set(json.loads(alone_cause["Cause"]))


def test_the_sibling_branch_is_stopped() -> None:
    # Rent Car takes a minute (virtual time); Book Hotel fails fast at once: the car branch is
    # stopped, so Insure Car never runs
    calls: list[str] = []
    slow_car = faults.hangs("Rent Car", seconds=60)
    execution = build(calls, fatal="Book Hotel").run({}, interceptors=[slow_car])
    assert execution.error == FATAL
    assert calls == ["Book Flight", "Book Hotel"]
    aborted = [e.state_name for e in execution.history if e.type == "TaskStateAborted"]
    assert aborted == ["Rent Car"]
    assert execution.stop_date is not None
    assert (execution.stop_date - execution.start_date).total_seconds() < 60


def test_a_fail_fast_error_after_a_sibling_failed_still_skips_the_unwind() -> None:
    # Rent Car fails (caught in its branch, which ends with its record); the hotel branch runs
    # on, and Add Breakfast's fail-fast error then ends the saga without any compensation
    calls: list[str] = []
    execution = build(calls).run(
        {},
        interceptors=[
            faults.fails("Rent Car", error="Car.Unavailable", cause="none left"),
            faults.fails("Add Breakfast", error=FATAL, cause="kitchen closed"),
        ],
    )
    assert execution.error == FATAL
    assert execution.cause == _plain_fail_fast_cause(FATAL, "kitchen closed")
    assert execution.unwind == []
    assert calls == ["Book Flight", "Book Hotel"]  # faults stand in for the failing calls


# Any other error still undoes what each branch completed, in the same order as without
# fail_fast_on (tests/test_saga_branches.py).
@pytest.mark.parametrize(("step", "undone"), list(TWO_BY_TWO.items()))
def test_other_errors_still_undo_what_each_branch_completed(step: str, undone: list[str]) -> None:
    calls: list[str] = []
    execution = build(calls).run({}, interceptors=[faults.fails(step, error="Trip.Full")])
    assert (execution.status, execution.error) == ("FAILED", "SagaFailed")
    assert json.loads(execution.cause or "") == {"Error": "Trip.Full"}
    assert [u.state for u in execution.unwind] == [*undone, "Cancel Flight"]
    assert [c for c in calls if c in UNDO.values()] == [*undone, "Cancel Flight"]


def test_the_compiled_shape() -> None:
    states = json.loads(build([]).to_json())["States"]
    group = states["Stay And Drive"]
    assert group["Catch"][0] == {
        "ErrorEquals": [FATAL],
        "ResultPath": "$",
        "Next": "Saga Failed Fast",
    }
    hotel = group["Branches"][0]["States"]
    for step in ("Book Hotel", "Add Breakfast"):
        assert hotel[step]["Catch"] == [
            {"ErrorEquals": [FATAL], "ResultPath": "$", "Next": HOTEL_FAIL_FAST},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": f"{step} (failed)"},
        ]
    assert hotel[HOTEL_FAIL_FAST] == {
        "Type": "Choice",
        "Choices": [
            {
                "Variable": "$.Cause",
                "IsPresent": True,
                "Next": "Hotel in Stay And Drive (re-raise)",
            }
        ],
        "Default": "Hotel in Stay And Drive (re-raise, no cause)",
    }
    assert hotel["Hotel in Stay And Drive (re-raise)"] == {
        "Type": "Fail",
        "ErrorPath": "$.Error",
        "CausePath": "$.Cause",
    }
    assert hotel["Hotel in Stay And Drive (re-raise, no cause)"] == {
        "Type": "Fail",
        "ErrorPath": "$.Error",
    }
    assert "Car in Stay And Drive (fail fast)" in group["Branches"][1]["States"]
    assert states["Saga Failed Fast"] == {
        "Type": "Fail",
        "ErrorPath": "$.Error",
        "CausePath": "States.JsonToString($)",
    }


@pytest.mark.parametrize("query_language", ["JSONPath", "JSONata"])
@pytest.mark.parametrize("step", ["Add Breakfast", "Rent Car", None])
def test_export_passes_both_validators_and_runs_the_same(
    query_language: str, step: str | None
) -> None:
    saga = build([], fatal=step, query_language=query_language)
    text = saga.to_json()
    document = engine.substitute(json.loads(text), {k: ARN + k for k in saga.handlers()})
    assert statelint_problems([document]) == [[]]
    command = asl_validator_path()
    if command is not None:
        assert asl_validator_problems([document], command) == [[]]
    direct = saga.run({}, name="x")
    exported = engine.run(engine.load(text), {}, handlers=saga.handlers(), name="x")
    assert (exported.status, exported.error, exported.cause, exported.states) == (
        direct.status,
        direct.error,
        direct.cause,
        direct.states,
    )


@pytest.mark.parametrize("step", BRANCH_STEPS)
@pytest.mark.parametrize("cause", ["no rooms left", None], ids=["cause", "no cause"])
def test_jsonata_fails_fast_like_jsonpath(step: str, cause: str | None) -> None:
    outcomes = []
    for language in ("JSONPath", "JSONata"):
        calls: list[str] = []
        fault = faults.fails(step, error=FATAL, cause=cause)
        execution = build(calls, query_language=language).run({}, interceptors=[fault], name="x")
        outcomes.append((execution.status, execution.error, execution.cause, execution.states))
        outcomes.append(calls)
    assert outcomes[0] == outcomes[2]
    assert outcomes[1] == outcomes[3]
    assert outcomes[0][1:3] == (FATAL, _plain_fail_fast_cause(FATAL, cause))


def test_the_states_it_adds_must_fit_and_be_new() -> None:
    from saga import SagaDefinitionError

    saga = Saga("Clash")
    saga.step("Car in G (fail fast)", lambda event: 0)
    group = saga.parallel("G", fail_fast_on=[FATAL])
    pair = group.branch("Car")
    pair.step("A", lambda event: 1)
    pair.step("B", lambda event: 2)
    with pytest.raises(SagaDefinitionError, match=r"adds a state named 'Car in G \(fail fast\)'"):
        saga.to_state_machine()

    long = Saga("Long")
    group = long.parallel("G" * 40, fail_fast_on=[FATAL])
    pair = group.branch("B" * 30)
    pair.step("A", lambda event: 1)
    pair.step("B", lambda event: 2)
    with pytest.raises(SagaDefinitionError, match=r"no cause\)' it adds is 95 characters"):
        long.to_state_machine()
