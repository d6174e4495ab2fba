"""Reading a stored history into where a resume picks up, and claiming the execution to resume.

:func:`plan_resume` turns the events of an unfinished execution into a
:class:`~engine.interpreter.progress.ResumePoint`; :func:`claim` makes sure no other live engine
or process runs it. :mod:`engine.durable` (resuming a whole store) and
:class:`~engine.local_engine.LocalEngine` build on these; see :mod:`engine.durable` for the
semantics.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from engine.errors import HEARTBEAT_TIMEOUT, TIMEOUT
from engine.history import HistoryEvent
from engine.interpreter.progress import (
    RedrivenChild,
    RedrivenVisit,
    ResumePoint,
    VisitProgress,
)
from engine.model import MapState, ParallelState, State, StateMachine
from engine.retry import find_retrier
from engine.store.base import ExecutionStore, StoredExecution
from engine.store.owner import owner_state, process_owner

__all__ = [
    "ExecutionNotRedrivable",
    "ResumeRefused",
    "claim",
    "mark_live",
    "plan_redrive",
    "plan_resume",
    "store_key",
]

_TASK_PREFIXES: Final = ("Task", "LambdaFunction", "Activity")
_SCHEDULED: Final = frozenset(f"{prefix}Scheduled" for prefix in _TASK_PREFIXES)
_FAILED: Final = frozenset(f"{prefix}Failed" for prefix in _TASK_PREFIXES)
_TIMED_OUT: Final = frozenset(f"{prefix}TimedOut" for prefix in _TASK_PREFIXES)
_SUCCEEDED: Final = frozenset(f"{prefix}Succeeded" for prefix in _TASK_PREFIXES)
_OUTCOMES: Final = _FAILED | _TIMED_OUT | _SUCCEEDED
_ENTERED: Final = "StateEntered"
_EXITED: Final = "StateExited"
_BRANCHING: Final = frozenset({"Parallel", "Map"})
_MAP_RUN_ENDS: Final = frozenset({"MapRunSucceeded", "MapRunFailed", "MapRunAborted"})
_MAP_RUN_OPENED: Final = frozenset({"MapRunStarted", "MapRunRedriven"})
_REDRIVEN: Final = "ExecutionRedriven"
_RUN_AGAIN_WHOLE: Final = frozenset({"States.DataLimitExceeded"})
"""A Parallel or Map that failed with these runs again as a whole on redrive (AWS)."""
_NEW_MAP_RUN: Final = frozenset({"States.DataLimitExceeded", "States.Runtime"})
"""A map run that failed with these is not redriven: the redriven Map starts a new one (AWS)."""


@dataclass(slots=True)
class _Visit:
    name: str
    state: State
    entered: HistoryEvent
    events: list[HistoryEvent] = field(default_factory=list)
    exited: HistoryEvent | None = None


def _state_of_events(events: Sequence[HistoryEvent]) -> dict[int, str]:
    """The state each event belongs to, following each flow's ``previousEventId`` chain."""
    owner: dict[int, str] = {}
    for event in events:
        name = event.state_name
        if event.type.endswith(_ENTERED) and name is not None:
            owner[event.id] = name
        else:
            previous = owner.get(event.previous_event_id)
            if previous is not None:
                owner[event.id] = previous
    return owner


def _invocations(events: Sequence[HistoryEvent]) -> dict[str, int]:
    """Per state, the task invocations whose outcome was recorded (re-runs reuse the next)."""
    owner = _state_of_events(events)
    counts: dict[str, int] = {}
    for event in events:
        if event.type in _OUTCOMES:
            name = owner.get(event.id)
            if name is not None:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _top_level_visits(
    machine: StateMachine, events: Sequence[HistoryEvent]
) -> tuple[list[_Visit], int]:
    """The visits of top-level states, in order, and the id of the last top-level event."""
    visits: list[_Visit] = []
    current: _Visit | None = None
    last_top = 0
    for event in events:
        if event.type == "ExecutionStarted":
            last_top = 0  # the first state's events link to no event, as on AWS
            continue
        if event.type == _REDRIVEN:
            # A redrive enters the state again: what follows is a visit of its own.
            current = None
            last_top = event.id
            continue
        name = event.state_name
        if current is not None and current.exited is None and current.state.type in _BRANCHING:
            # Inside a top-level Parallel/Map only its own exit is a top-level event.
            if event.type == f"{current.state.type}{_EXITED}" and name == current.name:
                current.exited = event
                last_top = event.id
            else:
                current.events.append(event)
            continue
        if event.type.endswith(_ENTERED) and name in machine.states:
            state = machine.states[name]
            if event.type == f"{state.type}{_ENTERED}":
                current = _Visit(name, state, event)
                visits.append(current)
                last_top = event.id
                continue
        if current is None:
            continue
        if event.type.endswith(_EXITED) and name == current.name:
            current.exited = event
        else:
            current.events.append(event)
        last_top = event.id
    return visits, last_top


