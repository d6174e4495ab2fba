"""The record of one distributed Map run, as ``DescribeMapRun`` shows it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from engine.clock import format_timestamp

if TYPE_CHECKING:
    from engine.execution import Execution
    from engine.history import HistoryEvent

__all__ = ["COUNT_KEYS", "MapChild", "MapRun", "MapRunLog", "MapRunStatus"]

MapRunStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "ABORTED"]
COUNT_KEYS = ("pending", "running", "succeeded", "failed", "timedOut", "aborted", "total")


def _counts() -> dict[str, int]:
    return dict.fromkeys((*COUNT_KEYS, "resultsWritten"), 0)


@dataclass(eq=False)
class MapRun:
    """One distributed Map run: its ARN, status, limits and item and child-execution counts.

    ``item_counts`` count items (a batch counts each of its items), ``execution_counts``
    child executions; ``total`` grows as the reader streams items.
    """

    map_run_arn: str
    execution_arn: str
    state_machine_arn: str
    start_posix: float
    max_concurrency: int
    tolerated_failure_count: int
    tolerated_failure_percentage: float
    status: MapRunStatus = "RUNNING"
    stop_posix: float | None = None
    error: str | None = None
    cause: str | None = None
    item_counts: dict[str, int] = field(default_factory=_counts)
    execution_counts: dict[str, int] = field(default_factory=_counts)
    redrive_count: int = 0
    """How many times the run was redriven (with its parent execution)."""
    redrive_posix: float | None = None
    """When it was last redriven."""
    on_update: Callable[[], None] | None = field(default=None, repr=False)
    """Set by the running map run: called after :meth:`update` changed its limits."""
    running: dict[int, tuple[Execution, int]] = field(default_factory=dict, repr=False)
    """The child executions running now and their item counts, by item index."""

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data, for a store."""
        return {
            "mapRunArn": self.map_run_arn,
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "startPosix": self.start_posix,
            "maxConcurrency": self.max_concurrency,
            "toleratedFailureCount": self.tolerated_failure_count,
            "toleratedFailurePercentage": self.tolerated_failure_percentage,
            "status": self.status,
            "stopPosix": self.stop_posix,
            "error": self.error,
            "cause": self.cause,
            "itemCounts": dict(self.item_counts),
            "executionCounts": dict(self.execution_counts),
            "redriveCount": self.redrive_count,
            "redrivePosix": self.redrive_posix,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MapRun:
        """The record :meth:`to_json` gave (ValueError/KeyError/TypeError when it is not one)."""
        status = data["status"]
        if status not in ("RUNNING", "SUCCEEDED", "FAILED", "ABORTED"):
            raise ValueError(f"unknown map run status {status!r}")
        stop = data.get("stopPosix")
        redriven = data.get("redrivePosix")
        return cls(
            map_run_arn=str(data["mapRunArn"]),
            execution_arn=str(data["executionArn"]),
            state_machine_arn=str(data["stateMachineArn"]),
            start_posix=float(data["startPosix"]),
            max_concurrency=int(data["maxConcurrency"]),
            tolerated_failure_count=int(data["toleratedFailureCount"]),
            tolerated_failure_percentage=float(data["toleratedFailurePercentage"]),
            status=status,
            stop_posix=None if stop is None else float(stop),
            error=data.get("error"),
            cause=data.get("cause"),
            item_counts={**_counts(), **data["itemCounts"]},
            execution_counts={**_counts(), **data["executionCounts"]},
            redrive_count=int(data.get("redriveCount", 0)),
            redrive_posix=None if redriven is None else float(redriven),
        )

    def update(
        self,
        max_concurrency: int | None = None,
        tolerated_failure_count: int | None = None,
        tolerated_failure_percentage: float | None = None,
    ) -> None:
        """``UpdateMapRun``: new limits for the run under way (None: unchanged)."""
        if max_concurrency is not None:
            self.max_concurrency = max_concurrency
        if tolerated_failure_count is not None:
            self.tolerated_failure_count = tolerated_failure_count
        if tolerated_failure_percentage is not None:
            self.tolerated_failure_percentage = float(tolerated_failure_percentage)
        if self.on_update is not None:
            self.on_update()

    def started(self, items: int) -> None:
        """A child execution of ``items`` items starts."""
        self.item_counts["total"] += items
        self.item_counts["running"] += items
        self.execution_counts["total"] += 1
        self.execution_counts["running"] += 1

    def ended(self, items: int, status: str) -> None:
        """A child execution of ``items`` items ended with ``status``."""
        key = {"SUCCEEDED": "succeeded", "TIMED_OUT": "timedOut", "ABORTED": "aborted"}.get(
            status, "failed"
        )
        self.item_counts["running"] -= items
        self.item_counts[key] += items
        self.execution_counts["running"] -= 1
        self.execution_counts[key] += 1

    @property
    def failed_items(self) -> int:
        """Items whose child execution failed, timed out or was aborted."""
        counts = self.item_counts
        return counts["failed"] + counts["timedOut"] + counts["aborted"]

    def describe(self) -> dict[str, Any]:
        """The ``DescribeMapRun`` response fields."""
        described: dict[str, Any] = {
            "mapRunArn": self.map_run_arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": format_timestamp(self.start_posix),
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": self.tolerated_failure_percentage,
            "toleratedFailureCount": self.tolerated_failure_count,
            "itemCounts": {
                **self.item_counts,
                "failuresNotRedrivable": 0,
                "pendingRedrive": 0,
            },
            "executionCounts": {
                **self.execution_counts,
                "failuresNotRedrivable": 0,
                "pendingRedrive": 0,
            },
            "redriveCount": self.redrive_count,
        }
        if self.stop_posix is not None:
            described["stopDate"] = format_timestamp(self.stop_posix)
        if self.redrive_posix is not None:
            described["redriveDate"] = format_timestamp(self.redrive_posix)
        return described


@dataclass(frozen=True, slots=True)
class MapChild:
    """How one child execution of a map run ended: kept so a resumed run does not run it again.

    ``items`` is how many items it carried, ``record`` its execution record as
    ``ResultWriter`` exports it, ``output`` its output (None unless it succeeded).
    """

    items: int
    status: str
    record: dict[str, Any]
    output: Any = None

    def to_json(self) -> dict[str, Any]:
        """The outcome as JSON data, for a store."""
        return {
            "items": self.items,
            "status": self.status,
            "record": self.record,
            "output": self.output,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MapChild:
        """The outcome :meth:`to_json` gave."""
        record = data["record"]
        if not isinstance(record, dict):
            raise ValueError("a map child's record must be an object")
        return cls(int(data["items"]), str(data["status"]), record, data.get("output"))


class MapRunLog(Protocol):
    """Where an execution's map runs are kept (its store), written before the engine goes on."""

    def saved(self, run: MapRun) -> None:
        """Keep the run's record as it is now."""

    def child_ended(
        self, run: MapRun, index: int, child: MapChild, history: Sequence[HistoryEvent] = ()
    ) -> None:
        """Keep how child ``index`` ended (and its history), with the run's counts."""

    def stored(self, map_run_arn: str) -> tuple[MapRun | None, dict[int, MapChild]]:
        """The kept record of a run and its ended children, by index (for a resumed run)."""
