"""The :class:`Saga` builder: ordered steps, their compensations, parallel groups, failure handlers.

Declaring::

    booking = Saga("ProcessBooking", success_state="Booking Confirmed",
                   failure_state="Booking Failed")

    @booking.step("Reserve Booking", retry=[Retry(ReservationError, max_retries=2)])
    def reserve(event: dict[str, Any]) -> str: ...

    @reserve.compensate("Cancel Booking")
    def cancel(event: dict[str, Any]) -> None: ...

compiles (:meth:`Saga.to_state_machine`) to forward Tasks chained by ``Next`` whose ``Catch``
leads into the unwind chain: every compensation in reverse order of its step, each catching
its own failure and going on, then the failure handlers, then a ``Fail`` state. A step's
failure enters the chain at the compensation of the latest earlier step that has one — or at
its own compensation with ``compensate_self=True`` (for effects that may have landed before the
error was seen). See :mod:`saga.compile` for the exact shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypedDict, TypeVar, Unpack, overload

from engine.model import StateMachine
from saga.errors import SagaDefinitionError
from saga.for_each import ForEach, ForEachOptions
from saga.integrations import Integration
from saga.policies import ErrorSpec, Retry, error_names
from saga.steps import (
    ALL,
    MAX_NAME_LENGTH,
    UNSET,
    CompensationOptions,
    FailureHandlerOptions,
    Role,
    Step,
    StepAdder,
    StepFunction,
    StepOptions,
    Unset,
    camel_case,
    catch_problems,
    check_name,
    new_step,
    path_problems,
    retry_list_problems,
    retry_tuple,
    stacked_decorator_error,
    template_option_problems,
)
from saga.templates import Template

if TYPE_CHECKING:
    from engine.bindings import Interceptor, TaskBinding
    from saga.outcome import SagaExecution
    from saga.running import ClockOption

__all__ = [
    "ORIGINAL_ERROR",
    "GroupBranch",
    "GroupOptions",
    "OriginalError",
    "ParallelGroup",
    "Saga",
    "SagaInputError",
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


def check_input(saga: Saga, value: Any) -> None:
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


class GroupOptions(TypedDict, total=False):
    """Options of a parallel group (a ``Parallel`` state)."""

    retry: Sequence[Retry]
    input_path: str | None
    parameters: Template
    result_selector: Template
    result_path: str | None
    error_path: str | None
    compensate_on: Sequence[ErrorSpec]
    fail_fast_on: Sequence[ErrorSpec]
    compensate_self: bool
    comment: str


_GROUP_KEYS: Final = frozenset(GroupOptions.__annotations__)


def _refuse_stacked(decorating: bool, role: Role, name: str, action: object) -> None:
    """In the decorator form, refuse a function another decorator already made a step."""
    if decorating:
        error = stacked_decorator_error(role, name, action)
        if error is not None:
            raise error


class ParallelGroup(StepAdder):
    """Steps run side by side in a ``Parallel`` state (one branch per step).

    The group is one forward unit of the saga: it succeeds when every step succeeds and its
    result (at ``result_path``, default ``$.<groupName>``) is the list of the steps' results in
    declaration order. When any step fails (after its own retries) the others are stopped and
    the group fails with that step's error; since a stopped step's effect may have landed, the
    unwind starts with the compensations of *every* step of the group (in reverse declaration
    order) — ``compensate_self=False`` skips them. ``retry`` on the group re-runs every step.

    With a branch of several steps (:meth:`branch`), each branch catches its own failure and
    keeps the record of what it did; the siblings run on to their end, and the unwind
    compensates, branch by branch (the last first), each branch's completed steps in reverse,
    plus the failed step with ``compensate_self`` (see :mod:`saga.compile_branches`).
    """

    _step_role: Role = "branch step"

    def __init__(self, saga: Saga, name: str, options: Mapping[str, Any]) -> None:
        self.saga = saga
        self.name = name
        self.branches: list[GroupBranch] = []
        self.retry: tuple[Retry, ...] = retry_tuple(options.get("retry", ()))
        self.input_path: str | Unset | None = options.get("input_path", UNSET)
        self.parameters: Template | Unset = options.get("parameters", UNSET)
        self.result_selector: Template | Unset = options.get("result_selector", UNSET)
        self.result_path_is_default = "result_path" not in options
        self.result_path: str | None = options.get("result_path", f"$.{camel_case(name)}")
        self.error_path: str | None = options.get("error_path", saga.error_path)
        self.comment: str | None = options.get("comment")
        self.compensate_self_is_default = "compensate_self" not in options
        self.compensate_self: bool = options.get("compensate_self", True)
        self._check(options)
        self.compensate_on: tuple[str, ...] = (
            tuple(error_names(options["compensate_on"])) if "compensate_on" in options else (ALL,)
        )
        self.fail_fast_on: tuple[str, ...] = tuple(error_names(options.get("fail_fast_on", ())))

    @property
    def label(self) -> str:
        """How messages refer to this group."""
        return f"parallel group {self.name!r}"

    @property
    def steps(self) -> list[Step]:
        """Every step of the group: branch by branch, each branch's steps in order."""
        return [step for branch in self.branches for step in branch.steps]

    @property
    def keeps_records(self) -> bool:
        """Whether a branch has several steps: then each branch catches its own failure and
        keeps the record of what it did, and the unwind undoes only that
        (:mod:`saga.compile_branches`)."""
        return any(len(branch.steps) > 1 for branch in self.branches)

    @property
    def named_branches(self) -> bool:
        """Whether the group was declared with :meth:`branch` (its result is keyed by branch)."""
        return any(branch.named for branch in self.branches)

    def branch(self, name: str, /) -> GroupBranch:
        """Add a branch of several steps run in order (each with its compensation); the
        group's result becomes an object keyed by each branch's name in camelCase."""
        if not isinstance(name, str) or not name.strip():
            raise SagaDefinitionError(
                f"{self.label}: branch name {name!r}; give every branch a non-empty name",
                step=self.name,
            )
        key = camel_case(name)
        if not key or any(camel_case(b.name) == key for b in self.branches):
            raise SagaDefinitionError(
                f"{self.label}: branch {name!r} has the result key {key!r} of another branch "
                "(or none); give each branch a distinct name",
                step=self.name,
            )
        added = GroupBranch(self, name, named=True)
        self.branches.append(added)
        return added

    def _check(self, options: Mapping[str, Any]) -> None:
        problems: list[str] = []
        for key in options:
            if key not in _GROUP_KEYS:
                hint = (
                    "set it on the group's steps"
                    if key in ("timeout", "heartbeat", "resource")
                    else f"use one of {', '.join(sorted(_GROUP_KEYS))}"
                )
                problems.append(f"unknown option {key!r}; {hint}")
        problems += catch_problems(
            options.get("compensate_on"), options.get("fail_fast_on"), set(options)
        )
        problems += retry_list_problems(options.get("retry", ()), None)
        problems += path_problems("input_path", self.input_path, result=False)
        problems += path_problems("result_path", self.result_path, result=True)
        problems += path_problems("error_path", self.error_path, result=True)
        problems += template_option_problems(self)
        if not isinstance(self.compensate_self, bool):
            problems.append(f"compensate_self is {self.compensate_self!r}; use True or False")
        if problems:
            raise SagaDefinitionError(f"{self.label}: {'; '.join(problems)}", step=self.name)

    def _add_step(self, name: str, action: object, options: Mapping[str, Any]) -> Step:
        """A step of its own branch (``group.step(...)``)."""
        step = new_step(self.saga, name, "branch step", action, options)
        step.group = self
        self.saga._register(step)
        self.branches.append(GroupBranch(self, name, named=False, steps=[step]))
        return step

    def __repr__(self) -> str:
        return f"<ParallelGroup {self.name!r}: {[s.name for s in self.steps]}>"


