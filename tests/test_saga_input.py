"""A saga's input: a non-object input is refused before the run, or taken when declared.

Also: a blocking ``run()`` inside a running event loop points at ``run_async``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

import engine
from examples.trip.trip import trip
from saga import Saga, SagaDefinitionError, SagaInputError
from saga.cli import main
from saga.testing import SagaTestEngine

ROOT = Path(__file__).resolve().parent.parent
REFUSED = (
    "saga 'BookTrip' takes a JSON object as input (its steps record their results and errors "
    'in it), got a list: [1, 2]; pass an object such as {"items": [1, 2]}, or declare '
    "Saga('BookTrip', input_key=\"items\") to take any JSON value at $.items"
)


def test_a_list_input_is_refused_before_the_run() -> None:
    with pytest.raises(SagaInputError) as caught:
        trip.run([1, 2])
    assert str(caught.value) == REFUSED


def test_the_test_engine_refuses_it_too_and_records_no_execution() -> None:
    engine_ = SagaTestEngine()
    with pytest.raises(SagaInputError, match=r"got a string: \"hello\""):
        engine_.run(trip, "hello")
    assert engine_.executions == []


def test_run_async_refuses_it() -> None:
    async def main_() -> None:
        with pytest.raises(SagaInputError, match="got a number: 3"):
            await trip.run_async(3)

    anyio.run(main_)


def test_saga_run_refuses_it_with_exit_two(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["run", "examples.trip.trip:trip", "--input", "[1, 2]"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"saga: {REFUSED}\n")


def _summing() -> Saga:
    summing = Saga("Sum", input_key="items")

    @summing.step("Add")
    def add(event: dict[str, Any]) -> int:
        return sum(event["items"])

    @add.compensate("Forget")
    def forget(event: dict[str, Any]) -> None:
        return None

    @summing.step("Check")
    def check(event: dict[str, Any]) -> None:
        if event["add"] > 10:
            raise ValueError(f"the sum {event['add']} is over 10")

    @summing.on_failure("Report")
    def report(event: dict[str, Any]) -> str:
        return "reported"

    return summing


def test_a_saga_declared_with_input_key_takes_a_list() -> None:
    execution = _summing().run([1, 2])
    assert (execution.status, execution.output) == (
        "SUCCEEDED",
        {"items": [1, 2], "add": 3, "check": None},
    )
    assert execution.states == ["Take Input", "Add", "Check"]


def test_its_failure_runs_the_compensations_and_handlers() -> None:
    execution = _summing().run([5, 6])
    assert execution.status == "FAILED"
    assert [(step.state, step.status) for step in execution.unwind] == [
        ("Forget", "SUCCEEDED"),
        ("Report", "SUCCEEDED"),
    ]
    assert execution.failure is not None
    assert (execution.failure.step, execution.failure.error, execution.failure.message) == (
        "Check",
        "ValueError",
        "the sum 11 is over 10",
    )


def test_the_exported_machine_wraps_the_input_with_a_pass_state() -> None:
    definition = json.loads(_summing().to_json())
    assert definition["StartAt"] == "Take Input"
    assert definition["States"]["Take Input"] == {
        "Type": "Pass",
        "Parameters": {"items.$": "$"},
        "Next": "Add",
    }


def test_a_bad_input_key_is_refused() -> None:
    with pytest.raises(SagaDefinitionError) as caught:
        Saga("Sum", input_key="the items")
    assert str(caught.value) == (
        "saga 'Sum': input_key is 'the items'; use a field name of letters, digits and "
        "underscores, such as 'items'"
    )


def test_run_inside_an_event_loop_points_at_run_async() -> None:
    async def main_() -> None:
        with pytest.raises(RuntimeError) as caught:
            trip.run({})
        assert str(caught.value) == (
            "Saga.run() blocks until the execution ends, so it cannot be called inside a "
            "running event loop; use 'await saga.run_async(...)' there"
        )
        with pytest.raises(RuntimeError, match=r"use 'async with LocalEngine\(\.\.\.\)"):
            engine.run(trip.to_state_machine(), {})
        done = await trip.run_async({"amount": 1})
        assert done.status == "SUCCEEDED"

    anyio.run(main_)
