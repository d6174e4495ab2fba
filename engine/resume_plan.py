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
from dataclasses import dataclass, field
from typing import Any, Final

from engine.errors import TIMEOUT
from engine.history import HistoryEvent
from engine.interpreter.progress import ResumePoint, VisitProgress
from engine.model import State, StateMachine
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
    for event in visit.events:
        if event.type in _SCHEDULED:
            if pending is not None:
                index = find_retrier(retriers, _error_of(pending)) if retriers else None
                if index is not None:
                    counters[index] += 1
            pending = succeeded = None
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
        pending_posix=None if pending is None else pending.posix,
        succeeded=succeeded is not None,
        result=None if succeeded is None else (succeeded.details or {}).get("output"),
    )


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
    if visit.state.type in _BRANCHING:
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
    when it was entered (its retry counters from zero; a Parallel or Map as a whole); one
    that completed goes on with the state recorded as next. Completed states are not run
    again and keep the variables they assigned. The machine's timeout counts from the redrive.
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
    return ResumePoint(
        next_state=visit.name,
        next_input=(visit.entered.details or {}).get("input"),
        states=states,
        transitions=len(states),
        **common,
    )


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
