"""One execution store shared by every state machine of the API server.

Execution names are unique per state machine in Step Functions, while an engine's store keys
executions by name alone; a :class:`ScopedStore` gives each machine's engine its own view of
the shared store, with names kept there as ``MACHINE:NAME`` (``:`` cannot occur in either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from engine.distributed.map_run import MapChild, MapRun
from engine.history import HistoryEvent
from engine.store.base import ExecutionStore, FoundChild, StoredExecution, Transition

__all__ = ["ScopedStore"]


class ScopedStore(ExecutionStore):
    """The executions of one state machine within a shared store."""

    def __init__(self, base: ExecutionStore, machine: str) -> None:
        self.base = base
        self.machine = machine
        self._prefix = f"{machine}:"
        self.durable = base.durable

    @property
    def location(self) -> str:
        """The shared store's location and the machine."""
        return f"{self.base.location}#{self.machine}"

    def _key(self, name: str) -> str:
        return self._prefix + name

    def _outward(self, record: StoredExecution) -> StoredExecution:
        return replace(record, name=record.name.removeprefix(self._prefix))

    def start(self, execution: StoredExecution, owner: str) -> tuple[StoredExecution, bool]:
        """Record a new execution under its scoped name."""
        record, created = self.base.start(replace(execution, name=self._key(execution.name)), owner)
        return self._outward(record), created

    def append(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> None:
        """Keep one history event of ``name``."""
        self.base.append(self._key(name), event, transition)

    def reopen(self, name: str, event: HistoryEvent, owner: str) -> StoredExecution:
        """Open the closed execution ``name`` of this machine again."""
        return self._outward(self.base.reopen(self._key(name), event, owner))

    def find(self, name: str) -> StoredExecution | None:
        """The execution ``name`` of this machine, or None."""
        found = self.base.find(self._key(name))
        return None if found is None else self._outward(found)

    def executions(self, *, status: str | None = None) -> list[StoredExecution]:
        """This machine's executions (with that status), in start order."""
        return [
            self._outward(record)
            for record in self.base.executions(status=status)
            if record.name.startswith(self._prefix)
        ]

    def history(self, name: str) -> list[HistoryEvent]:
        """The history events of ``name``."""
        return self.base.history(self._key(name))

    def transitions(self, name: str) -> dict[int, str | None]:
        """The recorded transitions of ``name``."""
        return self.base.transitions(self._key(name))

    def save_map_run(self, name: str, run: MapRun) -> None:
        """Keep a map run of ``name``."""
        self.base.save_map_run(self._key(name), run)

    def save_map_child(
        self,
        name: str,
        run: MapRun,
        index: int,
        child: MapChild,
        history: Sequence[HistoryEvent] = (),
    ) -> None:
        """Keep how a child of a map run of ``name`` ended (and its history)."""
        self.base.save_map_child(self._key(name), run, index, child, history)

    def find_map_child(self, execution_arn: str) -> FoundChild | None:
        """The ended map-run child ``execution_arn`` of one of this machine's executions."""
        found = self.base.find_map_child(execution_arn)
        if found is None or not found.execution.startswith(self._prefix):
            return None
        return replace(found, execution=found.execution.removeprefix(self._prefix))

    def map_child_history(self, name: str, map_run_arn: str, index: int) -> list[HistoryEvent]:
        """The history of a child of a map run of ``name``."""
        return self.base.map_child_history(self._key(name), map_run_arn, index)

    def map_runs(self, name: str) -> list[MapRun]:
        """The map runs of ``name``."""
        return self.base.map_runs(self._key(name))

    def map_children(self, name: str, map_run_arn: str) -> dict[int, MapChild]:
        """The ended children of a map run of ``name``."""
        return self.base.map_children(self._key(name), map_run_arn)

    def owner(self, name: str) -> str | None:
        """Who runs ``name`` now."""
        return self.base.owner(self._key(name))

    def claim(self, name: str, owner: str, expected: str | None) -> bool:
        """Make ``owner`` run ``name`` if its owner is still ``expected``."""
        return self.base.claim(self._key(name), owner, expected)

    def release(self, name: str, owner: str) -> None:
        """Give up running ``name``."""
        self.base.release(self._key(name), owner)
