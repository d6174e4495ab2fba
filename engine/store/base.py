"""The execution store interface: where executions and their history events are kept.

A store holds, per execution name, the execution record (definition, input, status, outcome,
the handlers reference it was started with) and every history event in order. The engine
appends each event before it acts on it (write-ahead), so a durable store can rebuild and
resume an execution after a crash (see :mod:`engine.durable`). A distributed Map's runs and
how each of their child executions ended are kept with the execution too, so a resumed map
run does not run its finished children again, with the children's own histories (all of them
in SQLite, a bounded number per map run in memory) for ``GetExecutionHistory`` of a child.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Final, Self

from engine.clock import format_timestamp
from engine.distributed.map_run import MapChild, MapRun
from engine.execution import FINAL_STATUSES, Execution, ExecutionStatus
from engine.history import HistoryEvent

__all__ = [
    "CLOSING_EVENTS",
    "CorruptStoreError",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionNotRecorded",
    "ExecutionStore",
    "FoundChild",
    "HistoryNotKept",
    "Listing",
    "REDRIVEN_EVENT",
    "StoreError",
    "StoredExecution",
    "Transition",
    "closing_outcome",
    "same_input",
]

CLOSING_EVENTS: Final[Mapping[str, ExecutionStatus]] = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
"""The events that close an execution, and the status each one gives it."""

REDRIVEN_EVENT: Final = "ExecutionRedriven"
"""The event that opens a closed execution again (``RedriveExecution``)."""


class ExecutionAlreadyExists(Exception):
    """An execution of that name exists (closed, or open with a different input)."""


class ExecutionDoesNotExist(KeyError):
    """No execution of that name is known."""


class StoreError(Exception):
    """The store cannot be used: the message names the file and what is wrong."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class CorruptStoreError(StoreError):
    """The store's file is damaged (truncated, overwritten, not a database): nothing is read."""


class HistoryNotKept(StoreError):
    """The store did not keep that map-run child's history (an in-memory store keeps a cap)."""


class ExecutionNotRecorded(StoreError):
    """The store could not record an event (disk full, I/O error): the execution stopped there.

    It is left RUNNING in the store, which holds every event before that one, so a resume
    continues it; ``execution`` is its record as the caller sees it (status RUNNING too).
    """

    def __init__(self, message: str, path: str | None = None, execution: Any = None) -> None:
        super().__init__(message, path)
        self.execution = execution


