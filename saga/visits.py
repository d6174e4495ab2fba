"""State visits read back from an execution's history: which events belong to which visit,
each visit's attempts and how each ended.

Shared by the saga's unwind record (:mod:`saga.outcome`) and the test assertions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Final

from engine.execution import Execution
from engine.history import HistoryEvent

__all__ = ["Attempt", "StateVisit", "event_states", "event_visits", "state_visits", "visits_of"]

_CONTAINERS: Final = ("Parallel", "Map")
_OUTCOMES: Final = ("Succeeded", "Failed", "TimedOut", "Aborted")


def event_visits(events: Sequence[HistoryEvent]) -> dict[int, int]:
    """The state visit each event belongs to: event id → id of the visit's ``…StateEntered``.

    Entered events start a visit; the events after follow their ``previousEventId`` chain back
    to it (so interleaved Parallel branches stay apart), and a Parallel or Map state's own
    events (``ParallelStateFailed`` …) go to the innermost such state still open. Execution
    events belong to no state.
    """
    root_of: dict[int, int] = {}
    closed: set[int] = set()
    open_kind: dict[str, list[int]] = {kind: [] for kind in _CONTAINERS}
    names: dict[int, str | None] = {}
    for event in events:
        kind_name = event.type
        if kind_name.startswith("Execution"):
            continue
        if kind_name.endswith("StateEntered"):
            root_of[event.id] = event.id
            names[event.id] = event.state_name
            entered_kind = kind_name.removesuffix("StateEntered")
            if entered_kind in open_kind:
                open_kind[entered_kind].append(event.id)
            continue
        kind: str | None = None
        if kind_name.startswith("ParallelState"):
            kind = "Parallel"
        elif kind_name.startswith("MapState"):
            kind = "Map"
        root: int | None = None
        if kind is not None and open_kind[kind]:
            candidates = open_kind[kind]
            if event.state_name is not None:
                named = [i for i in candidates if names.get(i) == event.state_name]
                candidates = named or candidates
            root = candidates[-1]
        elif event.previous_event_id in root_of and event.previous_event_id not in closed:
            root = root_of[event.previous_event_id]
        if root is None:
            continue
        root_of[event.id] = root
        if kind_name.endswith(("StateExited", "StateAborted")):
            closed.add(event.id)
            if kind is not None and root in open_kind[kind]:
                open_kind[kind].remove(root)
    return root_of


def event_states(events: Sequence[HistoryEvent]) -> dict[int, str]:
    """The name of the state each event belongs to, by event id (see :func:`event_visits`)."""
    by_id = {event.id: event for event in events}
    out: dict[int, str] = {}
    for event_id, root in event_visits(events).items():
        name = by_id[root].state_name
        if name is not None:
            out[event_id] = name
    return out


@dataclass(frozen=True)
class Attempt:
    """One try of a state: when it started, how and when it ended."""

    started: HistoryEvent
    outcome: HistoryEvent | None

    @property
    def error(self) -> str | None:
        """The error of a failed attempt."""
        details = self.outcome.details if self.outcome is not None else None
        error = details.get("error") if details else None
        return error if isinstance(error, str) else None


@dataclass
class StateVisit:
    """One visit of a state: its entry event and its attempts, in order."""

    entered: HistoryEvent
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def retries(self) -> int:
        """How many times the state was retried in this visit."""
        return max(0, len(self.attempts) - 1)

    def delays(self) -> list[float]:
        """Seconds between each failed attempt and the next attempt (the retry backoff)."""
        out: list[float] = []
        for before, after in zip(self.attempts, self.attempts[1:], strict=False):
            end = before.outcome.posix if before.outcome is not None else before.started.posix
            out.append(round(after.started.posix - end, 6))
        return out


def _is_attempt_start(event_type: str) -> bool:
    if "Iteration" in event_type or "Branch" in event_type:
        return False
    return event_type.endswith(("Scheduled", "StateStarted"))


def _is_outcome(event_type: str) -> bool:
    if "Iteration" in event_type or "Branch" in event_type or event_type.startswith("Execution"):
        return False
    return event_type.endswith(_OUTCOMES)


def state_visits(execution: Execution, state: str) -> list[StateVisit]:
    """Every visit of ``state`` (also inside Parallel branches and Map iterations), in order."""
    return visits_of(execution, [state])[state]


def visits_of(execution: Execution, states: Collection[str]) -> dict[str, list[StateVisit]]:
    """Every visit of each of ``states``, in order, from one pass over the history."""
    wanted = set(states)
    out: dict[str, list[StateVisit]] = {name: [] for name in states}
    if not any(
        event.type.endswith("StateEntered") and event.state_name in wanted
        for event in execution.history
    ):
        return out  # none of them was entered (a saga that did not unwind)
    roots = event_visits(execution.history)
    visits: dict[int, StateVisit] = {}
    open_attempt: dict[int, HistoryEvent] = {}
    latest: HistoryEvent | None = None  # the latest event in time so far (ids follow branch order)
    for event in execution.history:
        before = latest
        if latest is None or event.posix >= latest.posix:
            latest = event
        root = roots.get(event.id)
        if root is None:
            continue
        if root == event.id:
            if event.state_name in wanted:
                visits[root] = StateVisit(event)
            continue
        visit = visits.get(root)
        if visit is None:
            continue
        if _is_attempt_start(event.type):
            if root in open_attempt and before is not None:
                # Retried without an outcome event of its own (a Parallel or Map: AWS records
                # their failure once, after the last attempt): it ended with the latest event.
                visit.attempts.append(Attempt(open_attempt.pop(root), before))
            open_attempt[root] = event
        elif _is_outcome(event.type) and root in open_attempt:
            visit.attempts.append(Attempt(open_attempt.pop(root), event))
    for root, started in open_attempt.items():
        visits[root].attempts.append(Attempt(started, None))
    for visit in visits.values():
        name = visit.entered.state_name
        if name is not None:
            out[name].append(visit)
    return out
