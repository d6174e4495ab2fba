"""The in-memory execution store: the engine's default; gone with the process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from engine.distributed.map_run import MapChild, MapRun
from engine.history import HistoryEvent
from engine.store.base import (
    CLOSING_EVENTS,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStore,
    HistoryNotKept,
    StoredExecution,
    StoreError,
    Transition,
    same_input,
)
from engine.store.child_histories import DEFAULT_CHILD_HISTORIES, ChildHistories

__all__ = ["MemoryStore"]


class MemoryStore(ExecutionStore):
    """Executions and events in dictionaries, behind one lock.

    Most events only go at the end of their execution's list, which takes no lock (a list
    append is atomic, and a reader copies the list whole); one that closes its execution or
    records a transition takes it.

    A map run keeps the outcomes and histories of at most ``child_histories`` of its children
    (failed ones first; see :mod:`engine.store.child_histories`), so a map run of any size
    stays in bounded memory; its counts are always whole. A child not kept runs again if the
    map run is resumed or redriven in this process. A SQLite store keeps every child.
    """

    durable = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.append is not MemoryStore.append and cls.stage is MemoryStore.stage:
            # A subclass that overrides only ``append`` gets every event through it.
            cls.stage = ExecutionStore.stage  # type: ignore[method-assign]

    def __init__(self, *, child_histories: int = DEFAULT_CHILD_HISTORIES) -> None:
        self.child_histories = child_histories
        self._histories: dict[str, ChildHistories] = {}
        self._lock = threading.Lock()
        self._records: dict[str, StoredExecution] = {}
        self._events: dict[str, list[HistoryEvent]] = {}
        self._owners: dict[str, str | None] = {}
        self._transitions: dict[str, dict[int, str | None]] = {}
        self._map_runs: dict[str, dict[str, dict[str, Any]]] = {}
        self._map_children: dict[str, dict[int, MapChild]] = {}

    @property
    def location(self) -> str:
        """``:memory:``."""
        return ":memory:"

    def start(self, execution: StoredExecution, owner: str) -> tuple[StoredExecution, bool]:
        """Record a new execution, or return the open one with the same name and input."""
        with self._lock:
            existing = self._records.get(execution.name)
            if existing is not None:
                if not existing.done and same_input(existing.input, execution.input):
                    return existing, False
                raise ExecutionAlreadyExists(f"Execution Already Exists: '{execution.name}'")
            self._records[execution.name] = execution
            self._events[execution.name] = []
            self._owners[execution.name] = owner
            self._transitions[execution.name] = {}
            self._map_runs[execution.name] = {}
            return execution, True

    def append(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> None:
        """Keep the event; a closing event closes the record."""
        MemoryStore.stage(self, name, event, transition)

    def stage(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> bool:
        """Keep the event at once, as :meth:`append` (nothing is batched in memory): False."""
        events = self._events.get(name)
        if events is None:
            raise ExecutionDoesNotExist(name)
        if transition is None and event.type not in CLOSING_EVENTS:
            events.append(event)  # one list append is atomic: readers copy it whole
            return False
        with self._lock:
            events.append(event)
            if transition is not None:
                self._transitions[name][event.id] = transition.next_state
            if event.type in CLOSING_EVENTS:
                self._records[name] = self._records[name].closed_by(event)
                self._owners[name] = None
        return False

    def appender(self, name: str) -> Callable[[HistoryEvent], None]:
        """What keeps an event of ``name`` that neither closes it nor records a transition, as
        :meth:`stage` does: the ``append`` of its event list (the hottest recording path)."""
        with self._lock:
            events = self._events.get(name)
        if events is None:
            raise ExecutionDoesNotExist(name)
        return events.append

    def reopen(self, name: str, event: HistoryEvent, owner: str) -> StoredExecution:
        """Open the closed execution ``name`` again, recording its redrive event."""
        with self._lock:
            record = self._records.get(name)
            if record is None:
                raise ExecutionDoesNotExist(name)
            if not record.done:
                raise StoreError(f"execution {name!r} is open ({record.status})")
            reopened = record.reopened_by(event)
            self._events[name].append(event)
            self._records[name] = reopened
            self._owners[name] = owner
            return reopened

    def find(self, name: str) -> StoredExecution | None:
        """The execution ``name``, or None."""
        with self._lock:
            return self._records.get(name)

    def executions(self, *, status: str | None = None) -> list[StoredExecution]:
        """Every execution (with that status), in start order."""
        with self._lock:
            records = list(self._records.values())
        return [record for record in records if status is None or record.status == status]

    def history(self, name: str) -> list[HistoryEvent]:
        """The events of ``name`` in id order."""
        with self._lock:
            events = self._events.get(name)
            if events is None:
                raise ExecutionDoesNotExist(name)
            return list(events)

    def transitions(self, name: str) -> dict[int, str | None]:
        """Exit event id → next state, for ``name``."""
        with self._lock:
            found = self._transitions.get(name)
            if found is None:
                raise ExecutionDoesNotExist(name)
            return dict(found)

    def save_map_run(self, name: str, run: MapRun) -> None:
        """Keep a copy of the map run's record."""
        with self._lock:
            runs = self._map_runs.get(name)
            if runs is None:
                raise ExecutionDoesNotExist(name)
            runs[run.map_run_arn] = run.to_json()

    def save_map_child(
        self,
        name: str,
        run: MapRun,
        index: int,
        child: MapChild,
        history: Sequence[HistoryEvent] = (),
    ) -> None:
        """Keep the child's outcome and the run's counts together, and its history if room."""
        with self._lock:
            runs = self._map_runs.get(name)
            if runs is None:
                raise ExecutionDoesNotExist(name)
            runs[run.map_run_arn] = run.to_json()
            if not self._keep_child(run.map_run_arn, index, child):
                return
            if history:
                kept = self._histories.get(run.map_run_arn)
                if kept is None:
                    kept = self._histories[run.map_run_arn] = ChildHistories(self.child_histories)
                kept.keep(index, child.status, history)

    def _keep_child(self, map_run_arn: str, index: int, child: MapChild) -> bool:
        """Keep the child's outcome if there is room: at most ``child_histories`` per map run.

        Once full, a child that did not succeed takes the place of the oldest kept one that
        did (with its history); another success is not kept. Counts stay whole: they are the
        run's record.
        """
        children = self._map_children.setdefault(map_run_arn, {})
        children.pop(index, None)
        if len(children) >= self.child_histories:
            oldest = next((i for i, kept in children.items() if kept.status == "SUCCEEDED"), None)
            if child.status == "SUCCEEDED" or oldest is None:
                return False
            del children[oldest]
            histories = self._histories.get(map_run_arn)
            if histories is not None:
                histories.drop(oldest)
        children[index] = child
        return True

    def map_child_history(self, name: str, map_run_arn: str, index: int) -> list[HistoryEvent]:
        """The kept history of the child; HistoryNotKept past the cap."""
        with self._lock:
            if index not in self._map_children.get(map_run_arn, {}):
                raise ExecutionDoesNotExist(f"{map_run_arn}/{index}")
            kept = self._histories.get(map_run_arn)
            found = None if kept is None else kept.get(index)
        if found is None:
            raise HistoryNotKept(
                f"the history of child {index} of map run {map_run_arn} was not kept: the "
                f"in-memory store keeps {self.child_histories} child histories per map run "
                "(failed ones first); a SQLite store keeps them all"
            )
        return found

    def map_runs(self, name: str) -> list[MapRun]:
        """Copies of the map runs of ``name``, in start order."""
        with self._lock:
            runs = self._map_runs.get(name)
            if runs is None:
                raise ExecutionDoesNotExist(name)
            return [MapRun.from_json(record) for record in runs.values()]

    def map_children(self, name: str, map_run_arn: str) -> dict[int, MapChild]:
        """The ended children of the map run, by index."""
        with self._lock:
            return dict(self._map_children.get(map_run_arn, {}))

    def owner(self, name: str) -> str | None:
        """Who runs ``name`` now."""
        with self._lock:
            return self._owners.get(name)

    def claim(self, name: str, owner: str, expected: str | None) -> bool:
        """Take ``name`` over if its owner is still ``expected``."""
        with self._lock:
            record = self._records.get(name)
            if record is None or record.done or self._owners.get(name) != expected:
                return False
            self._owners[name] = owner
            return True

    def release(self, name: str, owner: str) -> None:
        """Leave ``name`` open and unowned."""
        with self._lock:
            if self._owners.get(name) == owner:
                self._owners[name] = None