def _task_progress(visit: _Visit) -> VisitProgress:
    """Retry counters and any undecided failure of a Task visit."""
    retriers = getattr(visit.state, "retry", None) or ()
    counters = [0] * len(retriers)
    pending: HistoryEvent | None = None
    succeeded: HistoryEvent | None = None
    scheduled: HistoryEvent | None = None
    for event in visit.events:
        if event.type in _SCHEDULED:
            if pending is not None:
                error, aliases = _error_of(pending), _aliases_of(scheduled, pending)
                index = find_retrier(retriers, error, aliases) if retriers else None
                if index is not None:
                    counters[index] += 1
            pending = succeeded = None
            scheduled = event
        elif event.type in _FAILED or event.type in _TIMED_OUT:
            pending, succeeded = event, None
        elif event.type in _SUCCEEDED:
            pending, succeeded = None, event
    details = (pending.details or {}) if pending is not None else {}
    return VisitProgress(
        name=visit.name,
        input=(visit.entered.details or {}).get("input"),
        entered_id=visit.entered.id,
        entered_posix=visit.entered.posix,
        retry_count=sum(counters),
        counters=tuple(counters) if retriers else None,
        pending_error=None if pending is None else _error_of(pending),
        pending_cause=details.get("cause"),
        pending_aliases=() if pending is None else _aliases_of(scheduled, pending),
        pending_posix=None if pending is None else pending.posix,
        succeeded=succeeded is not None,
        result=None if succeeded is None else (succeeded.details or {}).get("output"),
    )


def _aliases_of(scheduled: HistoryEvent | None, pending: HistoryEvent) -> tuple[str, ...]:
    """``States.HeartbeatTimeout`` for a timeout that came before the task's ``TimeoutSeconds``.

    AWS records both timeouts as ``States.Timeout``; the scheduled event's limits and the
    time between the two events tell a missed heartbeat apart, so Retry and Catch match it
    after a resume as they did before.
    """
    if pending.type not in _TIMED_OUT or scheduled is None:
        return ()
    limits = scheduled.details or {}
    if limits.get("heartbeatInSeconds") is None:
        return ()
    timeout = limits.get("timeoutInSeconds")
    if isinstance(timeout, (int, float)) and pending.posix - scheduled.posix >= timeout:
        return ()
    return (HEARTBEAT_TIMEOUT,)


def _error_of(event: HistoryEvent) -> str:
    if event.type in _TIMED_OUT:
        return str((event.details or {}).get("error") or TIMEOUT)
    return str((event.details or {}).get("error") or "")


def _variables(visits: Sequence[_Visit]) -> dict[str, Any]:
    """Workflow variables as the completed top-level visits assigned them."""
    variables: dict[str, Any] = {}
    for visit in visits:
        if visit.exited is None:
            continue
        assigned = (visit.exited.details or {}).get("assignedVariables")
        if isinstance(assigned, dict):
            for key, text in assigned.items():
                variables[key] = json.loads(text) if isinstance(text, str) else text
    return variables


