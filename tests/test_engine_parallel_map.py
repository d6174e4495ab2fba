"""Parallel and inline Map: order, failures, cancellation, retries, concurrency, tolerance."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.loader import load
from engine.local_engine import run

T0 = datetime(2024, 1, 1, tzinfo=UTC)
WORK = "arn:aws:states:::sqs:sendMessage"


def _run(states: dict[str, Any], data: Any = None, **kw: Any) -> Execution:
    kw.setdefault("clock", VirtualClock(T0))
    kw.setdefault("name", "exec-1")
    return run({"StartAt": next(iter(states)), "States": states}, data, **kw)


def _types(ex: Execution) -> list[str]:
    return [event.type for event in ex.history]


def _branch(start: str, states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": start, "States": states}


# -- Parallel ---------------------------------------------------------------------------------


def test_parallel_results_are_in_branch_order_not_completion_order() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [
                _branch(
                    "Slow",
                    {
                        "Slow": {"Type": "Wait", "Seconds": 30, "Next": "SlowOut"},
                        "SlowOut": {"Type": "Pass", "Result": {"branch": 0}, "End": True},
                    },
                ),
                _branch("Fast", {"Fast": {"Type": "Pass", "Result": {"branch": 1}, "End": True}}),
                _branch(
                    "Mid",
                    {
                        "Mid": {"Type": "Wait", "Seconds": 10, "Next": "MidOut"},
                        "MidOut": {"Type": "Pass", "Result": {"branch": 2}, "End": True},
                    },
                ),
            ],
            "ResultPath": "$.results",
            "End": True,
        }
    }
    ex = _run(states, {"in": 1})
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"in": 1, "results": [{"branch": 0}, {"branch": 1}, {"branch": 2}]}
    assert ex.states == ["P"]
    # The history lists each branch's events in branch order (so it is the same on every run);
    # the timestamps show the branches waking in virtual-time order: Mid (10 s) before Slow.
    exits = [e.details["name"] for e in ex.history if e.type == "WaitStateExited"]  # type: ignore[index]
    assert exits == ["Slow", "Mid"]
    waits = {
        e.details["name"]: e.posix - ex.start_date.timestamp()  # type: ignore[index]
        for e in ex.history
        if e.type == "WaitStateExited"
    }
    assert waits == {"Mid": 10.0, "Slow": 30.0}
    assert _types(ex)[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert _types(ex)[-3:] == [
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]


def test_parallel_branch_events_link_to_their_branch() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [
                _branch("A", {"A": {"Type": "Pass", "End": True}}),
                _branch("B", {"B": {"Type": "Pass", "End": True}}),
            ],
            "End": True,
        }
    }
    ex = _run(states, {})
    by_name = {
        (e.type, e.details["name"]): e for e in ex.history if e.details and "name" in e.details
    }
    started = next(e for e in ex.history if e.type == "ParallelStateStarted")
    assert by_name[("PassStateEntered", "A")].previous_event_id == started.id
    assert by_name[("PassStateEntered", "B")].previous_event_id == started.id
    assert (
        by_name[("PassStateExited", "B")].previous_event_id == by_name[("PassStateEntered", "B")].id
    )


def test_parallel_failure_carries_the_branch_error_and_aborts_siblings() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [
                _branch("Long", {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}),
                _branch("Boom", {"Boom": {"Type": "Fail", "Error": "BranchError", "Cause": "c"}}),
            ],
            "End": True,
        }
    }
    ex = _run(states, {})
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "BranchError", "c")
    types = _types(ex)
    assert "WaitStateAborted" in types
    assert "WaitStateExited" not in types
    assert types[-2:] == ["ParallelStateFailed", "ExecutionFailed"]
    # The abort happened at once, not after the hour.
    assert ex.stop_date == ex.start_date


def test_parallel_catch_and_retry_rerun_all_branches() -> None:
    calls: list[str] = []

    def work(event: Any) -> Any:
        calls.append(event["branch"])
        if event["branch"] == "b" and calls.count("b") < 2:
            raise RuntimeError("flaky")
        return event["branch"]

    def task(branch: str) -> dict[str, Any]:
        return _branch(
            f"T{branch}",
            {
                f"T{branch}": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Parameters": {"branch": branch},
                    "End": True,
                }
            },
        )

    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [task("a"), task("b")],
            "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 5}],
            "End": True,
        }
    }
    ex = _run(states, {}, handlers={WORK: work})
    assert ex.status == "SUCCEEDED"
    assert ex.output == ["a", "b"]
    # Branch b ran twice; branch a ran in the second round (maybe also in the first, if it
    # got going before b's failure cancelled it).
    assert calls.count("b") == 2
    assert calls.count("a") in (1, 2)
    assert _types(ex).count("ParallelStateStarted") == 2


def test_parallel_caught_error_goes_to_catcher() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [_branch("F", {"F": {"Type": "Fail", "Error": "E1", "Cause": "why"}})],
            "Catch": [{"ErrorEquals": ["E1"], "ResultPath": "$.error", "Next": "Handled"}],
            "End": True,
        },
        "Handled": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"k": 1})
    assert ex.states == ["P", "Handled"]
    assert ex.output == {"k": 1, "error": {"Error": "E1", "Cause": "why"}}
    assert "ParallelStateExited" in _types(ex)


def test_runtime_error_in_branch_is_not_caught_by_the_parallel() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [_branch("B", {"B": {"Type": "Pass", "InputPath": "$.nope", "End": True}})],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
            "End": True,
        },
        "Handled": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {})
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    assert ex.cause is not None
    assert ex.cause.startswith("An error occurred while executing the state 'B' (entered at")


# -- Map --------------------------------------------------------------------------------------


def test_map_item_selector_context_and_item_order() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {
                "index.$": "$$.Map.Item.Index",
                "value.$": "$$.Map.Item.Value",
                "shared.$": "$.shared",
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "W",
                "States": {
                    "W": {"Type": "Wait", "SecondsPath": "$.value.wait", "Next": "Out"},
                    "Out": {"Type": "Pass", "End": True},
                },
            },
            "ResultPath": "$.out",
            "End": True,
        }
    }
    items = [{"wait": 30}, {"wait": 10}, {"wait": 20}]
    ex = _run(states, {"items": items, "shared": "s"})
    assert ex.status == "SUCCEEDED"
    assert ex.output["out"] == [
        {"index": 0, "value": {"wait": 30}, "shared": "s"},
        {"index": 1, "value": {"wait": 10}, "shared": "s"},
        {"index": 2, "value": {"wait": 20}, "shared": "s"},
    ]
    started = next(e for e in ex.history if e.type == "MapStateStarted")
    assert started.to_dict()["mapStateStartedEventDetails"] == {"length": 3}
    succeeded = [e for e in ex.history if e.type == "MapIterationSucceeded"]
    # In item order in the history; at their virtual times (30 s, 10 s, 20 s after the start).
    assert [e.details for e in succeeded] == [
        {"index": 0, "name": "M"},
        {"index": 1, "name": "M"},
        {"index": 2, "name": "M"},
    ]
    assert [e.posix - ex.start_date.timestamp() for e in succeeded] == [30, 10, 20]
    assert ex.stop_date is not None
    assert (ex.stop_date - ex.start_date).total_seconds() == 30


def test_map_legacy_iterator_and_parameters() -> None:
    states = {
        "M": {
            "Type": "Map",
            "Parameters": {"v.$": "$$.Map.Item.Value"},
            "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    }
    assert _run(states, [1, 2]).output == [{"v": 1}, {"v": 2}]


def test_map_empty_array() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    }
    assert _run(states, []).output == []


def test_map_items_path_must_be_an_array() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.x",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    }
    ex = _run(states, {"x": 1})
    assert ex.error == "States.Runtime"
    assert ex.cause is not None
    assert ex.cause.endswith('Reference path "$.x" must point to array.')


def _concurrency_probe(expect: int = 0) -> tuple[dict[str, int], Any]:
    """A step counting how many of its invocations overlap (each runs on a thread of its own
    and stays long enough for every allowed sibling to have started: 0.3 s, or until
    ``expect`` are running at once, however loaded the machine, within 30 s)."""
    counters = {"running": 0, "peak": 0}
    started = threading.Condition()

    def work(event: Any) -> Any:
        with started:
            counters["running"] += 1
            counters["peak"] = max(counters["peak"], counters["running"])
            started.notify_all()
        if expect:
            with started:
                started.wait_for(lambda: counters["peak"] >= expect, timeout=30)
        else:
            time.sleep(0.3)
        with started:
            counters["running"] -= 1
        return event

    return counters, work


def _map_of_tasks(max_concurrency: int | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemProcessor": {
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": WORK, "End": True}},
        },
        "End": True,
    }
    if max_concurrency is not None:
        state["MaxConcurrency"] = max_concurrency
    return {"M": state}


def test_map_max_concurrency_one_is_sequential_in_order() -> None:
    counters, work = _concurrency_probe()
    ex = _run(_map_of_tasks(1), [3, 1, 2], handlers={WORK: work})
    assert ex.output == [3, 1, 2]
    assert counters["peak"] == 1
    started = [e.details["index"] for e in ex.history if e.type == "MapIterationStarted"]  # type: ignore[index]
    assert started == [0, 1, 2]


def test_map_max_concurrency_bounds_parallelism() -> None:
    counters, work = _concurrency_probe()
    ex = _run(_map_of_tasks(2), list(range(6)), handlers={WORK: work})
    assert ex.output == [0, 1, 2, 3, 4, 5]
    assert counters["peak"] == 2


def test_map_max_concurrency_zero_is_unbounded() -> None:
    counters, work = _concurrency_probe(expect=6)
    ex = _run(_map_of_tasks(0), list(range(6)), handlers={WORK: work})
    assert ex.output == [0, 1, 2, 3, 4, 5]
    assert counters["peak"] == 6


def test_map_iteration_failure_fails_the_map_with_its_error_and_aborts_others() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Route",
                "States": {
                    "Route": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Bad"}],
                        "Default": "Slow",
                    },
                    "Bad": {"Type": "Fail", "Error": "ItemError", "Cause": "item 1"},
                    "Slow": {"Type": "Wait", "Seconds": 100, "End": True},
                },
            },
            "End": True,
        }
    }
    ex = _run(states, [0, 1, 2])
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "ItemError", "item 1")
    types = _types(ex)
    # Item 0 was waiting and is aborted; item 2 had not started when item 1 failed.
    assert types.count("MapIterationStarted") == 2
    assert types.count("MapIterationFailed") == 1
    assert types.count("MapIterationAborted") == 1
    assert "WaitStateAborted" in types
    assert types[-2:] == ["MapStateFailed", "ExecutionFailed"]


def test_map_tolerated_failure_count() -> None:
    def work(event: Any) -> Any:
        if event % 2:
            raise ValueError(f"odd {event}")
        return event

    states = _map_of_tasks(None)
    states["M"]["ToleratedFailureCount"] = 2
    ex = _run(states, [0, 1, 2, 3], handlers={WORK: work})
    assert ex.status == "SUCCEEDED"
    assert ex.output == [
        0,
        {"Error": "ValueError", "Cause": "odd 1"},
        2,
        {"Error": "ValueError", "Cause": "odd 3"},
    ]
    ex = _run(states, [1, 3, 5], handlers={WORK: work})
    assert ex.status == "FAILED"
    assert ex.error == "States.ExceedToleratedFailureThreshold"


def test_map_tolerated_failure_percentage() -> None:
    def work(event: Any) -> Any:
        if event == 0:
            raise ValueError("zero")
        return event

    states = _map_of_tasks(None)
    states["M"]["ToleratedFailurePercentage"] = 25
    assert _run(states, [0, 1, 2, 3], handlers={WORK: work}).status == "SUCCEEDED"
    ex = _run(states, [0, 1, 2], handlers={WORK: work})
    assert ex.error == "States.ExceedToleratedFailureThreshold"


def test_nested_map_in_parallel() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [
                _branch(
                    "M",
                    {
                        "M": {
                            "Type": "Map",
                            "ItemProcessor": {
                                "StartAt": "Double",
                                "States": {
                                    "Double": {
                                        "Type": "Pass",
                                        "Parameters": {"v.$": "States.MathAdd($, $)"},
                                        "End": True,
                                    }
                                },
                            },
                            "End": True,
                        }
                    },
                ),
                _branch(
                    "Len",
                    {
                        "Len": {
                            "Type": "Pass",
                            "Parameters": {"n.$": "States.ArrayLength($)"},
                            "End": True,
                        }
                    },
                ),
            ],
            "End": True,
        }
    }
    ex = _run(states, [1, 2])
    assert ex.output == [[{"v": 2}, {"v": 4}], {"n": 2}]


def _links(ex: Execution) -> list[tuple[int, str, int, float]]:
    return [
        (event.id, event.type, event.previous_event_id, event.posix - T0.timestamp())
        for event in ex.history
    ]


def test_children_run_one_at_a_time_and_together_record_exact_ids_links_and_times() -> None:
    """A Map with MaxConcurrency 1 and a one-branch Parallel run their children one at a time
    (they write straight through; each iteration links to the previous one's last event, as
    AWS links them); next to them, a Map whose items wait together (the second item's events
    are held, then written; each start links to MapStateStarted). A Map or Parallel exit links
    where its success event does. Ids, links and virtual times are exact."""

    def wait(name: str) -> dict[str, Any]:
        return {"StartAt": name, "States": {name: {"Type": "Wait", "Seconds": 1, "End": True}}}

    states = {
        "One": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": wait("W1"), "Next": "All"},
        "All": {"Type": "Map", "ItemProcessor": wait("W2"), "ResultPath": None, "Next": "Par"},
        "Par": {"Type": "Parallel", "Branches": [wait("W3")], "End": True},
    }
    ex = _run(states, [1, 2])
    assert ex.status == "SUCCEEDED"
    assert _links(ex) == EXPECTED_LINKS


EXPECTED_LINKS = [
    (1, "ExecutionStarted", 0, 0.0),
    (2, "MapStateEntered", 0, 0.0),
    (3, "MapStateStarted", 2, 0.0),
    (4, "MapIterationStarted", 3, 0.0),
    (5, "WaitStateEntered", 4, 0.0),
    (6, "WaitStateExited", 5, 1.0),
    (7, "MapIterationSucceeded", 6, 1.0),
    (8, "MapIterationStarted", 6, 1.0),
    (9, "WaitStateEntered", 8, 1.0),
    (10, "WaitStateExited", 9, 2.0),
    (11, "MapIterationSucceeded", 10, 2.0),
    (12, "MapStateSucceeded", 11, 2.0),
    (13, "MapStateExited", 11, 2.0),
    (14, "MapStateEntered", 13, 2.0),
    (15, "MapStateStarted", 14, 2.0),
    (16, "MapIterationStarted", 15, 2.0),
    (17, "WaitStateEntered", 16, 2.0),
    (18, "WaitStateExited", 17, 3.0),
    (19, "MapIterationSucceeded", 18, 3.0),
    (20, "MapIterationStarted", 15, 2.0),
    (21, "WaitStateEntered", 20, 2.0),
    (22, "WaitStateExited", 21, 3.0),
    (23, "MapIterationSucceeded", 22, 3.0),
    (24, "MapStateSucceeded", 23, 3.0),
    (25, "MapStateExited", 23, 3.0),
    (26, "ParallelStateEntered", 25, 3.0),
    (27, "ParallelStateStarted", 26, 3.0),
    (28, "WaitStateEntered", 27, 3.0),
    (29, "WaitStateExited", 28, 4.0),
    (30, "ParallelStateSucceeded", 29, 4.0),
    (31, "ParallelStateExited", 29, 4.0),
    (32, "ExecutionSucceeded", 31, 4.0),
]


def test_a_later_iterations_failed_expression_is_recorded_in_its_turn_linked_to_its_entry() -> None:
    # Iteration 1 fails while iteration 0 still waits: its EvaluationFailed is held with the
    # rest of its events, written after iteration 0's, linked to the event before its entry,
    # and the cause quotes the entry's final id.
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "Items": [1, 2],
                "ItemProcessor": {
                    "StartAt": "Pause",
                    "States": {
                        "Pause": {
                            "Type": "Wait",
                            "Seconds": "{% $states.input = 1 ? 10 : 0 %}",
                            "Next": "Calc",
                        },
                        "Calc": {
                            "Type": "Pass",
                            "Output": "{% $states.input = 2 ? $number('x') : 1 %}",
                            "End": True,
                        },
                    },
                },
                "End": True,
            }
        },
    }
    execution = run(load(definition), {}, clock="virtual")
    assert [(e.id, e.type, e.previous_event_id) for e in execution.history] == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "MapStateStarted", 2),
        (4, "MapIterationStarted", 3),
        (5, "WaitStateEntered", 4),
        (6, "WaitStateAborted", 5),
        (7, "MapIterationAborted", 6),
        (8, "MapIterationStarted", 3),
        (9, "WaitStateEntered", 8),
        (10, "WaitStateExited", 9),
        (11, "PassStateEntered", 10),
        (12, "EvaluationFailed", 10),
        (13, "MapIterationFailed", 12),
        (14, "MapStateFailed", 12),
        (15, "ExecutionFailed", 14),
    ]
    cause = (
        "An error occurred while executing the state 'Calc' (entered at the event id #11). "
        "The JSONata expression '$states.input = 2 ? $number('x') : 1' specified for the field "
        "'Output' threw an error during evaluation. D3030: Unable to cast value to a number: \"x\""
    )
    assert execution.history[11].details["cause"] == cause
    assert (execution.error, execution.cause) == ("States.QueryEvaluationError", cause)
