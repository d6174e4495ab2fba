"""The LocalEngine API: concurrent executions, stop, idempotent names, limits, logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from engine import logging as engine_logging
from engine.bindings import CallNext, TaskRequest
from engine.clock import VirtualClock
from engine.local_engine import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    LocalEngine,
    run,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
WORK = "arn:aws:states:::sns:publish"

WAIT_THEN_ECHO = {
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Echo"},
        "Echo": {
            "Type": "Pass",
            "Parameters": {"id.$": "$.id", "at.$": "$$.State.EnteredTime"},
            "End": True,
        },
    },
}


@pytest.mark.anyio
async def test_many_concurrent_executions_do_not_interfere() -> None:
    async with LocalEngine(clock=VirtualClock(T0)) as engine:
        handles = [
            await engine.start_execution(WAIT_THEN_ECHO, {"id": i, "wait": (i % 7) * 60}, f"e{i}")
            for i in range(200)
        ]
        results = [await handle.result() for handle in handles]
    for i, ex in enumerate(results):
        assert ex.status == "SUCCEEDED"
        minute = i % 7
        assert ex.output == {"id": i, "at": f"2024-01-01T00:0{minute}:00Z"}
        assert [e.id for e in ex.history] == [1, 2, 3, 4, 5, 6]
        assert ex.name == f"e{i}"


@pytest.mark.anyio
async def test_thousand_executions_waiting_an_hour_finish_together() -> None:
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    async with LocalEngine(clock=VirtualClock(T0)) as engine:
        handles = [await engine.start_execution(machine, {}) for _ in range(1000)]
        for handle in handles:
            await handle.result()
    assert {h.execution.status for h in handles} == {"SUCCEEDED"}
    assert {h.execution.stop_date for h in handles} == {datetime(2024, 1, 1, 1, tzinfo=UTC)}


@pytest.mark.anyio
async def test_stop_aborts_a_running_execution() -> None:
    running = anyio.Event()

    async def slow(event: Any) -> Any:
        running.set()
        await anyio.sleep(3600)

    machine = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": WORK, "End": True}},
    }
    async with LocalEngine(clock=VirtualClock(T0), handlers={WORK: slow}) as engine:
        handle = await engine.start_execution(machine, {"a": 1}, "to-stop")
        with anyio.fail_after(30):
            await running.wait()
        assert engine.describe("to-stop").status == "RUNNING"
        ex = await engine.stop("to-stop", error="UserStop", cause="changed my mind")
        assert handle.describe() is ex
    assert ex.status == "ABORTED"
    assert (ex.error, ex.cause) == ("UserStop", "changed my mind")
    types = [e.type for e in ex.history]
    assert types[-2:] == ["TaskStateAborted", "ExecutionAborted"]
    assert ex.history[-1].details == {"error": "UserStop", "cause": "changed my mind"}
    assert ex.to_dict() == {
        "status": "ABORTED",
        "error": "UserStop",
        "cause": "changed my mind",
        "name": "to-stop",
        "states": ["T"],
    }


@pytest.mark.anyio
async def test_stop_a_waiting_execution_under_virtual_time() -> None:
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}}}
    async with LocalEngine(clock=VirtualClock(T0)) as engine:
        handle = await engine.start_execution(machine, {}, "w")
        ex = await handle.stop()
    assert ex.status == "ABORTED"
    # As AWS records a stopped Wait: no WaitStateAborted, ExecutionAborted linked to no event.
    assert [(e.type, e.id, e.previous_event_id) for e in ex.history] == [
        ("ExecutionStarted", 1, 0),
        ("WaitStateEntered", 2, 0),
        ("ExecutionAborted", 3, 0),
    ]


@pytest.mark.anyio
async def test_execution_names_are_idempotent_only_while_running_with_same_input() -> None:
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}}}
    async with LocalEngine(clock=VirtualClock(T0)) as engine:
        first = await engine.start_execution(machine, {"x": 1}, "same")
        again = await engine.start_execution(machine, {"x": 1}, "same")
        assert again is first
        with pytest.raises(ExecutionAlreadyExists):
            await engine.start_execution(machine, {"x": 2}, "same")
        await first.result()
        with pytest.raises(ExecutionAlreadyExists):
            await engine.start_execution(machine, {"x": 1}, "same")
        assert engine.history("same")[-1].type == "ExecutionSucceeded"
        assert [e.name for e in engine.executions()] == ["same"]
        with pytest.raises(ExecutionDoesNotExist):
            engine.describe("other")


@pytest.mark.anyio
async def test_start_requires_the_context_manager() -> None:
    engine = LocalEngine()
    with pytest.raises(RuntimeError):
        await engine.start_execution(WAIT_THEN_ECHO, {})


def test_bad_execution_input_and_name() -> None:
    with pytest.raises(InvalidExecutionInput):
        run(WAIT_THEN_ECHO, {"x": {1, 2}})
    with pytest.raises(InvalidExecutionInput):
        run(WAIT_THEN_ECHO, {"x": "y" * 262_144})
    with pytest.raises(ValueError, match="invalid execution name"):
        run(WAIT_THEN_ECHO, {"id": 1, "wait": 0}, name="has space")


def test_default_input_is_an_empty_object() -> None:
    ex = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert ex.output == {}


def test_history_limit_fails_the_execution() -> None:
    machine = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}],
                "Default": "A",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    ex = run(machine, {}, clock=VirtualClock(T0))
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    assert ex.cause == "The execution reached the maximum number of history events (25000)."
    assert len(ex.history) == 25_000
    assert ex.history[-1].type == "ExecutionFailed"


def test_interceptors_see_every_invocation() -> None:
    seen: list[tuple[str, int, int, str]] = []

    async def record(request: TaskRequest, call_next: CallNext) -> Any:
        seen.append(
            (request.state_name, request.attempt, request.invocation, request.execution_name)
        )
        if request.attempt == 0:
            from engine.errors import StatesError

            raise StatesError("Injected", "fault")
        return await call_next(request)

    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": WORK,
                "Retry": [{"ErrorEquals": ["Injected"]}],
                "End": True,
            }
        },
    }
    ex = run(
        machine,
        {"v": 1},
        handlers={WORK: lambda event: {"got": event}},
        interceptors=[record],
        name="i",
        clock=VirtualClock(T0),
    )
    assert ex.output == {"got": {"v": 1}}
    assert seen == [("T", 0, 0, "i"), ("T", 1, 1, "i")]


def test_history_events_are_logged_through_structlog(capsys: pytest.CaptureFixture[str]) -> None:
    engine_logging.configure(enabled=True, json=True)
    try:
        run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {}, name="logged")
    finally:
        engine_logging.configure(enabled=False)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert [line["event"] for line in lines] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert {line["execution"] for line in lines} == {"logged"}
    assert [line["state"] for line in lines] == [None, "P", "P", None]


def test_logging_is_quiet_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {})
    assert capsys.readouterr().err == ""


def test_run_accepts_json_text() -> None:
    text = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}})
    assert run(text).output == 1


@pytest.mark.anyio
async def test_stop_during_parallel_with_blocking_handlers_does_not_hang() -> None:
    import threading

    release = threading.Event()
    running = threading.Semaphore(0)

    def blocks(event: Any) -> Any:
        running.release()
        release.wait(30)
        return event

    branch = {"StartAt": "B{}", "States": {"B{}": {"Type": "Task", "Resource": WORK, "End": True}}}
    branches = [json.loads(json.dumps(branch).replace("{}", str(i))) for i in range(3)]
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}},
    }
    try:
        async with LocalEngine(clock=VirtualClock(T0), handlers={WORK: blocks}) as engine:
            handle = await engine.start_execution(machine, {}, "p")
            with anyio.fail_after(30):  # every branch's handler is running (not a guessed delay)
                for _ in range(3):
                    while not running.acquire(blocking=False):
                        await anyio.sleep(0.01)
            with anyio.fail_after(10):
                ex = await handle.stop()
    finally:
        release.set()
    assert ex.status == "ABORTED"
    types = [e.type for e in ex.history]
    assert types.count("TaskStateAborted") == 3
    assert types[-2:] == ["ParallelStateAborted", "ExecutionAborted"]


def test_machine_timeout_fires_while_a_handler_blocks() -> None:
    import threading

    release = threading.Event()

    def blocks(event: Any) -> Any:
        release.wait(10)
        return event

    machine = {
        "TimeoutSeconds": 1,
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": WORK, "End": True}},
    }
    try:
        ex = run(machine, {}, handlers={WORK: blocks}, clock=VirtualClock(T0))
    finally:
        release.set()
    assert ex.status == "TIMED_OUT"
    assert [e.type for e in ex.history][-2:] == ["TaskStateAborted", "ExecutionTimedOut"]


@pytest.mark.anyio
async def test_closing_the_engine_aborts_what_is_still_running() -> None:
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}}}
    clock = VirtualClock(T0)
    async with LocalEngine(clock=clock) as engine:
        handle = await engine.start_execution(machine, {}, "left")
    assert handle.execution.status == "ABORTED"
    assert handle.execution.cause == "The local engine was closed."
