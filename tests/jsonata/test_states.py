"""Every JSONata field of every state type, run on the local engine with exact outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import run
from tests.jsonata.cases import CASES, WORK, Case, machine

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _count_units(event: Any) -> Any:
    return {"units": sum(line["qty"] for line in event["items"]), "currency": event.get("currency")}


def _fails(event: Any) -> Any:
    raise ValueError("no stock")


async def _sleeps(event: Any) -> Any:
    await anyio.sleep(3600)
    return event


HANDLERS: dict[str, Callable[[Any], Any]] = {
    "count_units": _count_units,
    "fails": _fails,
    "sleeps": _sleeps,
}


def run_case(case: Case) -> Execution:
    """Run one case on a virtual clock starting at 2024-01-01T00:00:00Z."""
    handlers = {WORK: HANDLERS[case.handler]} if case.handler else {}
    return run(case.definition, case.input, handlers=handlers, clock=VirtualClock(T0))


def outcome(execution: Execution) -> dict[str, Any]:
    """Status and output, or status, error and cause."""
    if execution.status == "SUCCEEDED":
        return {"status": execution.status, "output": execution.output}
    return {"status": execution.status, "error": execution.error, "cause": execution.cause}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    assert outcome(run_case(case)) == case.expected


def _events(execution: Execution, event_type: str) -> list[dict[str, Any]]:
    return [event.to_dict() for event in execution.history if event.type == event_type]


def test_evaluation_failed_event_has_aws_shape() -> None:
    # AWS: EvaluationFailed links to the event before the state's entry and names the field.
    definition = machine(
        {
            "First": {"Type": "Pass", "Next": "State0"},
            "State0": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": True},
        }
    )
    execution = run(definition, {}, clock=VirtualClock(T0))
    types = [event.type for event in execution.history]
    assert types == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    failed = _events(execution, "EvaluationFailed")[0]
    cause = (
        "An error occurred while executing the state 'State0' (entered at the event id #4). The "
        "JSONata expression '$doesNotExist' specified for the field 'Output/result' returned "
        "nothing (undefined)."
    )
    assert failed["previousEventId"] == 3
    assert failed["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": cause,
        "location": "Output/result",
        "state": "State0",
    }
    assert _events(execution, "ExecutionFailed")[0]["previousEventId"] == 5


def test_task_timeouts_from_expressions_are_scheduled() -> None:
    definition = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": WORK,
                "Arguments": {"items": []},
                "TimeoutSeconds": "{% $states.input.timeout %}",
                "HeartbeatSeconds": "{% $states.input.timeout - 10 %}",
                "End": True,
            }
        }
    )
    execution = run(
        definition, {"timeout": 30}, handlers={WORK: _count_units}, clock=VirtualClock(T0)
    )
    scheduled = _events(execution, "LambdaFunctionScheduled")[0][
        "lambdaFunctionScheduledEventDetails"
    ]
    assert scheduled["timeoutInSeconds"] == 30
    assert scheduled["heartbeatInSeconds"] == 20
    assert scheduled["input"] == '{"items":[]}'
    assert execution.output == {"units": 0, "currency": None}


def test_assigned_variables_in_history_are_json_text() -> None:
    definition = machine(
        {
            "P": {
                "Type": "Pass",
                "Assign": {
                    "text": "{% 'a\"b' %}",
                    "number": "{% 1.5 * 2 %}",
                    "list": [1, "{% 2 %}"],
                },
                "End": True,
            }
        }
    )
    execution = run(definition, {}, clock=VirtualClock(T0))
    exited = _events(execution, "PassStateExited")[0]["stateExitedEventDetails"]
    assert exited["assignedVariables"] == {"text": '"a\\"b"', "number": "3", "list": "[1,2]"}
    assert exited["assignedVariablesDetails"] == {"truncated": False}


def test_retry_reruns_a_task_whose_output_fails() -> None:
    calls: list[int] = []

    def flaky(event: Any) -> Any:
        calls.append(1)
        return {"ready": len(calls) > 1}

    definition = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": WORK,
                "Output": "{% $states.result.ready ? 'ready' : $nothing %}",
                "Retry": [{"ErrorEquals": ["States.QueryEvaluationError"], "MaxAttempts": 2}],
                "End": True,
            }
        }
    )
    execution = run(definition, {}, handlers={WORK: flaky}, clock=VirtualClock(T0))
    assert execution.output == "ready"
    assert len(calls) == 2
    assert [event.type for event in execution.history].count("EvaluationFailed") == 1


def test_random_and_uuid_are_reproducible_under_a_seed() -> None:
    definition = machine(
        {
            "P": {
                "Type": "Pass",
                "Output": {"r": "{% $random() %}", "u": "{% $uuid() %}", "s": "{% $random(7) %}"},
                "End": True,
            }
        }
    )
    first = run(definition, {}, clock=VirtualClock(T0), seed=5).output
    second = run(definition, {}, clock=VirtualClock(T0), seed=5).output
    assert first == second
    assert 0 <= first["r"] < 1
    assert len(first["u"]) == 36 and first["u"][14] == "4"
    other = run(definition, {}, clock=VirtualClock(T0), seed=6).output
    assert other["s"] == first["s"]  # an explicit seed gives the same number in any execution
    assert other["u"] != first["u"]


def test_executions_in_several_threads_evaluate_the_same_expressions() -> None:
    from concurrent.futures import ThreadPoolExecutor

    case = next(case for case in CASES if case.id == "pass-output-template")

    def one(_: int) -> Any:
        return outcome(run_case(case))

    outcome(run_case(case))  # compiled in this thread first
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(8)))
    assert results == [case.expected] * 8


def test_runaway_expressions_fail_instead_of_hanging_or_crashing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import engine.expressions

    deep = machine(
        {
            "P": {
                "Type": "Pass",
                "Output": "{% ($f := function($x){ 1 + $f($x) }; $f(1)) %}",
                "End": True,
            }
        }
    )
    execution = run(deep, {}, clock=VirtualClock(T0))
    assert execution.error == "States.QueryEvaluationError"
    assert "threw an error during evaluation. STACK_OVERFLOW: " in (execution.cause or "")

    monkeypatch.setattr(engine.expressions, "EVALUATION_TIMEOUT_MS", 200)
    endless = machine(
        {
            "P": {
                "Type": "Pass",
                "Output": "{% ($g := function($x){ $g($x) }; $g(2)) %}",
                "End": True,
            }
        }
    )
    execution = run(endless, {}, clock=VirtualClock(T0))
    assert execution.error == "States.QueryEvaluationError"
    assert "threw an error during evaluation. TIMEOUT: " in (execution.cause or "")
