"""Compiling a :class:`~saga.saga.Saga` to the engine's ASL model.

Shape (the airline ProcessBooking machine is an instance of it):

- forward units (Tasks, and ``Parallel`` states for groups) chained by ``Next``; the last one
  goes to the ``success_state`` Pass (``End``) or ends the execution itself;
- each forward unit with ``compensate_on`` has a catcher (``ResultPath`` = its ``error_path``)
  into the **unwind chain**: the compensations of all units in reverse order, then the failure
  handlers, then the ``failure_state`` Fail. The catcher enters the chain at the unit's own
  compensation(s) with ``compensate_self``, else just after them; ``fail_fast_on`` errors are
  caught first and go to the fail-fast Fail state;
- every compensation (and failure handler, unless ``continue_on_error=False``) catches
  ``States.ALL`` into the same state as its ``Next``: its failure is recorded at its
  ``error_path`` and the unwind goes on;
- the ``failure_state`` Fail reports the saga's ``failure_error`` (``"SagaFailed"``) with, as
  cause, the original error output read where the failed step recorded it
  (``CausePath: States.JsonToString($.error)``), or static ``Error``/``Cause``, or the original
  error name (``ErrorPath``, with :data:`~saga.saga.ORIGINAL_ERROR`); see :class:`Saga` for
  why (a Fail state may not raise ``States.*`` names, and a timeout's error has no ``Cause``).
  The fail-fast Fail re-raises the caught error (``ErrorPath: $.Error``); both pass statelint
  and asl-validator and run the same locally and in moto (tests/test_saga_moto.py);
- states no catcher can reach (e.g. the compensation of a single step that does not
  compensate itself) are left out, so every emitted state is reachable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from engine.logging import log_warning
from engine.model import (
    Branch,
    Catcher,
    FailState,
    ParallelState,
    PassState,
    Retrier,
    State,
    StateMachine,
    TaskState,
)
from engine.paths import normalized_path
from saga.errors import SagaDefinitionError, SagaWarning
from saga.integrations import Integration
from saga.jsonata import JSONATA, to_jsonata
from saga.saga import OriginalError, ParallelGroup, Saga, Unit
from saga.steps import ALL, MAX_NAME_LENGTH, LambdaInvoke, Step, Unset
from saga.templates import compile_template

__all__ = ["compile_saga", "compile_with_handlers", "saga_handlers", "saga_warnings"]


def _unwind_chain(saga: Saga) -> tuple[list[Step], dict[int, int], int | None]:
    """The unwind chain (compensations in reverse, then handlers), each catching unit's entry
    position in it, and the first position any catcher reaches (None: no unit catches)."""
    units = saga.units
    chain: list[Step] = []
    spans: list[tuple[int, int]] = [(0, 0)] * len(units)
    for index in reversed(range(len(units))):
        start = len(chain)
        chain += reversed(_compensations(units[index]))
        spans[index] = (start, len(chain))
    chain += saga.failure_handlers
    targets: dict[int, int] = {}
    for index, unit in enumerate(units):
        if unit.compensate_on:
            start, end = spans[index]
            targets[index] = start if unit.compensate_self and start < end else end
    return chain, targets, min(targets.values(), default=None)


def saga_warnings(saga: Saga) -> list[SagaWarning]:
    """What compiles but never runs: compensations (and handlers) no catcher can reach.

    Each warning names the fix: ``compensate_self=True`` on the step, or a step after it
    that can fail. Raises :class:`SagaDefinitionError` like :func:`compile_saga`.
    """
    _check_saga(saga)
    chain, _, first = _unwind_chain(saga)
    dropped = chain if first is None else chain[:first]
    found: list[SagaWarning] = []
    for step in dropped:
        if step.role == "compensation":
            found.append(_unreachable_compensation(saga, step))
        else:
            found.append(
                SagaWarning(
                    f"{step.label} can never run: no step starts the unwind (every step has "
                    "compensate_on=[]), so it is left out of the machine; let a step compensate "
                    "on its errors",
                    step=step.name,
                    code="UNREACHABLE_FAILURE_HANDLER",
                )
            )
    return found


def _unreachable_compensation(saga: Saga, compensation: Step) -> SagaWarning:
    step = compensation.compensates
    assert step is not None
    unit: Unit = step.group if step.group is not None else step
    later = saga.units[saga.units.index(unit) + 1 :]
    if not later:
        where = f"no step after {unit.label} can fail into the unwind"
        other = "move a step that can fail after it"
    else:
        where = f"no step after {unit.label} starts the unwind (each has compensate_on=[])"
        other = "let a step after it compensate on its errors"
    own = (
        f"set compensate_self=True on {unit.label} (for an effect that may land before its error "
        "is seen)"
        if unit.compensate_on
        else f"give {unit.label} compensate_on and compensate_self=True"
    )
    return SagaWarning(
        f"{compensation.label} of {step.label} can never run: {where}, so it is left out of the "
        f"machine; {own}, or {other}",
        step=compensation.name,
        code="UNREACHABLE_COMPENSATION",
    )


def _warn(saga: Saga, found: Sequence[SagaWarning]) -> None:
    for warning in found:
        warnings.warn(warning, stacklevel=4)
        log_warning(
            "saga.unreachable_state",
            saga=saga.name,
            state=warning.step,
            code=warning.code,
            message=str(warning),
        )


def compile_saga(saga: Saga) -> StateMachine:
    """The state machine ``saga`` compiles to (see the module docstring).

    Compensations that can never run are left out with a :class:`SagaWarning` (see
    :func:`saga_warnings`), through :mod:`warnings` and structlog.
    """
    _check_saga(saga)
    units = saga.units
    chain, targets, first = _unwind_chain(saga)
    _warn(saga, saga_warnings(saga))

    def chain_name(position: int) -> str:
        return chain[position].name if position < len(chain) else saga.failure_state

    states: dict[str, State] = {}
    for index, unit in enumerate(units):
        following = _entry(units[index + 1]) if index + 1 < len(units) else saga.success_state
        catchers: list[Catcher] = []
        if unit.fail_fast_on:
            catchers.append(
                Catcher(
                    error_equals=list(unit.fail_fast_on), result_path="$", next=saga.fail_fast_state
                )
            )
        if unit.compensate_on:
            catchers.append(
                Catcher(
                    error_equals=list(unit.compensate_on),
                    result_path=unit.error_path,
                    next=chain_name(targets[index]),
                )
            )
        if isinstance(unit, ParallelGroup):
            states[unit.name] = _parallel_state(unit, following, catchers)
        else:
            states.update(_task_states(unit, following, catchers))
    if saga.success_state is not None:
        states[saga.success_state] = PassState(type="Pass", end=True)
    if first is not None:
        for position in range(first, len(chain)):
            step = chain[position]
            following = chain_name(position + 1)
            catch = (
                [Catcher(error_equals=[ALL], result_path=step.error_path, next=following)]
                if step.continue_on_error or step.role == "compensation"
                else []
            )
            states.update(_task_states(step, following, catch))
        states[saga.failure_state] = _failure_state(saga, units, chain[first:])
    if any(unit.fail_fast_on for unit in units):
        states[saga.fail_fast_state] = FailState(
            type="Fail", error_path="$.Error", cause_path="States.JsonToString($)"
        )
    start = _entry(units[0])
    if saga.input_key is not None:
        states = {
            saga.input_state: PassState(
                type="Pass", parameters={f"{saga.input_key}.$": "$"}, next=start
            ),
            **states,
        }
        start = saga.input_state
    fields: dict[str, Any] = {"start_at": start, "states": states}
    if saga.comment is not None:
        fields["comment"] = saga.comment
    if saga.timeout is not None:
        fields["timeout_seconds"] = saga.timeout
    machine = StateMachine(**fields)
    return to_jsonata(machine) if saga.query_language == JSONATA else machine


def saga_handlers(saga: Saga) -> dict[str, Callable[..., Any]]:
    """The Python actions of the states ``saga`` compiles to, keyed as the engine's binding
    lookup expects (steps left out as unreachable are not included)."""
    return compile_with_handlers(saga)[1]


def compile_with_handlers(saga: Saga) -> tuple[StateMachine, dict[str, Callable[..., Any]]]:
    """The compiled machine and the Python actions of its states, from one compilation."""
    machine = compile_saga(saga)
    emitted = set(machine.states)
    for state in machine.states.values():
        if isinstance(state, ParallelState):
            for branch in state.branches:
                emitted |= set(branch.states)
    return machine, _handler_map(saga, emitted)


def _handler_map(saga: Saga, emitted: set[str] | None = None) -> dict[str, Callable[..., Any]]:
    handlers: dict[str, Callable[..., Any]] = {}
    owners: dict[str, Step] = {}
    for step in saga.all_steps():
        if emitted is not None and step.name not in emitted:
            continue
        key, action = step.handler_key, step.python_action
        if key is None or action is None:
            continue
        if key in handlers and handlers[key] is not action:
            other = owners[key]
            raise SagaDefinitionError(
                f"{step.label}: it is exported as {key!r} like {other.label}, but runs a "
                "different function; give one of them its own resource=",
                step=step.name,
            )
        handlers[key] = action
        owners.setdefault(key, step)
    return handlers


# -- checks across steps ---------------------------------------------------------------------


def _check_saga(saga: Saga) -> None:
    if not saga.units:
        raise SagaDefinitionError(f"saga {saga.name!r} has no steps; add one with @saga.step(...)")
    for unit in saga.units:
        if isinstance(unit, ParallelGroup):
            if not unit.steps:
                raise SagaDefinitionError(
                    f"{unit.label} has no steps; add them with group.step(...)", step=unit.name
                )
            if (
                not unit.compensate_self_is_default
                and unit.compensate_self
                and not _compensations(unit)
            ):
                raise SagaDefinitionError(
                    f"{unit.label}: compensate_self=True but none of its steps has a "
                    "compensation; add one or drop compensate_self",
                    step=unit.name,
                )
        elif unit.compensate_self and unit.compensation is None:
            raise SagaDefinitionError(
                f"{unit.label}: compensate_self=True but it has no compensation; add one with "
                f"{_var(unit)}.compensate(...) or drop compensate_self",
                step=unit.name,
            )
    _handler_map(saga)
    _check_default_paths(saga)
    _check_generated_names(saga)


def _var(step: Step) -> str:
    """How the user's code likely refers to the step: ``@reserve`` for a decorated function."""
    name = getattr(step.python_action, "__name__", "")
    return f"@{name}" if isinstance(name, str) and name.isidentifier() else "step"


