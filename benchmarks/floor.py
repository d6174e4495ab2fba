"""Hand-written baselines ("floors"): the benchmarked work done by plain Python, no engine.

Each floor does what the engine must do per state, and nothing more: record a history event
with its details, isolate the state's output as JSON (a copy through JSON text) and check its
size against the payload quota. The raw SQLite floor commits the same rows, one transaction
per event, with the store's PRAGMAs. Ratios to these say how far the engine is from the least
any faithful implementation could cost.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Final

__all__ = ["raw_sqlite_seconds", "six_state_floor", "task_chain_floor"]

_MAX_PAYLOAD_BYTES: Final = 262_144


class _Run:
    """One hand-run execution: its history as plain dictionaries."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def record(self, event_type: str, details: dict[str, Any]) -> None:
        events = self.events
        events.append(
            {"id": len(events) + 1, "type": event_type, "posix": time.time(), "details": details}
        )

    def visit(self, state_type: str, name: str, data: Any, output: Any) -> Any:
        """Enter, isolate and size-check the output, exit: the per-state work of an engine."""
        self.record(f"{state_type}StateEntered", {"name": name, "input": data})
        text = json.dumps(output, separators=(",", ":"), ensure_ascii=False)
        if len(text) > _MAX_PAYLOAD_BYTES:
            raise ValueError("States.DataLimitExceeded")
        copy = json.loads(text)
        self.record(f"{state_type}StateExited", {"name": name, "output": copy})
        return copy


def six_state_floor(data: Any) -> tuple[Any, int]:
    """The six-state machine of :func:`benchmarks.machines.six_state_machine` by hand.

    Returns the output and the number of events recorded.
    """
    run = _Run()
    run.record("ExecutionStarted", {"input": data})
    data = run.visit("Pass", "Prepare", data, {"n": 3, "items": [1, 2, 3]})
    run.record("ChoiceStateEntered", {"name": "Route", "input": data})
    if not data["n"] > 1:
        raise AssertionError("the benchmark input takes the Pause branch")
    run.record("ChoiceStateExited", {"name": "Route", "output": data})
    data = run.visit("Wait", "Pause", data, data)
    run.record("ParallelStateEntered", {"name": "Fan Out", "input": data})
    branches = [run.visit("Pass", name, data, data) for name in ("Left", "Right")]
    data = run.visit("Parallel", "Fan Out", data, {**data, "branches": branches})
    run.record("MapStateEntered", {"name": "Each", "input": data})
    mapped = [run.visit("Pass", "Item", item, item) for item in data["items"]]
    data = run.visit("Map", "Each", data, {**data, "mapped": mapped})
    data = run.visit("Succeed", "Done", data, data)
    run.record("ExecutionSucceeded", {"output": data})
    return data, len(run.events)


def task_chain_floor(data: Any, length: int, work: Callable[[Any], Any]) -> tuple[Any, int]:
    """``length`` Task states calling ``work`` in a row, by hand."""
    run = _Run()
    run.record("ExecutionStarted", {"input": data})
    for index in range(length):
        run.record("TaskScheduled", {"resource": "Work", "parameters": data})
        data = run.visit("Task", f"T{index}", data, work(data))
    run.record("ExecutionSucceeded", {"output": data})
    return data, len(run.events)


def raw_sqlite_seconds(
    path: str,
    rows: list[tuple[Any, ...]],
    synchronous: str,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Seconds (of ``clock``) to insert and commit ``rows`` one transaction each, with the
    store's PRAGMAs.

    Each row is ``(execution, id, type, posix, previous_id, details, next_state)``; the
    details are rendered to JSON text inside the loop, as a store must.
    """
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        db.execute(
            "CREATE TABLE IF NOT EXISTS events (execution INTEGER, id INTEGER, type TEXT, "
            "posix REAL, previous_id INTEGER, details TEXT, next_state TEXT, "
            "PRIMARY KEY (execution, id))"
        )
        insert = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"
        started = clock()
        for execution, event_id, event_type, posix, previous, details, next_state in rows:
            db.execute(
                insert,
                (
                    execution,
                    event_id,
                    event_type,
                    posix,
                    previous,
                    json.dumps(details, separators=(",", ":")),
                    next_state,
                ),
            )
        return clock() - started
    finally:
        db.close()
