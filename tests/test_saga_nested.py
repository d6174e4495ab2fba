"""Sagas of sagas: a saga used as a step runs as a nested execution (startExecution.sync:2)
of its own machine; its failure (after its own unwind) starts the parent's unwind."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine
from saga import Saga, SagaDefinitionError
from saga.declaration import SagaDeclaration
from saga.running import child_arns
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
LOCAL = "arn:aws:states:us-east-1:123456789012:stateMachine:"


def build(calls: list[str]) -> tuple[Saga, Saga]:
    """Trip = hotel, then the Flights saga (outbound, return), then payment."""

    def act(name: str) -> Any:
        def action(event: dict[str, Any]) -> str:
            calls.append(name)
            if event.get("fail") == name:
                raise RuntimeError(f"{name} failed")
            return name

        return action

    flights = Saga("Flights")
    flights.step("Book Outbound", act("Book Outbound")).compensate(
        "Cancel Outbound", act("Cancel Outbound")
    )
    flights.step("Book Return", act("Book Return"), compensate_self=False).compensate(
        "Cancel Return", act("Cancel Return")
    )
    flights.step("Confirm Flights", act("Confirm Flights"))
    trip = Saga("Trip")
    trip.step("Book Hotel", act("Book Hotel")).compensate("Cancel Hotel", act("Cancel Hotel"))
    trip.step("Book Flights", flights).compensate("Cancel Flights", act("Cancel Flights"))
    trip.step("Take Payment", act("Take Payment"))
    return trip, flights


def test_the_child_runs_as_a_nested_execution_of_its_own_machine() -> None:
    calls: list[str] = []
    trip, flights = build(calls)
    state = json.loads(trip.to_json())["States"]["Book Flights"]
    assert state["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert state["Parameters"] == {
        "StateMachineArn": "${FlightsStateMachineArn}",
        "Input.$": "$",
    }
    assert trip.child_sagas() == (flights,)
    assert child_arns(trip) == {"FlightsStateMachineArn": LOCAL + "Flights"}
    execution = trip.run({})
    assert execution.status == "SUCCEEDED"
    assert calls == [
        "Book Hotel",
        "Book Outbound",
        "Book Return",
        "Confirm Flights",
        "Take Payment",
    ]
    child = execution.output["bookFlights"]
    assert (child["Status"], child["StateMachineArn"]) == ("SUCCEEDED", LOCAL + "Flights")
    assert child["Output"]["confirmFlights"] == "Confirm Flights"


@pytest.mark.parametrize(
    ("fail", "child_undo"),
    [
        ("Book Outbound", []),
        ("Book Return", ["Cancel Outbound"]),
        ("Confirm Flights", ["Cancel Return", "Cancel Outbound"]),
    ],
)
def test_a_child_failure_unwinds_the_child_then_the_parent(
    fail: str, child_undo: list[str]
) -> None:
    calls: list[str] = []
    trip, _ = build(calls)
    execution = trip.run({"fail": fail})
    assert execution.status == "FAILED"
    done = ["Book Outbound", "Book Return", "Confirm Flights"]
    tried = done[: done.index(fail) + 1]
    # the child's own unwind, then the parent's: the child is not compensated by the parent
    assert calls == ["Book Hotel", *tried, *child_undo, "Cancel Hotel"]
    assert [u.state for u in execution.unwind] == ["Cancel Hotel"]
    caught = json.loads(execution.cause or "")
    assert caught["Error"] == "States.TaskFailed"
    assert json.loads(caught["Cause"])["Status"] == "FAILED"


def test_a_later_failure_runs_the_childs_compensation_declared_in_the_parent() -> None:
    calls: list[str] = []
    trip, _ = build(calls)
    execution = trip.run({"fail": "Take Payment"})
    assert calls[-3:] == ["Take Payment", "Cancel Flights", "Cancel Hotel"]
    assert [u.state for u in execution.unwind] == ["Cancel Flights", "Cancel Hotel"]


def test_both_machines_pass_both_validators_and_the_export_runs_the_same() -> None:
    calls: list[str] = []
    trip, flights = build(calls)
    documents = []
    for saga in (trip, flights):
        values = {k: ARN + k for k in saga.handlers()} | child_arns(trip)
        documents.append(engine.substitute(json.loads(saga.to_json()), values))
    assert statelint_problems(documents) == [[], []]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is not installed")
    assert asl_validator_problems(documents, command) == [[], []]
    direct = trip.run({"fail": "Book Return"}, name="n-1")
    exported = engine.run(
        engine.load(trip.to_json(), child_arns(trip)),
        {"fail": "Book Return"},
        handlers={**trip.handlers(), **flights.handlers()},
        name="n-1",
        state_machine_name="Trip",
        state_machines={"Flights": engine.load(flights.to_json())},
    )
    assert (exported.status, exported.output, exported.states) == (
        direct.status,
        direct.output,
        direct.states,
    )


def test_a_saga_cannot_be_its_own_step() -> None:
    saga = Saga("Loop")
    with pytest.raises(SagaDefinitionError, match="cannot be a step of itself"):
        saga.step("Again", saga)


def test_the_pytest_plugin_runs_a_saga_of_sagas(saga_engine: Any) -> None:
    calls: list[str] = []
    trip, _ = build(calls)
    execution = saga_engine.run(trip, {"fail": "Book Return"})
    assert execution.status == "FAILED"
    assert calls == [
        "Book Hotel",
        "Book Outbound",
        "Book Return",
        "Cancel Outbound",
        "Cancel Hotel",
    ]


def test_a_bare_declaration_as_a_step_is_a_child_saga_but_not_a_saga() -> None:
    """A step recognises a saga by its declaration (saga.steps cannot import saga.saga);
    ``Saga.child_sagas()`` promises Sagas, so a bare declaration there is refused by name."""
    bare = SagaDeclaration("Bare")
    parent = Saga("Parent")
    step = parent.step("Run Bare", bare)
    assert step.child is bare
    state = parent.to_state_machine().to_dict()["States"]["Run Bare"]
    assert state["Parameters"]["StateMachineArn"] == "${BareStateMachineArn}"
    with pytest.raises(TypeError) as raised:
        parent.child_sagas()
    assert str(raised.value) == (
        "child saga 'Bare' is a bare SagaDeclaration, not a Saga; declare it with Saga('Bare')"
    )