def _check_default_paths(saga: Saga) -> None:
    seen: dict[str, str] = {}
    for unit in [*saga.units, *saga.failure_handlers]:
        if not unit.result_path_is_default or unit.result_path is None:
            continue
        if unit.result_path in seen:
            raise SagaDefinitionError(
                f"{unit.label}: its default result path {unit.result_path} is also the default "
                f"of {seen[unit.result_path]}; give one of them result_path=",
                step=unit.name,
            )
        seen[unit.result_path] = unit.label


def _check_generated_names(saga: Saga) -> None:
    names = {step.name for step in saga.all_steps()} | {u.name for u in saga.units}
    names |= {saga.failure_state, saga.fail_fast_state}
    if saga.success_state is not None:
        names.add(saga.success_state)
    for step in saga.all_steps():
        if not step.unwraps_payload:
            continue
        extra = step.unwrap_state_name
        if len(extra) > MAX_NAME_LENGTH:
            room = MAX_NAME_LENGTH - (len(extra) - len(step.name))
            raise SagaDefinitionError(
                f"{step.label}: its LambdaInvoke result is unwrapped by a Pass state named "
                f"{extra!r}, which is {len(extra)} characters long; shorten the step name to at "
                f"most {room} characters",
                step=step.name,
            )
        if extra in names:
            raise SagaDefinitionError(
                f"{step.label}: its LambdaInvoke result is unwrapped by a Pass state named "
                f"{extra!r}, which is already a state name; rename that state",
                step=step.name,
            )
        names.add(extra)


