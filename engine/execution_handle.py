"""A started execution: its handle, and the listener recording its history to the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine import logging as engine_logging
from engine.distributed.map_run import MapChild, MapRun
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.interpreter import ExecutionControl, Runtime
from engine.store.base import (
    CLOSING_EVENTS,
    EventsNotRecorded,
    ExecutionNotRecorded,
    ExecutionStore,
    StoreError,
)
from engine.store.memory import MemoryStore
from engine.store.pending import commit_staged, note_staged

if TYPE_CHECKING:
    from engine.local_engine import LocalEngine

__all__ = ["ExecutionHandle", "Recorder"]


class Recorder:
    """The history listener: gets each event into the store before the engine acts on it.

    Events are staged (:meth:`ExecutionStore.stage <engine.store.ExecutionStore.stage>`) and
    committed with this thread's batch before the engine acts on them (see
    :mod:`engine.store.pending`); a closing event is committed at once. An in-memory store's
    events that neither close the execution nor record a transition go straight onto its list
    (:meth:`MemoryStore.appender <engine.store.MemoryStore.appender>`). It is the execution's
    :class:`~engine.distributed.map_run.MapRunLog` too: its distributed map runs and their
    children go to the same store (one object less per execution).

    Detached when the engine closes with executions still open in a durable store: what
    follows (their abort) is not written, so they stay open for a resume.
    """

    __slots__ = (
        "_append",
        "attached",
        "control",
        "failed_at",
        "log",
        "name",
        "pending_from",
        "runtime",
        "store",
    )

    def __init__(self, store: ExecutionStore, name: str, *, log: bool) -> None:
        self.store = store
        self.name = name
        self.log = log
        self._append: Callable[[HistoryEvent], None] | None = None
        """An in-memory store's append for events without a transition that do not close the
        execution (what its ``stage`` does with them, without the call)."""
        if isinstance(store, MemoryStore) and type(store).stage is MemoryStore.stage:
            self._append = store.appender(name)
        self.attached = True
        self.failed_at: int | None = None
        self.pending_from: HistoryEvent | None = None
        """The first event staged and not committed yet (None: all are committed)."""
        self.runtime: Runtime | None = None
        self.control: ExecutionControl | None = None

    def detach(self) -> None:
        self.attached = False

    def __call__(self, event: HistoryEvent) -> None:
        if self.attached:
            runtime = self.runtime
            transition = runtime.transition if runtime else None
            if transition is None and self._append is not None and event.type not in CLOSING_EVENTS:
                self._append(event)
                if self.log:
                    engine_logging.log_event(self.name, event)
                return
            try:
                staged = self.store.stage(self.name, event, transition)
            except StoreError as exc:
                self.failed_at = event.id
                raise self.failed(f"event {event.id} ({event.type})", exc) from exc
            if staged:
                if self.pending_from is None:
                    self.pending_from = event
                    note_staged(self.store, self)
                if event.type in CLOSING_EVENTS and not commit_staged() and not self.attached:
                    raise ExecutionNotRecorded(self._unrecorded(), self.store.location)
        if self.log:
            engine_logging.log_event(self.name, event)

    def committed(self) -> None:
        """The batch with this execution's staged events was committed."""
        self.pending_from = None

    def lost(self, exc: StoreError) -> None:
        """The batch with this execution's staged events failed: from its first event that was
        not kept on, none of them is kept (the execution stops, unrecorded)."""
        first, self.pending_from = self.pending_from, None
        if first is None:
            return
        event_id, event_type = first.id, first.type
        if isinstance(exc, EventsNotRecorded):
            found = exc.first_lost.get(self.name)
            if found is None:
                return  # all of them were kept
            event_id, event_type, exc = found
        if self.failed_at is None or event_id < self.failed_at:
            self.failed_at = event_id
        self.failed(f"event {event_id} ({event_type})", exc)

    def trim(self, execution: Execution) -> None:
        """After a failure, make the record show what the store holds: the events before the
        first one not kept, and the top-level states those entered."""
        if self.failed_at is None:
            return
        del execution.history[self.failed_at - 1 :]
        # State names are unique in a machine: the top-level states' entries are found in order.
        states, kept = execution.states, 0
        for event in execution.history:
            if (
                kept < len(states)
                and event.type.endswith("StateEntered")
                and event.state_name == states[kept]
            ):
                kept += 1
        del states[kept:]

    def _unrecorded(self) -> str:
        record = self.runtime.record if self.runtime is not None else None
        return (record.unrecorded if record is not None else None) or "not recorded"

    def failed(self, what: str, exc: StoreError) -> ExecutionNotRecorded:
        """Stop recording and the execution after the store failed to keep ``what``.

        Nothing more is written (the stored history stays a whole prefix) and the execution
        stops here: the store keeps it RUNNING, and so does its record.
        """
        self.attached = False
        message = (
            f"execution {self.name!r}: {what} could not be recorded: {exc}; not recorded: "
            f"the execution is left RUNNING in {self.store.location} and can be resumed"
        )
        if self.runtime is not None:
            self.runtime.record.unrecorded = message
        if self.control is not None:
            # Stops the execution even if a state handles the error below.
            self.control.scope.cancel()
        return ExecutionNotRecorded(message, exc.path)

    # -- the execution's MapRunLog: its distributed map runs, kept while attached ------------

    def saved(self, run: MapRun) -> None:
        """Keep the map run's record."""
        commit_staged()  # the run's record never goes ahead of the events before it
        if self.attached:
            try:
                self.store.save_map_run(self.name, run)
            except StoreError as exc:
                raise self.failed(f"map run {run.map_run_arn}", exc) from exc

    def child_ended(
        self, run: MapRun, index: int, child: MapChild, history: Sequence[HistoryEvent] = ()
    ) -> None:
        """Keep a child's outcome (and history) as it ends."""
        commit_staged()
        if self.attached:
            try:
                self.store.save_map_child(self.name, run, index, child, history)
            except StoreError as exc:
                what = f"child {index} of map run {run.map_run_arn}"
                raise self.failed(what, exc) from exc

    def stored(self, map_run_arn: str) -> tuple[MapRun | None, dict[int, MapChild]]:
        """The run kept under ``map_run_arn`` (None: none) and its children kept so far."""
        runs = self.store.map_runs(self.name)
        found = next((run for run in runs if run.map_run_arn == map_run_arn), None)
        return found, self.store.map_children(self.name, map_run_arn)


@dataclass(eq=False, slots=True)
class ExecutionHandle:
    """A started execution: await its result, describe it, stop it."""

    engine: LocalEngine
    execution: Execution
    control: ExecutionControl
    runtime: Runtime | None
    recorder: Recorder

    @property
    def name(self) -> str:
        """The execution's name."""
        return self.execution.name

    async def result(self) -> Execution:
        """Wait for the execution to end and return its record.

        Raises :class:`~engine.store.ExecutionNotRecorded` (its ``execution`` RUNNING) when
        the store could not record an event: the execution stopped, resumable.
        """
        control = self.control
        if not control.ended:
            # An ended execution answers at once: a loop awaiting many handles in turn does
            # not go round the event loop once for each one that has already ended.
            await control.done.wait()
        execution = self.execution
        if execution.unrecorded is not None:
            raise ExecutionNotRecorded(
                execution.unrecorded, self.engine.store.location, execution=execution
            )
        return execution

    def describe(self) -> Execution:
        """The execution's record as it is now."""
        return self.execution

    async def stop(self, error: str | None = None, cause: str | None = None) -> Execution:
        """Abort the execution (status ABORTED) and wait until it has ended."""
        return await self.engine.stop(self.name, error=error, cause=cause)
