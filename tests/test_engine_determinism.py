"""The same name, input and seed give the same history, Parallel branches and Map iterations of
synchronous (worker-thread) handlers included, however the threads happen to finish.

The handlers sleep a random few milliseconds so that branches finish in a different order on
each run; the clock keeps work out of timestamps (``work_moves_time=False``, as the pytest
plugin's engine does), so whole histories — ids, links, timestamps, details — are compared.
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

    @extras.step("Car", retry=[Retry("Slow", interval=2, max_retries=1, jitter="FULL")])
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
                        "Retry": [{"ErrorEquals": ["Odd"], "IntervalSeconds": 1}],
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
