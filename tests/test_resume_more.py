"""More evidence for resume: second cases of the backoff and Wait rules, who may take an open
execution over (its owner alive, dead, unknowable, or a claim lost to a racing process), and a
store with ``synchronous="FULL"``.

Crashes are simulated as in ``test_resume.py``: the first k events of a finished execution are
copied into a fresh store and the execution is resumed from there.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import VirtualClock
from engine.durable import ResumeRefused, claim, resume
from engine.store import ExecutionStore, MemoryStore, SQLiteStore
from engine.store.owner import process_owner
from tests.test_resume import (
    T0,
    Calls,
    FlakyAttempts,
    _crashed_at,
    _cut,
    _full_run,
    _resume_one,
)

# -- the backoff and the Wait, again -------------------------------------------------------------


def test_a_later_backoff_is_waited_in_full_with_the_exponent_it_had_reached() -> None:
    """Cut right after Reserve's second failure: its second retry waits 2 s * 2.0 = 4 s."""
    source = MemoryStore()
    full = _full_run(source, {"customer": "c-1", "pay": "ok"})
    events = source.history("b-1")
    second_failure = [e for e in events if e.type == "TaskFailed"][1]
    target = MemoryStore()
    _cut(source, "b-1", second_failure.id, target)
    clock = VirtualClock(datetime.fromtimestamp(second_failure.posix, UTC))
    resumed = _resume_one(target, Calls(), clock)
    assert (resumed.status, resumed.output) == (full.status, full.output)
    history = target.history("b-1")
    scheduled = next(e for e in history[second_failure.id :] if e.type == "TaskScheduled")
    assert scheduled.posix - second_failure.posix == pytest.approx(4.0, abs=1e-6)
    assert [e.type for e in history].count("TaskFailed") == 2


def test_a_backoff_already_over_when_the_process_comes_back_is_not_waited_again() -> None:
    target, failed = _crashed_at("ok", "TaskFailed")
    back = datetime.fromtimestamp(failed.posix, UTC) + timedelta(seconds=60)
    _resume_one(target, Calls(), VirtualClock(back))
    scheduled = next(e for e in target.history("b-1")[failed.id :] if e.type == "TaskScheduled")
    assert scheduled.posix == pytest.approx(back.timestamp(), abs=1e-6)


def test_a_wait_cut_at_its_entry_waits_in_full() -> None:
    target, entered = _crashed_at("ok", "WaitStateEntered")
    clock = VirtualClock(datetime.fromtimestamp(entered.posix, UTC))
    resumed = _resume_one(target, Calls(), clock)
    assert resumed.status == "SUCCEEDED"
    history = target.history("b-1")
    exited = next(e for e in history if e.type == "WaitStateExited")
    assert exited.posix - entered.posix == pytest.approx(30.0, abs=1e-6)
    assert [e.type for e in history].count("WaitStateEntered") == 1


def test_a_wait_over_before_the_process_comes_back_ends_at_once() -> None:
    target, entered = _crashed_at("ok", "WaitStateEntered")
    back = datetime.fromtimestamp(entered.posix, UTC) + timedelta(minutes=5)
    _resume_one(target, Calls(), VirtualClock(back))
    exited = next(e for e in target.history("b-1") if e.type == "WaitStateExited")
    assert exited.posix == pytest.approx(back.timestamp(), abs=1e-6)


# -- who may resume an open execution --------------------------------------------------------------


def _open_execution(store: ExecutionStore, owner: str | None) -> int:
    """``b-1`` cut after its sixth event, claimed by ``owner``; returns how many events it has."""
    source = MemoryStore()
    _full_run(source, {"customer": "c-1", "pay": "ok"})
    _cut(source, "b-1", 6, store)
    if owner is not None:
        assert store.claim("b-1", owner, None)
    return len(store.history("b-1"))


def _unknown_owner(owner: str) -> str:
    return (
        f"execution 'b-1' is claimed by {owner}, which cannot be checked from here (another "
        "host or container); if it is gone, resume with --take-over"
    )


def _resume_all(
    store: ExecutionStore, *, take_over: bool = False
) -> tuple[list[tuple[str, str]], list[str]]:
    report = resume(
        store,
        take_over=take_over,
        handlers_for=lambda record: Calls().handlers(),
        interceptors_for=lambda record: [FlakyAttempts()],
        clock=VirtualClock(T0),
    )
    return report.skipped, [execution.name for execution in report.executions]


