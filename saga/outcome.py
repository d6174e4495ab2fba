"""What a saga's execution did about a failure: the unwind record and the decoded failure.

The raw ``error``/``cause`` stay exactly what Step Functions reports; beside them,
:class:`SagaExecution` carries

- ``failure``: the original failure, unwrapped from the nested JSON of the cause (the step
  that failed, its error name and message);
- ``unwind``: every compensation and failure handler that ran, in order, each with its
  status and, when it failed, its error and cause — a failed compensation is an undo that
  did not happen.

Both are read from the history, so they hold for an execution run from the exported ASL too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final, Literal

from engine.execution import Execution
from engine.history import HistoryEvent
from engine.model import StateMachine, TaskState
from saga.visits import StateVisit, event_states, visits_of

if TYPE_CHECKING:
    from saga.declaration import SagaDeclaration

__all__ = [
    "Failure",
    "SagaExecution",
    "UnwindRole",
    "UnwindStatus",
    "UnwindStep",
    "decode_failure",
    "explain",
    "saga_roles",
    "unwrap_cause",
]

UnwindRole = Literal["compensation", "failure handler"]
UnwindStatus = Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "RUNNING", "ABORTED"]
_OUTCOME_STATUS: Final[dict[str, UnwindStatus]] = {
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
    "TimedOut": "TIMED_OUT",
    "Aborted": "ABORTED",
}
_MAX_DEPTH: Final = 8
_EXECUTION_FIELDS: Final = tuple(f.name for f in fields(Execution))
"""The engine record's fields, which a :class:`SagaExecution` copies."""


@dataclass(frozen=True, slots=True)
class Failure:
    """The original failure behind an execution's error: the step, its error and message.

    ``message`` is the Lambda ``errorMessage`` (or the plain cause) after every JSON layer
    ``{"Error", "Cause"}`` is unwrapped; ``step`` is the state whose task failed with it.
    """

    error: str
    message: str | None
    step: str | None

    def to_dict(self) -> dict[str, Any]:
        """As printed by ``saga run``/``saga execute``."""
        return {"step": self.step, "error": self.error, "message": self.message}

    def __str__(self) -> str:
        where = f"{self.step!r} failed: " if self.step is not None else ""
        return f"{where}{self.error}" + (f": {self.message}" if self.message else "")


@dataclass(frozen=True, slots=True)
class UnwindStep:
    """One compensation or failure handler of the unwind, as it ran.

    ``compensates`` names the step a compensation undoes; ``item`` is the position of the list
    element whose step it undoes (a for-each group's compensation, run once per item);
    ``error``/``cause`` are those of its last attempt when it did not succeed (``message`` is
    the cause decoded); ``attempts`` counts its tries (retries included).
    """

    state: str
    role: UnwindRole | None
    status: UnwindStatus
    compensates: str | None = None
    error: str | None = None
    cause: str | None = None
    message: str | None = None
    attempts: int = 1
    item: int | None = None

    @property
    def failed(self) -> bool:
        """Whether this undo or handler did not happen (failed or timed out)."""
        return self.status in ("FAILED", "TIMED_OUT")

    def to_dict(self) -> dict[str, Any]:
        """As printed by ``saga run``/``saga execute``."""
        out: dict[str, Any] = {"state": self.state}
        if self.role is not None:
            out["role"] = self.role
        if self.compensates is not None:
            out["compensates"] = self.compensates
        if self.item is not None:
            out["item"] = self.item
        out["status"] = self.status
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        if self.message is not None:
            out["message"] = self.message
        if self.attempts != 1:
            out["attempts"] = self.attempts
        return out


