"""The record of one distributed Map run, as ``DescribeMapRun`` shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from engine.clock import format_timestamp

__all__ = ["COUNT_KEYS", "MapRun", "MapRunStatus"]

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
            "redriveCount": 0,
        }
        if self.stop_posix is not None:
            described["stopDate"] = format_timestamp(self.stop_posix)
        return described
