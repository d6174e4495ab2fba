"""A Python step bound to a ``${Placeholder}`` function runs out of time where its deployed
Lambda function would: at the timeout the exported template gives that function.

The template gives a function the longest ``TimeoutSeconds`` of the Tasks calling it, at least
30 s and at most 900 s; the engine stops the step at the same figure, with the error Lambda
answers then (``Sandbox.Timedout``), and the step's context counts down to it. A state's own
``TimeoutSeconds`` that comes first still gives ``States.Timeout``. The timing tests lower the
30 s floor to 1 s so they run in about a second.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from asl_export import FunctionSpec
from asl_export.sam import sam_template
from engine import inline_step, lambda_shapes, load
from engine.clock import VirtualClock
from engine.execution import Execution
from engine.lambda_runtime import LambdaContext
from engine.lambda_shapes import deployed_timeout, function_timed_out, request_id_for
from engine.local_engine import run
from engine.task_calls import function_timeouts_of

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets abandoned steps finish once the test is done."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def one_second_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_shapes, "DEPLOYED_TIMEOUT_FLOOR", 1)


def _hanging(release: threading.Event) -> Any:
    """A step that blocks until the test ends (it is abandoned, then let go)."""

    def hangs(event: Any) -> Any:
        release.wait(30)
        return "late"

    return hangs


def _one_task(resource: str, **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "Reserve",
        "States": {"Reserve": {"Type": "Task", "Resource": resource, **fields, "End": True}},
    }


def _run(definition: dict[str, Any], handlers: dict[str, Any]) -> Execution:
    return run(definition, {"k": 1}, handlers=handlers, clock=VirtualClock(T0), name="ft")


def _failure(execution: Execution, event_type: str) -> dict[str, Any]:
    [event] = [e for e in execution.history if e.type == event_type]
    assert event.details is not None
    return event.details


_NESTED = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {
            "Type": "Task",
            "Resource": "${Reserve.Arn}",
            "TimeoutSeconds": 5,
            "Next": "Both",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Again",
                    "States": {
                        "Again": {
                            "Type": "Task",
                            "Resource": "${Reserve.Arn}",
                            "TimeoutSeconds": 120,
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Notify",
                    "States": {"Notify": {"Type": "Task", "Resource": "${Notify}", "End": True}},
                },
            ],
            "Next": "Archive",
        },
        "Archive": {
            "Type": "Task",
            "Resource": "${Archive}",
            "TimeoutSeconds": 3600,
            "End": True,
        },
    },
}


def test_the_engine_sizes_each_function_as_the_exported_template_does() -> None:
    longest = function_timeouts_of(load(_NESTED))
    assert longest == {"Reserve.Arn": 120, "Notify": 0, "Archive": 3600}
    local = {name: deployed_timeout(seconds) for name, seconds in longest.items()}
    assert local == {"Reserve.Arn": 120, "Notify": 30, "Archive": 900}
    template = sam_template(
        load(_NESTED),
        name="Booking",
        functions=[
            FunctionSpec("Reserve.Arn", "steps:reserve"),
            FunctionSpec("Notify", "steps:notify"),
            FunctionSpec("Archive", "steps:archive"),
        ],
    )
    resources = template["Resources"]
    deployed = {
        "Reserve.Arn": resources["Reserve"]["Properties"]["Timeout"],
        "Notify": resources["Notify"]["Properties"]["Timeout"],
        "Archive": resources["Archive"]["Properties"]["Timeout"],
    }
    assert deployed == local


def test_the_timeout_error_is_lambda_s() -> None:
    assert json.loads(function_timed_out("rid-1", 30)) == {
        "errorMessage": "RequestId: rid-1 Error: Task timed out after 30.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert function_timed_out("r", 2.5) == (
        '{"errorMessage":"RequestId: r Error: Task timed out after 2.50 seconds",'
        '"errorType":"Sandbox.Timedout"}'
    )


@pytest.mark.usefixtures("one_second_floor")
def test_a_step_past_its_function_timeout_fails_with_sandbox_timedout(
    release: threading.Event,
) -> None:
    definition = _one_task(
        "${Reserve.Arn}", Catch=[{"ErrorEquals": ["Sandbox.Timedout"], "Next": "Undo"}]
    )
    definition["States"]["Undo"] = {"Type": "Pass", "End": True}
    execution = _run(definition, {"Reserve": _hanging(release)})
    assert execution.status == "SUCCEEDED"
    assert execution.states == ["Reserve", "Undo"]
    cause = function_timed_out(request_id_for("ft", "Reserve", 0), 1)
    assert _failure(execution, "LambdaFunctionFailed") == {
        "error": "Sandbox.Timedout",
        "cause": cause,
    }
    assert execution.output == {"Error": "Sandbox.Timedout", "Cause": cause}
    started, failed = (
        next(e for e in execution.history if e.type == kind)
        for kind in ("LambdaFunctionStarted", "LambdaFunctionFailed")
    )
    # Virtual time ran with the wall clock while the step hung: the function's timeout.
    assert failed.posix - started.posix >= 1.0


@pytest.mark.usefixtures("one_second_floor")
def test_lambda_invoke_of_a_placeholder_function_times_out_too(release: threading.Event) -> None:
    definition = _one_task(
        "arn:aws:states:::lambda:invoke",
        Parameters={"FunctionName": "${Reserve}", "Payload.$": "$"},
    )
    execution = _run(definition, {"Reserve": _hanging(release)})
    assert execution.status == "FAILED"
    assert _failure(execution, "TaskFailed") == {
        "resource": "invoke",
        "resourceType": "lambda",
        "error": "Sandbox.Timedout",
        "cause": function_timed_out(request_id_for("ft", "Reserve", 0), 1),
    }


@pytest.mark.usefixtures("one_second_floor")
def test_an_inline_step_is_held_to_its_function_timeout_when_it_returns() -> None:
    import time

    @inline_step
    def slow(event: Any) -> Any:
        time.sleep(1.1)
        return "late"

    execution = _run(_one_task("${Reserve}"), {"Reserve": slow})
    assert execution.status == "FAILED"
    assert execution.error == "Sandbox.Timedout"
    assert execution.cause == function_timed_out(request_id_for("ft", "Reserve", 0), 1)


@pytest.mark.usefixtures("one_second_floor")
def test_the_state_s_own_timeout_comes_first(release: threading.Event) -> None:
    execution = _run(_one_task("${Reserve}", TimeoutSeconds=1), {"Reserve": _hanging(release)})
    assert execution.status == "FAILED"
    assert execution.error == "States.Timeout"
    assert [e.type for e in execution.history][-2:] == [
        "LambdaFunctionTimedOut",
        "ExecutionFailed",
    ]


def _remaining(resource: str, timeout_seconds: int) -> int:
    seen: list[int] = []

    def step(event: Any, context: LambdaContext) -> Any:
        seen.append(context.get_remaining_time_in_millis())
        return event

    definition = _one_task(resource, TimeoutSeconds=timeout_seconds)
    handler_key = resource.removeprefix("${").removesuffix("}")
    assert _run(definition, {handler_key: step}).status == "SUCCEEDED"
    return seen[0]


def test_the_context_counts_down_to_the_function_s_timeout() -> None:
    # Deployed, the function gets 30 s however short the state's timeout: Lambda's context
    # counts down to the function's timeout, not the state's.
    assert 29_000 < _remaining("${Reserve}", 5) <= 30_000
    assert 119_000 < _remaining("${Reserve}", 120) <= 120_000
    # A function known only by name: its timeout is not known here, the state's counts.
    assert 4_000 < _remaining("Reserve", 5) <= 5_000


def _hung(definition: dict[str, Any]) -> Execution:
    from saga.testing import faults

    return run(
        definition,
        {"k": 1},
        handlers={"Reserve": lambda event: event},
        clock=VirtualClock(T0),
        name="ft",
        interceptors=[faults.hangs("Reserve")],
    )


def test_a_hung_placeholder_step_fails_at_its_function_timeout_in_virtual_time() -> None:
    definition = _one_task("${Reserve.Arn}")
    execution = _hung(definition)
    assert execution.error == "Sandbox.Timedout"
    assert execution.cause == function_timed_out(request_id_for("ft", "Reserve", 0), 30)
    started, failed = (
        next(e for e in execution.history if e.type == kind)
        for kind in ("LambdaFunctionStarted", "LambdaFunctionFailed")
    )
    assert failed.posix - started.posix == pytest.approx(30.0, abs=0.05)  # work moves time too
    # With a TimeoutSeconds of its own, that comes first.
    definition["States"]["Reserve"]["TimeoutSeconds"] = 5
    execution = _hung(definition)
    assert execution.error == "States.Timeout"
    # A function known only by name cannot be sized: the hang lasts Step Functions' default.
    assert _hung(_one_task("Reserve")).error == "States.Timeout"
