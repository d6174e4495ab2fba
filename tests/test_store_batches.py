"""The SQLite store's batched commits: events of pure computation committed together, each one
committed before the engine acts on it (a step runs, a wait starts, the execution ends)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from engine.bindings import CallNext, TaskRequest
from engine.clock import RealClock, VirtualClock
from engine.durable import resume
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.local_engine import LocalEngine, run
from engine.store import ExecutionNotRecorded, MemoryStore, SQLiteStore, StoreError
from engine.store.base import Transition

ROOT = Path(__file__).resolve().parent.parent

STEPS: dict[str, Any] = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "Result": 2, "ResultPath": "$.b", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": "Work", "ResultPath": "$.work", "Next": "C"},
        "C": {"Type": "Pass", "Result": 3, "ResultPath": "$.c", "End": True},
    },
}
STEPS_EVENTS = [
    "ExecutionStarted",
    "PassStateEntered",
    "PassStateExited",
    "PassStateEntered",
    "PassStateExited",
    "TaskStateEntered",
    "TaskScheduled",
    "TaskStarted",
    # committed together before the step runs; the rest with the closing event
    "TaskSucceeded",
    "TaskStateExited",
    "PassStateEntered",
    "PassStateExited",
    "ExecutionSucceeded",
]
OUTPUT = {"n": 7, "a": 1, "b": 2, "work": {"doubled": 14}, "c": 3}


def _work(event: Any) -> Any:
    return {"doubled": event["n"] * 2}


_KILLED_RUN = """
import os, signal, sys
from engine.clock import VirtualClock
from engine.local_engine import run
from engine.store import SQLiteStore
from tests.test_store_batches import STEPS, _work

path, kill_after = sys.argv[1], int(sys.argv[2])

class KilledStore(SQLiteStore):
    def stage(self, name, event, transition=None):
        staged = super().stage(name, event, transition)
        if event.id == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return staged

run(STEPS, {"n": 7}, name="killed", handlers={"Work": _work}, clock=VirtualClock(),
    store=KilledStore(path))
"""


def _types(events: list[HistoryEvent]) -> list[str]:
    return [event.type for event in events]


@pytest.mark.parametrize(
    ("kill_after", "kept"),
    [
        (5, 0),  # killed inside the first batch: nothing was committed, nothing acted on
        (8, 0),  # killed after TaskStarted was staged, before the commit that precedes the step
        (11, 8),  # killed after the step: the batch committed before it is kept whole
    ],
)
def test_a_kill_between_batched_events_and_their_commit_leaves_the_last_commits_prefix(
    tmp_path: Path, kill_after: int, kept: int
) -> None:
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED_RUN), str(path), str(kill_after)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with SQLiteStore(path) as store:
        assert store.get("killed").status == "RUNNING"
        assert _types(store.history("killed")) == STEPS_EVENTS[:kept]
        report = resume(store, handlers_for=lambda record: {"Work": _work}, clock=VirtualClock())
        assert [(e.name, e.status, e.output) for e in report.executions] == [
            ("killed", "SUCCEEDED", OUTPUT)
        ]
        history = _types(store.history("killed"))
    # The step ran before the kill at 11 and runs again (at least once): its events again.
    again = ["TaskScheduled", "TaskStarted"] if kept == 8 else []
    assert history == STEPS_EVENTS[:8] + again + STEPS_EVENTS[8:]


def test_a_step_sees_its_own_scheduled_and_started_events_in_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    seen: list[list[str]] = []

    def work(event: Any) -> Any:
        with SQLiteStore(path, read_only=True) as reader:
            seen.append(_types(reader.history("seen")))
        return _work(event)

    with SQLiteStore(path) as store:
        execution = run(STEPS, {"n": 7}, name="seen", handlers={"Work": work}, store=store)
    assert (execution.status, execution.output) == ("SUCCEEDED", OUTPUT)
    assert seen == [STEPS_EVENTS[:8]]


def test_an_interceptor_sees_the_events_of_the_task_it_wraps_in_the_store(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    seen: list[list[str]] = []

    async def look(request: TaskRequest, call_next: CallNext) -> Any:
        # Runs on the engine's loop, before anything yields: only a commit made before the
        # invocation chain was called shows these events.
        with SQLiteStore(path, read_only=True) as reader:
            seen.append(_types(reader.history(request.execution_name)))
        return await call_next(request)

    with SQLiteStore(path) as store:
        execution = run(
            STEPS,
            {"n": 7},
            name="intercepted",
            handlers={"Work": _work},
            interceptors=[look],
            store=store,
        )
    assert (execution.status, execution.output) == ("SUCCEEDED", OUTPUT)
    assert seen == [STEPS_EVENTS[:8]]


def _write_lock_free(path: Path) -> bool:
    """Whether another connection takes the write lock at once (no transaction holds it)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("PRAGMA busy_timeout = 0")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


