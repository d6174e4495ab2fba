"""Resuming executions from their stored history: every cut point, waits, backoffs, re-runs.

A crash is simulated by copying the first k events of a finished execution into a fresh store
(as if the process died right after committing event k) and resuming from there.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.bindings import CallNext, LambdaContext, TaskRequest
from engine.clock import VirtualClock
from engine.durable import ResumeRefused, plan_resume, resume
from engine.errors import StatesError
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.loader import load
from engine.local_engine import ExecutionAlreadyExists, LocalEngine, run
from engine.store import ExecutionStore, MemoryStore, SQLiteStore

T0 = datetime(2024, 1, 1, tzinfo=UTC)

BOOKING: dict[str, Any] = {
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Assign": {"customer.$": "$.customer"}, "Next": "Reserve"},
        "Reserve": {
            "Type": "Task",
            "Resource": "Reserve",
            "ResultPath": "$.reservation",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 3}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Fail"}],
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.pay", "StringEquals": "ok", "Next": "Pay"}],
            "Default": "Pay",
        },
        "Pay": {
            "Type": "Task",
            "Resource": "Pay",
            "ResultPath": "$.payment",
            "Retry": [{"ErrorEquals": ["Declined"], "IntervalSeconds": 5, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Undo"}],
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Done"},
        "Done": {
            "Type": "Pass",
            "Parameters": {"customer.$": "$customer", "payment.$": "$.payment"},
            "End": True,
        },
        "Undo": {
            "Type": "Task",
            "Resource": "Undo",
            "ResultPath": "$.undone",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "Next": "Fail",
        },
        "Fail": {"Type": "Fail", "Error": "BookingFailed", "Cause": "undone"},
    },
}


class Calls:
    """The handlers of BOOKING, recording every call with its request id."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def handlers(self) -> dict[str, Any]:
        def reserve(event: Any, context: LambdaContext) -> Any:
            self.calls.append(("Reserve", context.aws_request_id))
            return {"seat": "12A"}

        def pay(event: Any, context: LambdaContext) -> Any:
            self.calls.append(("Pay", context.aws_request_id))
            if event["pay"] != "ok":
                raise type("Declined", (Exception,), {})("card declined")
            return {"receipt": "r-1"}

        def undo(event: Any, context: LambdaContext) -> Any:
            self.calls.append(("Undo", context.aws_request_id))
            return True

        return {"Reserve": reserve, "Pay": pay, "Undo": undo}


class FlakyAttempts:
    """Reserve fails with Flaky on its first two attempts, Undo on its first (by attempt)."""

    async def __call__(self, request: TaskRequest, call_next: CallNext) -> Any:
        if request.state_name == "Reserve" and request.attempt < 2:
            raise StatesError("Flaky", "try again")
        if request.state_name == "Undo" and request.attempt < 1:
            raise StatesError("Flaky", "try again")
        return await call_next(request)


def _full_run(store: ExecutionStore, data: dict[str, Any], name: str = "b-1") -> Execution:
    return run(
        BOOKING,
        data,
        handlers=Calls().handlers(),
        interceptors=[FlakyAttempts()],
        name=name,
        clock=VirtualClock(T0),
        store=store,
    )


def _cut(
    source: ExecutionStore,
    name: str,
    k: int,
    target: ExecutionStore,
    *,
    transitions: bool = True,
) -> None:
    """Copy ``name`` with its first ``k`` events into ``target``, as a crash would leave it."""
    record = dataclasses.replace(
        source.get(name), status="RUNNING", output=None, error=None, cause=None, stop_posix=None
    )
    target.start(record, "crashed")
    target.release(name, "crashed")
    recorded = source.transitions(name)
    for event in source.history(name)[:k]:
        next_state = recorded.get(event.id, ...)
        target.append(
            name,
            event,
            None if next_state is ... or not transitions else _transition(next_state),
        )


def _reserve_blocked(result: Any = None) -> tuple[threading.Event, dict[str, Any]]:
    """Handlers whose ``Reserve`` waits for the returned event, then gives ``result`` (``{}``).

    A step runs on a thread of its own (as a Lambda runs apart from Step Functions), so the
    event is a thread's.
    """
    release = threading.Event()

    def blocked(event: Any) -> Any:
        release.wait(60)
        return {} if result is None else result

    return release, {**Calls().handlers(), "Reserve": blocked}


def _crashed_at(pay: str, event_type: str) -> tuple[MemoryStore, HistoryEvent]:
    """A full run of ``b-1`` copied up to its first ``event_type`` event, and that event."""
    source = MemoryStore()
    _full_run(source, {"customer": "c-1", "pay": pay})
    event = next(e for e in source.history("b-1") if e.type == event_type)
    target = MemoryStore()
    _cut(source, "b-1", event.id, target)
    return target, event