def plan_resume(
    machine: StateMachine,
    events: Sequence[HistoryEvent],
    transitions: dict[int, str | None],
) -> ResumePoint:
    """Where an execution with this stored history goes on.

    ``transitions`` maps the id of each recorded top-level ``…StateExited`` event to the state
    the engine went to next (None: the execution ended there).
    """
    if not events:
        return ResumePoint(started=False)
    visits, last_id = _top_level_visits(machine, events)
    states = tuple(visit.name for visit in visits)
    common: dict[str, Any] = {
        "started": True,
        "last_id": last_id,
        "states": states,
        "variables": _variables(visits),
        "invocations": _invocations(events),
        "transitions": len(states),
    }
    if not visits:
        return ResumePoint(
            next_state=machine.start_at,
            next_input=(events[0].details or {}).get("input"),
            **common,
        )
    visit = visits[-1]
    if visit.exited is not None and visit.exited.id in transitions:
        output = (visit.exited.details or {}).get("output")
        return ResumePoint(next_state=transitions[visit.exited.id], next_input=output, **common)
    # An exit without its transition (not written by this engine) is decided again: the
    # visit goes on from its recorded progress (a Task's recorded result is not run again).
    if visit.state.type == "Task":
        progress = _task_progress(visit)
    else:
        progress = VisitProgress(
            name=visit.name,
            input=(visit.entered.details or {}).get("input"),
            entered_id=visit.entered.id,
            entered_posix=visit.entered.posix,
        )
    runs = sum(1 for event in visit.events if event.type == "MapRunStarted")
    if runs:
        progress = replace(progress, map_runs_started=runs)
    started = _map_run_under_way(visit)
    if started is not None:
        # A distributed Map run goes on: its flow continues from the run's start event.
        progress = replace(progress, map_run_arn=(started.details or {}).get("mapRunArn"))
        common["last_id"] = started.id
    elif visit.state.type in _BRANCHING:
        # The whole Parallel/Map runs again: its flow continues from its entry event.
        common["last_id"] = visit.entered.id
    return ResumePoint(visit=progress, **common)


def plan_redrive(
    machine: StateMachine,
    events: Sequence[HistoryEvent],
    transitions: dict[int, str | None],
    execution_input: Any,
) -> ResumePoint:
    """Where a redriven execution goes on; ``events`` end with its ``ExecutionRedriven``.

    The last top-level state that did not complete is entered again with the input recorded
    when it was entered (its retry counters from zero); one that completed goes on with the
    state recorded as next. Completed states are not run again and keep the variables they
    assigned. A redriven Parallel or inline Map keeps the outputs of the branches or
    iterations that succeeded (in any attempt since that state was entered, redrives
    included) and runs only the others; a distributed Map redrives its last map run. The
    machine's timeout counts from the redrive.
    """
    visits, _ = _top_level_visits(machine, events)
    redriven = events[-1]
    common: dict[str, Any] = {
        "started": True,
        "last_id": redriven.id,
        "variables": _variables(visits),
        "invocations": _invocations(events),
        "timeout_from": redriven.posix,
    }
    if not visits:
        return ResumePoint(next_state=machine.start_at, next_input=execution_input, **common)
    visit = visits[-1]
    if visit.exited is not None and transitions.get(visit.exited.id) is not None:
        states = tuple(v.name for v in visits)
        return ResumePoint(
            next_state=transitions[visit.exited.id],
            next_input=(visit.exited.details or {}).get("output"),
            states=states,
            transitions=len(states),
            **common,
        )
    states = tuple(v.name for v in visits[:-1])
    kept = _redriven_visit(visits, _closing_error(events))
    return ResumePoint(
        next_state=visit.name,
        next_input=(visit.entered.details or {}).get("input"),
        states=states,
        transitions=len(states),
        redriven={} if kept is None else {visit.name: kept},
        **common,
    )


def _closing_error(events: Sequence[HistoryEvent]) -> str | None:
    """The error of the event that closed the execution before its latest redrive."""
    for event in reversed(events[:-1]):
        if event.type in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            error = (event.details or {}).get("error")
            return error if isinstance(error, str) else None
    return None


