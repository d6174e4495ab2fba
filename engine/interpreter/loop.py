"""The interpreter loop: enter a state, run it, exit it, follow ``Next``; and a whole execution.

Every state visit records ``<Type>StateEntered`` and (except Fail) ``<Type>StateExited``; a
visit cancelled by a failing sibling, a stop or a timeout records ``<Type>StateAborted`` for
the state types AWS aborts. ``States.Runtime`` errors get AWS's cause prefix naming the state
and its entry event and end the execution.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import anyio
import anyio.lowlevel

from engine.clock import Clock
from engine.errors import RUNTIME, StatesError
from engine.interpreter.context import FatalError, Flow, Runtime, StateContext
from engine.interpreter.dataflow import checked_output, fatal
from engine.interpreter.variables import store_assigned
from engine.model import State, StateMachine
from engine.store.base import Transition

if TYPE_CHECKING:
    from engine.interpreter.progress import ResumePoint, VisitProgress

__all__ = ["ExecutionControl", "continue_state", "execute", "run_state", "run_states"]

_ABORTABLE: Final = frozenset({"Task", "Wait", "Parallel", "Map"})
_RETRYING: Final = frozenset({"Task", "Parallel", "Map"})
"""The state types whose ``$$.State`` carries ``RetryCount``."""
_CHECKPOINT_EVERY: Final = 32
_TRANSITIONS: dict[str | None, Transition] = {}
"""One (immutable) Transition per next state, made once."""


def _transition(next_state: str | None) -> Transition:
    transition = _TRANSITIONS.get(next_state)
    if transition is None:
        if len(_TRANSITIONS) > 4096:
            _TRANSITIONS.clear()
        transition = _TRANSITIONS[next_state] = Transition(next_state)
    return transition


async def run_state(
    flow: Flow, name: str, state: State, raw: Any, resumed: VisitProgress | None = None
) -> tuple[Any, str | None]:
    """One visit of one state; returns its output and the next state's name.

    ``resumed``: go on with a visit recorded before a crash (its entry kept, its retries
    restored) instead of entering the state.
    """
    runtime = flow.runtime
    if resumed is None:
        entered_posix = runtime.clock.time()
        # Flow.add, inline (as for the exit below): one call less per event.
        entered_id = flow.last_id = flow.sink.add(
            state.type + "StateEntered", flow.last_id, {"name": name, "input": raw}, entered_posix
        )
        if flow.top_level:
            runtime.record.states.append(name)
        ctx = StateContext(flow, name, entered_id, entered_posix, state.type in _RETRYING)
    else:
        ctx = StateContext(
            flow, name, resumed.entered_id, resumed.entered_posix, state.type in _RETRYING
        )
        ctx.retry_count = resumed.retry_count
        ctx.resumed = resumed
    if state.query_language is not None:
        ctx.jsonata = state.query_language == "JSONata"
    # The visit runs here, not in a helper coroutine: one coroutine less per state.
    state_type = state.type
    try:
        output, next_state = await runtime.runners[state_type](ctx, state, raw)
    except FatalError:
        raise
    except StatesError as exc:
        if exc.error == RUNTIME:
            raise fatal(ctx, exc) from None
        if state_type == "Task" and not flow.top_level:
            # A task failing its branch or iteration is recorded as aborted too (as AWS does);
            # what comes next still links to its failure event.
            failed_at = flow.last_id
            with contextlib.suppress(StatesError):
                flow.add("TaskStateAborted", {"name": name})
            flow.last_id = failed_at
        raise
    except anyio.get_cancelled_exc_class():
        # A Wait of the execution's own flow stopped by StopExecution records no WaitStateAborted
        # (AWS: ExecutionAborted follows WaitStateEntered).
        stopped_wait = state_type == "Wait" and flow.top_level and _stopping(runtime)
        if state_type in _ABORTABLE and not stopped_wait:
            with contextlib.suppress(StatesError):
                flow.add(state_type + "StateAborted", {"name": name})
        raise
    if output is not raw and output is not ctx.checked:
        output = checked_output(ctx, output, raw)
    assigned = ctx.assigned
    details: dict[str, Any] = {"name": name, "output": output}
    if assigned:  # AWS records no assignedVariables for an empty Assign
        details["assignedVariables"] = store_assigned(ctx, assigned)
        details["assignedVariablesDetails"] = {"truncated": False}
    if flow.top_level:
        runtime.transition = _transition(next_state)
        try:
            flow.last_id = flow.sink.add(state_type + "StateExited", flow.last_id, details)
        finally:
            runtime.transition = None
    else:
        flow.last_id = flow.sink.add(state_type + "StateExited", flow.last_id, details)
    return output, next_state


async def continue_state(
    flow: Flow, state: State, progress: VisitProgress
) -> tuple[Any, str | None]:
    """Go on with a visit recorded before a crash: its entry is kept, its retries restored."""
    return await run_state(flow, progress.name, state, progress.input, progress)


async def run_states(flow: Flow, states: Mapping[str, State], start_at: str, data: Any) -> Any:
    """Run a (sub-)machine from ``start_at`` until a state ends it; return its output."""
    runtime = flow.runtime
    name = start_at
    while True:
        runtime.transitions += 1
        if runtime.transitions % _CHECKPOINT_EVERY == 0:
            await anyio.lowlevel.checkpoint()
        data, next_state = await run_state(flow, name, states[name], data)
        if next_state is None:
            return data
        name = next_state


class ExecutionControl:
    """Handles on a running execution: its cancel scope and why it was cancelled."""

    __slots__ = ("_done", "_ended", "scope", "stop_cause", "stop_error", "stopped", "timed_out")

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.timed_out = False
        self.stop_error: str | None = None
        self.stop_cause: str | None = None
        self.stopped = False
        self._done: anyio.Event | None = None
        self._ended = False

    @property
    def done(self) -> anyio.Event:
        """Set once the execution has ended (made when first asked for: most executions end
        without anyone waiting on them, and each event costs a waiter queue)."""
        if self._done is None:
            self._done = anyio.Event()
            if self._ended:
                self._done.set()
        return self._done

    @property
    def ended(self) -> bool:
        """Whether the execution has ended (:attr:`done` is set, or will be when made)."""
        return self._ended

    def end(self) -> None:
        """The execution has ended: set :attr:`done`."""
        self._ended = True
        if self._done is not None:
            self._done.set()


def _stopping(runtime: Runtime) -> bool:
    control = runtime.control
    return control is not None and control.stopped and not control.timed_out


def _internal_cause(exc: BaseException) -> str:
    return f"The local engine failed unexpectedly: {type(exc).__name__}: {exc}"


def _finish(runtime: Runtime, status: str, **details: Any) -> None:
    record = runtime.record
    record.stop_posix = runtime.clock.time()
    event_details = {key: value for key, value in details.items() if value is not None}
    if status == "SUCCEEDED":
        event_details["output"] = details.get("output")  # a null output is shown as "null"
        record.output = details.get("output")
        runtime.history.add(
            "ExecutionSucceeded", runtime.history.last_id, event_details, final=True
        )
    else:
        record.error = details.get("error")
        record.cause = details.get("cause")
        event_type = {
            "FAILED": "ExecutionFailed",
            "TIMED_OUT": "ExecutionTimedOut",
            "ABORTED": "ExecutionAborted",
        }[status]
        # AWS links an ExecutionAborted to no event (previousEventId 0): a stop comes from outside.
        previous = 0 if status == "ABORTED" else runtime.history.last_id
        runtime.history.add(event_type, previous, event_details, final=True)
    record.status = status  # type: ignore[assignment]


async def _resume_states(flow: Flow, machine: StateMachine, point: ResumePoint) -> Any:
    """Go on from where a stored history stopped (see :mod:`engine.durable`)."""
    if point.visit is not None:
        state = machine.states[point.visit.name]
        data, next_state = await continue_state(flow, state, point.visit)
    else:
        data, next_state = point.next_input, point.next_state
    if next_state is None:
        return data
    return await run_states(flow, machine.states, next_state, data)


class _NoTimer:
    """Stands in for the timer's task group when the machine has no ``TimeoutSeconds``."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None


