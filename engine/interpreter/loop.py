"""The interpreter loop: enter a state, run it, exit it, follow ``Next``; and a whole execution.

Every state visit records ``<Type>StateEntered`` and (except Fail) ``<Type>StateExited``; a
visit cancelled by a failing sibling, a stop or a timeout records ``<Type>StateAborted`` for
the state types AWS aborts. ``States.Runtime`` errors get AWS's cause prefix naming the state
and its entry event and end the execution.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
import anyio.lowlevel

from engine.errors import RUNTIME, StatesError
from engine.interpreter.context import FatalError, Flow, Runtime, StateContext
from engine.interpreter.dataflow import checked_output, fatal
from engine.limits import to_json_text
from engine.model import State, StateMachine
from engine.states import RUNNERS

__all__ = ["ExecutionControl", "execute", "run_state", "run_states"]

_ABORTABLE: Final = frozenset({"Task", "Wait", "Parallel", "Map"})
_CHECKPOINT_EVERY: Final = 32


async def run_state(flow: Flow, name: str, state: State, raw: Any) -> tuple[Any, str | None]:
    """One visit of one state; returns its output and the next state's name."""
    runtime = flow.runtime
    state_type = state.type
    entered_id = flow.add(state_type + "StateEntered", {"name": name, "input": raw})
    if flow.top_level:
        runtime.record.states.append(name)
    ctx = StateContext(flow, name, entered_id, runtime.history.events[entered_id - 1].posix)
    try:
        output, next_state = await RUNNERS[state_type](ctx, state, raw)
    except FatalError:
        raise
    except StatesError as exc:
        if exc.error == RUNTIME:
            raise fatal(ctx, exc) from None
        raise
    except anyio.get_cancelled_exc_class():
        if state_type in _ABORTABLE:
            with contextlib.suppress(StatesError):
                flow.add(state_type + "StateAborted", {"name": name})
        raise
    output = checked_output(ctx, output, raw)
    assigned = ctx.assigned
    if assigned is None:
        flow.add(state_type + "StateExited", {"name": name, "output": output})
    else:
        flow.variables.update(assigned)
        flow.add(
            state_type + "StateExited",
            {
                "name": name,
                "output": output,
                "assignedVariables": {key: to_json_text(value) for key, value in assigned.items()},
                "assignedVariablesDetails": {"truncated": False},
            },
        )
    return output, next_state


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


@dataclass(eq=False)
class ExecutionControl:
    """Handles on a running execution: its cancel scope and why it was cancelled."""

    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    timed_out: bool = False
    stop_error: str | None = None
    stop_cause: str | None = None
    stopped: bool = False
    done: anyio.Event = field(default_factory=anyio.Event)


def _internal_cause(exc: BaseException) -> str:
    return f"The local engine failed unexpectedly: {type(exc).__name__}: {exc}"


def _finish(runtime: Runtime, status: str, **details: Any) -> None:
    record = runtime.record
    record.stop_posix = runtime.clock.time()
    event_details = {key: value for key, value in details.items() if value is not None}
    if status == "SUCCEEDED":
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
        runtime.history.add(event_type, runtime.history.last_id, event_details, final=True)
    record.status = status  # type: ignore[assignment]


async def execute(
    runtime: Runtime, machine: StateMachine, control: ExecutionControl, role_arn: str
) -> None:
    """Run a whole execution to its end, recording the outcome; never raises (but Cancelled)."""
    clock = runtime.clock
    record = runtime.record
    outcome: dict[str, Any] = {}
    flow = Flow(runtime, 0, top_level=True)

    async def timer(seconds: float) -> None:
        try:
            await clock.sleep(seconds)
            control.timed_out = True
            control.scope.cancel()
        finally:
            clock.flow_finished()

    async def body() -> None:
        try:
            outcome["output"] = await run_states(
                flow, machine.states, machine.start_at, record.input
            )
        except StatesError as exc:
            outcome["error"] = exc
        except Exception as exc:
            outcome["internal"] = exc

    try:
        flow.add("ExecutionStarted", {"input": record.input, "roleArn": role_arn})
        with control.scope:
            if machine.timeout_seconds:
                async with anyio.create_task_group() as tg:
                    clock.flow_started()
                    tg.start_soon(timer, float(machine.timeout_seconds))
                    await body()
                    tg.cancel_scope.cancel()
            else:
                await body()
        if "output" in outcome:
            _finish(runtime, "SUCCEEDED", output=outcome["output"])
        elif "error" in outcome:
            error: StatesError = outcome["error"]
            _finish(runtime, "FAILED", error=error.error, cause=error.cause)
        elif "internal" in outcome:
            internal: Exception = outcome["internal"]
            _finish(
                runtime,
                "FAILED",
                error=RUNTIME,
                cause=_internal_cause(internal),
            )
        elif control.timed_out:
            _finish(runtime, "TIMED_OUT", error="States.Timeout")
        else:
            _finish(runtime, "ABORTED", error=control.stop_error, cause=control.stop_cause)
    except Exception as exc:  # the record must never be lost
        if record.status == "RUNNING":
            record.status = "FAILED"
            record.error = RUNTIME
            record.cause = _internal_cause(exc)
            record.stop_posix = clock.time()
    finally:
        if record.status == "RUNNING":
            # Cancelled from outside the engine (e.g. the event loop shutting down).
            record.status = "ABORTED"
            record.stop_posix = clock.time()
            with contextlib.suppress(Exception):
                runtime.history.add("ExecutionAborted", runtime.history.last_id, {}, final=True)
        control.done.set()
