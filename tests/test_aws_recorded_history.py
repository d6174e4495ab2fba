"""History links (``previousEventId``) and event shapes as AWS records them.

Each expectation here is what executions recorded on AWS Step Functions show for the same
shape of machine (LocalStack's AWS-validated snapshots): which event each event links to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import run

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _run(definition: dict[str, Any], data: Any = None, **kw: Any) -> Execution:
    return run(definition, data, clock=VirtualClock(T0), name="exec-1", **kw)


def _links(ex: Execution) -> list[tuple[int, int, str]]:
    return [(event.id, event.previous_event_id, event.type) for event in ex.history]


def _map(max_concurrency: int, item_states: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": max_concurrency,
                "ItemProcessor": {"StartAt": next(iter(item_states)), "States": item_states},
                "Next": "After",
            },
            "After": {"Type": "Pass", "End": True},
        },
    }


def test_inline_map_iterations_one_after_another_link_on_from_the_previous_iteration() -> None:
    # Instant iterations run one after another: each MapIterationStarted links to the last
    # state event of the iteration before (not to its MapIterationSucceeded), MapStateSucceeded
    # links to the last MapIterationSucceeded and MapStateExited skips MapStateSucceeded.
    ex = _run(_map(0, {"Echo": {"Type": "Pass", "End": True}}), [1, 2])
    assert ex.status == "SUCCEEDED"
    assert _links(ex) == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "MapStateEntered"),
        (3, 2, "MapStateStarted"),
        (4, 3, "MapIterationStarted"),
        (5, 4, "PassStateEntered"),
        (6, 5, "PassStateExited"),
        (7, 6, "MapIterationSucceeded"),
        (8, 6, "MapIterationStarted"),
        (9, 8, "PassStateEntered"),
        (10, 9, "PassStateExited"),
        (11, 10, "MapIterationSucceeded"),
        (12, 11, "MapStateSucceeded"),
        (13, 11, "MapStateExited"),
        (14, 13, "PassStateEntered"),
        (15, 14, "PassStateExited"),
        (16, 15, "ExecutionSucceeded"),
    ]


def test_map_with_max_concurrency_one_chains_its_task_iterations() -> None:
    states = {"Work": {"Type": "Task", "Resource": "work", "End": True}}
    ex = _run(_map(1, states), [1, 2], handlers={"work": lambda event: event})
    starts = [e for e in ex.history if e.type == "MapIterationStarted"]
    exits = [e for e in ex.history if e.type == "TaskStateExited"]
    assert starts[1].previous_event_id == exits[0].id


def test_concurrent_map_iterations_all_link_to_map_state_started() -> None:
    states = {"Work": {"Type": "Task", "Resource": "work", "End": True}}
    ex = _run(_map(0, states), [1, 2, 3], handlers={"work": lambda event: event})
    started = next(e for e in ex.history if e.type == "MapStateStarted")
    starts = [e for e in ex.history if e.type == "MapIterationStarted"]
    assert [e.previous_event_id for e in starts] == [started.id] * 3


def test_parallel_state_exited_links_past_parallel_state_succeeded() -> None:
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
                "End": True,
            }
        },
    }
    ex = _run(definition, {})
    by_type = {event.type: event for event in ex.history}
    succeeded, exited = by_type["ParallelStateSucceeded"], by_type["ParallelStateExited"]
    assert exited.id == succeeded.id + 1
    assert exited.previous_event_id == succeeded.previous_event_id == succeeded.id - 1


def test_an_empty_assign_records_no_assigned_variables() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": {}, "End": True}}}
    ex = _run(definition, {"a": 1})
    exited = next(e for e in ex.history if e.type == "PassStateExited")
    assert exited.to_dict()["stateExitedEventDetails"] == {
        "name": "P",
        "output": '{"a":1}',
        "outputDetails": {"truncated": False},
    }


def test_an_oversize_lambda_invoke_result_names_the_lambda_service() -> None:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "big", "Payload": {}},
                "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    ex = _run(definition, {}, handlers={"big": lambda event: "b" * (257 * 1024)})
    failed = next(e for e in ex.history if e.type == "TaskFailed")
    assert failed.details == {
        "resource": "invoke",
        "resourceType": "lambda",
        "error": "States.DataLimitExceeded",
        "cause": "The state/task 'lambda' returned a result with a size exceeding the maximum "
        "number of bytes service limit.",
    }
    assert ex.output == {"Error": failed.details["error"], "Cause": failed.details["cause"]}


def test_a_caught_task_timeout_passes_on_an_empty_cause() -> None:
    # The TaskTimedOut event has no cause; the catcher's error output has "Cause": "".
    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "slow", "Payload": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 2,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.e", "Next": "Late"}],
                "End": True,
            },
            "Late": {"Type": "Pass", "End": True},
        },
    }
    # Nobody sends the token back: the task times out after 2 virtual seconds.
    ex = _run(definition, {"n": 1}, handlers={"slow": lambda event: None})
    timed_out = next(e for e in ex.history if e.type == "TaskTimedOut")
    assert timed_out.details == {
        "resource": "invoke.waitForTaskToken",
        "resourceType": "lambda",
        "error": "States.Timeout",
    }
    assert ex.output == {"n": 1, "e": {"Error": "States.Timeout", "Cause": ""}}


def test_map_number_paths_read_a_string_of_digits_as_its_integer() -> None:
    # Variables assigned as strings ("1") feed MaxConcurrencyPath and the tolerance paths.
    for mode in ({"Mode": "INLINE"}, {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}):
        definition = {
            "StartAt": "Set",
            "States": {
                "Set": {
                    "Type": "Pass",
                    "Assign": {"most": "1", "count": "1", "share": "1"},
                    "Result": [1, 2, 3],
                    "Next": "Each",
                },
                "Each": {
                    "Type": "Map",
                    "MaxConcurrencyPath": "$most",
                    "ToleratedFailureCountPath": "$count",
                    "ToleratedFailurePercentagePath": "$share",
                    "ItemProcessor": {
                        "ProcessorConfig": mode,
                        "StartAt": "Echo",
                        "States": {"Echo": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                },
            },
        }
        ex = _run(definition, {})
        assert (ex.status, ex.error) == ("SUCCEEDED", None), mode
        assert len(ex.output) == 3


def test_a_task_failing_its_parallel_branch_is_also_aborted() -> None:
    # AWS records the failed task's TaskStateAborted right after its TaskFailed (no details),
    # and ParallelStateFailed links to the TaskFailed, past the abort.
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Call",
                        "States": {"Call": {"Type": "Task", "Resource": "boom", "End": True}},
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }

    def boom(event: Any) -> Any:
        raise ValueError("no")

    ex = _run(definition, {}, handlers={"boom": boom})
    assert _links(ex)[:10] == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "ParallelStateEntered"),
        (3, 2, "ParallelStateStarted"),
        (4, 3, "TaskStateEntered"),
        (5, 4, "TaskScheduled"),
        (6, 5, "TaskStarted"),
        (7, 6, "TaskFailed"),
        (8, 7, "TaskStateAborted"),
        (9, 7, "ParallelStateFailed"),
        (10, 9, "ParallelStateExited"),
    ]
    aborted = ex.history[7].to_dict()
    assert set(aborted) == {"timestamp", "type", "id", "previousEventId"}


def test_map_state_failed_links_past_map_iteration_failed() -> None:
    definition = _map(1, {"Stop": {"Type": "Fail", "Error": "Stop"}})
    ex = _run(definition, [1])
    assert _links(ex)[3:8] == [
        (4, 3, "MapIterationStarted"),
        (5, 4, "FailStateEntered"),
        (6, 5, "MapIterationFailed"),
        (7, 5, "MapStateFailed"),
        (8, 7, "ExecutionFailed"),
    ]
