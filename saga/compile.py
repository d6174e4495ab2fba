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
  error name (``ErrorPath``, with :data:`~saga.declaration.ORIGINAL_ERROR`); see :class:`Saga` for
  why (a Fail state may not raise ``States.*`` names, and a timeout's error has no ``Cause``).
  The fail-fast Fail re-raises the caught error (``ErrorPath: $.Error``); both pass statelint
  and asl-validator and run the same locally and in moto (tests/test_saga_moto.py);
- states no catcher can reach (e.g. the compensation of a single step that does not
  compensate itself) are left out, so every emitted state is reachable.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.inline_steps import inline_step, runs_inline
from engine.lambda_shapes import LAMBDA_MAX_TIMEOUT
from engine.logging import log_warning
from engine.model import (
    Branch,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    State,
    StateMachine,
)
from engine.paths import normalized_path
from saga.compile_branches import group_states, not_run_path, record_names, result_shape
from saga.compile_for_each import for_each_states, undo_states
from saga.conditions import Condition
from saga.deadline import check_state, deadline_states, passed_state
from saga.declaration import OriginalError, SagaDeclaration, Unit
from saga.errors import SagaDefinitionError, SagaWarning
from saga.for_each import ForEach, check_length
from saga.jsonata import JSONATA, to_jsonata
from saga.parallel import GroupBranch, ParallelGroup
from saga.steps import ALL, MAX_NAME_LENGTH, Step, Unset, camel_case
from saga.task_states import flow, retriers, task_states
from saga.templates import compile_template

__all__ = ["compile_saga", "compile_with_handlers", "saga_handlers", "saga_warnings"]

Undo = Step | ForEach
"""An element of the unwind chain: a compensation, a failure handler, or a for-each group's
undo Map."""


def _chain_name(element: Undo) -> str:
    if isinstance(element, ForEach):
        return element.undo_state
    if _recorded_group(element) is not None:
        assert element.compensates is not None
        return ForEach.if_done_state(element.compensates)
    return element.if_ran_state if _guard(element) is not None else element.name


def _recorded_group(element: Step) -> ParallelGroup | None:
    """The group keeping branch records whose step ``element`` compensates (else None)."""
    step = element.compensates
    group = step.group if step is not None else None
    return group if isinstance(group, ParallelGroup) and group.keeps_records else None


def _guard(element: Step) -> Condition | None:
    """The condition of the conditional step ``element`` compensates (None: unconditional)."""
    step = element.compensates
    return step.when if step is not None else None


def _unwind_chain(saga: SagaDeclaration) -> tuple[list[Undo], dict[int, int], int | None]:
    """The unwind chain (compensations in reverse, then handlers), each catching unit's entry
    position in it, and the first position any catcher reaches (None: no unit catches)."""
    units = saga.units
    chain: list[Undo] = []
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
            # a group keeping branch records always enters at its guarded compensations
            own = unit.compensate_self or (isinstance(unit, ParallelGroup) and unit.keeps_records)
            targets[index] = start if own and start < end else end
    reached = list(targets.values())
    if saga.deadline_path is not None:
        reached += [end for _, end in spans]  # a passed deadline enters after the unit's span
    return chain, targets, min(reached, default=None)


def _after_spans(saga: SagaDeclaration) -> list[int]:
    """For each unit, the chain position just after its compensations (where the unwind of
    a failure before the unit starts)."""
    ends: list[int] = []
    for index in range(len(saga.units)):
        ends.append(sum(len(_compensations(unit)) for unit in saga.units[index:]))
    return ends


def saga_warnings(saga: SagaDeclaration) -> list[SagaWarning]:
    """What compiles but never runs: compensations (and handlers) no catcher can reach, and
    the whole unwind when the machine's ``TimeoutSeconds`` passes.

    Each warning names the fix: ``compensate_self=True`` on the step, or a step after it
    that can fail. Raises :class:`SagaDefinitionError` like :func:`compile_saga`.
    """
    _check_saga(saga)
    chain, _, first = _unwind_chain(saga)
    dropped = chain if first is None else chain[:first]
    found: list[SagaWarning] = []
    for task in saga.all_steps():
        if task.is_callback and task.timeout is None:
            found.append(
                SagaWarning(
                    f"{task.label} waits for a task token without timeout=: Step Functions "
                    "would wait up to a year for the answer before the unwind could start; "
                    "give it timeout= (and heartbeat=)",
                    step=task.name,
                    code="CALLBACK_WITHOUT_TIMEOUT",
                )
            )
        elif (
            task.python_action is not None
            and task.timeout is not None
            and task.timeout > LAMBDA_MAX_TIMEOUT
            and not task.resource_arn.startswith("arn:aws:states:::states:")
        ):
            found.append(
                SagaWarning(
                    f"{task.label}: timeout={task.timeout} is longer than a Lambda function "
                    f"may run ({LAMBDA_MAX_TIMEOUT} s): deployed, the function times out first, "
                    "with Lambda's error instead of States.Timeout; use timeout="
                    f"{LAMBDA_MAX_TIMEOUT} or less, or a callback step for longer work",
                    step=task.name,
                    code="TIMEOUT_OVER_LAMBDA_LIMIT",
                )
            )
    if saga.timeout is not None and first is not None and first < len(chain):
        found.append(
            SagaWarning(
                f"saga {saga.name!r}: timeout={saga.timeout} sets the machine's TimeoutSeconds; "
                "when it passes, Step Functions ends the execution TIMED_OUT at once, without "
                "running any compensation or failure handler; use deadline_path= (checked before "
                "each unit, then the unwind runs) and bound the steps with their own timeout=",
                code="TIMEOUT_SKIPS_UNWIND",
            )
        )
    for step in dropped:
        if isinstance(step, ForEach):
            continue  # a failed item always enters the unwind at the group's undo Map
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


def _unreachable_compensation(saga: SagaDeclaration, compensation: Step) -> SagaWarning:
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


def _warn(saga: SagaDeclaration, found: Sequence[SagaWarning]) -> None:
    for warning in found:
        warnings.warn(warning, stacklevel=4)
        log_warning(
            "saga.unreachable_state",
            saga=saga.name,
            state=warning.step,
            code=warning.code,
            message=str(warning),
        )


def compile_saga(saga: SagaDeclaration) -> StateMachine:
    """The state machine ``saga`` compiles to (see the module docstring).

    Compensations that can never run are left out with a :class:`SagaWarning` (see
    :func:`saga_warnings`), through :mod:`warnings` and structlog.
    """
    _check_saga(saga)
    units = saga.units
    chain, targets, first = _unwind_chain(saga)
    _warn(saga, saga_warnings(saga))

    def chain_name(position: int) -> str:
        return _chain_name(chain[position]) if position < len(chain) else saga.failure_state

    states: dict[str, State] = {}
    for index, unit in enumerate(units):
        following = _entry(saga, units[index + 1]) if index + 1 < len(units) else saga.success_state
        catchers: list[Catcher] = []
        if unit.fail_fast_on:
            catchers.append(
                Catcher(
                    error_equals=list(unit.fail_fast_on), result_path="$", next=saga.fail_fast_state
                )
            )
        if isinstance(unit, ForEach):
            # the Map fails only when no item can run (a bad ItemsPath): nothing to undo
            after = targets[index] + len(_compensations(unit))
            lost = Catcher(error_equals=[ALL], result_path=unit.error_path, next=chain_name(after))
            states.update(for_each_states(unit, following, [lost], chain_name(targets[index])))
            continue
        if unit.compensate_on:
            catchers.append(
                Catcher(
                    error_equals=list(unit.compensate_on),
                    result_path=unit.error_path,
                    next=chain_name(targets[index]),
                )
            )
        if isinstance(unit, ParallelGroup) and unit.keeps_records:
            shape = result_shape(unit, _by_branch(unit))
            entry = chain_name(targets[index]) if index in targets else saga.failure_state
            states.update(group_states(unit, following, catchers, shape, entry))
        elif isinstance(unit, ParallelGroup):
            states[unit.name] = _parallel_state(unit, following, catchers)
        else:
            if unit.when is not None:
                skip = following if following is not None else unit.skipped_state
                states[unit.when_state] = ChoiceState(
                    type="Choice", choices=[unit.when.rule(unit.name)], default=skip
                )
                if following is None:
                    states[unit.skipped_state] = PassState(type="Pass", end=True)
            states.update(task_states(unit, following, catchers))
    if saga.success_state is not None:
        states[saga.success_state] = PassState(type="Pass", end=True)
    if first is not None:
        for position in range(first, len(chain)):
            step = chain[position]
            following = chain_name(position + 1)
            if isinstance(step, ForEach):
                states.update(undo_states(step, following))
                continue
            group = _recorded_group(step)
            guard = _guard(step)
            if group is not None:
                assert step.compensates is not None
                states[ForEach.if_done_state(step.compensates)] = ChoiceState(
                    type="Choice",
                    choices=[
                        ChoiceRule(
                            variable=not_run_path(group, step.compensates),
                            is_present=True,
                            next=following,
                        )
                    ],
                    default=step.name,
                )
            elif guard is not None:
                states[step.if_ran_state] = ChoiceState(
                    type="Choice", choices=[guard.rule(step.name)], default=following
                )
            catch = (
                [Catcher(error_equals=[ALL], result_path=step.error_path, next=following)]
                if step.continue_on_error or step.role == "compensation"
                else []
            )
            states.update(task_states(step, following, catch))
        states[saga.failure_state] = _failure_state(saga, units, chain[first:])
    if any(unit.fail_fast_on for unit in units):
        states[saga.fail_fast_state] = FailState(
            type="Fail", error_path="$.Error", cause_path="States.JsonToString($)"
        )
    if saga.deadline_path is not None:
        ends = _after_spans(saga)
        for index, unit in enumerate(units):
            states.update(
                deadline_states(
                    unit.name,
                    _unit_entry(unit),
                    saga.deadline_path,
                    saga.error_path,
                    chain_name(ends[index]),
                )
            )
    start = _entry(saga, units[0])
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


def saga_handlers(saga: SagaDeclaration) -> dict[str, Callable[..., Any]]:
    """The Python actions of the states ``saga`` compiles to, keyed as the engine's binding
    lookup expects (steps left out as unreachable are not included)."""
    return compile_with_handlers(saga)[1]


_Compiled = tuple[StateMachine, dict[str, Callable[..., Any]]]
_compiled: weakref.WeakKeyDictionary[SagaDeclaration, tuple[tuple[int, ...], _Compiled]] = (
    weakref.WeakKeyDictionary()
)


def _revisions(saga: SagaDeclaration) -> tuple[int, ...]:
    """What a compilation of ``saga`` depends on: its revision and its child sagas'."""
    return tuple(s.__dict__.get("_revision", 0) for s in (saga, *saga.child_sagas()))


def compile_with_handlers(
    saga: SagaDeclaration,
) -> tuple[StateMachine, dict[str, Callable[..., Any]]]:
    """The compiled machine and the Python actions of its states, from one compilation.

    The compilation is kept for the saga object until the saga (an option, a step, a child
    saga) changes, so running the same saga again does not compile it again; a saga with
    warnings is compiled each time, so each run warns as before. Callers get the same
    machine and a fresh copy of the actions.
    """
    revisions = _revisions(saga)
    cached = _compiled.get(saga)
    if cached is None or cached[0] != revisions:
        machine = compile_saga(saga)
        cached = (revisions, (machine, _handler_map(saga, _state_names(machine.states))))
        if not saga_warnings(saga):  # a saga that warns is compiled (and warns) every time
            _compiled[saga] = cached
    machine, handlers = cached[1]
    return machine, dict(handlers)


def _state_names(states: Mapping[str, State]) -> set[str]:
    """The names of ``states`` and of every state nested in their branches and processors."""
    names = set(states)
    for state in states.values():
        if isinstance(state, ParallelState):
            for branch in state.branches:
                names |= _state_names(branch.states)
        elif isinstance(state, MapState):
            names |= _state_names(state.processor.states)
    return names


def _handler_map(
    saga: SagaDeclaration, emitted: set[str] | None = None
) -> dict[str, Callable[..., Any]]:
    handlers: dict[str, Callable[..., Any]] = {}
    owners: dict[str, Step] = {}
    for step in saga.all_steps():
        if emitted is not None and step.name not in emitted:
            continue
        key, action = step.handler_key, step.python_action
        if action is not None and runs_inline(step) and not runs_inline(action):
            inline_step(action)  # ``@inline_step`` above ``@saga.step(...)``: mark the function
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


def _check_saga(saga: SagaDeclaration) -> None:
    if not saga.units:
        raise SagaDefinitionError(f"saga {saga.name!r} has no steps; add one with @saga.step(...)")
    for unit in saga.units:
        if isinstance(unit, ForEach):
            if not unit.steps:
                raise SagaDefinitionError(
                    f"{unit.label} has no steps; add them with group.step(...)", step=unit.name
                )
            too_long = check_length(unit)
            if too_long:
                raise SagaDefinitionError(f"{unit.label}: {'; '.join(too_long)}", step=unit.name)
            continue
        if isinstance(unit, ParallelGroup):
            if not unit.steps:
                raise SagaDefinitionError(
                    f"{unit.label} has no steps; add them with group.step(...)", step=unit.name
                )
            empty = [branch.name for branch in unit.branches if not branch.steps]
            if empty:
                raise SagaDefinitionError(
                    f"{unit.label}: branch {empty[0]!r} has no steps; add them with "
                    "branch.step(...)",
                    step=unit.name,
                )
            if unit.keeps_records:
                _check_records(unit)
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


def _check_records(group: ParallelGroup) -> None:
    """What a group keeping branch records cannot do (see :mod:`saga.compile_branches`)."""
    problems: list[str] = []
    if group.retry:
        problems.append(
            "retry= would re-run every branch, but a branch of several steps catches its own "
            "failure (to keep the record of what it did), so the group never fails on it; "
            "give the steps retry= instead"
        )
    if group.result_path is None or normalized_path(group.result_path) == normalized_path("$"):
        problems.append(
            f"result_path={group.result_path!r}: the branches' records are kept at the group's "
            "result path for the unwind; give a path such as '$.stay'"
        )
    for name in record_names(group) + [ForEach.if_done_state(s) for s in group.steps]:
        if len(name) > MAX_NAME_LENGTH:
            problems.append(
                f"the state {name!r} it adds is {len(name)} characters long; shorten the name "
                f"to fit in {MAX_NAME_LENGTH}"
            )
    if problems:
        raise SagaDefinitionError(f"{group.label}: {'; '.join(problems)}", step=group.name)


def _var(step: Step) -> str:
    """How the user's code likely refers to the step: ``@reserve`` for a decorated function."""
    name = getattr(step.python_action, "__name__", "")
    return f"@{name}" if isinstance(name, str) and name.isidentifier() else "step"


def _check_default_paths(saga: SagaDeclaration) -> None:
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


def _check_generated_names(saga: SagaDeclaration) -> None:
    names = {step.name for step in saga.all_steps()} | {u.name for u in saga.units}
    names |= {saga.failure_state, saga.fail_fast_state}
    for unit in saga.units if saga.deadline_path is not None else ():
        for extra in (check_state(unit.name), passed_state(unit.name)):
            if extra in names:
                raise SagaDefinitionError(
                    f"{unit.label}: the saga's deadline adds a state named {extra!r}, which is "
                    "already a state name; rename that state or the unit",
                    step=unit.name,
                )
            names.add(extra)
    for unit in saga.units:
        if isinstance(unit, Step) and unit.when is not None:
            extra_names = [unit.when_state, unit.skipped_state]
            if unit.compensation is not None:
                extra_names.append(unit.compensation.if_ran_state)
            for extra in extra_names:
                if extra in names:
                    raise SagaDefinitionError(
                        f"{unit.label}: its condition adds a state named {extra!r}, which is "
                        "already a state name; rename that state or the step",
                        step=unit.name,
                    )
                names.add(extra)
        if isinstance(unit, ParallelGroup) and unit.keeps_records:
            guards = [ForEach.if_done_state(s) for s in unit.steps if s.compensation is not None]
            generated = record_names(unit) + guards
        elif isinstance(unit, ForEach):
            generated = unit.generated_states()
        else:
            continue
        for extra in generated:
            if extra in names:
                raise SagaDefinitionError(
                    f"{unit.label}: it adds a state named {extra!r}, which is already a state "
                    "name; rename that state or the group",
                    step=unit.name,
                )
            names.add(extra)
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


def _entry(saga: SagaDeclaration, unit: Unit) -> str:
    """Where the flow enters ``unit``: its deadline check, its condition, or the unit."""
    if saga.deadline_path is not None:
        return check_state(unit.name)
    return _unit_entry(unit)


def _unit_entry(unit: Unit) -> str:
    if isinstance(unit, Step) and unit.when is not None:
        return unit.when_state
    return unit.name


def _compensations(unit: Unit) -> list[Undo]:
    if isinstance(unit, ForEach):
        return [unit] if any(step.compensation is not None for step in unit.steps) else []
    steps = unit.steps if isinstance(unit, ParallelGroup) else [unit]
    return [step.compensation for step in steps if step.compensation is not None]


def _branch(branch: GroupBranch) -> Branch:
    states: dict[str, State] = {}
    for position, step in enumerate(branch.steps):
        after = branch.steps[position + 1].name if position + 1 < len(branch.steps) else None
        states.update(task_states(step, after, []))
    return Branch(start_at=branch.steps[0].name, states=states)


def _by_branch(group: ParallelGroup) -> dict[str, Any]:
    """The ``ResultSelector`` keying the group's result by branch name: each named branch's
    step results (read from its output), a one-step branch's output as is."""
    selector: dict[str, Any] = {}
    for index, branch in enumerate(group.branches):
        if not branch.named:
            selector[f"{branch.key}.$"] = f"$[{index}]"
            continue
        results: dict[str, Any] = {}
        for step in branch.steps:
            if step.result_path is None:
                continue
            results[f"{camel_case(step.name)}.$"] = f"$[{index}]{step.result_path[1:]}"
        selector[branch.key] = results
    return selector


def _parallel_state(
    group: ParallelGroup, following: str | None, catchers: Sequence[Catcher]
) -> ParallelState:
    branches = [_branch(branch) for branch in group.branches]
    fields: dict[str, Any] = {"type": "Parallel", "branches": branches}
    if group.comment is not None:
        fields["comment"] = group.comment
    if not isinstance(group.input_path, Unset):
        fields["input_path"] = group.input_path
    if not isinstance(group.parameters, Unset):
        fields["parameters"] = compile_template(group.parameters)
    if not isinstance(group.result_selector, Unset):
        fields["result_selector"] = compile_template(group.result_selector)
    elif group.named_branches:
        fields["result_selector"] = _by_branch(group)
    fields["result_path"] = group.result_path
    if group.retry:
        fields["retry"] = retriers(group)
    if catchers:
        fields["catch"] = list(catchers)
    flow(fields, following)
    return ParallelState(**fields)


# -- the Fail state --------------------------------------------------------------------------


def _overlaps(a: str, b: str) -> bool:
    first, second = normalized_path(a), normalized_path(b)
    if len(first) > len(second):
        first, second = second, first
    return second == first or second.startswith(first + "[")


def _failure_path(
    saga: SagaDeclaration, units: Sequence[Unit], chain: Sequence[Undo]
) -> tuple[str | None, str]:
    """The path where every compensating unit records its error, or None and why not."""
    catching = [unit for unit in units if unit.compensate_on]
    paths = {unit.error_path for unit in catching}
    if saga.deadline_path is not None:
        paths.add(saga.error_path)  # a passed deadline is recorded there too
        if not catching:
            catching = list(units)
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
        if isinstance(step, ForEach):
            continue  # the undo Map writes nothing (ResultPath null)
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


def _failure_state(
    saga: SagaDeclaration, units: Sequence[Unit], chain: Sequence[Undo]
) -> FailState:
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


def _check_custom_errors(saga: SagaDeclaration, units: Sequence[Unit]) -> None:
    for unit in units:
        if isinstance(unit, ForEach):
            continue  # a failed item's own error is recorded; the Map fails only at runtime
        reserved = [name for name in unit.compensate_on if name.startswith("States.")]
        if reserved:
            raise SagaDefinitionError(
                f"saga {saga.name!r}: failure_error=ORIGINAL_ERROR re-raises the failed step's "
                f"error name, but {unit.label} compensates on {', '.join(reserved)}, and a Fail "
                "state cannot raise a reserved States.* name; list custom errors in its "
                "compensate_on, or give failure_error a name",
                step=unit.name,
            )