def _redriven_visit(visits: Sequence[_Visit], error: str | None) -> RedrivenVisit | None:
    """What the redriven visit of the last top-level Parallel or Map keeps, if it is one.

    Its unsuccessful visits since it was last entered by the flow (the first and every redrive
    of it: none of them exited) are read in order; the latest outcome of each branch or
    iteration counts.
    """
    last = visits[-1]
    state = last.state
    if error in _RUN_AGAIN_WHOLE or not isinstance(state, (ParallelState, MapState)):
        return None
    attempts: list[_Visit] = []
    for visit in reversed(visits):
        if visit.name != last.name or visit.exited is not None:
            break
        attempts.insert(0, visit)
    if isinstance(state, ParallelState):
        return _branch_outputs(state, attempts)
    if state.is_distributed:
        arn = _redrivable_map_run(attempts)
        return None if arn is None else RedrivenVisit(map_run_arn=arn)
    return _iteration_outputs(state, last.name, attempts)


def _ends_branch(state: State) -> bool:
    return state.type == "Succeed" or bool(getattr(state, "end", False))


@dataclass(slots=True)
class _ChildRun:
    """The latest run of one branch or iteration, as its own states' events tell it."""

    pending: HistoryEvent | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    succeeded: bool = False
    output: Any = None

    def started(self, first: bool) -> None:
        """It runs (again): from its ``StartAt`` state (``first``), or from a later one."""
        self.pending, self.succeeded, self.output = None, False, None
        if first:
            self.variables = {}

    def entered(self, event: HistoryEvent) -> None:
        self.pending = event

    def exited(self, event: HistoryEvent) -> None:
        if self.pending is not None and self.pending.state_name == event.state_name:
            self.pending = None
        assigned = (event.details or {}).get("assignedVariables")
        if isinstance(assigned, dict):
            for key, text in assigned.items():
                self.variables[key] = json.loads(text) if isinstance(text, str) else text

    def succeed(self, output: Any) -> None:
        self.pending, self.succeeded, self.output = None, True, output


def _kept(runs: dict[int, _ChildRun]) -> RedrivenVisit:
    """Succeeded children keep their output; the others go on from their pending state."""
    outputs = {index: run.output for index, run in runs.items() if run.succeeded}
    children = {
        index: RedrivenChild(
            state=str(run.pending.state_name),
            input=(run.pending.details or {}).get("input"),
            variables=dict(run.variables),
        )
        for index, run in runs.items()
        if not run.succeeded and run.pending is not None
    }
    return RedrivenVisit(outputs=outputs, children=children)


def _branch_outputs(state: ParallelState, attempts: Sequence[_Visit]) -> RedrivenVisit:
    """What each branch's latest run left: its output, or the state it goes on from.

    A branch run starts with one of its states entered right after a ``ParallelStateStarted``
    (state names are unique in a machine); it succeeded when one of its terminal states
    exited and no state was entered after it.
    """
    owner = {name: index for index, branch in enumerate(state.branches) for name in branch.states}
    runs: dict[int, _ChildRun] = {}
    for visit in attempts:
        started = {event.id for event in visit.events if event.type == "ParallelStateStarted"}
        followed = {
            event.previous_event_id for event in visit.events if event.type.endswith(_ENTERED)
        }
        for event in visit.events:
            name = event.state_name
            if name is None or name not in owner:
                continue
            index = owner[name]
            branch = state.branches[index]
            run = runs.setdefault(index, _ChildRun())
            if event.type.endswith(_ENTERED):
                if event.previous_event_id in started:
                    run.started(first=name == branch.start_at)
                run.entered(event)
            elif event.type.endswith(_EXITED):
                run.exited(event)
                if event.id not in followed and _ends_branch(branch.states[name]):
                    run.succeed((event.details or {}).get("output"))
    return _kept(runs)


def _iteration_outputs(state: MapState, name: str, attempts: Sequence[_Visit]) -> RedrivenVisit:
    """What each iteration's latest run of the inline Map ``name`` left.

    An iteration's events are recorded together, between its ``MapIterationStarted`` and its
    end (see :mod:`engine.interpreter.ordering`); ``MapIterationSucceeded`` follows the exit
    of its last state, which carries its output.
    """
    processor = state.processor
    runs: dict[int, _ChildRun] = {}
    for visit in attempts:
        by_id = {event.id: event for event in visit.events}
        current: _ChildRun | None = None
        first = False
        for event in visit.events:
            details = event.details or {}
            index = details.get("index")
            if details.get("name") == name and isinstance(index, int):
                if event.type == "MapIterationStarted":
                    current = runs.setdefault(index, _ChildRun())
                    first = True
                    continue
                if current is not None and event.type == "MapIterationSucceeded":
                    exited = by_id.get(event.previous_event_id)
                    if exited is not None and exited.type.endswith(_EXITED):
                        current.succeed((exited.details or {}).get("output"))
                current = None
                continue
            state_name = event.state_name
            if current is None or state_name not in processor.states:
                continue
            if event.type.endswith(_ENTERED):
                if first:
                    current.started(first=state_name == processor.start_at)
                    first = False
                current.entered(event)
            elif event.type.endswith(_EXITED):
                current.exited(event)
    return _kept(runs)