class GroupBranch(StepAdder):
    """One branch of a parallel group: its steps run in order.

    A branch made by ``group.step(...)`` holds that one step, whose result is the branch's
    output. A branch made by ``group.branch(name)`` holds the steps added with
    :meth:`step`; each stores its result at ``$.<stepNameInCamelCase>`` in the branch's state
    (its ``result_path``), and the group's result holds them under the branch's name.
    """

    _step_role: Role = "branch step"

    def __init__(
        self, group: ParallelGroup, name: str, *, named: bool, steps: list[Step] | None = None
    ) -> None:
        self.group = group
        self.name = name
        self.named = named
        self.steps: list[Step] = steps or []

    @property
    def key(self) -> str:
        """The branch's key in the group's result."""
        return camel_case(self.name)

    def _add_step(self, name: str, action: object, options: Mapping[str, Any]) -> Step:
        """The branch's next step; its result goes to ``$.<stepName>`` unless told otherwise."""
        if "result_path" not in options:
            options = {**options, "result_path": f"$.{camel_case(name)}"}
        step = new_step(self.group.saga, name, "branch step", action, options)
        step.group = self.group
        self.group.saga._register(step)
        self.steps.append(step)
        return step

    def __repr__(self) -> str:
        return f"<GroupBranch {self.name!r}: {[s.name for s in self.steps]}>"


Unit = Step | ParallelGroup | ForEach
"""A forward unit of a saga: a step, a parallel group or a for-each group."""