@pytest.fixture
def live_process() -> object:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield sleeper
    sleeper.kill()
    sleeper.wait()


def test_an_execution_whose_owner_is_alive_is_left_to_it(
    live_process: subprocess.Popen[bytes],
) -> None:
    store = MemoryStore()
    owner = f"{socket.gethostname()}/{live_process.pid}/?"
    count = _open_execution(store, owner)
    skipped, resumed = _resume_all(store)
    assert skipped == [("b-1", f"execution 'b-1' is running in process {owner}")]
    assert resumed == []
    assert store.owner("b-1") == owner
    assert len(store.history("b-1")) == count
    assert store.get("b-1").status == "RUNNING"


def test_an_execution_whose_owner_died_is_taken_over(live_process: subprocess.Popen[bytes]) -> None:
    store = MemoryStore()
    owner = f"{socket.gethostname()}/{live_process.pid}/?"
    _open_execution(store, owner)
    live_process.kill()
    live_process.wait()
    skipped, resumed = _resume_all(store)
    assert (skipped, resumed) == ([], ["b-1"])
    assert store.get("b-1").status == "SUCCEEDED"
    assert store.owner("b-1") is None


def test_an_execution_owned_on_another_host_is_not_taken() -> None:
    store = MemoryStore()
    owner = "elsewhere.example/4242/1"
    count = _open_execution(store, owner)
    skipped, resumed = _resume_all(store)
    assert skipped == [("b-1", _unknown_owner(owner))]
    assert resumed == []
    assert (store.owner("b-1"), len(store.history("b-1"))) == (owner, count)


def test_an_execution_owned_on_another_host_is_taken_over_on_request() -> None:
    store = MemoryStore()
    _open_execution(store, "elsewhere.example/4242/1")
    skipped, resumed = _resume_all(store, take_over=True)
    assert (skipped, resumed) == ([], ["b-1"])
    assert store.get("b-1").status == "SUCCEEDED"


class _RacedStore(MemoryStore):
    """Another process claims the execution between our look at its owner and our claim."""

    rival = "rival.example/7/7"

    def claim(self, name: str, owner: str, expected: str | None) -> bool:
        if owner != self.rival:
            assert super().claim(name, self.rival, expected)
        return super().claim(name, owner, expected)


def test_a_claim_lost_to_a_racing_process_is_refused_and_runs_nothing() -> None:
    store = _RacedStore()
    count = _open_execution(store, None)
    with pytest.raises(ResumeRefused, match="was claimed by another process meanwhile"):
        claim(store, "b-1")
    skipped, resumed = _resume_all(store)
    assert resumed == []
    assert skipped == [("b-1", _unknown_owner(_RacedStore.rival))]
    assert (store.owner("b-1"), len(store.history("b-1"))) == (_RacedStore.rival, count)


def test_racing_claims_on_one_sqlite_store_have_exactly_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        _open_execution(store, None)
    stores = [SQLiteStore(path) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    won: list[str] = []

    def contend(index: int) -> None:
        me = f"host-{index}/{index}/x"
        barrier.wait()
        if stores[index].claim("b-1", me, None):
            won.append(me)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert len(won) == 1
    with SQLiteStore(path) as store:
        assert store.owner("b-1") == won[0]


def test_this_process_takes_over_what_it_claimed_and_released_before() -> None:
    store = MemoryStore()
    _open_execution(store, process_owner())
    store.release("b-1", process_owner())
    skipped, resumed = _resume_all(store)
    assert (skipped, resumed) == ([], ["b-1"])


# -- synchronous="FULL" ----------------------------------------------------------------------


def test_a_full_synchronous_store_runs_and_resumes_an_execution(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    source = MemoryStore()
    full = _full_run(source, {"customer": "c-1", "pay": "declined"})
    with SQLiteStore(path, synchronous="FULL") as store:
        assert store._connection().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        exited = next(e for e in source.history("b-1") if e.type == "TaskStateExited")
        _cut(source, "b-1", exited.id, store)
        resumed = _resume_one(store, Calls())
        assert (resumed.status, resumed.error, resumed.states) == (
            full.status,
            full.error,
            full.states,
        )
    with sqlite3.connect(path) as raw:
        count = raw.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    with SQLiteStore(path) as reopened:
        assert reopened.get("b-1").status == "FAILED"
        assert len(reopened.history("b-1")) == count == len(source.history("b-1"))