# -- states ----------------------------------------------------------------------------------


def _entry(unit: Unit) -> str:
    return unit.name


def _compensations(unit: Unit) -> list[Step]:
    steps = unit.steps if isinstance(unit, ParallelGroup) else [unit]
    return [step.compensation for step in steps if step.compensation is not None]


def _flow(fields: dict[str, Any], following: str | None) -> None:
    if following is None:
        fields["end"] = True
    else:
        fields["next"] = following


def _retriers(step: Step | ParallelGroup) -> list[Retrier]:
    return [retrier.to_retrier() for retrier in step.retry]


def _parameters(step: Step) -> Any:
    if isinstance(step.action, Integration):
        return compile_template(dict(step.action.parameters))
    user = None if isinstance(step.parameters, Unset) else compile_template(step.parameters)
    if isinstance(step.resource, LambdaInvoke):
        if user is None:
            return {"FunctionName": step.resource.function_name, "Payload.$": "$"}
        return {"FunctionName": step.resource.function_name, "Payload": user}
    return user


def _task_states(
    step: Step, following: str | None, catchers: Sequence[Catcher]
) -> dict[str, State]:
    fields: dict[str, Any] = {"type": "Task", "resource": step.resource_arn}
    if step.comment is not None:
        fields["comment"] = step.comment
    if not isinstance(step.input_path, Unset):
        fields["input_path"] = step.input_path
    parameters = _parameters(step)
    if parameters is not None:
        fields["parameters"] = parameters
    if not isinstance(step.result_selector, Unset) and not step.unwraps_payload:
        fields["result_selector"] = compile_template(step.result_selector)
    if not (step.result_path_is_default and step.result_path == "$"):
        fields["result_path"] = step.result_path
    if step.timeout is not None:
        fields["timeout_seconds"] = step.timeout
    if step.heartbeat is not None:
        fields["heartbeat_seconds"] = step.heartbeat
    if step.retry:
        fields["retry"] = _retriers(step)
    if catchers:
        fields["catch"] = list(catchers)
    if not step.unwraps_payload:
        _flow(fields, following)
        return {step.name: TaskState(**fields)}
    assert step.result_path is not None
    fields["next"] = step.unwrap_state_name
    unwrap: dict[str, Any] = {
        "type": "Pass",
        "input_path": f"{step.result_path.rstrip('.')}.Payload",
        "result_path": step.result_path,
    }
    if not isinstance(step.result_selector, Unset):
        unwrap["parameters"] = compile_template(step.result_selector)
    _flow(unwrap, following)
    return {step.name: TaskState(**fields), step.unwrap_state_name: PassState(**unwrap)}