def _transition(next_state: Any) -> Any:
    from engine.store.base import Transition

    return Transition(next_state)


def _resume_one(
    store: ExecutionStore, calls: Calls, clock: VirtualClock | None = None
) -> Execution:
    report = resume(
        store,
        handlers_for=lambda record: calls.handlers(),
        interceptors_for=lambda record: [FlakyAttempts()],
        clock=clock or VirtualClock(T0),
    )
    assert report.skipped == [] and report.unbound == []
    (execution,) = report.executions
    return execution


def _shape(events: list[HistoryEvent]) -> list[tuple[str, Any]]:
    return [(event.type, event.details) for event in events]


def _in_flight(events: list[HistoryEvent], k: int) -> int:
    """How many trailing events of the first k belong to a task whose outcome is missing."""
    tail = 0
    for event in reversed(events[:k]):
        if event.type in {"TaskScheduled", "TaskStarted"}:
            tail += 1
        else:
            break
    return tail


@pytest.mark.parametrize("pay", ["ok", "declined"])
def test_every_cut_of_a_history_resumes_to_the_same_end(pay: str) -> None:
    source = MemoryStore()
    full = _full_run(source, {"customer": "c-1", "pay": pay})
    events = source.history("b-1")
    assert full.status == ("SUCCEEDED" if pay == "ok" else "FAILED")
    for k in range(0, len(events)):
        target = MemoryStore()
        _cut(source, "b-1", k, target)
        resumed = _resume_one(target, Calls())
        assert (resumed.status, resumed.output, resumed.error, resumed.cause) == (
            full.status,
            full.output,
            full.error,
            full.cause,
        ), k
        assert resumed.states == full.states, k
        history = target.history("b-1")
        # Nothing is recorded twice but the task attempt whose outcome was not yet written.
        repeated = _in_flight(events, k)
        assert _shape(history[:k]) == _shape(events[:k])
        assert _shape(history[k + repeated :]) == _shape(events[k:]), k
        assert [event.id for event in history] == list(range(1, len(history) + 1))


def test_a_history_cut_after_its_start_links_the_first_state_to_no_event() -> None:
    source = MemoryStore()
    _full_run(source, {"customer": "c-1", "pay": "ok"})
    target = MemoryStore()
    _cut(source, "b-1", 1, target)
    _resume_one(target, Calls())
    links = [(e.type, e.previous_event_id) for e in target.history("b-1")[:3]]
    assert links == [("ExecutionStarted", 0), ("PassStateEntered", 0), ("PassStateExited", 2)]
    assert links == [(e.type, e.previous_event_id) for e in source.history("b-1")[:3]]


@pytest.mark.parametrize("pay", ["ok", "declined"])
def test_exits_without_a_recorded_transition_are_decided_again(pay: str) -> None:
    source = MemoryStore()
    full = _full_run(source, {"customer": "c-1", "pay": pay})
    events = source.history("b-1")
    for k in range(1, len(events)):
        target = MemoryStore()
        _cut(source, "b-1", k, target, transitions=False)
        calls = Calls()
        resumed = _resume_one(target, calls)
        assert (resumed.status, resumed.output, resumed.states) == (
            full.status,
            full.output,
            full.states,
        ), k
        if events[k - 1].type == "TaskStateExited":
            # The exited task's recorded result is used: it is not called again.
            assert events[k - 1].state_name not in [state for state, _ in calls.calls[:1]], k


def test_a_resumed_history_keeps_the_original_timestamps_on_a_virtual_clock() -> None:
    target, failure = _crashed_at("declined", "TaskFailed")
    failed = failure.id
    _resume_one(target, Calls())
    resumed = target.history("b-1")
    # The 2 s backoff after the failure is waited out in full, from the failure's time.
    scheduled = next(e for e in resumed[failed:] if e.type == "TaskScheduled")
    assert scheduled.posix - resumed[failed - 1].posix == pytest.approx(2.0, abs=0.05)


def test_a_backoff_resumes_for_what_was_left_of_it() -> None:
    target, failed = _crashed_at("ok", "TaskFailed")
    # The process comes back 1.5 s after the failure: 0.5 s of the 2 s backoff are left.
    clock = VirtualClock(datetime.fromtimestamp(failed.posix, UTC) + timedelta(seconds=1.5))
    _resume_one(target, Calls(), clock)
    scheduled = next(e for e in target.history("b-1")[failed.id :] if e.type == "TaskScheduled")
    assert scheduled.posix - failed.posix == pytest.approx(2.0, abs=0.05)


