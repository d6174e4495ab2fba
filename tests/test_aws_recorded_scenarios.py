"""Map, Parallel, Choice and Wait behaviour as AWS Step Functions records it.

The expected values (event types, ``previousEventId`` links, error names and causes) are the
ones AWS recorded for equivalent definitions (LocalStack's AWS-validated snapshots of its
scenario tests); the definitions here are our own.
"""

from __future__ import annotations

from typing import Any

import engine
from engine import Execution

_PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
_FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}}
_DISTRIBUTED = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    **_PASS,
}


def _run(state: dict[str, Any], data: Any) -> Execution:
    return engine.run(engine.load({"StartAt": "S", "States": {"S": state}}), data)


def _links(execution: Execution) -> list[tuple[int, str, int]]:
    return [(e.id, e.type, e.previous_event_id) for e in execution.history]


def _cause(message: str) -> str:
    return (
        f"An error occurred while executing the state 'S' (entered at the event id #2). {message}"
    )


def test_inline_map_iterations_link_to_the_previous_iteration_and_the_exit_to_the_success() -> None:
    ex = _run({"Type": "Map", "ItemProcessor": _PASS, "End": True}, [1, 2])
    assert ex.output == [1, 2]
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "MapStateStarted", 2),
        (4, "MapIterationStarted", 3),
        (5, "PassStateEntered", 4),
        (6, "PassStateExited", 5),
        (7, "MapIterationSucceeded", 6),
        (8, "MapIterationStarted", 6),
        (9, "PassStateEntered", 8),
        (10, "PassStateExited", 9),
        (11, "MapIterationSucceeded", 10),
        (12, "MapStateSucceeded", 11),
        (13, "MapStateExited", 11),
        (14, "ExecutionSucceeded", 13),
    ]


def test_map_retried_records_map_state_failed_once_after_the_last_attempt() -> None:
    retry = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}]
    ex = _run({"Type": "Map", "ItemProcessor": _FAIL, "Retry": retry, "End": True}, [1])
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Boom", "it broke")
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "MapStateStarted", 2),
        (4, "MapIterationStarted", 3),
        (5, "FailStateEntered", 4),
        (6, "MapIterationFailed", 5),
        (7, "MapStateStarted", 5),
        (8, "MapIterationStarted", 7),
        (9, "FailStateEntered", 8),
        (10, "MapIterationFailed", 9),
        (11, "MapStateFailed", 9),
        (12, "ExecutionFailed", 11),
    ]


def test_parallel_retried_records_parallel_state_failed_once_after_the_last_attempt() -> None:
    retry = [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 1}]
    ex = _run({"Type": "Parallel", "Branches": [_FAIL], "Retry": retry, "End": True}, {})
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Boom", "it broke")
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "ParallelStateEntered", 0),
        (3, "ParallelStateStarted", 2),
        (4, "FailStateEntered", 3),
        (5, "ParallelStateStarted", 4),
        (6, "FailStateEntered", 5),
        (7, "ParallelStateFailed", 6),
        (8, "ExecutionFailed", 7),
    ]


def test_parallel_exit_links_where_its_success_does_and_a_caught_failure_to_the_failure() -> None:
    ex = _run({"Type": "Parallel", "Branches": [_PASS], "End": True}, {"a": 1})
    assert ex.output == [{"a": 1}]
    assert _links(ex)[-3:] == [
        (6, "ParallelStateSucceeded", 5),
        (7, "ParallelStateExited", 5),
        (8, "ExecutionSucceeded", 7),
    ]
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "T"}]
    definition = {
        "StartAt": "S",
        "States": {
            "S": {"Type": "Parallel", "Branches": [_FAIL], "Catch": catch, "Next": "T"},
            "T": {"Type": "Pass", "End": True},
        },
    }
    ex = engine.run(engine.load(definition), {})
    assert ex.output == {"Error": "Boom", "Cause": "it broke"}
    assert _links(ex)[3:6] == [
        (4, "FailStateEntered", 3),
        (5, "ParallelStateFailed", 4),
        (6, "ParallelStateExited", 5),
    ]


def test_jsonata_items_not_an_array_records_map_state_failed_after_evaluation_failed() -> None:
    state = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% 1 %}", "End": True}
    ex = _run({**state, "ItemProcessor": _PASS}, {})
    assert ex.error == "States.QueryEvaluationError"
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "EvaluationFailed", 0),  # linked as its state's entry is
        (4, "MapStateFailed", 3),
        (5, "ExecutionFailed", 4),
    ]


def test_max_concurrency_path_not_an_integer_quotes_the_value_and_names_the_path() -> None:
    state = {"Type": "Map", "ItemsPath": "$.i", "ItemProcessor": _PASS, "End": True}
    ex = _run({**state, "MaxConcurrencyPath": "$.mc"}, {"i": [1], "mc": {}})
    assert (ex.error, ex.cause) == (
        "States.Runtime",
        _cause(
            'The MaxConcurrencyPath field refers to value "{}" which is not a valid integer: $.mc'
        ),
    )
    assert [e.type for e in ex.history] == [
        "ExecutionStarted",
        "MapStateEntered",
        "ExecutionFailed",
    ]


