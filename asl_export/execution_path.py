"""The path an execution took through its machine, read from its history events alone.

:func:`execution_path` turns Step Functions history events into what a drawing needs: each
state's visits (input, output, attempts with the backoff waited before each retry, error and
cause), its outcome (succeeded, retried, caught, failed, compensation, failure handling,
running, not reached) and the transitions taken, a caught error's edge told apart from a
``Next``. Only the events are read, so it works for any execution of any definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from engine.history import (
    TASK_FAILED_EVENTS,
    TASK_SCHEDULED_EVENTS,
    TASK_SUCCEEDED_EVENTS,
    HistoryEvent,
)
from engine.model import ChoiceState, MapState, ParallelState, State, StateMachine

__all__ = [
    "Attempt",
    "EdgeUse",
    "ExecutionPath",
    "Outcome",
    "Role",
    "StatePath",
    "Visit",
    "execution_path",
    "infer_roles",
    "scopes_of",
]

Outcome = Literal[
    "succeeded",
    "retried",
    "caught",
    "failed",
    "compensation",
    "failure-handling",
    "running",
    "not-reached",
]
Role = Literal["compensation", "failure-handler"]

_CONTAINER_EVENTS: Final = ("ParallelState", "MapState", "MapIteration")
_CLOSING: Final = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


@dataclass
class Attempt:
    """One invocation of a state's resource: when it was scheduled and how it ended."""

    scheduled: float
    ended: float | None = None
    error: str | None = None
    cause: str | None = None
    backoff: float | None = None
    """Seconds waited since the previous attempt failed (None for the first attempt)."""


@dataclass
class Visit:
    """One entry into a state, up to its exit (or the end of the execution)."""

    state: str
    state_type: str
    entered_id: int
    entered: float
    input: Any = None
    exited: float | None = None
    output: Any = None
    attempts: list[Attempt] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the visit ended in an error (then caught when it was exited)."""
        return self.error is not None

    @property
    def caught(self) -> bool:
        """Whether the visit's error was caught (the state was exited after it failed)."""
        return self.failed and self.exited is not None and self.state_type != "Fail"

    @property
    def retries(self) -> int:
        """How many times the state's resource was retried in this visit."""
        return max(0, len(self.attempts) - 1)


@dataclass
class StatePath:
    """Everything one state did in the execution: its visits and the outcome to draw."""

    name: str
    role: Role | None
    visits: list[Visit] = field(default_factory=list)
    outcome: Outcome = "not-reached"

    @property
    def retries(self) -> int:
        """Retries over every visit."""
        return sum(visit.retries for visit in self.visits)


@dataclass(frozen=True)
class EdgeUse:
    """A transition the execution took, how often, and whether it was a caught error's."""

    source: str
    target: str
    caught: bool
    count: int


@dataclass
class ExecutionPath:
    """The whole path: per-state records, transitions taken, order of visits, status."""

    states: dict[str, StatePath]
    edges: list[EdgeUse]
    visits: list[Visit]
    status: str
    error: str | None = None
    cause: str | None = None
    start: float | None = None
    stop: float | None = None

    @property
    def unwind(self) -> list[Visit]:
        """The compensations and failure handlers that ran, in the order they ran."""
        return [v for v in self.visits if self.role_of(v.state) is not None]

    def role_of(self, name: str) -> Role | None:
        """The role of state ``name`` (None for forward states and names the machine lacks)."""
        record = self.states.get(name)
        return record.role if record is not None else None


def scopes_of(
    start_at: str, states: Mapping[str, State]
) -> Iterable[tuple[str, Mapping[str, State]]]:
    """Every scope of a machine (itself, each Parallel branch, each Map processor), nested."""
    yield start_at, states
    for state in states.values():
        if isinstance(state, ParallelState):
            for branch in state.branches:
                yield from scopes_of(branch.start_at, branch.states)
        elif isinstance(state, MapState) and (state.item_processor or state.iterator):
            yield from scopes_of(state.processor.start_at, state.processor.states)


def _forward_targets(state: State) -> list[str]:
    if isinstance(state, ChoiceState):
        targets = [rule.next for rule in state.choices if rule.next is not None]
        return targets + ([state.default] if state.default is not None else [])
    following = getattr(state, "next", None)
    return [following] if isinstance(following, str) else []


def _catch_targets(state: State) -> list[str]:
    return [catcher.next for catcher in getattr(state, "catch", None) or ()]


def _reach(start: Iterable[str], states: Mapping[str, State]) -> list[str]:
    """States reachable from ``start`` through forward transitions, in visit order."""
    seen: dict[str, None] = {}
    pending = list(start)[::-1]
    while pending:
        name = pending.pop()
        if name in seen or name not in states:
            continue
        seen[name] = None
        pending.extend(reversed(_forward_targets(states[name])))
    return list(seen)


def infer_roles(machine: StateMachine) -> dict[str, Role]:
    """Each unwind state's role, guessed from the shape a compiled saga has.

    States reached only through a Catch are the unwind; in each scope, the states from the
    start state's catch target on are failure handling (nothing ran before the start state, so
    its errors skip straight there), the others compensations. Fail states are left out. A
    saga that knows its steps' roles should pass them instead.
    """
    roles: dict[str, Role] = {}
    for start, states in scopes_of(machine.start_at, machine.states):
        forward = set(_reach([start], states))
        catch_targets = [t for name in states for t in _catch_targets(states[name])]
        unwind = set(_reach(catch_targets, states)) - forward
        first_catch = _catch_targets(states[start]) if start in states else []
        handlers = set(_reach(first_catch, states)) & unwind
        for name in unwind:
            if states[name].type == "Fail":
                continue
            roles[name] = "failure-handler" if name in handlers else "compensation"
    return roles