def canonical_json(value: Any) -> str:
    """JSON text with sorted keys: equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same_input(left: Any, right: Any) -> bool:
    """Whether two execution inputs are the same JSON data (key order aside)."""
    return canonical_json(left) == canonical_json(right)


@dataclass(frozen=True, slots=True)
class Transition:
    """Where a top-level state's flow went after its ``…StateExited`` event (None: it ended).

    Kept with the exit event, so a resume after a crash right there knows the next state
    without running the exited state again (a Choice's pick, a Catcher's ``Next``).
    """

    next_state: str | None


@dataclass(frozen=True, slots=True)
class StoredExecution:
    """What the store keeps about one execution (its events are kept apart).

    ``definition`` is the state machine's ASL JSON text as it ran (after substitutions);
    ``handlers_ref`` says which handlers it was started with (opaque to the engine, e.g. a
    saga ``module:attribute``), so a resume can bind them again; ``options`` keeps the
    engine settings that matter for a resume (region, account, role, clock kind, seed).
    """

    name: str
    execution_arn: str
    state_machine_arn: str
    definition: str
    input: Any
    start_posix: float
    status: ExecutionStatus = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stop_posix: float | None = None
    handlers_ref: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def redrive_count(self) -> int:
        """How many times the execution was redriven (``options["redriveCount"]``)."""
        count = self.options.get("redriveCount", 0)
        return count if isinstance(count, int) and not isinstance(count, bool) else 0

    @property
    def redrive_posix(self) -> float | None:
        """When it was last redriven (None: never)."""
        value = self.options.get("redrivePosix")
        return float(value) if isinstance(value, int | float) else None

    def reopened_by(self, event: HistoryEvent) -> StoredExecution:
        """This record open again (RUNNING) after a redrive event, its count and date noted."""
        options = {
            **self.options,
            "redriveCount": self.redrive_count + 1,
            "redrivePosix": event.posix,
        }
        return replace(
            self,
            status="RUNNING",
            output=None,
            error=None,
            cause=None,
            stop_posix=None,
            options=options,
        )

    @property
    def done(self) -> bool:
        """Whether the execution has ended."""
        return self.status in FINAL_STATUSES

    def closed_by(self, event: HistoryEvent) -> StoredExecution:
        """This record with the outcome a closing event carries."""
        status, output, error, cause = closing_outcome(event)
        # Built field by field (every execution closes once): ``replace`` looks the fields up
        # on each call, which costs more than the record itself.
        return StoredExecution(
            name=self.name,
            execution_arn=self.execution_arn,
            state_machine_arn=self.state_machine_arn,
            definition=self.definition,
            input=self.input,
            start_posix=self.start_posix,
            status=status,
            output=output,
            error=error,
            cause=cause,
            stop_posix=event.posix,
            handlers_ref=self.handlers_ref,
            options=self.options,
        )

    def to_execution(self, history: list[HistoryEvent]) -> Execution:
        """The execution this record and its stored ``history`` describe."""
        seed = self.options.get("seed")
        return Execution(
            name=self.name,
            execution_arn=self.execution_arn,
            state_machine_arn=self.state_machine_arn,
            input=self.input,
            start_posix=self.start_posix,
            status=self.status,
            output=self.output,
            error=self.error,
            cause=self.cause,
            stop_posix=self.stop_posix,
            history=history,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        )

    def summary(self) -> dict[str, Any]:
        """The execution as ``ListExecutions`` shows it."""
        out: dict[str, Any] = {
            "name": self.name,
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "status": self.status,
            "startDate": format_timestamp(self.start_posix),
        }
        if self.stop_posix is not None:
            out["stopDate"] = format_timestamp(self.stop_posix)
        return out

    def describe(self) -> dict[str, Any]:
        """The execution as ``DescribeExecution`` shows it, plus the handlers reference."""
        out = self.summary()
        out["input"] = self.input
        if self.status == "SUCCEEDED":
            out["output"] = self.output
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        if self.handlers_ref is not None:
            out["handlers"] = self.handlers_ref
        return out


@dataclass(frozen=True, slots=True)
class FoundChild:
    """A map run's ended child execution: its parent execution's name, the run, its index."""

    execution: str
    run: MapRun
    index: int
    child: MapChild


@dataclass(slots=True)
class Listing:
    """The executions of a store that can be read, and the damaged ones apart (name, why)."""

    executions: list[StoredExecution] = field(default_factory=list)
    damaged: list[tuple[str, str]] = field(default_factory=list)


def closing_outcome(event: HistoryEvent) -> tuple[ExecutionStatus, Any, str | None, str | None]:
    """Status, output, error and cause a closing event records."""
    details = event.details or {}
    status = CLOSING_EVENTS[event.type]
    output = details.get("output") if status == "SUCCEEDED" else None
    return status, output, details.get("error"), details.get("cause")


class ExecutionStore(ABC):
    """Keeps executions and their history; every method is safe to call from any thread.

    ``append`` returns only once the event is kept (committed, for a durable store): the
    engine calls it before acting on the event.
    """

    durable: bool = False
    """Whether what is stored survives the process (a crash, a kill)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store lives, for messages (a file path, or ``:memory:``)."""

    @abstractmethod
    def start(self, execution: StoredExecution, owner: str) -> tuple[StoredExecution, bool]:
        """Record a new execution owned by ``owner``, as StartExecution does.

        Returns ``(record, True)`` when it was created. The same name with the same input
        while that execution is open returns ``(existing record, False)``; a different input
        or a closed execution raises :class:`ExecutionAlreadyExists`.
        """

    @abstractmethod
    def append(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> None:
        """Keep one history event; a closing event also closes the record, atomically.

        ``transition`` comes with a top-level state's exit event: where the flow goes next.
        """

    @abstractmethod
    def find(self, name: str) -> StoredExecution | None:
        """The execution ``name``, or None."""

    @abstractmethod
    def executions(self, *, status: str | None = None) -> list[StoredExecution]:
        """Every execution (with that status), in start order."""

    @abstractmethod
    def history(self, name: str) -> list[HistoryEvent]:
        """The history events of ``name`` in id order; :class:`ExecutionDoesNotExist`."""

    @abstractmethod
    def transitions(self, name: str) -> dict[int, str | None]:
        """The recorded transitions of ``name``: exit event id → next state (None: the end)."""

    @abstractmethod
    def save_map_run(self, name: str, run: MapRun) -> None:
        """Keep the record of a distributed Map run of ``name`` (a new one, or its update)."""

    @abstractmethod
    def save_map_child(
        self,
        name: str,
        run: MapRun,
        index: int,
        child: MapChild,
        history: Sequence[HistoryEvent] = (),
    ) -> None:
        """Keep how child ``index`` of ``run`` ended, with the run's counts, atomically.

        ``history`` is the child's own history; a store may keep only some (see
        :meth:`map_child_history`).
        """

    @abstractmethod
    def map_runs(self, name: str) -> list[MapRun]:
        """The distributed Map runs of ``name`` in start order; :class:`ExecutionDoesNotExist`."""

    @abstractmethod
    def map_children(self, name: str, map_run_arn: str) -> dict[int, MapChild]:
        """The children of a map run of ``name`` that ended, by item index."""

    @abstractmethod
    def map_child_history(self, name: str, map_run_arn: str, index: int) -> list[HistoryEvent]:
        """The history of child ``index`` of a map run of ``name``.

        Raises :class:`HistoryNotKept` when the child ended but its history was not kept,
        :class:`ExecutionDoesNotExist` when no such child ended.
        """

    def find_map_child(self, execution_arn: str) -> FoundChild | None:
        """The ended map-run child whose ARN is ``execution_arn`` (``…:execution:M/Label:id``).

        Only the runs of the child machine ``…:stateMachine:M/Label`` are searched.
        """
        prefix, _, rest = execution_arn.partition(":execution:")
        machine, _, child_name = rest.rpartition(":")
        if not machine or not child_name:
            return None
        machine_arn = f"{prefix}:stateMachine:{machine}"
        for stored in self.executions():
            for run in self.map_runs(stored.name):
                if run.state_machine_arn != machine_arn:
                    continue
                for index, child in self.map_children(stored.name, run.map_run_arn).items():
                    if child.record.get("ExecutionArn") == execution_arn:
                        return FoundChild(stored.name, run, index, child)
        return None

    @abstractmethod
    def owner(self, name: str) -> str | None:
        """Who runs the open execution ``name`` now (None when nobody claims it)."""

    @abstractmethod
    def claim(self, name: str, owner: str, expected: str | None) -> bool:
        """Make ``owner`` run ``name`` if its owner is still ``expected``; whether it did."""

    @abstractmethod
    def release(self, name: str, owner: str) -> None:
        """Give up running ``name`` (left open, for a later resume) if ``owner`` holds it."""

    def reopen(self, name: str, event: HistoryEvent, owner: str) -> StoredExecution:
        """Open the closed execution ``name`` again for ``owner``, recording ``event``.

        ``event`` is its :data:`REDRIVEN_EVENT`; the record becomes RUNNING without an
        outcome, its redrive count and date in ``options`` (see
        :meth:`StoredExecution.reopened_by`). Raises :class:`ExecutionDoesNotExist`, or
        :class:`StoreError` when the execution is open or the store cannot reopen executions.
        """
        raise StoreError(f"the store at {self.location} cannot reopen executions")

    def get(self, name: str) -> StoredExecution:
        """The execution ``name``; :class:`ExecutionDoesNotExist` when unknown."""
        found = self.find(name)
        if found is None:
            raise ExecutionDoesNotExist(name)
        return found

    def listing(self, *, status: str | None = None) -> Listing:
        """Like :meth:`executions`, but a damaged record is set apart instead of raising."""
        return Listing(executions=self.executions(status=status))

    def unfinished(self) -> list[StoredExecution]:
        """The executions still open (RUNNING), in start order."""
        return self.executions(status="RUNNING")

    def close(self) -> None:  # noqa: B027 - nothing to release unless the store holds files
        """Release what the store holds (connections); it must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
