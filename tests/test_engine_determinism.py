"""The same name, input and seed give the same history, Parallel branches and Map iterations of
synchronous (worker-thread) handlers included, however the threads happen to finish.

The handlers sleep a random few milliseconds so that branches finish in a different order on
each run; the clock keeps work out of timestamps (``work_moves_time=False``, as the pytest
plugin's engine does), so whole histories — ids, links, timestamps, details — are compared.

One thing stays timing-dependent, by design: a deadline still fires in wall-clock time while a
handler runs (a timeout must fire even when Python code blocks), so a handler that runs longer,
in wall-clock time, than a concurrent branch's backoff moves virtual time under its own later
events. The backoffs here (seconds) are far longer than the handlers (milliseconds).
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from typing import Any

from engine import run
from engine.clock import VirtualClock
from engine.execution import Execution
from saga import Retry, Saga

RUNS = 50
T0 = datetime(2024, 1, 1, tzinfo=UTC)
_jiggle = random.Random()


def _busy(value: Any) -> Any:
    """Finish after a random pause, so threads finish in a different order each run."""
    time.sleep(_jiggle.uniform(0, 0.004))
    return value


def _history(execution: Execution) -> list[dict[str, Any]]:
    return execution.history_dicts()


def _distinct(histories: list[list[dict[str, Any]]]) -> int:
    return len({json.dumps(history, sort_keys=True) for history in histories})


def _clock() -> VirtualClock:
    return VirtualClock(T0, work_moves_time=False)


def _group_saga() -> Saga:
    saga = Saga("Trip")
    extras = saga.parallel("Extras", retry=[Retry("Flaky", interval=1, max_retries=2)])
    calls = {"Car": 0}

    @extras.step("Hotel")
    def hotel(event: Any) -> str:
        return str(_busy("hotel"))

    @extras.step("Car", retry=[Retry("Slow", interval=30, max_retries=1, jitter="FULL")])
    def car(event: Any) -> str:
        calls["Car"] += 1
        _busy(None)
        if calls["Car"] == 1:
            raise type("Slow", (Exception,), {})("first try")
        return "car"

    @extras.step("Flight")
    def flight(event: Any) -> str:
        return str(_busy("flight"))

    @saga.step("Confirm")
    def confirm(event: Any) -> Any:
        return _busy(event["extras"])

    return saga


def test_a_group_of_synchronous_steps_gives_the_same_history_every_run() -> None:
    histories = []
    for _ in range(RUNS):
        execution = _group_saga().run({"id": 7}, name="trip-7", seed=3, clock=_clock())
        assert execution.status == "SUCCEEDED"
        histories.append(_history(execution))
    first = histories[0]
    assert _distinct(histories) == 1
    # Branch by branch, in branch order, each linked to its own branch's previous event.
    entered = [
        (e["id"], e["stateEnteredEventDetails"]["name"], e["previousEventId"])
        for e in first
        if e["type"] == "TaskStateEntered"
    ]
    started = next(e["id"] for e in first if e["type"] == "ParallelStateStarted")
    assert [(name, previous) for _, name, previous in entered[:3]] == [
        ("Hotel", started),
        ("Car", started),
        ("Flight", started),
    ]
    assert [e["id"] for e in first] == list(range(1, len(first) + 1))


MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {
                    "Work": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
                        "Retry": [{"ErrorEquals": ["Odd"], "IntervalSeconds": 30}],
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}


class Odd(Exception):
    """Raised once for every odd item."""


def _odd_fails_once(failed: set[int]) -> Any:
    def work(event: int) -> int:
        _busy(None)
        if event % 2 and event not in failed:
            failed.add(event)
            raise Odd(f"item {event}")
        return event * 10

    return work


def test_a_map_of_synchronous_tasks_gives_the_same_history_every_run() -> None:
    histories = []
    for _ in range(RUNS):
        execution = run(
            MAP,
            {"items": list(range(6))},
            handlers={"work": _odd_fails_once(set())},
            name="map-1",
            seed=5,
            clock=_clock(),
        )
        assert execution.output == [0, 10, 20, 30, 40, 50]
        histories.append(_history(execution))
    first = histories[0]
    assert _distinct(histories) == 1
    started = [
        e["mapIterationStartedEventDetails"]["index"]
        for e in first
        if e["type"] == "MapIterationStarted"
    ]
    assert started == [0, 1, 2, 3, 4, 5]


NESTED = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Both",
                "States": {
                    "Both": {
                        "Type": "Parallel",
                        "Branches": [
                            {
                                "StartAt": f"Half{k}",
                                "States": {
                                    f"Half{k}": {
                                        "Type": "Task",
                                        "Resource": "arn:aws:lambda:us-east-1:123456789012:"
                                        "function:work",
                                        "End": True,
                                    }
                                },
                            }
                            for k in (1, 2)
                        ],
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}


def test_nested_branches_keep_their_links_and_the_same_history() -> None:
    histories = []
    for _ in range(20):
        execution = run(
            NESTED, [1, 2, 3], handlers={"work": _busy}, name="n", seed=1, clock=_clock()
        )
        assert execution.output == [[1, 1], [2, 2], [3, 3]]
        histories.append(_history(execution))
    assert _distinct(histories) == 1
    first = histories[0]
    ids = {e["id"] for e in first}
    assert all(0 <= e["previousEventId"] < e["id"] for e in first)
    assert all(e["previousEventId"] in ids | {0} for e in first)
    # Each Task's events link to the previous event of the same branch.
    by_id = {e["id"]: e for e in first}
    for event in first:
        if event["type"] == "LambdaFunctionScheduled":
            assert by_id[event["previousEventId"]]["type"] == "TaskStateEntered"


async def _instant(event: Any) -> Any:
    return event


def test_held_events_count_against_the_history_quota() -> None:
    execution = run(
        MAP,
        {"items": list(range(4000))},
        handlers={"work": _instant},
        name="big",
        clock=_clock(),
    )
    assert execution.status == "FAILED"
    assert execution.error == "States.Runtime"
    assert execution.cause == (
        "The execution reached the maximum number of history events (25000)."
    )
    assert len(execution.history) == 25_000
    assert [e.id for e in execution.history] == list(range(1, 25_001))
    assert execution.history[-1].type == "ExecutionFailed"


def test_an_error_in_a_later_branch_quotes_the_final_id_of_its_state() -> None:
    """Branch 2's events are held while branch 1 waits; the States.Runtime cause that quotes
    the failed state's entry names the id that event has in the history."""
    machine = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Slow",
                        "States": {"Slow": {"Type": "Wait", "Seconds": 5, "End": True}},
                    },
                    {
                        "StartAt": "Broken",
                        "States": {
                            "Broken": {"Type": "Pass", "InputPath": "$.missing", "End": True}
                        },
                    },
                ],
                "End": True,
            }
        },
    }
    execution = run(machine, {}, name="p", clock=_clock())
    entered = next(
        e for e in execution.history if e.type == "PassStateEntered" and e.state_name == "Broken"
    )
    assert execution.status == "FAILED"
    assert execution.error == "States.Runtime"
    assert execution.cause is not None
    assert f"(entered at the event id #{entered.id})" in execution.cause
    assert all(e.id > 0 and "#-" not in str(e.details) for e in execution.history)