class Saga:
    """A saga: ordered steps with compensations, compiled to a Step Functions state machine.

    - ``error_path``: where a failed forward step's error (``{"Error", "Cause"}``) is recorded
      before the unwind (default ``$.error``; per step ``error_path=`` overrides it).
    - ``success_state``: name of a final ``Pass`` state after the last step (else the last
      step ends the execution).
    - ``failure_state``: name of the ``Fail`` state ending the unwind chain; the execution
      fails with its ``Error`` and ``Cause``:

      - ``failure_error``: a static error name (default ``"SagaFailed"``), or
        :data:`ORIGINAL_ERROR` for ``ErrorPath: P.Error`` — the failed step's own error name,
        read where every step records its error (``P``, the ``error_path``). A Fail state may
        not raise a reserved ``States.*`` name (LocalStack's and moto's interpreters fail with
        ``States.Runtime``), so :data:`ORIGINAL_ERROR` requires every ``compensate_on`` to
        list custom errors only (not ``States.ALL``/``States.TaskFailed``/``States.Timeout``).
      - ``failure_cause``: a static cause, or by default ``CausePath:
        States.JsonToString(P)`` — the original error output ``{"Error": ..., "Cause": ...}``
        as JSON text. The whole object rather than ``P.Cause`` because some errors (a
        ``States.Timeout``) carry no ``Cause`` and a missing path would fail the Fail state.

      Reading ``P`` needs one shared error path that nothing in the unwind chain overwrites
      (checked when compiling); with per-step error paths give a static ``failure_cause``.
    - ``fail_fast_state``: the ``Fail`` state that errors listed in a step's ``fail_fast_on``
      go to, skipping compensation and handlers: the catcher stores the error output as the
      whole state (``ResultPath: $``) and the state re-raises it (``ErrorPath: $.Error``,
      ``CausePath: States.JsonToString($)``); ``fail_fast_on`` therefore names custom errors.
    - ``timeout``: the machine's ``TimeoutSeconds``.
    - ``input_key``: accept any JSON value as input (a list, a string …) by placing it at
      ``$.<input_key>`` with a first ``Pass`` state named ``input_state`` (default
      ``"Take Input"``). Without it, the steps record their results and errors in the input,
      so a run is refused before it starts unless the input is a JSON object.
    - ``deadline_path``: where the input holds the saga's deadline (an ISO 8601 timestamp,
      say a fare hold's expiry): before each forward unit a Choice compares the state's
      entry time with it and, once it has passed, fails with ``Saga.DeadlinePassed`` into the
      unwind — compensations and failure handlers run, unlike the machine's ``timeout``
      (see :mod:`saga.deadline`).
    - ``query_language``: ``"JSONPath"`` (default) or ``"JSONata"``, the machine's
      ``QueryLanguage``; in JSONata the same states use ``Arguments``/``Output`` expressions
      (see :mod:`saga.jsonata`) and run the same.
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
        self, name: str, action: Integration | Step | Saga, /, **options: Unpack[StepOptions]
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

    def child_sagas(self) -> tuple[Saga, ...]:
        """The sagas this saga runs as steps (nested executions), theirs too, each once."""
        found: dict[int, Saga] = {}
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

    # -- compiling and running -------------------------------------------------------------

    def to_state_machine(self) -> StateMachine:
        """The saga compiled to the engine's ASL model (raises :class:`SagaDefinitionError`)."""
        from saga.compile import compile_saga

        return compile_saga(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The compiled definition as ASL JSON text."""
        return self.to_state_machine().to_json(indent=indent)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        """The Python actions keyed as the engine binds resources (placeholder name, Lambda
        ARN, or ``FunctionName``), for running the compiled machine or its exported JSON."""
        from saga.compile import saga_handlers

        return saga_handlers(self)

    def run(
        self,
        input: Any = None,
        *,
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        name: str | None = None,
        clock: ClockOption = None,
        seed: int | None = None,
        interceptors: Sequence[Interceptor] = (),
        bindings: Mapping[str, TaskBinding] | None = None,
        substitutions: Mapping[str, str] | None = None,
    ) -> SagaExecution:
        """Run locally: compile and execute on the engine (virtual clock unless ``clock="real"``).

        ``handlers`` override or add to :meth:`handlers`; ``seed`` seeds retry jitter and
        every random draw (default: derived from the execution name, so the same ``name`` and
        input repeat the same run; the seed used is ``Execution.seed``);
        ``interceptors`` wrap each task call (fault injection, mocks); ``substitutions`` fill
        ``${Name}`` placeholders of the compiled machine (say, a queue URL). Returns a
        :class:`~saga.outcome.SagaExecution`: the engine's record (``status``, ``output``,
        ``error``, ``cause``, ``states``, ``history``, ``seed``) with the decoded ``failure``
        and the ``unwind`` (each compensation and failure handler that ran, with its status).
        Inside a running event loop use :meth:`run_async`.
        """
        from saga.running import run_saga

        return run_saga(
            self,
            input,
            handlers=handlers,
            name=name,
            clock=clock,
            seed=seed,
            interceptors=interceptors,
            bindings=bindings,
            substitutions=substitutions,
        )

    async def run_async(
        self,
        input: Any = None,
        *,
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        name: str | None = None,
        clock: ClockOption = None,
        seed: int | None = None,
        interceptors: Sequence[Interceptor] = (),
        bindings: Mapping[str, TaskBinding] | None = None,
        substitutions: Mapping[str, str] | None = None,
    ) -> SagaExecution:
        """:meth:`run` for async code (anyio)."""
        from saga.running import run_saga_async

        return await run_saga_async(
            self,
            input,
            handlers=handlers,
            name=name,
            clock=clock,
            seed=seed,
            interceptors=interceptors,
            bindings=bindings,
            substitutions=substitutions,
        )

    def __repr__(self) -> str:
        return f"<Saga {self.name!r}: {[u.name for u in self._units]}>"