WAITING: dict[str, Any] = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 3600, "End": True},
    },
}


def test_a_waiting_execution_has_its_events_committed_and_holds_no_transaction(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"

    def outside() -> tuple[bool, list[str]]:
        with SQLiteStore(path, read_only=True) as reader:
            return _write_lock_free(path), _types(reader.history("waits"))

    async def main() -> tuple[tuple[bool, list[str]], Execution, bool]:
        async with LocalEngine(clock=RealClock(), store=store) as engine:
            handle = await engine.start_execution(WAITING, {}, "waits")
            while "WaitStateEntered" not in _types(handle.execution.history):
                await anyio.lowlevel.checkpoint()
            await anyio.lowlevel.checkpoint()  # the engine has yielded: its events are kept
            during = await anyio.to_thread.run_sync(outside)
            stopped = await engine.stop("waits")
            after = await anyio.to_thread.run_sync(_write_lock_free, path)
        return during, stopped, after

    with SQLiteStore(path) as store:
        during, stopped, after = anyio.run(main)
        history = _types(store.history("waits"))
    entered = ["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered"]
    assert during == (True, entered)
    assert stopped.status == "ABORTED"
    assert after is True
    assert history == [*entered, "ExecutionAborted"]  # a stopped Wait: no WaitStateAborted (AWS)


def test_an_ended_execution_leaves_no_transaction_open(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        execution = run(STEPS, {"n": 7}, name="ended", handlers={"Work": _work}, store=store)
        assert _write_lock_free(path)
        assert _types(store.history("ended")) == STEPS_EVENTS
        assert store.get("ended").status == "SUCCEEDED"
    assert execution.output == OUTPUT


class _FailingCommits(SQLiteStore):
    """Its commits fail (as a full disk would, for every event): nothing staged is kept."""

    def commit(self) -> None:
        if getattr(self._local, "batch", None) is not None:
            self._local.batch = None
            raise StoreError("the disk is full", str(self.path))


def test_a_failed_commit_stops_the_execution_before_its_step_runs(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    calls: list[Any] = []

    def work(event: Any) -> Any:
        calls.append(event)
        return _work(event)

    with _FailingCommits(path) as store, pytest.raises(ExecutionNotRecorded) as raised:
        run(STEPS, {"n": 7}, name="full", handlers={"Work": work}, store=store)
    assert calls == []
    execution = raised.value.execution
    assert (execution.status, execution.history, execution.states) == ("RUNNING", [], [])
    assert str(raised.value) == (
        "execution 'full': event 1 (ExecutionStarted) could not be recorded: the disk is full; "
        f"not recorded: the execution is left RUNNING in {path} and can be resumed"
    )
    with SQLiteStore(path, read_only=True) as reader:
        assert reader.get("full").status == "RUNNING"
        assert reader.history("full") == []


def test_a_commit_failing_when_the_engine_yields_stops_the_waiting_execution(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    with _FailingCommits(path) as store, pytest.raises(ExecutionNotRecorded) as raised:
        run(WAITING, {}, name="yields", clock=RealClock(), store=store)
    execution = raised.value.execution
    assert (execution.status, execution.history, execution.states) == ("RUNNING", [], [])
    assert str(raised.value) == (
        "execution 'yields': event 1 (ExecutionStarted) could not be recorded: the disk is "
        f"full; not recorded: the execution is left RUNNING in {path} and can be resumed"
    )


class _AppendOnly(SQLiteStore):
    """A store written before batches: it overrides ``append`` only."""

    appended: list[int]

    def append(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> None:
        self.appended.append(event.id)
        super().append(name, event, transition)


def test_a_store_overriding_only_append_gets_every_event_committed_there(tmp_path: Path) -> None:
    store = _AppendOnly(tmp_path / "s.db")
    store.appended = []
    with store:
        execution = run(STEPS, {"n": 7}, name="old", handlers={"Work": _work}, store=store)
        assert store.appended == list(range(1, 14))
        assert _types(store.history("old")) == STEPS_EVENTS
    assert execution.output == OUTPUT


class _MemoryAppendOnly(MemoryStore):
    """An in-memory store written before batches: it overrides ``append`` only."""

    appended: list[int]

    def append(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> None:
        self.appended.append(event.id)
        super().append(name, event, transition)


def test_an_in_memory_store_overriding_only_append_gets_every_event_there() -> None:
    store = _MemoryAppendOnly()
    store.appended = []
    execution = run(STEPS, {"n": 7}, name="old", handlers={"Work": _work}, store=store)
    assert store.appended == list(range(1, 14))
    assert _types(store.history("old")) == STEPS_EVENTS
    assert store.transitions("old") == {3: "B", 5: "Work", 10: "C", 12: None}
    assert execution.output == OUTPUT


def test_stage_holds_an_event_until_commit_and_append_commits_what_was_staged(
    tmp_path: Path,
) -> None:
    from engine.store.base import StoredExecution

    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.start(StoredExecution("x", "arn", "arn", "{}", {}, 1.0), "me")
        assert store.stage("x", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"input": {}}))
        assert store.stage("x", HistoryEvent(2, "PassStateEntered", 1.0, 1, {"name": "A"}))
        with SQLiteStore(path, read_only=True) as reader:
            assert reader.history("x") == []
        store.append(
            "x", HistoryEvent(3, "ExecutionSucceeded", 2.0, 2, {"output": json.loads("1")})
        )
        with SQLiteStore(path, read_only=True) as reader:
            assert _types(reader.history("x")) == [
                "ExecutionStarted",
                "PassStateEntered",
                "ExecutionSucceeded",
            ]
            assert (reader.get("x").status, reader.get("x").output) == ("SUCCEEDED", 1)


def test_closing_the_store_commits_what_the_thread_staged(tmp_path: Path) -> None:
    from engine.store.base import StoredExecution

    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.start(StoredExecution("x", "arn", "arn", "{}", {}, 1.0), "me")
        assert store.stage("x", HistoryEvent(1, "ExecutionStarted", 1.0, 0, None))
    with SQLiteStore(path, read_only=True) as reader:
        assert _types(reader.history("x")) == ["ExecutionStarted"]


def test_a_failed_batch_is_committed_event_by_event_and_says_where_each_execution_stopped(
    tmp_path: Path,
) -> None:
    from engine.store import EventsNotRecorded
    from engine.store.base import StoredExecution

    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        for name in ("x", "y"):
            store.start(StoredExecution(name, "arn", "arn", "{}", {}, 1.0), "me")
        store.append("x", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"first": True}))
        store.stage("y", HistoryEvent(1, "ExecutionStarted", 1.0, 0, None))
        store.stage("x", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"first": False}))
        store.stage("x", HistoryEvent(2, "PassStateEntered", 1.0, 1, None))
        store.stage("y", HistoryEvent(2, "PassStateEntered", 1.0, 1, None))
        with pytest.raises(EventsNotRecorded) as raised:
            store.commit()
        lost = {
            name: (event_id, kind) for name, (event_id, kind, _) in raised.value.first_lost.items()
        }
        assert lost == {"x": (1, "ExecutionStarted")}
        assert "UNIQUE constraint failed" in str(raised.value.first_lost["x"][2])
        assert [(e.id, e.details) for e in store.history("x")] == [(1, {"first": True})]
        assert _types(store.history("y")) == ["ExecutionStarted", "PassStateEntered"]
        store.commit()  # nothing is staged any more
        assert _types(store.history("y")) == ["ExecutionStarted", "PassStateEntered"]