def test_a_wait_resumes_for_what_was_left_of_it() -> None:
    target, entered = _crashed_at("ok", "WaitStateEntered")
    clock = VirtualClock(datetime.fromtimestamp(entered.posix, UTC) + timedelta(seconds=20))
    _resume_one(target, Calls(), clock)
    exited = next(e for e in target.history("b-1") if e.type == "WaitStateExited")
    assert exited.posix - entered.posix == pytest.approx(30.0, abs=0.05)


def test_a_task_cut_before_its_outcome_runs_again_with_the_same_request_id() -> None:
    source = MemoryStore()
    first = Calls()
    run(
        BOOKING,
        {"customer": "c-1", "pay": "ok"},
        handlers=first.handlers(),
        interceptors=[FlakyAttempts()],
        name="b-1",
        clock=VirtualClock(T0),
        store=source,
    )
    events = source.history("b-1")
    pay_started = next(
        e.id for e in events if e.type == "TaskStarted" and events[e.id - 3].state_name == "Pay"
    )
    target = MemoryStore()
    _cut(source, "b-1", pay_started, target)
    again = Calls()
    _resume_one(target, again)
    assert again.calls == [("Pay", dict(first.calls)["Pay"])]
    assert [call[1] for call in first.calls].count(dict(first.calls)["Pay"]) == 1


def test_retries_already_made_are_not_made_again() -> None:
    source = MemoryStore()
    _full_run(source, {"customer": "c-1", "pay": "ok"})
    events = source.history("b-1")
    second_try = [e.id for e in events if e.type == "TaskScheduled"][1]
    target = MemoryStore()
    _cut(source, "b-1", second_try + 1, target)
    point = plan_resume(load(BOOKING), target.history("b-1"), target.transitions("b-1"))
    assert point.visit is not None
    assert (point.visit.name, point.visit.retry_count, point.visit.counters) == ("Reserve", 1, (1,))
    resumed = _resume_one(target, Calls())
    assert resumed.status == "SUCCEEDED"
    reserve_attempts = [e for e in target.history("b-1") if e.type == "TaskScheduled"][:3]
    assert len(reserve_attempts) == 3


def test_the_machine_timeout_counts_from_the_original_start() -> None:
    machine = {"TimeoutSeconds": 60, **BOOKING}
    source = MemoryStore()
    run(
        machine,
        {"customer": "c-1", "pay": "ok"},
        handlers=Calls().handlers(),
        interceptors=[FlakyAttempts()],
        name="b-1",
        clock=VirtualClock(T0),
        store=source,
    )
    target = MemoryStore()
    _cut(source, "b-1", 3, target)
    late = VirtualClock(T0 + timedelta(seconds=100))
    resumed = _resume_one(target, Calls(), late)
    assert (resumed.status, resumed.error) == ("TIMED_OUT", "States.Timeout")


PARALLEL: dict[str, Any] = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "L",
                    "States": {"L": {"Type": "Task", "Resource": "Reserve", "End": True}},
                },
                {"StartAt": "R", "States": {"R": {"Type": "Wait", "Seconds": 5, "End": True}}},
            ],
            "Next": "After",
        },
        "After": {"Type": "Pass", "End": True},
    },
}


def test_a_parallel_in_progress_runs_again_as_a_whole() -> None:
    source = MemoryStore()
    calls = Calls()
    full = run(
        PARALLEL, {}, handlers=calls.handlers(), name="p-1", clock=VirtualClock(T0), store=source
    )
    events = source.history("p-1")
    wait_entered = next(e.id for e in events if e.type == "WaitStateEntered")
    target = MemoryStore()
    _cut(source, "p-1", wait_entered, target)
    again = Calls()
    resumed = _resume_one(target, again)
    assert (resumed.status, resumed.output, resumed.states) == (
        full.status,
        full.output,
        full.states,
    )
    types = [e.type for e in target.history("p-1")]
    assert types.count("ParallelStateStarted") == 2
    assert types.count("ParallelStateEntered") == 1


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "s.db") as store:
        yield store


def test_closing_the_engine_leaves_a_durable_execution_open_for_a_resume(
    sqlite_store: SQLiteStore,
) -> None:
    async def main() -> None:
        _, handlers = _reserve_blocked({"seat": "1A"})
        async with LocalEngine(
            clock=VirtualClock(T0), handlers=handlers, store=sqlite_store
        ) as engine:
            await engine.start_execution(BOOKING, {"customer": "c", "pay": "ok"}, "b-1")
            await anyio.sleep(0.05)

    anyio.run(main)
    record = sqlite_store.get("b-1")
    assert record.status == "RUNNING"
    assert sqlite_store.owner("b-1") is None
    resumed = _resume_one(sqlite_store, Calls())
    assert resumed.status == "SUCCEEDED"
    assert sqlite_store.get("b-1").status == "SUCCEEDED"