def _parallel_state(
    group: ParallelGroup, following: str | None, catchers: Sequence[Catcher]
) -> ParallelState:
    branches = [
        Branch(start_at=step.name, states=_task_states(step, None, [])) for step in group.steps
    ]
    fields: dict[str, Any] = {"type": "Parallel", "branches": branches}
    if group.comment is not None:
        fields["comment"] = group.comment
    if not isinstance(group.input_path, Unset):
        fields["input_path"] = group.input_path
    if not isinstance(group.parameters, Unset):
        fields["parameters"] = compile_template(group.parameters)
    if not isinstance(group.result_selector, Unset):
        fields["result_selector"] = compile_template(group.result_selector)
    fields["result_path"] = group.result_path
    if group.retry:
        fields["retry"] = _retriers(group)
    if catchers:
        fields["catch"] = list(catchers)
    _flow(fields, following)
    return ParallelState(**fields)


# -- the Fail state --------------------------------------------------------------------------


def _overlaps(a: str, b: str) -> bool:
    first, second = normalized_path(a), normalized_path(b)
    if len(first) > len(second):
        first, second = second, first
    return second == first or second.startswith(first + "[")


def _failure_path(
    saga: Saga, units: Sequence[Unit], chain: Sequence[Step]
) -> tuple[str | None, str]:
    """The path where every compensating unit records its error, or None and why not."""
    catching = [unit for unit in units if unit.compensate_on]
    paths = {unit.error_path for unit in catching}
    if not catching:
        return None, "no step records its error"
    if len(paths) != 1:
        listed = ", ".join(f"{unit.label} at {unit.error_path}" for unit in catching)
        return None, (
            f"the steps record their errors at different paths ({listed}): use one error_path"
        )
    (path,) = paths
    if path is None:
        listed = ", ".join(unit.label for unit in catching)
        return None, f"{listed} drop their errors (error_path=None): give them an error_path"
    for step in chain:
        writes = [("result_path", step.result_path)]
        if step.continue_on_error or step.role == "compensation":
            writes.append(("error_path", step.error_path))
        for option, written in writes:
            if written is not None and _overlaps(written, path):
                return None, (
                    f"{step.label} writes its {option} at {written}, over the original error at "
                    f"{path}: give it another {option}"
                )
    return path, ""


def _failure_state(saga: Saga, units: Sequence[Unit], chain: Sequence[Step]) -> FailState:
    fields: dict[str, Any] = {"type": "Fail"}
    original = isinstance(saga.failure_error, OriginalError)
    if original:
        _check_custom_errors(saga, units)
    else:
        fields["error"] = saga.failure_error
    if saga.failure_cause is not None:
        fields["cause"] = saga.failure_cause
    if original or saga.failure_cause is None:
        path, reason = _failure_path(saga, units, chain)
        if path is None:
            raise SagaDefinitionError(
                f"saga {saga.name!r}: the Fail state {saga.failure_state!r} cannot read the "
                f"original failure: {reason}, or give the saga a static "
                + ("failure_error= and failure_cause=" if original else "failure_cause="),
            )
        if original:
            fields["error_path"] = f"{path}.Error"
        if saga.failure_cause is None:
            fields["cause_path"] = f"States.JsonToString({path})"
    return FailState(**fields)


def _check_custom_errors(saga: Saga, units: Sequence[Unit]) -> None:
    for unit in units:
        reserved = [name for name in unit.compensate_on if name.startswith("States.")]
        if reserved:
            raise SagaDefinitionError(
                f"saga {saga.name!r}: failure_error=ORIGINAL_ERROR re-raises the failed step's "
                f"error name, but {unit.label} compensates on {', '.join(reserved)}, and a Fail "
                "state cannot raise a reserved States.* name; list custom errors in its "
                "compensate_on, or give failure_error a name",
                step=unit.name,
            )
