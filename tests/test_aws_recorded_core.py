"""Behaviour seen in executions recorded on AWS Step Functions: history links, ``$$.State``,
Wait path causes, a null execution output.

Each expected value below is what AWS recorded for a definition doing the same thing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import run

T0 = datetime(2024, 1, 1, tzinfo=UTC)
_PREFIX = "An error occurred while executing the state 'W' (entered at the event id #2). "


def _run(states: dict[str, Any], data: Any, start_at: str | None = None, **top: Any) -> Execution:
    definition = {"StartAt": start_at or next(iter(states)), "States": states, **top}
    return run(definition, data, clock=VirtualClock(T0), name="rec")


def _links(execution: Execution) -> list[tuple[int, str, int]]:
    return [(e.id, e.type, e.previous_event_id) for e in execution.history]


# -- previousEventId of the first state's events ----------------------------------------------


def test_first_state_entered_links_to_no_event() -> None:
    ex = _run(
        {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "End": True},
        },
        {"x": 1},
    )
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "PassStateEntered", 0),
        (3, "PassStateExited", 2),
        (4, "PassStateEntered", 3),
        (5, "PassStateExited", 4),
        (6, "ExecutionSucceeded", 5),
    ]


def test_first_state_jsonata_evaluation_failure_links_to_no_event() -> None:
    ex = _run(
        {"P": {"Type": "Pass", "Output": {"r": "{% $nosuchfunction(1) %}"}, "End": True}},
        {},
        QueryLanguage="JSONata",
    )
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "PassStateEntered", 0),
        (3, "EvaluationFailed", 0),
        (4, "ExecutionFailed", 3),
    ]
    assert ex.error == "States.QueryEvaluationError"
    assert ex.cause is not None
    assert ex.cause.endswith("T1006: Attempted to invoke a non-function")


def test_first_state_of_a_failing_wait_links_to_no_event() -> None:
    ex = _run({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}, {"s": -1})
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "WaitStateEntered", 0),
        (3, "ExecutionFailed", 2),
    ]


# -- $$.State: RetryCount only for states that can retry ------------------------------------


_PASS_STATE = {"EnteredTime": "2024-01-01T00:00:00Z", "Name": "W"}


@pytest.mark.parametrize(
    ("fields", "output"),
    [
        ({"Parameters": {"s.$": "$$.State"}}, {"s": _PASS_STATE}),
        ({"InputPath": "$$.State", "ResultPath": "$.s"}, {"s": _PASS_STATE}),
        ({"OutputPath": "$$.State"}, _PASS_STATE),
    ],
    ids=["parameters", "input-path", "output-path"],
)
def test_pass_state_context_has_no_retry_count(fields: dict[str, Any], output: Any) -> None:
    ex = _run({"W": {"Type": "Pass", "End": True, **fields}}, {})
    assert ex.output == output


def test_pass_state_retry_count_path_is_not_found() -> None:
    state = {"Type": "Pass", "Parameters": {"r.$": "$$.State.RetryCount"}, "End": True}
    ex = _run({"W": state}, {})
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert ex.cause == _PREFIX + (
        "The JSONPath '$$.State.RetryCount' specified for the field 'r.$' could not be found "
        "in the input '{}'"
    )


def test_jsonata_pass_state_context_has_no_retry_count() -> None:
    ex = _run(
        {"W": {"Type": "Pass", "Output": "{% $states.context.State %}", "End": True}},
        {},
        QueryLanguage="JSONata",
    )
    assert ex.output == {"EnteredTime": "2024-01-01T00:00:00Z", "Name": "W"}


def test_context_state_fields_in_aws_order() -> None:
    ex = _run({"W": {"Type": "Pass", "Parameters": {"s.$": "$$.State"}, "End": True}}, {})
    exited = ex.history[2].to_dict()["stateExitedEventDetails"]["output"]
    assert exited == '{"s":{"Name":"W","EnteredTime":"2024-01-01T00:00:00Z"}}'


def test_task_state_context_has_retry_count() -> None:
    ex = run(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "echo",
                    "Parameters": {"s.$": "$$.State"},
                    "End": True,
                }
            },
        },
        {},
        clock=VirtualClock(T0),
        handlers={"echo": lambda event: event},
    )
    assert ex.output == {"s": {"EnteredTime": "2024-01-01T00:00:00Z", "Name": "T", "RetryCount": 0}}
    assert list(ex.output["s"]) == ["Name", "EnteredTime", "RetryCount"]


@pytest.mark.parametrize(
    "state",
    [
        {
            "Type": "Parallel",
            "Parameters": {"s.$": "$$.State"},
            "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
            "End": True,
        },
        {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"s.$": "$$.State"},
            "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
            "End": True,
        },
    ],
    ids=["parallel", "map"],
)
def test_parallel_and_map_state_context_has_retry_count(state: dict[str, Any]) -> None:
    ex = _run({"W": state}, {"items": [1]})
    context_state = {"EnteredTime": "2024-01-01T00:00:00Z", "Name": "W", "RetryCount": 0}
    assert ex.output == [{"s": context_state}]


# -- Wait: causes of bad SecondsPath / TimestampPath values ----------------------------------


@pytest.mark.parametrize(
    ("fields", "data", "cause"),
    [
        (
            {"SecondsPath": "$.in.secs"},
            {"in": {"secs": 2.5}},
            "The SecondsPath parameter cannot be parsed as a long value: $.in.secs == 2.5",
        ),
        (
            {"SecondsPath": "$.in.secs"},
            {"in": {"secs": -2.5}},
            "The SecondsPath parameter cannot be parsed as a long value: $.in.secs == -2.5",
        ),
        (
            {"SecondsPath": "$.in.secs"},
            {"in": {"secs": -3}},
            "The SecondsPath parameter references a negative value: $.in.secs == -3",
        ),
        (
            {"TimestampPath": "$.until"},
            {"until": "2024-01-01T00:00:00"},
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            "date-time format string: $.until == 2024-01-01T00:00:00",
        ),
        (
            {"TimestampPath": "$.until"},
            {"until": "2024-01-01T00:00:00.000000"},
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            "date-time format string: $.until == 2024-01-01T00:00:00.000000",
        ),
    ],
)
def test_wait_bad_path_value_causes(fields: dict[str, Any], data: Any, cause: str) -> None:
    ex = _run({"W": {"Type": "Wait", "End": True, **fields}}, data)
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "States.Runtime", _PREFIX + cause)


@pytest.mark.parametrize("suffix", ["Z", ".00Z", ".000000Z"])
def test_wait_timestamp_path_fraction_digits_are_free(suffix: str) -> None:
    stamp = "2023-06-01T10:00:00" + suffix  # in the past: continues at once
    ex = _run({"W": {"Type": "Wait", "TimestampPath": "$.until", "End": True}}, {"until": stamp})
    assert (ex.status, ex.output) == ("SUCCEEDED", {"until": stamp})


# -- a null execution output ------------------------------------------------------------------


def test_null_execution_output_is_recorded_as_json_null() -> None:
    ex = _run(
        {"P": {"Type": "Pass", "Output": "{% null %}", "End": True}},
        {"a": 1},
        QueryLanguage="JSONata",
    )
    succeeded = ex.history[-1].to_dict()
    assert succeeded["type"] == "ExecutionSucceeded"
    assert succeeded["executionSucceededEventDetails"] == {
        "output": "null",
        "outputDetails": {"truncated": False},
    }
    assert (ex.status, ex.output) == ("SUCCEEDED", None)


def test_null_output_through_output_path_is_recorded_as_json_null() -> None:
    ex = _run({"P": {"Type": "Pass", "OutputPath": "$.v", "End": True}}, {"v": None})
    assert ex.history[-1].to_dict()["executionSucceededEventDetails"]["output"] == "null"


# -- JSONata Wait: an unparsable Timestamp's EvaluationFailed links to the state's entry --------


def test_jsonata_wait_unparsable_timestamp_links_to_the_entry() -> None:
    ex = _run(
        {
            "Before": {"Type": "Pass", "Next": "W"},
            "W": {"Type": "Wait", "Timestamp": "{% $states.input.until %}", "End": True},
        },
        {"until": "2023-06-01T10:00:00"},
        QueryLanguage="JSONata",
    )
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "PassStateEntered", 0),
        (3, "PassStateExited", 2),
        (4, "WaitStateEntered", 3),
        (5, "EvaluationFailed", 4),
        (6, "ExecutionFailed", 5),
    ]
    cause = (
        "An error occurred while executing the state 'W' (entered at the event id #4). "
        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
        "string: 2023-06-01T10:00:00"
    )
    assert ex.history[4].details == {
        "error": "States.QueryEvaluationError",
        "cause": cause,
        "location": "Timestamp",
        "state": "W",
    }
    assert (ex.error, ex.cause) == ("States.QueryEvaluationError", cause)