def test_distributed_map_tolerated_failure_paths_fail_once_the_map_started() -> None:
    def run(field: str, value: Any) -> Execution:
        state = {"Type": "Map", "ItemsPath": "$.Items", "ItemProcessor": _DISTRIBUTED, "End": True}
        return _run({**state, field: "$.t"}, {"Items": [0], "t": value})

    cases = [
        (
            "ToleratedFailureCountPath",
            {},
            'The ToleratedFailureCountPath field refers to value "{}" which is not a valid '
            "integer: $.t",
        ),
        (
            "ToleratedFailureCountPath",
            "NoNumber",
            'The ToleratedFailureCountPath field refers to value "NoNumber" which is not a valid '
            "integer: $.t",
        ),
        ("ToleratedFailureCountPath", -1, "ToleratedFailureCount cannot be negative."),
        (
            "ToleratedFailurePercentagePath",
            {},
            'The ToleratedFailurePercentagePath field refers to value "{}" which is not a valid '
            "float: $.t",
        ),
        (
            "ToleratedFailurePercentagePath",
            -1.1,
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
    ]
    for field, value, message in cases:
        ex = run(field, value)
        assert (ex.error, ex.cause) == ("States.Runtime", _cause(message)), (field, value)
        assert _links(ex) == [
            (1, "ExecutionStarted", 0),
            (2, "MapStateEntered", 0),
            (3, "MapStateStarted", 2),
            (4, "ExecutionFailed", 3),
        ], (field, value)


def test_distributed_map_exit_links_where_the_map_run_success_does() -> None:
    state = {"Type": "Map", "ItemProcessor": _DISTRIBUTED, "End": True}
    ex = _run(state, ["a", "b"])
    assert ex.output == ["a", "b"]
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "MapStateStarted", 2),
        (4, "MapRunStarted", 3),
        (5, "MapRunSucceeded", 4),
        (6, "MapStateSucceeded", 5),
        (7, "MapStateExited", 4),  # AWS's recordings since 2024-11 (5 before)
        (8, "ExecutionSucceeded", 7),
    ]


def test_jsonata_choice_condition_may_be_a_boolean_literal() -> None:
    def run(condition: bool) -> Execution:
        choice = {"Type": "Choice", "Choices": [{"Condition": condition, "Next": "Yes"}]}
        definition = {
            "QueryLanguage": "JSONata",
            "StartAt": "C",
            "States": {
                "C": {**choice, "Default": "No"},
                "Yes": {"Type": "Pass", "End": True},
                "No": {"Type": "Fail", "Error": "Default"},
            },
        }
        machine = engine.load(definition)
        assert [d for d in machine.validate() if d.severity == "error"] == []
        return engine.run(machine, {})

    assert [e.type for e in run(True).history] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert run(False).error == "Default"


def test_wait_timestamp_path_not_iso_names_the_path_and_the_value() -> None:
    ex = _run(
        {"Type": "Wait", "TimestampPath": "$.at", "End": True}, {"at": "2016-12-05 21:29:29Z"}
    )
    assert (ex.error, ex.cause) == (
        "States.Runtime",
        _cause(
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            "date-time format string: $.at == 2016-12-05 21:29:29Z"
        ),
    )


def test_jsonata_wait_timestamp_not_iso_links_evaluation_failed_to_the_entry() -> None:
    state = {"Type": "Wait", "QueryLanguage": "JSONata", "Timestamp": "{% $states.input.at %}"}
    ex = _run({**state, "End": True}, {"at": "2016-12-05T21:29:29"})
    assert ex.error == "States.QueryEvaluationError"
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "WaitStateEntered", 0),
        (3, "EvaluationFailed", 2),
        (4, "ExecutionFailed", 3),
    ]


def test_context_state_has_retry_count_only_in_states_that_retry() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Parameters": {"pass.$": "$$.State"}, "Next": "T"},
            "T": {
                "Type": "Task",
                "Resource": "echo",
                "Parameters": {"task.$": "$$.State"},
                "ResultPath": "$.t",
                "End": True,
            },
        },
    }
    ex = engine.run(engine.load(definition), {}, handlers={"echo": lambda event: event})
    assert sorted(ex.output["pass"]) == ["EnteredTime", "Name"]
    assert sorted(ex.output["t"]["task"]) == ["EnteredTime", "Name", "RetryCount"]


def test_concurrent_map_iterations_link_to_map_state_started() -> None:
    # Iterations running at once link to MapStateStarted, as AWS's recordings of concurrent
    # iterations show; one at a time (MaxConcurrency 1) each links to the previous one's end.
    task = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "echo", "End": True}}}

    def starts(max_concurrency: int) -> list[int]:
        state = {"Type": "Map", "ItemProcessor": task, "MaxConcurrency": max_concurrency}
        machine = engine.load({"StartAt": "S", "States": {"S": {**state, "End": True}}})
        ex = engine.run(machine, [1, 2, 3], handlers={"echo": lambda event: event})
        assert ex.output == [1, 2, 3]
        return [e.previous_event_id for e in ex.history if e.type == "MapIterationStarted"]

    assert starts(0) == [3, 3, 3]
    assert starts(2) == [3, 3, 3]
    assert starts(1) == [3, 9, 16]  # each previous iteration's TaskStateExited
