"""The declaration of a saga: its options, and its steps, compensations, groups and handlers.

:class:`SagaDeclaration` is what the compiler (:mod:`saga.compile`) and the runner
(:mod:`saga.running`) read; :class:`~saga.saga.Saga` derives from it and adds the methods that
compile and run it. Keeping the declaration here, below both, lets every import run one way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, ParamSpec, TypeVar, Unpack, overload

from engine.names import is_valid_name
from saga.errors import SagaDefinitionError
from saga.for_each import ForEach, ForEachOptions
from saga.integrations import Integration
from saga.parallel import GroupOptions, ParallelGroup
from saga.steps import (
    MAX_NAME_LENGTH,
    CompensationOptions,
    FailureHandlerOptions,
    NestedSaga,
    Role,
    Step,
    StepFunction,
    StepOptions,
    check_name,
    new_step,
    path_problems,
    stacked_decorator_error,
)

__all__ = [
    "DEFAULT_FAILURE_ERROR",
    "DEFAULT_FAILURE_STATE",
    "DEFAULT_FAIL_FAST_STATE",
    "DEFAULT_INPUT_STATE",
    "ORIGINAL_ERROR",
    "OriginalError",
    "SagaDeclaration",
    "SagaInputError",
    "Unit",
    "check_input",
]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_FAILURE_STATE: Final = "Saga Failed"
DEFAULT_FAILURE_ERROR: Final = "SagaFailed"


class OriginalError:
    """The type of :data:`ORIGINAL_ERROR`."""

    def __repr__(self) -> str:
        return "ORIGINAL_ERROR"


ORIGINAL_ERROR: Final = OriginalError()
"""``Saga(failure_error=ORIGINAL_ERROR)``: fail with the failed step's own error name."""
DEFAULT_FAIL_FAST_STATE: Final = "Saga Failed Fast"
DEFAULT_INPUT_STATE: Final = "Take Input"
_INPUT_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SagaInputError(ValueError):
    """A saga run refused before it starts: its input is not what the saga can take."""


def check_input(saga: SagaDeclaration, value: Any) -> None:
    """Refuse a non-object input to a saga that records its results in the input.

    A step's ``ResultPath`` (and its catcher's) cannot write into a list or a string: the run
    would end in ``States.ResultPathMatchFailure`` and skip the failure handlers.
    """
    if saga.input_key is not None or value is None or isinstance(value, Mapping):
        return
    shown = json.dumps(value, ensure_ascii=False) if _is_json(value) else repr(value)
    if len(shown) > 60:
        shown = shown[:59] + "…"
    kind = {list: "a list", str: "a string", bool: "a boolean", int: "a number"}.get(
        type(value), "a number" if isinstance(value, float) else type(value).__name__
    )
    raise SagaInputError(
        f"saga {saga.name!r} takes a JSON object as input (its steps record their results and "
        f'errors in it), got {kind}: {shown}; pass an object such as {{"items": {shown}}}, or '
        f'declare Saga({saga.name!r}, input_key="items") to take any JSON value at $.items'
    )


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _refuse_stacked(decorating: bool, role: Role, name: str, action: object) -> None:
    """In the decorator form, refuse a function another decorator already made a step."""
    if decorating:
        error = stacked_decorator_error(role, name, action)
        if error is not None:
            raise error


Unit = Step | ParallelGroup | ForEach
"""A forward unit of a saga: a step, a parallel group or a for-each group."""