def _redrivable_map_run(attempts: Sequence[_Visit]) -> str | None:
    """The ARN of the distributed Map's latest map run, unless it is not to be redriven.

    A run that failed with ``States.DataLimitExceeded`` or ``States.Runtime`` is not redriven
    (a new one starts), nor is one that succeeded.
    """
    arn: str | None = None
    error: str | None = None
    succeeded = False
    for visit in attempts:
        for event in visit.events:
            details = event.details or {}
            if event.type in _MAP_RUN_OPENED and isinstance(details.get("mapRunArn"), str):
                arn, error, succeeded = details["mapRunArn"], None, False
            elif event.type == "MapRunFailed":
                error = details.get("error")
            elif event.type == "MapRunSucceeded":
                succeeded = True
    if arn is None or succeeded or error in _NEW_MAP_RUN:
        return None
    return arn


def _map_run_under_way(visit: _Visit) -> HistoryEvent | None:
    """The ``MapRunStarted`` event of a distributed Map visit's only run, if it has not ended.

    A run that ended (its failure not yet retried or caught) or a later attempt's run is not
    continued: the whole Map runs again, as an inline Map does.
    """
    if visit.state.type != "Map":
        return None
    runs = [event for event in visit.events if event.type == "MapRunStarted"]
    ended = any(event.type in _MAP_RUN_ENDS for event in visit.events)
    if len(runs) != 1 or ended or not (runs[0].details or {}).get("mapRunArn"):
        return None
    return runs[0]


class ResumeRefused(Exception):
    """The execution cannot be resumed here: it has ended, or another live process runs it."""


class ExecutionNotRedrivable(Exception):
    """The execution cannot be redriven: it is running, or it succeeded (AWS's message)."""


_LIVE: set[tuple[str, str]] = set()
"""(store key, execution name) of the executions a live engine of this process runs."""


def store_key(store: ExecutionStore) -> str:
    """Identifies a store within this process (its file, or the in-memory object)."""
    return store.location if store.durable else f":memory:{id(store)}"


def mark_live(store: ExecutionStore, name: str, live: bool) -> None:
    """Note that an engine of this process starts (or stops) running ``name``."""
    key = (store_key(store), name)
    if live:
        _LIVE.add(key)
    else:
        _LIVE.discard(key)


def claim(store: ExecutionStore, name: str, *, take_over: bool = False) -> StoredExecution:
    """Make this process the owner of the open execution ``name``, or raise ResumeRefused.

    An owner that is gone (killed, crashed, its engine closed) is replaced; a live one —
    another process, or an engine of this one — keeps it. An owner on another host (or in
    another container) cannot be checked from here: ``take_over`` replaces it, on the
    caller's word that it is gone.
    """
    record = store.get(name)
    if record.done:
        raise ResumeRefused(f"execution {name!r} has ended ({record.status})")
    me = process_owner()
    if (store_key(store), name) in _LIVE:
        raise ResumeRefused(f"execution {name!r} is running in this process")
    current = store.owner(name)
    if current is not None and current != me:
        state = owner_state(current)
        if state == "alive":
            raise ResumeRefused(f"execution {name!r} is running in process {current}")
        if state == "unknown" and not take_over:
            raise ResumeRefused(
                f"execution {name!r} is claimed by {current}, which cannot be checked from "
                "here (another host or container); if it is gone, resume with --take-over"
            )
    if not store.claim(name, me, current):
        raise ResumeRefused(f"execution {name!r} was claimed by another process meanwhile")
    return record