def test_starting_again_while_open_returns_the_same_execution() -> None:
    async def main() -> None:
        release, handlers = _reserve_blocked()
        async with LocalEngine(clock=VirtualClock(T0), handlers=handlers) as engine:
            first = await engine.start_execution(BOOKING, {"customer": "c", "pay": "ok"}, "b-1")
            again = await engine.start_execution(BOOKING, {"pay": "ok", "customer": "c"}, "b-1")
            assert again is first
            with pytest.raises(ExecutionAlreadyExists):
                await engine.start_execution(BOOKING, {"customer": "other"}, "b-1")
            release.set()
            assert (await first.result()).status == "SUCCEEDED"
            with pytest.raises(ExecutionAlreadyExists):
                await engine.start_execution(BOOKING, {"customer": "c", "pay": "ok"}, "b-1")

    anyio.run(main)


def test_starting_an_orphaned_open_execution_again_resumes_it(sqlite_store: SQLiteStore) -> None:
    source = MemoryStore()
    _full_run(source, {"customer": "c-1", "pay": "ok"})
    _cut(source, "b-1", 6, sqlite_store)

    async def main() -> Execution:
        async with LocalEngine(
            clock=VirtualClock(T0),
            handlers=Calls().handlers(),
            interceptors=[FlakyAttempts()],
            store=sqlite_store,
        ) as engine:
            handle = await engine.start_execution(BOOKING, {"customer": "c-1", "pay": "ok"}, "b-1")
            return await handle.result()

    execution = anyio.run(main)
    assert execution.status == "SUCCEEDED"
    assert [e.type for e in sqlite_store.history("b-1")].count("ExecutionStarted") == 1


def test_an_execution_a_live_engine_runs_is_not_resumed_twice(sqlite_store: SQLiteStore) -> None:
    async def main() -> None:
        release, handlers = _reserve_blocked()
        async with LocalEngine(
            clock=VirtualClock(T0), handlers=handlers, store=sqlite_store
        ) as engine:
            handle = await engine.start_execution(BOOKING, {"customer": "c", "pay": "ok"}, "b-1")
            async with LocalEngine(clock=VirtualClock(T0), store=sqlite_store) as other:
                with pytest.raises(ResumeRefused, match="running in this process"):
                    await other.resume("b-1", handlers=Calls().handlers())
            release.set()
            assert (await handle.result()).status == "SUCCEEDED"

    anyio.run(main)


HEARTBEAT: dict[str, Any] = {
    "StartAt": "Review",
    "States": {
        "Review": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "review", "Payload": {"token.$": "$$.Task.Token"}},
            "HeartbeatSeconds": 5,
            "TimeoutSeconds": 100,
            "Retry": [{"ErrorEquals": ["States.HeartbeatTimeout"], "MaxAttempts": 1}],
            "Catch": [
                {"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "NoHeartbeat"},
                {"ErrorEquals": ["States.ALL"], "Next": "Other"},
            ],
            "End": True,
        },
        "NoHeartbeat": {"Type": "Pass", "Result": "heartbeat missed", "End": True},
        "Other": {"Type": "Pass", "Result": "other failure", "End": True},
    },
}


@pytest.mark.parametrize("which", [0, 1])
def test_a_missed_heartbeat_is_still_one_after_a_resume(which: int) -> None:
    """AWS records it as ``States.Timeout``; Retry and Catch must still match it as a heartbeat."""
    handlers = {"review": lambda event, context: None}
    source = MemoryStore()
    clock = VirtualClock(T0, work_moves_time=False)
    full = run(HEARTBEAT, {}, handlers=handlers, name="r-1", clock=clock, store=source)
    assert (full.status, full.output) == ("SUCCEEDED", "heartbeat missed")
    events = source.history("r-1")
    timed_out = [e for e in events if e.type == "TaskTimedOut"]
    timed_out_details = {
        "resource": "invoke.waitForTaskToken",
        "resourceType": "lambda",
        "error": "States.Timeout",
    }
    assert [e.details for e in timed_out] == [timed_out_details] * 2
    assert [e.posix - T0.timestamp() for e in timed_out] == [5.0, 11.0]
    target = MemoryStore()
    _cut(source, "r-1", timed_out[which].id, target)
    point = plan_resume(load(HEARTBEAT), target.history("r-1"), target.transitions("r-1"))
    assert point.visit is not None
    assert point.visit.pending_aliases == ("States.HeartbeatTimeout",)
    later = VirtualClock(T0, work_moves_time=False)
    report = resume(target, handlers_for=lambda record: handlers, clock=later)
    (resumed,) = report.executions
    assert (resumed.status, resumed.output) == ("SUCCEEDED", "heartbeat missed")
    # The same events (a new attempt hands out a new task token, so parameters may differ).
    assert [e.type for e in target.history("r-1")] == [e.type for e in events]