_NO_TIMER: Final = _NoTimer()


async def _timer(clock: Clock, control: ExecutionControl, seconds: float) -> None:
    """Time the execution out after ``seconds`` (counted as a flow by whoever spawns it)."""
    try:
        await clock.sleep(seconds)
        control.timed_out = True
        control.scope.cancel()
    finally:
        clock.flow_finished()


async def execute(
    runtime: Runtime,
    machine: StateMachine,
    control: ExecutionControl,
    role_arn: str,
    resume: ResumePoint | None = None,
) -> None:
    """Run a whole execution to its end, recording the outcome; never raises (but Cancelled).

    With ``resume`` (a started execution rebuilt from its history) it goes on from there.
    """
    clock = runtime.clock
    record = runtime.record
    resuming = resume is not None and resume.started
    runtime.control = control
    runtime.query_language = machine.query_language or "JSONPath"
    if resume is not None and resuming:
        flow = Flow(runtime, resume.last_id, top_level=True, variables=dict(resume.variables))
        runtime.redriven.update(resume.redriven)
    else:
        flow = Flow(runtime, 0, top_level=True)
    # What the run ends with: "output", "error" (a StatesError) or "internal" (an exception);
    # nothing when it was cancelled (stopped, timed out).
    kind: str | None = None
    outcome: Any = None
    try:
        if not resuming:
            started = {"input": record.input, "roleArn": role_arn, **runtime.started_through}
            flow.add("ExecutionStarted", started)
            flow.last_id = 0  # AWS links the first state's event to no event (previousEventId 0)
        with control.scope:
            timeout = float(machine.timeout_seconds or 0)
            async with anyio.create_task_group() if timeout else _NO_TIMER as tg:
                if tg is not None:
                    # A resumed execution's timeout still counts from its original start (a
                    # redriven one's from its redrive).
                    since = record.start_posix
                    if resume is not None and resume.timeout_from is not None:
                        since = resume.timeout_from
                    elapsed = max(0.0, clock.time() - since) if resuming else 0.0
                    clock.flow_started()
                    tg.start_soon(_timer, clock, control, timeout - elapsed)
                try:
                    if resume is not None and resuming:
                        outcome = await _resume_states(flow, machine, resume)
                    else:
                        outcome = await run_states(
                            flow, machine.states, machine.start_at, record.input
                        )
                    kind = "output"
                except StatesError as exc:
                    kind, outcome = "error", exc
                except Exception as exc:
                    kind, outcome = "internal", exc
                if tg is not None:
                    tg.cancel_scope.cancel()
        if record.unrecorded is not None:
            pass  # the store could not record an event: the execution stays RUNNING there
        elif kind == "output":
            _finish(runtime, "SUCCEEDED", output=outcome)
        elif kind == "error":
            _finish(runtime, "FAILED", error=outcome.error, cause=outcome.cause)
        elif kind == "internal":
            _finish(runtime, "FAILED", error=RUNTIME, cause=_internal_cause(outcome))
        elif control.timed_out:
            _finish(runtime, "TIMED_OUT", error="States.Timeout")
        else:
            _finish(runtime, "ABORTED", error=control.stop_error, cause=control.stop_cause)
    except Exception as exc:  # the record must never be lost
        if record.status == "RUNNING" and record.unrecorded is None:
            record.status = "FAILED"
            record.error = RUNTIME
            record.cause = _internal_cause(exc)
            record.stop_posix = clock.time()
    finally:
        if record.unrecorded is not None:
            # What the store holds is what the caller is told: RUNNING, resumable.
            record.status = "RUNNING"
            record.output = record.error = record.cause = record.stop_posix = None
        elif record.status == "RUNNING":
            # Cancelled from outside the engine (e.g. the event loop shutting down).
            record.status = "ABORTED"
            record.stop_posix = clock.time()
            with contextlib.suppress(Exception):
                runtime.history.add("ExecutionAborted", runtime.history.last_id, {}, final=True)
        control.end()
