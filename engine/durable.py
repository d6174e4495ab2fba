"""Rebuilding an execution from its stored history, to resume it where it stopped.

The engine commits every history event before acting on it, so the history tells exactly how
far an execution got. A resume (:func:`resume`, :meth:`LocalEngine.resume
<engine.local_engine.LocalEngine.resume>`, ``saga resume``) continues from the last top-level
state entered, with the input recorded in its ``…StateEntered`` event:

- a state whose exit was recorded is not run again: the execution goes on with the state the
  engine recorded as next with that exit (a Choice's pick, a Catcher's ``Next``), or ends;
- a Task continues its visit: its retry counters are rebuilt from the failures recorded in
  that visit; a failure whose retry had not started yet waits out what is left of its backoff
  (computed again from the retrier; with ``JitterStrategy: FULL`` a new draw); a recorded
  success is used as it is; a task whose outcome was not recorded **runs again** — delivery
  is at least once, so side effects must be idempotent. Each invocation keeps a stable
  identity across such re-runs to make that possible: the handler's Lambda context
  ``aws_request_id`` (derived from execution name, state name and invocation number), the
  interceptor's ``TaskRequest.attempt``/``invocation``, and ``$$.Execution.Name``,
  ``$$.State.Name``, ``$$.State.EnteredTime``, ``$$.State.RetryCount`` for a key built in
  ``Parameters`` (which also works on AWS);
- a Wait waits only for the time it had left; the machine's ``TimeoutSeconds`` counts from the
  original start;
- a Parallel or Map in progress runs again as a whole (its branches at least once, its retry
  counters from zero).

No event is invented: the resumed history goes on from the last stored event (a re-run task
shows a second ``…Scheduled``/``…Started``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import anyio

from engine.bindings import Handler, Interceptor
from engine.clock import Clock, RealClock, VirtualClock
from engine.diagnostics import DefinitionError
from engine.errors import TIMEOUT
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.model import State, StateMachine
from engine.retry import find_retrier
from engine.store.base import ExecutionNotRecorded, ExecutionStore, StoredExecution
from engine.store.owner import owner_state, process_owner

__all__ = [
    "HandlersFor",
    "InterceptorsFor",
    "ResumePoint",
    "ResumeRefused",
    "ResumeReport",
    "VisitProgress",
    "claim",
    "mark_live",
    "plan_resume",
    "resume",
    "resume_async",
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


@dataclass(frozen=True, slots=True)
class VisitProgress:
    """How far one visit of a top-level state got before the execution stopped.

    ``counters`` are the retries already started per retrier (``None`` for none);
    ``pending_error`` is a failure whose retry or catch was not decided yet, recorded at
    ``pending_posix``; ``succeeded`` says the task's last attempt recorded its ``result``
    (it is not run again).
    """

    name: str
    input: Any
    entered_id: int
    entered_posix: float
    retry_count: int = 0
    counters: tuple[int, ...] | None = None
    pending_error: str | None = None
    pending_cause: str | None = None
    pending_posix: float | None = None
    succeeded: bool = False
    result: Any = None


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a resumed execution goes on.

    With ``started`` False nothing was recorded: the execution starts from the beginning.
    Otherwise either ``visit`` is a visit to continue, or the execution enters ``next_state``
    with ``next_input`` (``next_state`` None: it ends, succeeding with ``next_input``).
    ``last_id`` is the event the next top-level event follows.
    """

    started: bool
    last_id: int = 0
    visit: VisitProgress | None = None
    next_state: str | None = None
    next_input: Any = None
    states: tuple[str, ...] = ()
    variables: dict[str, Any] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)
    transitions: int = 0


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


# -- resuming executions -------------------------------------------------------------------------

HandlersFor = Callable[[StoredExecution], Mapping[str, Handler]]
"""Chooses the handlers a stored execution runs with again (e.g. from its handlers reference)."""

InterceptorsFor = Callable[[StoredExecution], Sequence[Interceptor]]
"""Chooses the interceptors (mock configs, fault injection) a stored execution runs with."""


class ResumeRefused(Exception):
    """The execution cannot be resumed here: it has ended, or another live process runs it."""


