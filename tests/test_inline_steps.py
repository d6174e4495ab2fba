"""Steps marked with ``inline_step`` run on the engine's thread, and still meet their Lambda's
contract: no running event loop, the same results and errors, and a ``TimeoutSeconds`` that a
late return cannot escape."""

from __future__ import annotations

import asyncio
import contextvars
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine import LocalEngine, VirtualClock, inline_step, load, run
from engine.bindings import LambdaContext, call_handler
from engine.execution import Execution
from saga import Saga, dynamodb

pytestmark = pytest.mark.anyio

FN = "arn:aws:lambda:us-east-1:123456789012:function:Step"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
_seen: contextvars.ContextVar[str] = contextvars.ContextVar("_seen", default="engine")


def _one_task(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN, **fields}}}


def _types(execution: Execution) -> list[str]:
    return [event.type for event in execution.history]


async def test_an_inline_step_runs_on_the_engine_thread_with_no_loop_running() -> None:
    seen: dict[str, Any] = {}

    @inline_step
    def step(event: Any) -> Any:
        seen["thread"] = threading.get_ident()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            seen["loop"] = None
        else:
            seen["loop"] = "running"

        async def inner() -> int:
            return int(event["n"]) + 1

        return {"n": asyncio.run(inner())}  # as a Lambda handler may

    async with LocalEngine(clock=VirtualClock(T0), handlers={FN: step}) as engine:
        execution = await engine.execute(_one_task(End=True), {"n": 41}, "inline")
        assert asyncio.get_running_loop() is not None  # the engine's loop is back
    assert (execution.status, execution.output) == ("SUCCEEDED", {"n": 42})
    assert seen == {"thread": threading.get_ident(), "loop": None}


def test_an_inline_step_fails_as_the_same_step_on_a_thread() -> None:
    def step(event: Any) -> Any:
        raise ValueError(f"bad seat {event['seat']}")

    definition = _one_task(
        Catch=[{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Undo"}],
        Next="Done",
    )
    definition["States"].update(
        {"Undo": {"Type": "Pass", "End": True}, "Done": {"Type": "Succeed"}}
    )
    on_thread = run(
        definition, {"seat": "9Z"}, handlers={FN: step}, clock=VirtualClock(T0), name="x"
    )
    inline = run(
        definition,
        {"seat": "9Z"},
        handlers={FN: inline_step(step)},
        clock=VirtualClock(T0),
        name="x",
    )
    assert on_thread.states == inline.states == ["T", "Undo"]
    assert inline.output == on_thread.output
    cause = json.loads(inline.output["error"]["Cause"])
    assert inline.output["error"]["Error"] == "ValueError"
    assert (cause["errorMessage"], cause["errorType"]) == ("bad seat 9Z", "ValueError")
    assert cause["stackTrace"][-1].endswith(
        "in step\n    raise ValueError(f\"bad seat {event['seat']}\")\n"
    )
    assert len(cause["stackTrace"]) == 1  # the step's own frame only, none of the engine's
    assert [(e.type, e.details) for e in inline.history] == [
        (e.type, e.details) for e in on_thread.history
    ]


def test_an_inline_step_that_outlasts_its_timeout_times_out() -> None:
    """It cannot be interrupted; its late result is discarded and the state fails with
    ``States.Timeout``, which its Catch handles, as when Lambda stops it at the deadline."""
    clock = VirtualClock(T0, work_moves_time=False)

    @inline_step
    def step(event: Any) -> Any:
        clock.advance(5)  # five seconds of work, past TimeoutSeconds
        return "late"

    definition = _one_task(
        TimeoutSeconds=3,
        Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "TooLate"}],
        End=True,
    )
    definition["States"]["TooLate"] = {"Type": "Pass", "End": True}
    execution = run(definition, {}, handlers={FN: step}, clock=clock)
    assert execution.states == ["T", "TooLate"]
    assert execution.output == {"Error": "States.Timeout", "Cause": ""}
    assert _types(execution) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionTimedOut",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    timed_out = next(e for e in execution.history if e.type == "LambdaFunctionTimedOut")
    assert timed_out.details == {"error": "States.Timeout"}
    assert timed_out.posix - execution.history[0].posix == 5.0