@dataclass(slots=True, eq=False)
class SagaExecution(Execution):
    """An :class:`~engine.execution.Execution` with its unwind record and decoded failure."""

    unwind: list[UnwindStep] = field(default_factory=list)
    failure: Failure | None = None

    @property
    def failed_compensations(self) -> list[UnwindStep]:
        """The compensations that did not happen."""
        return [step for step in self.unwind if step.role != "failure handler" and step.failed]

    def to_dict(self, *, history: bool = False) -> dict[str, Any]:
        """The execution's JSON object plus ``failure`` and ``unwind`` (when there are any)."""
        base = Execution.to_dict(self, history=history)
        out: dict[str, Any] = {}
        for key, value in base.items():
            if key == "history":
                continue
            out[key] = value
            if key == "cause" and self.failure is not None:
                out["failure"] = self.failure.to_dict()
        if self.failure is not None and "failure" not in out:
            out["failure"] = self.failure.to_dict()
        if self.unwind:
            out["unwind"] = [step.to_dict() for step in self.unwind]
        if history:
            out["history"] = base["history"]
        return out


Roles = Mapping[str, tuple[UnwindRole, str | None]]
"""Unwind state name → (role, the step a compensation undoes)."""


def saga_roles(saga: SagaDeclaration) -> dict[str, tuple[UnwindRole, str | None]]:
    """The compensations and failure handlers of ``saga``, by state name."""
    roles: dict[str, tuple[UnwindRole, str | None]] = {}
    for step in saga.forward_steps:
        if step.compensation is not None:
            roles[step.compensation.name] = ("compensation", step.name)
    for handler in saga.failure_handlers:
        roles[handler.name] = ("failure handler", None)
    return roles


def _status(visit: StateVisit, execution: Execution) -> UnwindStatus:
    last = visit.attempts[-1] if visit.attempts else None
    if last is None or last.outcome is None:
        return "RUNNING" if execution.status == "RUNNING" else "ABORTED"
    for suffix, status in _OUTCOME_STATUS.items():
        if last.outcome.type.endswith(suffix):
            return status
    return "SUCCEEDED"


def _item_of(visit: StateVisit, by_id: Mapping[int, HistoryEvent]) -> int | None:
    """The Map iteration index a visit ran in, None outside an iteration: walking back the
    ``previousEventId`` chain within the iteration reaches its ``MapIterationStarted``, while
    from outside it meets the Map state's own events first."""
    event: HistoryEvent | None = visit.entered
    while event is not None:
        if event.type.startswith(("MapState", "Execution")):
            return None
        if event.type == "MapIterationStarted":
            index = (event.details or {}).get("index")
            return index if isinstance(index, int) else None
        if event.previous_event_id is None:
            return None
        event = by_id.get(event.previous_event_id)
    return None


def _unwind_step(
    execution: Execution,
    visit: StateVisit,
    state: str,
    role: tuple[UnwindRole, str | None] | None,
    by_id: Mapping[int, HistoryEvent] | None = None,
) -> UnwindStep:
    status = _status(visit, execution)
    error = cause = message = None
    if status in ("FAILED", "TIMED_OUT") and visit.attempts:
        outcome = visit.attempts[-1].outcome
        details = (outcome.details or {}) if outcome is not None else {}
        error = details.get("error") if isinstance(details.get("error"), str) else None
        cause = details.get("cause") if isinstance(details.get("cause"), str) else None
        if error is not None:
            message = unwrap_cause(error, cause)[1]
    return UnwindStep(
        state=state,
        role=role[0] if role else None,
        compensates=role[1] if role else None,
        status=status,
        error=error,
        cause=cause,
        message=message,
        attempts=max(1, len(visit.attempts)),
        item=_item_of(visit, by_id) if by_id is not None else None,
    )


def unwrap_cause(error: str, cause: str | None) -> tuple[str, str | None]:
    """The innermost error name and message of nested ``{"Error", "Cause"}`` JSON causes."""
    for _ in range(_MAX_DEPTH):
        if cause is None:
            return error, None
        try:
            parsed = json.loads(cause)
        except ValueError:
            return error, cause
        if not isinstance(parsed, dict):
            return error, cause
        inner_error = parsed.get("Error")
        if isinstance(inner_error, str):
            inner_cause = parsed.get("Cause")
            error = inner_error
            cause = inner_cause if isinstance(inner_cause, str) else None
            continue
        message = parsed.get("errorMessage")
        if isinstance(message, str):
            return error, message
        return error, cause
    return error, cause


