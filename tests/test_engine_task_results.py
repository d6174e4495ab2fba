"""A Task's result is isolated JSON data and size-checked, whoever produced it.

A Python step's result is decoded from the JSON text Lambda's runtime returns, so it is never
copied again; what an interceptor or an engine handler returns is copied before the execution
uses it, so changing it afterwards changes nothing that was recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from engine import VirtualClock, run
from engine.bindings import CallNext, TaskRequest

T0 = datetime(2024, 1, 1, tzinfo=UTC)

_TWO_TASKS: dict[str, Any] = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Task", "Resource": "Work", "ResultPath": "$.first", "Next": "Second"},
        "Second": {"Type": "Task", "Resource": "Work", "ResultPath": "$.second", "End": True},
    },
}


def _succeeded_outputs(execution: Any) -> list[str]:
    return [
        event["taskSucceededEventDetails"]["output"]
        for event in execution.history_dicts()
        if event["type"] == "TaskSucceeded"
    ]


def test_a_step_changing_the_object_it_returned_changes_nothing_recorded() -> None:
    kept: dict[str, int] = {"n": 0}

    def work(event: Any) -> dict[str, int]:
        kept["n"] += 1
        return kept

    execution = run(_TWO_TASKS, {}, handlers={"Work": work}, clock=VirtualClock(T0))
    assert execution.output == {"first": {"n": 1}, "second": {"n": 2}}
    assert _succeeded_outputs(execution) == ['{"n":1}', '{"n":2}']


class _SameObject:
    """An interceptor answering every task with one object it changes between calls."""

    def __init__(self) -> None:
        self.answer: dict[str, int] = {"n": 0}

    async def __call__(self, request: TaskRequest, call_next: CallNext) -> Any:
        self.answer["n"] += 1
        return self.answer


def test_an_interceptors_result_is_copied_before_the_execution_uses_it() -> None:
    execution = run(
        _TWO_TASKS,
        {},
        handlers={"Work": lambda event: event},
        interceptors=[_SameObject()],
        clock=VirtualClock(T0),
    )
    assert execution.output == {"first": {"n": 1}, "second": {"n": 2}}
    assert _succeeded_outputs(execution) == ['{"n":1}', '{"n":2}']


def _nan_message() -> str:
    with pytest.raises(ValueError) as caught:
        json.dumps(float("nan"), allow_nan=False)
    return str(caught.value)


@pytest.mark.parametrize("intercepted", [False, True])
def test_a_result_that_is_not_json_data_fails_the_execution(intercepted: bool) -> None:
    async def answer_nan(request: TaskRequest, call_next: CallNext) -> Any:
        return {"x": float("nan")}

    execution = run(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "Work", "End": True}}},
        {},
        handlers={"Work": lambda event: {"x": float("nan")}},
        interceptors=[answer_nan] if intercepted else [],
        clock=VirtualClock(T0),
    )
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause == (
        "An error occurred while executing the state 'T' (entered at the event id #2). "
        f"The task result is not JSON-serialisable: {_nan_message()}"
    )