def test_an_inline_step_within_its_timeout_succeeds() -> None:
    clock = VirtualClock(T0, work_moves_time=False)

    @inline_step
    def step(event: Any) -> Any:
        clock.advance(2)
        return "in time"

    execution = run(_one_task(TimeoutSeconds=3, End=True), {}, handlers={FN: step}, clock=clock)
    assert (execution.status, execution.output) == ("SUCCEEDED", "in time")


async def test_context_variables_set_by_an_inline_step_stay_in_the_step() -> None:
    @inline_step
    def step(event: Any) -> Any:
        before = _seen.get()
        _seen.set("step")
        return before

    async with LocalEngine(clock=VirtualClock(T0), handlers={FN: step}) as engine:
        machine = load(_one_task(End=True))
        first = await engine.execute(machine, {}, "first")
        second = await engine.execute(machine, {}, "second")
    assert (first.output, second.output, _seen.get()) == ("engine", "engine", "engine")


def test_inline_step_refuses_what_it_cannot_mark() -> None:
    with pytest.raises(TypeError, match="expects a callable step, got str"):
        inline_step("module:step")  # type: ignore[type-var]
    with pytest.raises(TypeError, match="it takes no attributes; wrap it in a function"):
        inline_step(len)


def test_inline_step_returns_the_step_itself() -> None:
    def step(event: Any) -> Any:
        return event

    assert inline_step(step) is step
    assert step({"a": 1}) == {"a": 1}