def _is_task_failure(event: HistoryEvent) -> bool:
    kind = event.type
    if kind.startswith("Execution") or "Branch" in kind or "Iteration" in kind:
        return False
    return kind.endswith(("Failed", "TimedOut")) and bool(event.details)


def decode_failure(execution: Execution, *, before: int | None = None) -> Failure | None:
    """The original failure of a failed or timed-out execution (None otherwise).

    The cause is unwrapped layer by layer; the step is the state whose task failed with that
    error last before event ``before`` (the start of the unwind), else the last task failure.
    """
    if execution.status not in ("FAILED", "TIMED_OUT") or execution.error is None:
        return None
    error, message = unwrap_cause(execution.error, execution.cause)
    owners = event_states(execution.history)
    failures = [
        event
        for event in execution.history
        if _is_task_failure(event) and (before is None or event.id < before)
    ]
    named = [event for event in failures if (event.details or {}).get("error") == error]
    if named:
        chosen: HistoryEvent | None = named[-1]
    elif failures and execution.status == "FAILED":
        # A static cause hides the original error: the last task failure before the unwind.
        chosen = failures[-1]
        details = chosen.details or {}
        raw_error, raw_cause = details.get("error"), details.get("cause")
        if isinstance(raw_error, str):
            error, message = unwrap_cause(
                raw_error, raw_cause if isinstance(raw_cause, str) else None
            )
    else:
        chosen = None
    step = owners.get(chosen.id) if chosen is not None else None
    if step is None and error == execution.error and message == execution.cause:
        return None  # nothing to decode: the raw error and cause say it all
    return Failure(error=error, message=message, step=step)


def _top_level_visits(execution: Execution, names: Sequence[str]) -> list[tuple[str, StateVisit]]:
    """Every visit of the states ``names``, in the order they were entered."""
    by_state = visits_of(execution, list(dict.fromkeys(names)))
    found = [(name, visit) for name, visits in by_state.items() for visit in visits]
    return sorted(found, key=lambda item: item[1].entered.id)


def _recovery_visits(execution: Execution, machine: StateMachine) -> list[tuple[str, StateVisit]]:
    """Visits of top-level Tasks after the first caught failure (a plain definition)."""
    visits = _top_level_visits(execution, list(machine.states))
    for index, (_, visit) in enumerate(visits):
        last = visit.attempts[-1].outcome if visit.attempts else None
        failed = last is not None and last.type.endswith(("Failed", "TimedOut"))
        if failed and index + 1 < len(visits):
            return [
                (name, later)
                for name, later in visits[index + 1 :]
                if isinstance(machine.states[name], TaskState)
            ]
    return []


def explain(
    execution: Execution,
    *,
    saga: SagaDeclaration | None = None,
    machine: StateMachine | None = None,
) -> SagaExecution:
    """``execution`` with its unwind record and decoded failure.

    With ``saga`` the unwind is its compensations and failure handlers; with only the
    ``machine`` of a plain definition, it is the top-level Tasks entered after the first
    caught failure (their roles unknown).
    """
    roles: Roles = saga_roles(saga) if saga is not None else {}
    if saga is not None:
        visits = _top_level_visits(execution, list(roles))
    elif machine is not None:
        visits = _recovery_visits(execution, machine)
    else:
        visits = []
    by_id = {event.id: event for event in execution.history}
    unwind = [
        _unwind_step(execution, visit, name, roles.get(name), by_id) for name, visit in visits
    ]
    first = visits[0][1].entered.id if visits else None
    values = {name: getattr(execution, name) for name in _EXECUTION_FIELDS}
    return SagaExecution(**values, unwind=unwind, failure=decode_failure(execution, before=first))
