"""JSONata executions resumed from their stored history end as uninterrupted ones do.

A crash is simulated by copying the first k events of a finished execution into a fresh store
and resuming; variables come back from the ``assignedVariables`` of the recorded exits.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.durable import resume
from engine.execution import Execution
from engine.local_engine import run
from engine.store import ExecutionStore, MemoryStore
from engine.store.base import Transition
from tests.jsonata.cases import machine

T0 = datetime(2024, 1, 1, tzinfo=UTC)

ORDER = machine(
    {
        "Start": {
            "Type": "Pass",
            "Assign": {"customer": "{% $states.input.customer %}", "tries": 0},
            "Next": "Price",
        },
        "Price": {
            "Type": "Task",
            "Resource": "Price",
            "Arguments": {"sku": "{% $states.input.sku %}", "who": "{% $customer %}"},
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 2}],
            "Assign": {"price": "{% $states.result.price %}"},
            "Output": "{% $merge([$states.input, {'quote': $states.result}]) %}",
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "Assign": {"failure": "{% $states.errorOutput.Error %}"},
                    "Next": "Failed",
                }
            ],
            "Next": "Cool off",
        },
        "Cool off": {"Type": "Wait", "Seconds": "{% $price %}", "Next": "Check"},
        "Check": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $price > 50 %}", "Next": "Review"}],
            "Default": "Done",
        },
        "Review": {
            "Type": "Task",
            "Resource": "Review",
            "Output": "{% $states.result.missing %}",
            "Catch": [
                {
                    "ErrorEquals": ["States.QueryEvaluationError"],
                    "Output": {"reviewed": "{% $states.errorOutput.Error %}"},
                    "Next": "Done",
                }
            ],
            "Next": "Done",
        },
        "Done": {
            "Type": "Succeed",
            "Output": {
                "customer": "{% $customer %}",
                "price": "{% $price %}",
                "in": "{% $states.input %}",
            },
        },
        "Failed": {"Type": "Fail", "Error": "{% $failure %}", "Cause": "{% $customer %}"},
    }
)


def _handlers(prices: dict[str, int]) -> dict[str, Any]:
    attempts: dict[str, int] = {}

    def price(event: Any) -> Any:
        attempts[event["sku"]] = attempts.get(event["sku"], 0) + 1
        if attempts[event["sku"]] == 1:
            raise type("Flaky", (Exception,), {})("try again")
        if event["sku"] not in prices:
            raise KeyError(event["sku"])
        return {"price": prices[event["sku"]], "for": event["who"]}

    return {"Price": price, "Review": lambda event: {"ok": True}}


PRICES = {"cheap": 5, "dear": 80}


def _cut(source: ExecutionStore, name: str, k: int) -> MemoryStore:
    target = MemoryStore()
    record = dataclasses.replace(
        source.get(name), status="RUNNING", output=None, error=None, cause=None, stop_posix=None
    )
    target.start(record, "crashed")
    target.release(name, "crashed")
    recorded = source.transitions(name)
    for event in source.history(name)[:k]:
        next_state = recorded.get(event.id, ...)
        target.append(name, event, None if next_state is ... else Transition(next_state))
    return target


def _outcome(execution: Execution) -> tuple[Any, ...]:
    return (execution.status, execution.output, execution.error, execution.cause, execution.states)


@pytest.mark.parametrize("sku", ["cheap", "dear", "unknown"])
def test_every_cut_resumes_to_the_same_end(sku: str) -> None:
    source = MemoryStore()
    data = {"customer": "c-1", "sku": sku}
    full = run(
        ORDER, data, handlers=_handlers(PRICES), name="o", clock=VirtualClock(T0), store=source
    )
    expected_status = "FAILED" if sku == "unknown" else "SUCCEEDED"
    assert full.status == expected_status
    for k in range(len(source.history("o"))):
        target = _cut(source, "o", k)
        report = resume(
            target,
            handlers_for=lambda record: _handlers(PRICES),
            clock=VirtualClock(T0),
        )
        (resumed,) = report.executions
        assert _outcome(resumed) == _outcome(full), k


def test_the_uninterrupted_runs() -> None:
    cheap = run(
        ORDER,
        {"customer": "c-1", "sku": "cheap"},
        handlers=_handlers(PRICES),
        clock=VirtualClock(T0),
    )
    assert cheap.output == {
        "customer": "c-1",
        "price": 5,
        "in": {"customer": "c-1", "sku": "cheap", "quote": {"price": 5, "for": "c-1"}},
    }
    dear = run(
        ORDER,
        {"customer": "c-1", "sku": "dear"},
        handlers=_handlers(PRICES),
        clock=VirtualClock(T0),
    )
    assert dear.output["in"] == {"reviewed": "States.QueryEvaluationError"}
    assert dear.states == ["Start", "Price", "Cool off", "Check", "Review", "Done"]
    unknown = run(
        ORDER, {"customer": "c-1", "sku": "x"}, handlers=_handlers(PRICES), clock=VirtualClock(T0)
    )
    assert (unknown.error, unknown.cause) == ("KeyError", "c-1")
