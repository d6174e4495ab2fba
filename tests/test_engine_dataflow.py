"""The JSONPath data flow of every state type, the context object, and Fail/Runtime errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import run

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _run(
    states: dict[str, Any], data: Any = None, start: str | None = None, **kw: Any
) -> Execution:
    definition = {"StartAt": start or next(iter(states)), "States": states}
    kw.setdefault("clock", VirtualClock(T0))
    kw.setdefault("name", "exec-1")
    return run(definition, data, **kw)


def _types(execution: Execution) -> list[str]:
    return [event.type for event in execution.history]


# -- Pass -------------------------------------------------------------------------------------


def test_pass_without_fields_passes_input_through() -> None:
    ex = _run({"P": {"Type": "Pass", "End": True}}, {"a": 1})
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"a": 1}
    assert ex.states == ["P"]
    assert _types(ex) == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_pass_result_replaces_input_by_default() -> None:
    ex = _run({"P": {"Type": "Pass", "Result": {"r": [1, 2]}, "End": True}}, {"a": 1})
    assert ex.output == {"r": [1, 2]}


def test_pass_result_path_creates_nested_objects() -> None:
    ex = _run({"P": {"Type": "Pass", "Result": 7, "ResultPath": "$.x.y.z", "End": True}}, {"a": 1})
    assert ex.output == {"a": 1, "x": {"y": {"z": 7}}}


def test_result_path_null_keeps_raw_input() -> None:
    ex = _run({"P": {"Type": "Pass", "Result": 7, "ResultPath": None, "End": True}}, {"a": 1})
    assert ex.output == {"a": 1}


def test_input_path_null_gives_empty_object_and_output_path_null_gives_empty_object() -> None:
    ex = _run({"P": {"Type": "Pass", "InputPath": None, "End": True}}, {"a": 1})
    assert ex.output == {}
    ex = _run({"P": {"Type": "Pass", "OutputPath": None, "End": True}}, {"a": 1})
    assert ex.output == {}


def test_order_input_path_parameters_result_path_output_path() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "InputPath": "$.inner",
            "Parameters": {"doubled.$": "$.v", "const": "c"},
            "ResultPath": "$.out",
            "OutputPath": "$.out",
            "End": True,
        }
    }
    ex = _run(states, {"inner": {"v": 5}, "other": 1})
    # ResultPath merges into the RAW input, OutputPath then selects the result.
    assert ex.output == {"doubled": 5, "const": "c"}
    states["P"]["OutputPath"] = "$"
    ex = _run(states, {"inner": {"v": 5}, "other": 1})
    assert ex.output == {"inner": {"v": 5}, "other": 1, "out": {"doubled": 5, "const": "c"}}


def test_parameters_read_the_context_object() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {
                "id.$": "$$.Execution.Id",
                "name.$": "$$.Execution.Name",
                "input.$": "$$.Execution.Input",
                "start.$": "$$.Execution.StartTime",
                "role.$": "$$.Execution.RoleArn",
                "sm.$": "$$.StateMachine.Id",
                "smName.$": "$$.StateMachine.Name",
                "state.$": "$$.State.Name",
                "entered.$": "$$.State.EnteredTime",
            },
            "End": True,
        }
    }
    ex = _run(states, {"k": "v"}, state_machine_name="Machine")
    assert ex.output == {
        "id": "arn:aws:states:us-east-1:123456789012:execution:Machine:exec-1",
        "name": "exec-1",
        "input": {"k": "v"},
        "start": "2024-01-01T00:00:00Z",
        "role": "arn:aws:iam::123456789012:role/LocalStepFunctionsRole",
        "sm": "arn:aws:states:us-east-1:123456789012:stateMachine:Machine",
        "smName": "Machine",
        "state": "P",
        "entered": "2024-01-01T00:00:00Z",
    }


def test_input_path_on_context_object() -> None:
    # As AWS records it, only Task, Parallel and Map states have $$.State.RetryCount.
    ex = _run({"P": {"Type": "Pass", "InputPath": "$$.State", "End": True}}, {})
    # A Pass state cannot retry: AWS shows no RetryCount in its $$.State.
    assert ex.output == {"EnteredTime": "2024-01-01T00:00:00Z", "Name": "P"}


def test_intrinsic_in_parameters() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {"msg.$": "States.Format('Hello {}', $.who)"},
            "End": True,
        }
    }
    assert _run(states, {"who": "Ann"}).output == {"msg": "Hello Ann"}


# -- Choice, Succeed, Fail ---------------------------------------------------------------------


def _choice_machine() -> dict[str, Any]:
    return {
        "C": {
            "Type": "Choice",
            "InputPath": "$.body",
            "OutputPath": "$.n",
            "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                {
                    "And": [
                        {"Variable": "$.n", "NumericGreaterThanEquals": 0},
                        {"Variable": "$.tag", "StringEquals": "x"},
                    ],
                    "Next": "Small",
                },
            ],
            "Default": "Other",
        },
        "Big": {"Type": "Pass", "Result": "big", "End": True},
        "Small": {"Type": "Pass", "ResultPath": "$", "Parameters": {"v.$": "$"}, "End": True},
        "Other": {"Type": "Succeed"},
    }


@pytest.mark.parametrize(
    ("body", "states", "output"),
    [
        ({"n": 11}, ["C", "Big"], "big"),
        ({"n": 3, "tag": "x"}, ["C", "Small"], {"v": 3}),
        ({"n": 3, "tag": "y"}, ["C", "Other"], 3),
    ],
)
def test_choice_routes_and_filters(body: Any, states: list[str], output: Any) -> None:
    ex = _run(_choice_machine(), {"body": body})
    assert ex.status == "SUCCEEDED"
    assert ex.states == states
    assert ex.output == output


def test_choice_without_match_or_default_fails() -> None:
    states = {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "IsNull": True, "Next": "S"}]},
        "S": {"Type": "Succeed"},
    }
    ex = _run(states, {"n": 1})
    assert ex.status == "FAILED"
    assert ex.error == "States.NoChoiceMatched"


def test_succeed_applies_input_and_output_path() -> None:
    states = {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}
    ex = _run(states, {"a": {"b": [1]}})
    assert ex.output == [1]
    assert _types(ex)[-2:] == ["SucceedStateExited", "ExecutionSucceeded"]


def test_fail_state_error_and_cause() -> None:
    ex = _run({"F": {"Type": "Fail", "Error": "Oops", "Cause": "because"}}, {})
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Oops", "because")
    assert _types(ex) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert ex.history[-1].to_dict()["executionFailedEventDetails"] == {
        "error": "Oops",
        "cause": "because",
    }
    assert ex.to_dict() == {
        "status": "FAILED",
        "error": "Oops",
        "cause": "because",
        "name": "exec-1",
        "states": ["F"],
    }


def test_fail_state_without_error_or_cause() -> None:
    ex = _run({"F": {"Type": "Fail"}}, {})
    assert (ex.status, ex.error, ex.cause) == ("FAILED", None, None)
    assert ex.history[-1].to_dict()["executionFailedEventDetails"] == {}


def test_fail_state_error_path_and_cause_path() -> None:
    states = {
        "F": {
            "Type": "Fail",
            "ErrorPath": "$.e",
            "CausePath": "States.Format('code {}', $.code)",
        }
    }
    ex = _run(states, {"e": "Custom", "code": 42})
    assert (ex.error, ex.cause) == ("Custom", "code 42")


def test_fail_error_path_missing_is_runtime_error() -> None:
    ex = _run({"F": {"Type": "Fail", "ErrorPath": "$.missing"}}, {"a": 1})
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'F' (entered at the event id #2). "
        "The JSONPath '$.missing' specified for the field 'ErrorPath' could not be found in "
        "the input '{\"a\":1}'"
    )


# -- States.Runtime ---------------------------------------------------------------------------


def test_parameters_path_not_found_is_runtime_with_state_prefix() -> None:
    states = {
        "First": {"Type": "Pass", "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"value.$": "$.x"}, "End": True},
    }
    ex = _run(states, {"a": 1})
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'P' (entered at the event id #4). "
        "The JSONPath '$.x' specified for the field 'value.$' could not be found in the "
        "input '{\"a\":1}'"
    )
    assert _types(ex)[-2:] == ["PassStateEntered", "ExecutionFailed"]


def test_input_path_not_found_is_runtime() -> None:
    ex = _run({"P": {"Type": "Pass", "InputPath": "$.x", "End": True}}, {"a": 1})
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'P' (entered at the event id #2). "
        "Invalid path '$.x' : No results for path: $['x']"
    )


def test_output_path_not_found_is_runtime() -> None:
    ex = _run({"P": {"Type": "Pass", "OutputPath": "$.x", "End": True}}, {"a": 1})
    assert ex.error == "States.Runtime"
    assert ex.cause is not None
    assert ex.cause.startswith("An error occurred while executing the state 'P'")


def test_result_path_on_non_object_fails() -> None:
    ex = _run({"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.x", "End": True}}, "text")
    assert ex.status == "FAILED"
    assert ex.error == "States.ResultPathMatchFailure"


# -- history shape -------------------------------------------------------------------------------


def test_history_event_shapes() -> None:
    ex = _run({"P": {"Type": "Pass", "Result": {"b": 2}, "End": True}}, {"a": 1})
    events = [event.to_dict() for event in ex.history]
    assert events == [
        {
            "timestamp": "2024-01-01T00:00:00.000Z",
            "type": "ExecutionStarted",
            "id": 1,
            "previousEventId": 0,
            "executionStartedEventDetails": {
                "input": '{"a":1}',
                "inputDetails": {"truncated": False},
                "roleArn": "arn:aws:iam::123456789012:role/LocalStepFunctionsRole",
            },
        },
        {
            "timestamp": "2024-01-01T00:00:00.000Z",
            "type": "PassStateEntered",
            "id": 2,
            "previousEventId": 0,  # as AWS records it: the first state links to no event
            "stateEnteredEventDetails": {
                "name": "P",
                "input": '{"a":1}',
                "inputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": "2024-01-01T00:00:00.000Z",
            "type": "PassStateExited",
            "id": 3,
            "previousEventId": 2,
            "stateExitedEventDetails": {
                "name": "P",
                "output": '{"b":2}',
                "outputDetails": {"truncated": False},
            },
        },
        {
            "timestamp": "2024-01-01T00:00:00.000Z",
            "type": "ExecutionSucceeded",
            "id": 4,
            "previousEventId": 3,
            "executionSucceededEventDetails": {
                "output": '{"b":2}',
                "outputDetails": {"truncated": False},
            },
        },
    ]


def test_to_dict_with_history() -> None:
    ex = _run({"P": {"Type": "Pass", "End": True}}, {"a": 1})
    out = ex.to_dict(history=True)
    assert list(out) == ["status", "output", "name", "states", "history"]
    assert [event["type"] for event in out["history"]] == _types(ex)


def test_loop_visits_are_listed_in_states() -> None:
    states = {
        "Inc": {
            "Type": "Pass",
            "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
            "Next": "Check",
        },
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "Inc"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    }
    ex = _run(states, {"n": 0})
    assert ex.output == {"n": 3}
    assert ex.states == ["Inc", "Check", "Inc", "Check", "Inc", "Check", "Done"]
