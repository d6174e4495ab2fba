"""The record of one execution: status, output or error, visited states, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from engine.history import HistoryEvent

if TYPE_CHECKING:
    from engine.distributed.map_run import MapRun

__all__ = ["Execution", "ExecutionStatus", "FINAL_STATUSES"]

ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
FINAL_STATUSES: Final = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(slots=True, eq=False)
class Execution:
    """What ``DescribeExecution`` and ``GetExecutionHistory`` tell about one execution.

    ``states`` lists the top-level states entered, in order (a state entered again by a loop
    appears again); ``history`` is the event list, shared with the running execution.
    ``seed`` is the seed its random draws (retry jitter, ``States.UUID``, task tokens) came
    from: the one given to the engine, else one derived from the name, so running the same
    name and input again, or with this seed, repeats them.
    """

    name: str
    execution_arn: str
    state_machine_arn: str
    input: Any
    start_posix: float
    status: ExecutionStatus = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stop_posix: float | None = None
    states: list[str] = field(default_factory=list)
    history: list[HistoryEvent] = field(default_factory=list)
    seed: int | None = None
    unrecorded: str | None = None
    """Set when its store could not record an event: it stopped, left RUNNING and resumable."""
    map_runs: list[MapRun] = field(default_factory=list)
    """The distributed Map runs of this execution, in start order."""

    @property
    def start_date(self) -> datetime:
        """When the execution started."""
        return datetime.fromtimestamp(self.start_posix, UTC)

    @property
    def stop_date(self) -> datetime | None:
        """When the execution ended (None while running)."""
        if self.stop_posix is None:
            return None
        return datetime.fromtimestamp(self.stop_posix, UTC)

    @property
    def done(self) -> bool:
        """Whether the execution has ended."""
        return self.status != "RUNNING"

    @property
    def succeeded(self) -> bool:
        """Whether the execution ended with status SUCCEEDED."""
        return self.status == "SUCCEEDED"

    def history_dicts(self) -> list[dict[str, Any]]:
        """The history as ``GetExecutionHistory`` event objects."""
        return [event.to_dict() for event in self.history]

    def to_dict(self, *, history: bool = False) -> dict[str, Any]:
        """The JSON object ``saga execute`` prints: status, output or error/cause, name, states."""
        out: dict[str, Any] = {"status": self.status}
        if self.status == "SUCCEEDED":
            out["output"] = self.output
        elif self.status != "RUNNING":
            if self.error is not None:
                out["error"] = self.error
            if self.cause is not None:
                out["cause"] = self.cause
        if self.unrecorded is not None:
            out["notRecorded"] = self.unrecorded
        out["name"] = self.name
        out["states"] = list(self.states)
        if history:
            out["history"] = self.history_dicts()
        return out