def test_a_loop_of_inline_steps_still_reaches_the_machine_timeout() -> None:
    """The engine yields between states every few transitions, so a machine that loops over an
    inline step forever still times out (and other executions get their turn)."""
    clock = VirtualClock(T0, work_moves_time=False)
    calls: list[int] = []

    @inline_step
    def step(event: Any) -> Any:
        calls.append(1)
        clock.advance(1)
        return {"again": True}

    definition = {
        "StartAt": "T",
        "TimeoutSeconds": 10,
        "States": {
            "T": {"Type": "Task", "Resource": FN, "Next": "Again"},
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "T"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    execution = run(definition, {}, handlers={FN: step}, clock=clock)
    assert execution.status == "TIMED_OUT"
    assert execution.history[-1].type == "ExecutionTimedOut"
    # Time is up after the 10th call; the timer runs at the next yield (transition 32: 16
    # calls of Task and Choice) and the stop lands at the one after (transition 64).
    assert len(calls) == 32


def test_a_saga_step_is_inline_with_the_mark_above_or_below_its_decorator() -> None:
    threads: list[int] = []
    trip = Saga("InlineTrip")

    @inline_step
    @trip.step("Price Seat")
    def price_seat(order: dict[str, Any]) -> dict[str, Any]:
        threads.append(threading.get_ident())
        return {"fare": order["base"] * 2}

    @trip.step("Hold Seat", result_path="$.hold")
    @inline_step
    def hold_seat(order: dict[str, Any]) -> str:
        threads.append(threading.get_ident())
        return "held"

    execution = trip.run({"base": 21})
    assert (execution.status, execution.output) == (
        "SUCCEEDED",
        {"base": 21, "priceSeat": {"fare": 42}, "hold": "held"},
    )
    assert threads == [threading.get_ident(), threading.get_ident()]


def test_an_inline_mark_on_a_service_integration_is_refused() -> None:
    trip = Saga("InlineIntegration")
    put = trip.step("Put Order", dynamodb.put_item(table_name="Orders", item={}))
    with pytest.raises(TypeError, match="inline_step expects a callable step, got Step"):
        inline_step(put)  # type: ignore[type-var]


def test_ctrl_c_during_an_inline_step_stops_the_run() -> None:
    """On the engine's thread a KeyboardInterrupt is Ctrl-C aimed at the engine: it is not
    turned into the step's ``Runtime.ExitError`` (as it is on a step thread)."""

    @inline_step
    def step(event: Any) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(_one_task(End=True), {}, handlers={FN: step}, clock=VirtualClock(T0))


def test_sys_exit_in_an_inline_step_is_the_runtime_exit_error() -> None:
    @inline_step
    def step(event: Any) -> Any:
        raise SystemExit(3)

    execution = run(_one_task(End=True), {}, handlers={FN: step}, clock=VirtualClock(T0))
    assert (execution.status, execution.error) == ("FAILED", "Runtime.ExitError")
    cause = json.loads(execution.cause or "")
    assert cause["errorType"] == "Runtime.ExitError"
    assert cause["errorMessage"].endswith(" Error: Runtime exited with error: exit status 3")


def test_an_inline_step_that_fails_after_its_timeout_times_out() -> None:
    """A failure after the deadline is discarded like a late result: on a thread (and on AWS)
    the step was stopped at its deadline, before it could fail."""
    clock = VirtualClock(T0, work_moves_time=False)

    def late(kind: str) -> Any:
        @inline_step
        def step(event: Any) -> Any:
            clock.advance(5)
            if kind == "raise":
                raise ValueError("too late to matter")
            if kind == "exit":
                raise SystemExit(2)
            return {1, 2}  # Runtime.MarshalError, were it in time

        return step

    for kind in ("raise", "exit", "marshal"):
        execution = run(
            _one_task(TimeoutSeconds=3, End=True),
            {},
            handlers={FN: late(kind)},
            clock=clock,
            name=kind,
        )
        assert (execution.status, execution.error, execution.cause) == (
            "FAILED",
            "States.Timeout",
            None,
        ), kind
        assert _types(execution)[-2:] == ["LambdaFunctionTimedOut", "ExecutionFailed"]


def test_an_inline_step_sees_no_current_event_loop_and_leaves_the_callers() -> None:
    """``asyncio.get_event_loop()`` in a marked step raises as on a step thread (it found the
    engine's running loop); an ``async def`` marked step leaves the caller's loop in place."""

    def current(event: Any) -> Any:
        try:
            asyncio.get_event_loop()
        except RuntimeError as exc:
            return str(exc).split(" in thread ")[0]
        return "a loop"

    async def async_step(event: Any) -> Any:
        return 1

    on_thread = run(_one_task(End=True), {}, handlers={FN: current}, clock=VirtualClock(T0))
    inline = run(
        _one_task(End=True), {}, handlers={FN: inline_step(current)}, clock=VirtualClock(T0)
    )
    assert on_thread.output == inline.output == "There is no current event loop"
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        run(_one_task(End=True), {}, handlers={FN: inline_step(async_step)}, clock=VirtualClock(T0))
        assert asyncio.get_event_loop() is loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


_CTRL_C = """
import signal
import sys

signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal

from engine import inline_step, run
from engine.store import SQLiteStore

FN = "arn:aws:lambda:us-east-1:123456789012:function:Step"
SERVICE = "arn:aws:states:::dynamodb:getItem"
TASK = {"Type": "Task", "Resource": FN, "End": True, "TimeoutSeconds": 5}
MACHINES = {
    "task": {"StartAt": "T", "States": {"T": TASK}},
    "service": {"StartAt": "T", "States": {"T": {**TASK, "Resource": SERVICE}}},
    "parallel": {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "T", "States": {"T": TASK}},
        {"StartAt": "W", "States": {"W": {"Type": "Pass", "End": True}}},
    ]}}},
}

@inline_step
def step(event):
    raise KeyboardInterrupt

store = SQLiteStore(sys.argv[2])
try:
    run(MACHINES[sys.argv[1]], {}, handlers={FN: step, SERVICE: step}, store=store, name="x")
except KeyboardInterrupt as exc:
    print(type(exc).__name__, store.get("x").status)
"""


@pytest.mark.parametrize("machine", ["task", "service", "parallel"])
def test_ctrl_c_in_an_inline_step_stops_the_run_as_ctrl_c_does(
    machine: str, tmp_path: Path
) -> None:
    """As a real Ctrl-C: the run is cancelled, ``KeyboardInterrupt`` alone reaches the caller
    (no exception group, no task left unretrieved) and the store keeps the execution RUNNING."""
    script = tmp_path / "ctrl_c.py"
    script.write_text(_CTRL_C)
    done = subprocess.run(
        [sys.executable, str(script), machine, str(tmp_path / "s.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "KeyboardInterrupt RUNNING\n", "")


async def test_ctrl_c_escaping_an_inline_call_outside_lambda_s_contract_stops_it_too() -> None:
    @inline_step
    def step(event: Any) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await call_handler(step, {}, LambdaContext("F", "rid"))
