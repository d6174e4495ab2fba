"""The child executions of distributed Map runs, as ``ListExecutions(mapRunArn=…)``,
``DescribeExecution`` and ``GetExecutionHistory`` show them.

A child that ended is read from the store (its record as ``ResultWriter`` exports it, and its
history when the store kept it); a running child from its map run, which holds the ones
running now. Children are listed newest first, as AWS lists executions: a run starts them in
item order, so by item index, highest first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.distributed.map_run import MapChild, MapRun
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.store.base import ExecutionDoesNotExist, ExecutionStore, FoundChild

__all__ = ["ChildExecution", "child_history", "find_child", "list_children"]


@dataclass(frozen=True, slots=True)
class ChildExecution:
    """One child execution of a map run: what ``DescribeExecution`` tells about it.

    ``state_machine_arn`` is the child machine (``…:stateMachine:Machine/Label``);
    ``item_count`` how many items it processed (a batch's items).
    """

    execution_arn: str
    name: str
    state_machine_arn: str
    map_run_arn: str
    status: str
    start_posix: float
    stop_posix: float | None
    input: Any
    output: Any = None
    error: str | None = None
    cause: str | None = None
    item_count: int = 1


def _posix(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _ended(run: MapRun, child: MapChild) -> ChildExecution:
    record = child.record
    start = _posix(record.get("StartDate"))
    return ChildExecution(
        execution_arn=str(record["ExecutionArn"]),
        name=str(record["Name"]),
        state_machine_arn=str(record.get("StateMachineArn", run.state_machine_arn)),
        map_run_arn=run.map_run_arn,
        status=child.status,
        start_posix=start if start is not None else run.start_posix,
        stop_posix=_posix(record.get("StopDate")),
        input=json.loads(record["Input"]) if isinstance(record.get("Input"), str) else None,
        output=child.output if child.status == "SUCCEEDED" else None,
        error=record.get("Error"),
        cause=record.get("Cause"),
        item_count=child.items,
    )


def _running(run: MapRun, record: Execution, items: int) -> ChildExecution:
    return ChildExecution(
        execution_arn=record.execution_arn,
        name=record.name,
        state_machine_arn=record.state_machine_arn,
        map_run_arn=run.map_run_arn,
        status=record.status,
        start_posix=record.start_posix,
        stop_posix=record.stop_posix,
        input=record.input,
        item_count=items,
    )


def list_children(
    store: ExecutionStore, execution: str, run: MapRun, status: str | None = None
) -> list[ChildExecution]:
    """The children of ``run`` (of the execution ``execution``), newest first, with ``status``."""
    found: dict[int, ChildExecution] = {
        index: _ended(run, child)
        for index, child in store.map_children(execution, run.map_run_arn).items()
    }
    for index, (record, items) in list(run.running.items()):
        found.setdefault(index, _running(run, record, items))
    return [
        found[index]
        for index in sorted(found, reverse=True)
        if status is None or found[index].status == status
    ]


def find_child(
    store: ExecutionStore, live: Iterable[tuple[str, MapRun]], execution_arn: str
) -> tuple[ChildExecution, Execution | FoundChild]:
    """The child ``execution_arn``: running in one of the ``live`` runs, or ended in the store.

    Raises :class:`ExecutionDoesNotExist` when no map run has that child.
    """
    for _, run in live:
        for record, items in list(run.running.values()):
            if record.execution_arn == execution_arn:
                return _running(run, record, items), record
    found = store.find_map_child(execution_arn)
    if found is None:
        raise ExecutionDoesNotExist(execution_arn)
    return _ended(found.run, found.child), found


def child_history(store: ExecutionStore, source: Execution | FoundChild) -> list[HistoryEvent]:
    """The history of a child :func:`find_child` found (``HistoryNotKept`` when not kept)."""
    if isinstance(source, Execution):
        return list(source.history)
    return store.map_child_history(source.execution, source.run.map_run_arn, source.index)