@dataclass(slots=True)
class ResumeReport:
    """What a resume did: the executions it ran to their end, and the ones it left open.

    ``skipped``: executions asked for that were not resumed: another live process (or one that
    cannot be checked from here) runs it, or it has ended (name, why);
    ``unbound``: executions whose handlers or definition could not be bound, or whose stored
    record is damaged (name, why);
    ``unrecorded``: executions the store could not record an event of: stopped again, still
    RUNNING and resumable (name, why).
    """

    executions: list[Execution] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unbound: list[tuple[str, str]] = field(default_factory=list)
    unrecorded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def not_resumed(self) -> list[tuple[str, str]]:
        """Every execution asked for that did not run to its end here (name, why)."""
        return [*self.skipped, *self.unbound, *self.unrecorded]


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


def _clock_for(kind: object) -> Clock:
    return VirtualClock() if kind == "virtual" else RealClock()


async def resume_async(
    store: ExecutionStore,
    *,
    handlers_for: HandlersFor | None = None,
    interceptors_for: InterceptorsFor | None = None,
    clock: Clock | None = None,
    names: Sequence[str] | None = None,
    seed: int | None = None,
    take_over: bool = False,
) -> ResumeReport:
    """Continue the store's unfinished executions (or only ``names``) to their end.

    Each runs on ``clock`` if given, else on the kind of clock it was started with;
    ``handlers_for`` binds each one's tasks (default: no handlers, built-in integrations
    only). Tasks whose outcome was not recorded run again (at least once). Each execution
    keeps the seed it was started with; ``seed`` applies only to one that recorded none.
    ``take_over`` takes over executions claimed by an owner that cannot be checked (another
    host). Every execution asked for that is not run to its end is in the report, with why.
    """
    from engine.local_engine import LocalEngine

    report = ResumeReport()
    listing = store.listing(status="RUNNING")
    records = listing.executions
    damaged = listing.damaged
    if names is not None:
        wanted = set(names)
        records = [record for record in records if record.name in wanted]
        damaged = [(name, why) for name, why in damaged if name in wanted]
        open_names = {record.name for record in records} | {name for name, _ in damaged}
        for name in dict.fromkeys(names):
            if name not in open_names:
                found = store.find(name)
                why = (
                    f"no execution named {name!r}"
                    if found is None
                    else f"execution {name!r} has ended ({found.status})"
                )
                report.skipped.append((name, why))
    report.unbound.extend(damaged)
    groups: dict[str, list[StoredExecution]] = {}
    for record in records:
        kind = "given" if clock is not None else str(record.options.get("clock", "real"))
        groups.setdefault(kind, []).append(record)

    async def run_group(kind: str, group: list[StoredExecution]) -> None:
        engine_clock = clock if clock is not None else _clock_for(kind)
        async with LocalEngine(clock=engine_clock, store=store, seed=seed) as engine:
            handles = []
            for record in group:
                try:
                    handlers = handlers_for(record) if handlers_for is not None else {}
                    interceptors = interceptors_for(record) if interceptors_for else ()
                    handles.append(
                        await engine.resume(
                            record.name,
                            handlers=handlers,
                            interceptors=interceptors,
                            take_over=take_over,
                        )
                    )
                except ResumeRefused as exc:
                    report.skipped.append((record.name, str(exc)))
                except ExecutionNotRecorded as exc:
                    report.unrecorded.append((record.name, str(exc)))
                except Exception as exc:
                    report.unbound.append((record.name, _reason(exc)))
            for handle in handles:
                try:
                    report.executions.append(await handle.result())
                except ExecutionNotRecorded as exc:
                    report.unrecorded.append((handle.name, str(exc)))

    async with anyio.create_task_group() as tg:
        for kind, group in groups.items():
            tg.start_soon(run_group, kind, group)
    order = {record.name: index for index, record in enumerate(records)}
    report.executions.sort(key=lambda execution: order.get(execution.name, 0))
    return report


def _reason(exc: Exception) -> str:
    if isinstance(exc, DefinitionError):
        return "; ".join(str(diagnostic) for diagnostic in exc.diagnostics)
    return str(exc) or type(exc).__name__


def resume(
    store: ExecutionStore,
    *,
    handlers_for: HandlersFor | None = None,
    interceptors_for: InterceptorsFor | None = None,
    clock: Clock | None = None,
    names: Sequence[str] | None = None,
    seed: int | None = None,
    take_over: bool = False,
) -> ResumeReport:
    """:func:`resume_async`, run synchronously in a new event loop."""

    async def main() -> ResumeReport:
        return await resume_async(
            store,
            handlers_for=handlers_for,
            interceptors_for=interceptors_for,
            clock=clock,
            names=names,
            seed=seed,
            take_over=take_over,
        )

    return anyio.run(main)