class SagaDeclaration(NestedSaga):
    """A saga as declared: its options, forward units, compensations and failure handlers.

    The base of :class:`~saga.saga.Saga`, which documents the options and adds compiling and
    running; the compiler and the runner read only this.
    """

    def __init__(
        self,
        name: str,
        *,
        comment: str | None = None,
        timeout: int | None = None,
        error_path: str | None = "$.error",
        success_state: str | None = None,
        failure_state: str = DEFAULT_FAILURE_STATE,
        failure_error: str | OriginalError = DEFAULT_FAILURE_ERROR,
        failure_cause: str | None = None,
        fail_fast_state: str = DEFAULT_FAIL_FAST_STATE,
        input_key: str | None = None,
        input_state: str = DEFAULT_INPUT_STATE,
        query_language: str = "JSONPath",
        deadline_path: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise SagaDefinitionError(f"saga name {name!r}: give the saga a non-empty name")
        if not is_valid_name(name):
            raise SagaDefinitionError(
                f"saga name {name!r}: a state machine name is 1-80 characters without "
                "whitespace, brackets, wildcards or special characters, as Step Functions "
                "requires (e.g. 'PlaceOrder')"
            )
        self.name = name
        self.comment = comment
        self.timeout = timeout
        self.error_path = error_path
        self.success_state = success_state
        self.failure_state = failure_state
        self.failure_error = failure_error
        self.failure_cause = failure_cause
        self.fail_fast_state = fail_fast_state
        self.input_key = input_key
        self.input_state = input_state
        self.query_language = query_language
        self.deadline_path = deadline_path
        self._units: list[Unit] = []
        self._handlers: list[Step] = []
        self._names: dict[str, str] = {}
        self._check()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        self._changed()

    def _changed(self) -> None:
        """Count a change of the saga (an option set, a step added or changed): a machine
        compiled before it is stale (see :func:`saga.compile.compile_with_handlers`)."""
        self.__dict__["_revision"] = self.__dict__.get("_revision", 0) + 1

    def _check(self) -> None:
        problems = path_problems("error_path", self.error_path, result=True)
        if self.deadline_path is not None:
            if not isinstance(self.deadline_path, str) or self.deadline_path.startswith("$$"):
                problems.append(
                    f"deadline_path is {self.deadline_path!r}; use a path into the input such "
                    "as '$.deadline'"
                )
            else:
                problems += path_problems("deadline_path", self.deadline_path, result=False)
        if self.timeout is not None and (
            isinstance(self.timeout, bool) or not isinstance(self.timeout, int) or self.timeout < 1
        ):
            problems.append(
                f"timeout is {self.timeout!r}; use a whole number of seconds, at least 1"
            )
        if not isinstance(self.failure_error, str | OriginalError) or not self.failure_error:
            problems.append("failure_error must be an error name or ORIGINAL_ERROR")
        elif isinstance(self.failure_error, str) and self.failure_error.startswith("States."):
            problems.append(
                f"failure_error is {self.failure_error!r}; names starting with 'States.' are "
                "reserved, use your own"
            )
        if self.query_language not in ("JSONPath", "JSONata"):
            problems.append(
                f"query_language is {self.query_language!r}; use 'JSONPath' or 'JSONata'"
            )
        if self.failure_cause is not None and not isinstance(self.failure_cause, str):
            problems.append("failure_cause must be a string or None")
        if self.input_key is not None and (
            not isinstance(self.input_key, str) or _INPUT_KEY.fullmatch(self.input_key) is None
        ):
            problems.append(
                f"input_key is {self.input_key!r}; use a field name of letters, digits and "
                "underscores, such as 'items'"
            )
        for what, state in (
            ("success_state", self.success_state),
            ("failure_state", self.failure_state),
            ("fail_fast_state", self.fail_fast_state),
            ("input_state", self.input_state if self.input_key is not None else None),
        ):
            if state is None:
                continue
            if not isinstance(state, str) or not state.strip():
                problems.append(f"{what} must be a non-empty state name")
            elif len(state) > MAX_NAME_LENGTH:
                problems.append(
                    f"{what} {state!r} is {len(state)} characters long; "
                    f"use at most {MAX_NAME_LENGTH}"
                )
            elif state in self._names:
                problems.append(f"{what} {state!r} is already the name of the {self._names[state]}")
            else:
                self._names[state] = what.replace("_", " ")
        if problems:
            raise SagaDefinitionError(f"saga {self.name!r}: {'; '.join(problems)}")

    # -- declaring -------------------------------------------------------------------------

    def _register(self, step: Step | ParallelGroup | ForEach) -> None:
        self._changed()
        label = step.label
        if step.name in self._names:
            raise SagaDefinitionError(
                f"{label}: the name is already used by the {self._names[step.name]}; "
                "give every step, compensation, handler and group its own name",
                step=step.name,
            )
        self._names[step.name] = label

    @overload
    def step(
        self, name: str, action: Callable[P, R], /, **options: Unpack[StepOptions]
    ) -> StepFunction[P, R]: ...
    @overload
    def step(
        self,
        name: str,
        action: Integration | Step | SagaDeclaration,
        /,
        **options: Unpack[StepOptions],
    ) -> Step: ...
    @overload
    def step(
        self, name: str, /, **options: Unpack[StepOptions]
    ) -> Callable[[Callable[P, R]], StepFunction[P, R]]: ...
    def step(self, name: str, action: object = None, /, **options: Any) -> Any:
        """Append a forward step; use as a decorator when ``action`` is omitted.

        Options: ``resource`` (how a Python action is exported), ``retry``, ``timeout``,
        ``heartbeat`` (seconds), ``input_path``, ``parameters``, ``result_selector``,
        ``result_path``, ``error_path`` (where the catcher records the error), ``compensate_on``
        (errors that start the unwind; default ``[States.ALL]``; ``[]`` lets every error fail
        the execution at once), ``fail_fast_on`` (errors that skip compensation and end in the
        fail-fast state), ``compensate_self`` (run this step's own compensation when it fails),
        ``comment``.
        """
        check_name(name, "step")

        decorating = action is None

        def add(action: object) -> Step:
            _refuse_stacked(decorating, "step", name, action)
            step = new_step(self, name, "step", action, options)
            self._register(step)
            self._units.append(step)
            return step

        return add if decorating else add(action)

    def parallel(self, name: str, /, **options: Unpack[GroupOptions]) -> ParallelGroup:
        """Append a parallel group; add its steps with ``group.step(...)``."""
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise SagaDefinitionError(
                f"parallel group {name!r}: give it a non-empty name of at most {MAX_NAME_LENGTH} "
                "characters",
                step=str(name),
            )
        group = ParallelGroup(self, name, options)
        self._register(group)
        self._units.append(group)
        return group

    def for_each(self, name: str, /, **options: Unpack[ForEachOptions]) -> ForEach:
        """Append a for-each group over the list at ``items_path``; add its steps with
        ``group.step(...)`` (see :class:`~saga.for_each.ForEach`)."""
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise SagaDefinitionError(
                f"for-each group {name!r}: give it a non-empty name of at most "
                f"{MAX_NAME_LENGTH} characters",
                step=str(name),
            )
        group = ForEach(self, name, options)
        self._register(group)
        self._units.append(group)
        return group

    @overload
    def compensation(
        self,
        for_step: str | Step,
        name: str,
        action: Callable[P, R],
        /,
        **options: Unpack[CompensationOptions],
    ) -> StepFunction[P, R]: ...
    @overload
    def compensation(
        self,
        for_step: str | Step,
        name: str,
        action: Integration | Step,
        /,
        **options: Unpack[CompensationOptions],
    ) -> Step: ...
    @overload
    def compensation(
        self, for_step: str | Step, name: str, /, **options: Unpack[CompensationOptions]
    ) -> Callable[[Callable[P, R]], StepFunction[P, R]]: ...
    def compensation(
        self, for_step: str | Step, name: str, action: object = None, /, **options: Any
    ) -> Any:
        """Declare the compensation of an already declared step (by name or object).

        A compensation undoes its step's effect. It runs when a later step fails (or the step
        itself with ``compensate_self=True``); when it fails its error is recorded at its
        ``error_path`` and the unwind goes on. Its result is discarded by default.
        """
        check_name(name, "compensation")
        return self._compensation(for_step, name, action, options)

    def _compensation(
        self, for_step: str | Step, name: str, action: object, options: Mapping[str, Any]
    ) -> Any:
        target = self._find_step(for_step, name)

        decorating = action is None

        def add(action: object) -> Step:
            if decorating or (isinstance(action, Step) and action.role != "compensation"):
                error = stacked_decorator_error("compensation", name, action, target)
                if error is not None:
                    raise error
            step = new_step(self, name, "compensation", action, options)
            self._register(step)
            step.compensates = target
            target.compensation = step
            return step

        return add if decorating else add(action)

    def _find_step(self, for_step: str | Step, name: str) -> Step:
        key = for_step.name if isinstance(for_step, Step) else for_step
        for step in self.forward_steps:
            if step.name == key and (not isinstance(for_step, Step) or step is for_step):
                break
        else:
            known = ", ".join(repr(s.name) for s in self.forward_steps) or "none yet"
            what = self._names.get(key)
            reason = (
                f"{what} is not a step, and only steps are compensated"
                if what is not None
                else f"there is no step {key!r} to compensate"
            )
            fix = (
                "declare the step before its compensation, or fix the name"
                if what is None
                else "name a declared step"
            )
            raise SagaDefinitionError(
                f"compensation {name!r}: {reason}; {fix} (known steps: {known})",
                step=name,
            )
        if step.compensation is not None:
            raise SagaDefinitionError(
                f"compensation {name!r}: step {key!r} already has compensation "
                f"{step.compensation.name!r}; a step has at most one compensation",
                step=name,
            )
        return step

    @overload
    def on_failure(
        self, name: str, action: Callable[P, R], /, **options: Unpack[FailureHandlerOptions]
    ) -> StepFunction[P, R]: ...
    @overload
    def on_failure(
        self, name: str, action: Integration | Step, /, **options: Unpack[FailureHandlerOptions]
    ) -> Step: ...
    @overload
    def on_failure(
        self, name: str, /, **options: Unpack[FailureHandlerOptions]
    ) -> Callable[[Callable[P, R]], StepFunction[P, R]]: ...
    def on_failure(self, name: str, action: object = None, /, **options: Any) -> Any:
        """Append a failure handler (notification, dead-letter queue …) to the unwind chain.

        Handlers run in declaration order after the compensations and before the Fail state.
        By default a handler's failure is recorded at its ``error_path`` and the next one runs;
        with ``continue_on_error=False`` it fails the execution with its own error.
        """
        check_name(name, "failure handler")

        decorating = action is None

        def add(action: object) -> Step:
            _refuse_stacked(decorating, "failure handler", name, action)
            step = new_step(self, name, "failure handler", action, options)
            self._register(step)
            self._handlers.append(step)
            return step

        return add if decorating else add(action)

    # -- reading ---------------------------------------------------------------------------

    @property
    def units(self) -> tuple[Unit, ...]:
        """The forward steps and parallel groups, in order."""
        return tuple(self._units)

    @property
    def forward_steps(self) -> tuple[Step, ...]:
        """Every forward step, including the steps of parallel groups, in order."""
        out: list[Step] = []
        for unit in self._units:
            out += unit.steps if isinstance(unit, ParallelGroup | ForEach) else [unit]
        return tuple(out)

    @property
    def failure_handlers(self) -> tuple[Step, ...]:
        """The failure handlers, in order."""
        return tuple(self._handlers)

    def child_sagas(self) -> tuple[SagaDeclaration, ...]:
        """The sagas this saga runs as steps (nested executions), theirs too, each once."""
        found: dict[int, SagaDeclaration] = {}
        for step in self.all_steps():
            if step.child is not None and id(step.child) not in found:
                found[id(step.child)] = step.child
                for grandchild in step.child.child_sagas():
                    found.setdefault(id(grandchild), grandchild)
        return tuple(found.values())

    def all_steps(self) -> tuple[Step, ...]:
        """Every Task of the saga: forward steps, compensations, failure handlers."""
        comps = [s.compensation for s in self.forward_steps if s.compensation is not None]
        return (*self.forward_steps, *comps, *self._handlers)
