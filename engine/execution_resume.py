"""Going on with a stored execution: a resume after a crash or closed engine, or a redrive.

The engine hands over only what this needs (:class:`ResumeHost`): its store, clock and task
bindings, and how to tell a running execution, remember a machine, and create and launch an
execution's handle. :meth:`LocalEngine.resume <engine.local_engine.LocalEngine.resume>` and
:meth:`LocalEngine.redrive <engine.local_engine.LocalEngine.redrive>` are the public entries;
what a resume continues from is planned by :mod:`engine.resume_plan`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.bindings import CallNext, Handler, Interceptor, TaskBinding, is_mocked
from engine.clock import Clock, VirtualClock
from engine.execution_handle import ExecutionHandle
from engine.history import HistoryEvent
from engine.interpreter.progress import ResumePoint
from engine.loader import load
from engine.model import StateMachine
from engine.resume_plan import (
    ExecutionNotRedrivable,
    ResumeRefused,
    claim,
    plan_redrive,
    plan_resume,
)
from engine.store.base import REDRIVEN_EVENT, ExecutionStore, StoredExecution, StoreError
from engine.store.owner import process_owner
from engine.task_calls import prepare_calls

__all__ = ["ResumeHost", "go_on", "redrive_execution"]


@dataclass(frozen=True)
class ResumeHost:
    """What resuming and redriving take from the engine that runs the execution."""

    store: ExecutionStore
    clock: Clock
    handlers: Mapping[str, Handler]
    interceptors: Sequence[Interceptor]
    bindings: Mapping[str, TaskBinding]
    is_running: Callable[[str], bool]
    """Whether this engine runs the execution of that name now (not ended)."""
    remember_machine: Callable[[str, StateMachine], None]
    """Make a machine known by its ARN unless one is known under it already."""
    create: Callable[
        [dict[str, CallNext], frozenset[str], Any, StoredExecution, list[HistoryEvent]],
        ExecutionHandle,
    ]
    """A handle for the stored execution: its calls, mocked states, input and past events."""
    launch: Callable[[ExecutionHandle, StateMachine, ResumePoint], None]
    """Run the handle's execution in the engine, from the resume point."""


async def redrive_execution(host: ResumeHost, name: str) -> ExecutionHandle:
    """Reopen the ended execution ``name`` with an ``ExecutionRedriven`` event and go on."""
    stored = host.store.get(name)
    if not stored.done or stored.status == "SUCCEEDED":
        raise ExecutionNotRedrivable(f"Execution is {stored.status} and cannot be redriven")
    events = host.store.history(name)
    event = HistoryEvent(
        id=len(events) + 1,
        type=REDRIVEN_EVENT,
        posix=host.clock.time(),
        previous_event_id=events[-1].id if events else 0,
        details={"redriveCount": stored.redrive_count + 1},
    )
    try:
        host.store.reopen(name, event, process_owner())
    except StoreError as exc:
        raise ExecutionNotRedrivable(str(exc)) from None
    return await go_on(host, name, redrive=True)


async def go_on(
    host: ResumeHost,
    name: str,
    *,
    handlers: Mapping[str, Handler] | None = None,
    interceptors: Sequence[Interceptor] | None = None,
    take_over: bool = False,
    redrive: bool = False,
) -> ExecutionHandle:
    """Claim the open execution ``name``, plan where it goes on, and launch it there."""
    if host.is_running(name):
        raise ResumeRefused(f"execution {name!r} is running in this engine")
    stored = claim(host.store, name, take_over=take_over)
    try:
        model = load(json.loads(stored.definition), validate=False)
        host.remember_machine(stored.state_machine_arn, model)
        calls = prepare_calls(
            model,
            host.handlers if handlers is None else handlers,
            host.interceptors if interceptors is None else interceptors,
            host.bindings,
        )
        chosen = host.interceptors if interceptors is None else interceptors
        mocked = frozenset(state for state in calls if is_mocked(chosen, state))
        events = host.store.history(name)
        transitions = host.store.transitions(name)
        point = (
            plan_redrive(model, events, transitions, stored.input)
            if redrive
            else plan_resume(model, events, transitions)
        )
    except BaseException:
        host.store.release(name, process_owner())
        raise
    if isinstance(host.clock, VirtualClock) and events:
        behind = events[-1].posix - host.clock.time()
        if behind > 0:
            host.clock.advance(behind)
    handle = host.create(calls, mocked, stored.input, stored, events)
    runtime = handle.runtime
    assert runtime is not None
    runtime.record.states.extend(point.states)
    going_on = point.visit.map_run_arn if point.visit is not None else None
    runtime.record.map_runs.extend(
        run for run in host.store.map_runs(name) if run.map_run_arn != going_on
    )
    runtime.invocations.update(point.invocations)
    runtime.transitions = point.transitions
    host.launch(handle, model, point)
    return handle
