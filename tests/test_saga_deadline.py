"""A saga-level deadline (``deadline_path``) that still compensates: once it has passed, the
next unit does not start and the unwind and failure handlers run (unlike TimeoutSeconds)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine
from saga import LambdaInvoke, Saga, SagaDefinitionError
from saga.testing import callbacks
from saga.testing.harness import SagaTestEngine
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
STEPS = ["Hold Fare", "Reserve Seats", "Confirm Hotel", "Issue Tickets"]
UNDO = {
    "Hold Fare": "Release Fare",
    "Reserve Seats": "Release Seats",
    "Confirm Hotel": "Cancel Hotel",
}


def build(calls: list[str]) -> Saga:
    """Four steps, each answered by callback 100 s after it starts (virtual time)."""
    saga = Saga("Deadlined", deadline_path="$.deadline", success_state="Done")

    def record(name: str) -> Any:
        def action(event: dict[str, Any]) -> None:
            calls.append(name)

        return action

    for name in STEPS:
        step = saga.step(
            name,
            record(name),
            resource=LambdaInvoke(name.lower().replace(" ", "-"), wait_for_task_token=True),
            timeout=3600,
        )
        if name in UNDO:
            step.compensate(UNDO[name], record(UNDO[name]))
    saga.on_failure("Tell Customer", record("Tell Customer"))
    return saga


ANSWERS = [callbacks.answers(name, output=name, after=100) for name in STEPS]


def _deadline(seconds: int) -> str:
    return f"2024-01-01T00:{seconds // 60:02d}:{seconds % 60:02d}Z"  # the test clock starts at 0:00


@pytest.mark.parametrize("passes_before", range(1, len(STEPS)))
def test_a_passed_deadline_stops_the_next_unit_and_unwinds(passes_before: int) -> None:
    calls: list[str] = []
    data = {"deadline": _deadline(100 * passes_before - 50)}
    execution = SagaTestEngine().run(build(calls), data, faults=ANSWERS)
    done = STEPS[:passes_before]
    undone = [UNDO[name] for name in reversed(done)]
    assert calls == [*done, *undone, "Tell Customer"]
    assert execution.status == "FAILED"
    assert json.loads(execution.cause or "") == {
        "Error": "Saga.DeadlinePassed",
        "Cause": f"the deadline at $.deadline passed before '{STEPS[passes_before]}' started",
    }
    assert [u.state for u in execution.unwind] == [*undone, "Tell Customer"]


def test_a_deadline_already_passed_runs_only_the_failure_handlers() -> None:
    calls: list[str] = []
    execution = SagaTestEngine().run(
        build(calls), {"deadline": "2023-12-31T23:59:00Z"}, faults=ANSWERS
    )
    assert (execution.status, calls) == ("FAILED", ["Tell Customer"])


@pytest.mark.parametrize("data", [{"deadline": _deadline(500)}, {}], ids=["in time", "no deadline"])
def test_in_time_or_without_a_deadline_the_saga_completes(data: dict[str, Any]) -> None:
    calls: list[str] = []
    execution = SagaTestEngine().run(build(calls), data, faults=ANSWERS)
    assert (execution.status, calls) == ("SUCCEEDED", STEPS)


def test_the_compiled_check() -> None:
    states = json.loads(build([]).to_json())["States"]
    assert json.loads(build([]).to_json())["StartAt"] == "Hold Fare (deadline?)"
    assert "TimeoutSeconds" not in json.loads(build([]).to_json())
    assert states["Confirm Hotel (deadline?)"] == {
        "Type": "Choice",
        "Choices": [
            {
                "And": [
                    {"Variable": "$.deadline", "IsPresent": True},
                    {"Variable": "$$.State.EnteredTime", "TimestampGreaterThanPath": "$.deadline"},
                ],
                "Next": "Confirm Hotel (deadline passed)",
            }
        ],
        "Default": "Confirm Hotel",
    }
    assert states["Confirm Hotel (deadline passed)"]["Next"] == "Release Seats"
    assert states["Hold Fare (deadline passed)"]["Next"] == "Tell Customer"


def test_export_passes_both_validators_and_runs_the_same() -> None:
    saga = build([])
    text = saga.to_json()
    document = engine.substitute(json.loads(text), {k: ARN + k for k in saga.handlers()})
    assert statelint_problems([document]) == [[]]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is not installed")
    assert asl_validator_problems([document], command) == [[]]
    data = {"deadline": _deadline(250)}
    direct = SagaTestEngine().run(saga, data, faults=ANSWERS, name="x")
    exported = SagaTestEngine().run(
        engine.load(text), data, faults=ANSWERS, name="x", handlers=saga.handlers()
    )
    assert (exported.status, exported.output, exported.cause, exported.states) == (
        direct.status,
        direct.output,
        direct.cause,
        direct.states,
    )


@pytest.mark.parametrize("path", ["deadline", "$$.Execution.StartTime", 5])
def test_a_bad_deadline_path_is_refused(path: Any) -> None:
    with pytest.raises(SagaDefinitionError, match="deadline_path is"):
        Saga("Bad", deadline_path=path)