def _outcome(path: StatePath, running: bool) -> Outcome:
    if not path.visits:
        return "not-reached"
    last = path.visits[-1]
    if last.state_type == "Fail":
        return "failed"
    if last.exited is None and (running or not last.failed):
        return "running" if running else "failed"
    if last.failed:
        return "caught" if last.caught else "failed"
    if path.role == "compensation":
        return "compensation"
    if path.role == "failure-handler":
        return "failure-handling"
    return "retried" if path.retries else "succeeded"


def _owner(
    event: HistoryEvent, owners: dict[int, Visit], open_containers: list[Visit]
) -> Visit | None:
    """The visit an event belongs to: its previous event's, or the open Parallel/Map's."""
    if event.type.startswith(_CONTAINER_EVENTS):
        kind = "Map" if event.type.startswith("Map") else "Parallel"
        for visit in reversed(open_containers):
            if visit.state_type == kind:
                return visit
        return None
    return owners.get(event.previous_event_id)


def execution_path(
    machine: StateMachine,
    events: Iterable[HistoryEvent],
    *,
    roles: Mapping[str, Role] | None = None,
) -> ExecutionPath:
    """Read ``events`` (one execution's history) against ``machine``.

    ``roles`` marks compensations and failure handlers (default: :func:`infer_roles`).
    """
    roles = infer_roles(machine) if roles is None else roles
    names = [name for _, states in scopes_of(machine.start_at, machine.states) for name in states]
    states = {name: StatePath(name, roles.get(name)) for name in names}
    visits: list[Visit] = []
    owners: dict[int, Visit] = {}
    exits: dict[int, Visit] = {}
    open_containers: list[Visit] = []
    edges: dict[tuple[str, str, bool], int] = {}
    status, error, cause = "RUNNING", None, None
    start: float | None = None
    stop: float | None = None
    for event in events:
        details = event.details or {}
        kind = event.type
        if kind == "ExecutionStarted":
            start = event.posix
            continue
        if kind in _CLOSING:
            status, stop = _CLOSING[kind], event.posix
            error, cause = details.get("error"), details.get("cause")
            continue
        if kind.endswith("StateEntered"):
            name = str(details.get("name"))
            visit = Visit(name, kind[: -len("StateEntered")], event.id, event.posix)
            visit.input = details.get("input")
            previous = exits.get(event.previous_event_id)
            if previous is not None:
                previous.next_state = name
                key = (previous.state, name, previous.failed)
                edges[key] = edges.get(key, 0) + 1
            visits.append(visit)
            owners[event.id] = visit
            if visit.state_type in ("Parallel", "Map"):
                open_containers.append(visit)
            if name in states:
                states[name].visits.append(visit)
            continue
        owner = _owner(event, owners, open_containers)
        if owner is None:
            continue
        owners[event.id] = owner
        if kind in TASK_SCHEDULED_EVENTS:
            failures = [a for a in owner.attempts if a.error is not None and a.ended is not None]
            backoff = None
            if owner.attempts and failures and failures[-1] is owner.attempts[-1]:
                backoff = event.posix - (failures[-1].ended or event.posix)
            owner.attempts.append(Attempt(event.posix, backoff=backoff))
            owner.error = owner.cause = None
        elif kind in TASK_SUCCEEDED_EVENTS and owner.attempts:
            owner.attempts[-1].ended = event.posix
        elif kind in ("ParallelStateFailed", "MapStateFailed"):
            inner = [v for v in visits if v.entered_id > owner.entered_id and v.failed]
            owner.error = details.get("error") or (inner[-1].error if inner else kind)
            owner.cause = details.get("cause") or (inner[-1].cause if inner else None)
        elif kind in TASK_FAILED_EVENTS:
            owner.error, owner.cause = details.get("error"), details.get("cause")
            if owner.attempts:
                attempt = owner.attempts[-1]
                attempt.ended, attempt.error, attempt.cause = event.posix, owner.error, owner.cause
        elif kind in ("ParallelStateStarted", "MapStateStarted") and owner.error is not None:
            owner.error = owner.cause = None  # a retry of the whole Parallel/Map
        elif kind.endswith("StateExited"):
            owner.exited, owner.output = event.posix, details.get("output")
            exits[event.id] = owner
            if owner in open_containers:
                open_containers.remove(owner)
    for visit in visits:
        if visit.state_type == "Fail":
            state = _state(machine, visit.state)
            visit.error = error or getattr(state, "error", None)
            visit.cause = cause or getattr(state, "cause", None)
    if status != "RUNNING" and visits and visits[-1].exited is None and error is not None:
        last = visits[-1]
        if last.error is None:
            last.error, last.cause = error, cause
    for path in states.values():
        path.outcome = _outcome(path, running=status == "RUNNING")
    uses = [EdgeUse(s, t, caught, n) for (s, t, caught), n in edges.items()]
    return ExecutionPath(states, uses, visits, status, error, cause, start, stop)


def _state(machine: StateMachine, name: str) -> State | None:
    for _, states in scopes_of(machine.start_at, machine.states):
        if name in states:
            return states[name]
    return None
