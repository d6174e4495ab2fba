"""Steps: what a saga runs (an action), how it is exported (a resource) and its policy.

A step's action is a Python callable (sync or async, ``event -> result`` or
``(event, context) -> result`` like a Lambda handler) or a service :class:`~saga.integrations.
Integration`. A Python action is exported as a Lambda function: ``resource`` is a
``${Placeholder}`` (the default is ``${<StepNameInPascalCase>}``), a Lambda function ARN, or
:class:`LambdaInvoke` (``arn:aws:states:::lambda:invoke`` with a ``FunctionName``).
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Literal,
    ParamSpec,
    TypeAlias,
    TypedDict,
    TypeGuard,
    TypeVar,
    Unpack,
    overload,
)

from engine.names import MAX_NAME_LENGTH
from engine.paths import is_valid_path, is_valid_result_path
from saga.conditions import Condition
from saga.errors import SagaDefinitionError
from saga.integrations import Integration
from saga.policies import ErrorSpec, Retry, error_name, error_names, error_problems
from saga.templates import Template, template_problems

if TYPE_CHECKING:
    from saga.declaration import SagaDeclaration
    from saga.for_each import ForEach
    from saga.parallel import ParallelGroup

__all__ = [
    "ALL",
    "LAMBDA_INVOKE",
    "MAX_NAME_LENGTH",
    "TASK_TOKEN",
    "UNSET",
    "WAIT_FOR_TASK_TOKEN",
    "Action",
    "CompensationOptions",
    "FailureHandlerOptions",
    "LambdaInvoke",
    "NestedSaga",
    "Role",
    "Step",
    "StepAdder",
    "StepFunction",
    "StepOptions",
    "TaskOptions",
    "Unset",
    "camel_case",
    "catch_problems",
    "child_arn_placeholder",
    "new_step",
    "check_name",
    "pascal_case",
    "path_problems",
    "retry_list_problems",
    "retry_tuple",
    "stacked_decorator_error",
    "template_option_problems",
]

P = ParamSpec("P")
R = TypeVar("R")

LAMBDA_INVOKE: Final = "arn:aws:states:::lambda:invoke"
WAIT_FOR_TASK_TOKEN: Final = ".waitForTaskToken"
TASK_TOKEN: Final = "$$.Task.Token"
ALL: Final = "States.ALL"

Role = Literal["step", "compensation", "failure handler", "branch step", "item step"]
"""Where a step sits: forward step, compensation, failure handler, step of a parallel group,
or step of a for-each group (run once per item)."""


@dataclass(frozen=True)
class LambdaInvoke:
    """Export a Python action as ``arn:aws:states:::lambda:invoke`` with this ``FunctionName``.

    The state's ``Parameters`` are ``{"FunctionName": ..., "Payload.$": "$"}`` (or the step's
    ``parameters`` as ``Payload``). AWS wraps the function's return value in a response object;
    the compiled machine unwraps it with a Pass state named ``"<step> (unwrap Payload)"`` that
    reads ``<result_path>.Payload`` back into ``result_path``, so the step's result is the
    function's return value both locally and on AWS (``result_selector`` is applied there, to
    the return value).

    With ``wait_for_task_token=True`` the step is a callback: the resource is
    ``lambda:invoke.waitForTaskToken``, the function receives ``{"input": <state input>,
    "taskToken": <$$.Task.Token>}`` (or the step's ``parameters``, which must then pass
    ``JsonPath("$$.Task.Token")``), and the step's result is the output of the
    ``SendTaskSuccess`` that answers the token — not the function's return value, so nothing
    is unwrapped.
    """

    function_name: str
    wait_for_task_token: bool = False


Action: TypeAlias = Callable[..., Any] | Integration
"""What a step runs: a Python callable or a service integration."""


class TaskOptions(TypedDict, total=False):
    """Options every kind of step takes (see :class:`Step` for their meaning)."""

    resource: str | LambdaInvoke
    retry: Sequence[Retry]
    timeout: int
    heartbeat: int
    input_path: str | None
    parameters: Template
    result_selector: Template
    result_path: str | None
    comment: str


class StepOptions(TaskOptions, total=False):
    """Options of a forward step (and of a parallel group, except the Task-only ones)."""

    when: Condition
    error_path: str | None
    compensate_on: Sequence[ErrorSpec]
    fail_fast_on: Sequence[ErrorSpec]
    compensate_self: bool


class CompensationOptions(TaskOptions, total=False):
    """Options of a compensation."""

    error_path: str | None


class FailureHandlerOptions(TaskOptions, total=False):
    """Options of a failure handler (run after the compensations, before the Fail state)."""

    error_path: str | None
    continue_on_error: bool


_TASK_KEYS: Final = frozenset(TaskOptions.__annotations__)
_ALLOWED: Final[dict[Role, frozenset[str]]] = {
    "step": _TASK_KEYS | {"when", "error_path", "compensate_on", "fail_fast_on", "compensate_self"},
    "compensation": _TASK_KEYS | {"error_path"},
    "failure handler": _TASK_KEYS | {"error_path", "continue_on_error"},
    "branch step": _TASK_KEYS,
    "item step": _TASK_KEYS,
}
_PLACEHOLDER = re.compile(r"^\$\{(?P<name>[A-Za-z0-9_.:-]+)\}$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"
)
_WORD = re.compile(r"[A-Za-z0-9]+")


class Unset:
    """The type of :data:`UNSET`: an option that was not given (``None`` means JSON null)."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Final = Unset()


def pascal_case(name: str) -> str:
    """``"Reserve Booking"`` → ``"ReserveBooking"`` (letters and digits only)."""
    return "".join(word[0].upper() + word[1:] for word in _WORD.findall(name))


def camel_case(name: str) -> str:
    """``"Reserve Booking"`` → ``"reserveBooking"``."""
    pascal = pascal_case(name)
    return pascal[:1].lower() + pascal[1:]


class Step:
    """One Task of a saga, as declared; compiled by :meth:`saga.Saga.to_state_machine`.

    Attributes hold the resolved options: ``result_path`` and ``error_path`` are the ASL
    ``ResultPath`` of the state and of its catcher (``None`` writes ``null``: the input passes
    through unchanged / the error is dropped).
    Defaults: a forward step stores its result at ``$.<stepNameInCamelCase>`` and a failure at
    the saga's ``error_path`` (``$.error``); a compensation discards its result and records
    its own failure at ``$.<nameInCamelCase>Error``; a failure handler stores its result at
    ``$.<name>`` and its failure at ``$.<name>Error``; a step of a parallel group returns its
    result as its branch's output (``$``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        _changed(self.__dict__.get("saga"))

    def __init__(
        self,
        saga: SagaDeclaration,
        name: str,
        role: Role,
        action: object,
        options: Mapping[str, Any],
    ) -> None:
        self.saga = saga
        self.name = name
        self.role: Role = role
        self.group: ParallelGroup | ForEach | None = None
        self.compensation: Step | None = None
        self.compensates: Step | None = None
        self.child: SagaDeclaration | None = None
        check_name(name, role)
        _check_option_names(name, role, options)
        if role == "step":
            problems = catch_problems(
                options.get("compensate_on"), options.get("fail_fast_on"), set(options)
            )
            if problems:
                raise _fail(f"{role} {name!r}", name, "; ".join(problems))
        self.action: Action = _action_of(name, role, action)
        if isinstance(action, Step) and "resource" not in options and action.resource is not None:
            options = {**options, "resource": action.resource}
        self.resource: str | LambdaInvoke | None = _resource_of(name, role, self.action, options)
        self.retry: tuple[Retry, ...] = retry_tuple(options.get("retry", ()))
        self.timeout: int | None = options.get("timeout")
        self.heartbeat: int | None = options.get("heartbeat")
        self.input_path: str | Unset | None = options.get("input_path", UNSET)
        self.parameters: Template | Unset = options.get("parameters", UNSET)
        self.result_selector: Template | Unset = options.get("result_selector", UNSET)
        self.comment: str | None = options.get("comment")
        self.result_path_is_default = "result_path" not in options
        self.result_path: str | None = options.get("result_path", _default_result_path(name, role))
        self.error_path: str | None = options.get(
            "error_path", _default_error_path(saga, name, role)
        )
        self.compensate_on: tuple[str, ...] = (
            (tuple(error_names(options["compensate_on"])) if "compensate_on" in options else (ALL,))
            if role == "step"
            else ()
        )
        self.fail_fast_on: tuple[str, ...] = tuple(error_names(options.get("fail_fast_on", ())))
        self.compensate_self: bool = options.get("compensate_self", False)
        self.continue_on_error: bool = options.get("continue_on_error", True)
        self.when: Condition | None = options.get("when")
        _check_options(self, options)

    @property
    def label(self) -> str:
        """How messages refer to this step: ``step 'Reserve Booking'``."""
        return f"{self.role} {self.name!r}"

    @property
    def python_action(self) -> Callable[..., Any] | None:
        """The Python callable this step runs, or ``None`` for a service integration."""
        return None if isinstance(self.action, Integration) else self.action

    @property
    def resource_arn(self) -> str:
        """The Task's ``Resource`` as exported."""
        if isinstance(self.action, Integration):
            return self.action.resource
        if isinstance(self.resource, LambdaInvoke):
            wait = self.resource.wait_for_task_token
            return LAMBDA_INVOKE + (WAIT_FOR_TASK_TOKEN if wait else "")
        assert self.resource is not None
        return self.resource

    @property
    def handler_key(self) -> str | None:
        """The key of this step's Python action in :meth:`saga.Saga.handlers` (None if none)."""
        if isinstance(self.action, Integration):
            return None
        target = (
            self.resource.function_name
            if isinstance(self.resource, LambdaInvoke)
            else self.resource
        )
        assert target is not None
        match = _PLACEHOLDER.match(target)
        return match["name"] if match else target

    @property
    def when_state(self) -> str:
        """The Choice before a conditional step (``when=``) that runs or skips it."""
        return f"{self.name} (when)"

    @property
    def skipped_state(self) -> str:
        """The Pass ending the execution when the last step, conditional, is skipped."""
        return f"{self.name} (skipped)"

    @property
    def if_ran_state(self) -> str:
        """The Choice before the compensation of a conditional step: it runs only if the
        step's condition held (the step ran)."""
        return f"{self.name} (if ran)"

    @property
    def unwraps_payload(self) -> bool:
        """Whether a Pass state unwraps a ``lambda:invoke`` response after this step."""
        return (
            isinstance(self.resource, LambdaInvoke)
            and not self.resource.wait_for_task_token
            and self.result_path is not None
        )

    @property
    def is_callback(self) -> bool:
        """Whether the step hands out a task token and waits for its answer."""
        return self.resource_arn.endswith(WAIT_FOR_TASK_TOKEN)

    @property
    def unwrap_state_name(self) -> str:
        """The name of the Pass state that unwraps this step's ``lambda:invoke`` response."""
        return f"{self.name} (unwrap Payload)"

    @overload
    def compensate(
        self, name: str, action: Callable[P, R], /, **options: Unpack[CompensationOptions]
    ) -> StepFunction[P, R]: ...
    @overload
    def compensate(
        self, name: str, action: Integration | Step, /, **options: Unpack[CompensationOptions]
    ) -> Step: ...
    @overload
    def compensate(
        self, name: str, /, **options: Unpack[CompensationOptions]
    ) -> Callable[[Callable[P, R]], StepFunction[P, R]]: ...
    def compensate(self, name: str, action: object = None, /, **options: Any) -> Any:
        """Declare this step's compensation; use as a decorator when ``action`` is omitted."""
        check_name(name, "compensation")
        return self.saga._compensation(self, name, action, options)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"


class StepFunction(Step, Generic[P, R]):
    """A step whose action is a Python function; calling it calls the function (for tests)."""

    action: Callable[P, R]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.action(*args, **kwargs)


class NestedSaga:
    """The base of a saga's declaration (:class:`~saga.declaration.SagaDeclaration`, hence
    :class:`~saga.saga.Saga`): a step whose action is one runs it as a nested execution.

    It lives here, below the declaration, so that a step can tell a saga from other actions
    without importing the module that declares sagas. Nothing else derives from it.
    """

    __slots__ = ()


def _is_saga(action: object) -> TypeGuard[SagaDeclaration]:
    """Whether ``action`` is a saga (only :class:`~saga.declaration.SagaDeclaration` derives
    from :class:`NestedSaga`)."""
    return isinstance(action, NestedSaga)


def new_step(
    saga: SagaDeclaration, name: str, role: Role, action: object, options: Mapping[str, Any]
) -> Step:
    """A :class:`Step`, or a :class:`StepFunction` when its action is a Python callable."""
    if _is_saga(action):
        return _child_step(saga, name, role, action, options)
    action_of = action.action if isinstance(action, Step) else action
    cls = Step if isinstance(action_of, Integration) else StepFunction
    return cls(saga, name, role, action, options)


def child_arn_placeholder(child: SagaDeclaration) -> str:
    """The placeholder of a child saga's state machine ARN in its parent's definition."""
    return f"{pascal_case(child.name)}StateMachineArn"


def _child_step(
    saga: SagaDeclaration,
    name: str,
    role: Role,
    child: SagaDeclaration,
    options: Mapping[str, Any],
) -> Step:
    """A step that runs ``child`` as a nested execution (``startExecution.sync:2``)."""
    from saga.integrations import states
    from saga.templates import JsonPath

    if child is saga:
        raise _fail(f"{role} {name!r}", name, "a saga cannot be a step of itself")
    integration = states.start_execution(
        state_machine_arn=f"${{{child_arn_placeholder(child)}}}", input=JsonPath("$")
    )
    step = Step(saga, name, role, integration, options)
    step.child = child
    return step


def _fail(step_label: str, name: str, problem: str) -> SagaDefinitionError:
    return SagaDefinitionError(f"{step_label}: {problem}", step=name)


_DECORATORS: Final[dict[Role, str]] = {
    "step": "@saga.step",
    "compensation": "@step.compensate",
    "failure handler": "@saga.on_failure",
    "branch step": "@group.step",
    "item step": "@items.step",
}


def check_name(name: object, role: Role) -> None:
    """Reject a missing, non-string, blank or too long state name (and a bare decorator)."""
    if callable(name):
        raise SagaDefinitionError(
            f"{role} {getattr(name, '__name__', name)!r}: the first argument is the state name; "
            f'write {_DECORATORS[role]}("State Name", ...) with parentheses'
        )
    if not isinstance(name, str) or not name.strip():
        raise SagaDefinitionError(
            f"{role} name {name!r}: give every {role} a non-empty string name"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise _fail(
            f"{role} {name!r}",
            name,
            f"the name is {len(name)} characters long; Step Functions allows at most "
            f"{MAX_NAME_LENGTH}, so shorten it",
        )


def _changed(saga: SagaDeclaration | None) -> None:
    """Tell ``saga`` (when known yet) that one of its parts changed."""
    if saga is not None:
        saga._changed()


class StepAdder:
    """A container steps are added to, ``add.step(name, action)`` or ``@add.step(name)``.

    Subclasses name the role of their steps and append a made step in :meth:`_add_step`; the
    name check and the refusal of stacked decorators are shared.
    """

    _step_role: Role

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        owner = self.__dict__.get("saga") or getattr(self.__dict__.get("group"), "saga", None)
        _changed(owner)

    @overload
    def step(
        self, name: str, action: Callable[P, R], /, **options: Unpack[TaskOptions]
    ) -> StepFunction[P, R]: ...
    @overload
    def step(
        self, name: str, action: Integration | Step, /, **options: Unpack[TaskOptions]
    ) -> Step: ...
    @overload
    def step(
        self, name: str, /, **options: Unpack[TaskOptions]
    ) -> Callable[[Callable[P, R]], StepFunction[P, R]]: ...
    def step(self, name: str, action: object = None, /, **options: Any) -> Any:
        """Add a step; as a decorator when ``action`` is omitted."""
        role = self._step_role
        check_name(name, role)
        decorating = action is None

        def add(action: object) -> Step:
            if decorating:
                error = stacked_decorator_error(role, name, action)
                if error is not None:
                    raise error
            return self._add_step(name, action, options)

        return add if decorating else add(action)

    def _add_step(self, name: str, action: object, options: Mapping[str, Any]) -> Step:
        raise NotImplementedError


def stacked_decorator_error(
    role: Role, name: str, action: object, compensates: Step | None = None
) -> SagaDefinitionError | None:
    """The error for a declaration that would bind a declared step's callable to a second role.

    A decorator receives a :class:`Step` only when decorators are stacked on one function
    (``@a.compensate("Undo A")`` above ``@saga.step("B")``): the new state would run the other
    step's action — undoing ``A`` would do ``B`` again. A compensation given a forward step
    directly is the same mistake.
    """
    if not isinstance(action, Step):
        return None
    function = getattr(action.python_action, "__name__", None) or repr(action.action)
    label = f"{role} {name!r}"
    consequence = (
        f", so undoing {compensates.label} would run {action.label} again"
        if compensates is not None
        else f", so it would run {action.label} again"
    )
    fix = (
        f'write @{_var_name(compensates)}.compensate("{name}") above a function of its own'
        if compensates is not None
        else f'write {_DECORATORS[role]}("{name}") above a function of its own'
    )
    return _fail(
        label,
        name,
        f"the function {function} is already the action of {action.label} (decorators stacked "
        f"on one function){consequence}; {fix}",
    )


def _var_name(step: Step) -> str:
    name = getattr(step.python_action, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else "step"


def _check_option_names(name: str, role: Role, options: Mapping[str, Any]) -> None:
    allowed = _ALLOWED[role]
    for key in options:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, sorted(allowed), n=1)
        if close:
            hint = f"did you mean {close[0]!r}?"
        else:
            other = [r for r, keys in _ALLOWED.items() if key in keys]
            hint = (
                f"it applies to a {' or '.join(other)} only"
                if other
                else f"use one of {', '.join(sorted(allowed))}"
            )
        raise _fail(f"{role} {name!r}", name, f"unknown option {key!r}; {hint}")


def _action_of(name: str, role: Role, action: object) -> Action:
    label = f"{role} {name!r}"
    if isinstance(action, Step):
        return action.action
    if isinstance(action, Integration):
        return action
    if isinstance(action, type) or not callable(action):
        raise _fail(
            label,
            name,
            f"its action {action!r} is neither a function nor a service integration; pass a "
            "function taking the event (and optionally a Lambda context), or an integration "
            "such as dynamodb.update_item(...)",
        )
    try:
        inspect.signature(action).bind(None)
    except TypeError:
        try:
            inspect.signature(action).bind(None, None)
        except TypeError:
            raise _fail(
                label,
                name,
                f"its action {getattr(action, '__qualname__', action)!r} cannot be called with "
                "the event; it must accept (event) or (event, context)",
            ) from None
    except ValueError:
        pass  # builtins without a signature: trust them
    return action


def _resource_of(
    name: str, role: Role, action: Action, options: Mapping[str, Any]
) -> str | LambdaInvoke | None:
    label = f"{role} {name!r}"
    resource = options.get("resource")
    if isinstance(action, Integration):
        if resource is not None:
            raise _fail(
                label,
                name,
                f"its action is the {action.service} integration, exported as {action.resource}; "
                "drop resource=",
            )
        if "parameters" in options:
            raise _fail(
                label,
                name,
                "a service integration carries its own parameters; pass them to the "
                "integration instead of parameters=",
            )
        return None
    if resource is None:
        derived = pascal_case(name)
        if not derived:
            raise _fail(
                label,
                name,
                "its Python action cannot be exported: no placeholder can be derived from the "
                "name; give resource='${FunctionName}', a Lambda ARN or LambdaInvoke('name')",
            )
        return f"${{{derived}}}"
    if isinstance(resource, LambdaInvoke):
        if not isinstance(resource.function_name, str) or not resource.function_name:
            raise _fail(label, name, "LambdaInvoke needs a non-empty function name")
        return resource
    if isinstance(resource, str) and (_PLACEHOLDER.match(resource) or _LAMBDA_ARN.match(resource)):
        return resource
    if resource == LAMBDA_INVOKE:
        raise _fail(
            label,
            name,
            f"resource {LAMBDA_INVOKE!r} needs a function name; use "
            "resource=LambdaInvoke('function-name')",
        )
    raise _fail(
        label,
        name,
        f"its Python action cannot be exported as resource {resource!r}: a Python action runs "
        "as a Lambda function, so use resource='${Placeholder}', a Lambda function ARN "
        "('arn:aws:lambda:REGION:ACCOUNT:function:NAME'), or LambdaInvoke('function-name')",
    )


def _default_result_path(name: str, role: Role) -> str | None:
    if role == "compensation":
        return None
    if role == "branch step":
        return "$"
    return f"$.{camel_case(name)}"


def _default_error_path(saga: SagaDeclaration, name: str, role: Role) -> str | None:
    if role == "step":
        return saga.error_path
    return f"$.{camel_case(name)}Error"


def _check_options(step: Step, options: Mapping[str, Any]) -> None:
    problems: list[str] = []
    problems += _retry_problems(step, options)
    problems += _seconds_problems(step)
    problems += _path_problems(step, options)
    problems += template_option_problems(step)
    problems += _catch_problems(step, options)
    for flag in ("compensate_self", "continue_on_error"):
        if flag in options and not isinstance(options[flag], bool):
            problems.append(f"{flag} is {options[flag]!r}; use True or False")
    if "comment" in options and not isinstance(options["comment"], str):
        problems.append("comment must be a string")
    problems += _callback_problems(step)
    if "when" in options and not isinstance(options["when"], Condition):
        problems.append(
            f"when is {options['when']!r}; use a condition such as equals('$.insurance', True) "
            "from saga.conditions"
        )
    if problems:
        raise _fail(step.label, step.name, "; ".join(problems))


def _mentions_token(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_mentions_token(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions_token(v) for v in value)
    text = getattr(value, "expression", value)
    return isinstance(text, str) and TASK_TOKEN in text


def _callback_problems(step: Step) -> list[str]:
    """A callback step must hand its token out, or nobody can ever answer it."""
    if not step.is_callback:
        return []
    problems: list[str] = []
    if isinstance(step.action, Integration):
        if not _mentions_token(step.action.parameters):
            problems.append(
                "it waits for a task token (wait_for_task_token=True) but its parameters never "
                f'pass it on, so nobody could answer; include JsonPath("{TASK_TOKEN}") in the '
                "message"
            )
    elif not isinstance(step.parameters, Unset) and not _mentions_token(step.parameters):
        problems.append(
            "it waits for a task token but its parameters never pass it on; include "
            f'JsonPath("{TASK_TOKEN}") (the default payload carries it as "taskToken")'
        )
    return problems


def retry_list_problems(retry: object, service_prefix: str | None) -> list[str]:
    """Problems of a ``retry=`` list (shared by steps and parallel groups)."""
    if isinstance(retry, Retry):
        return ["retry is a single Retry; put it in a list: retry=[Retry(...)]"]
    if not isinstance(retry, Sequence) or isinstance(retry, str):
        return ["retry must be a list of Retry(...)"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, retrier in enumerate(retry, start=1):
        where = f"retrier {index}"
        if not isinstance(retrier, Retry):
            problems.append(f"{where} is {retrier!r}; use Retry(error, ...)")
            continue
        problems += [f"{where}: {p}" for p in retrier.problems()]
        names = [error_name(e) for e in retrier.errors if isinstance(e, str | type)]
        if ALL in names and index != len(retry):
            problems.append(
                f"{where} lists States.ALL but is not the last retrier; move it to the end"
            )
        for error in names:
            if error in seen:
                problems.append(
                    f"{where} lists {error!r}, which retrier {seen[error]} already matches (only "
                    "the first matching retrier applies); list each error once"
                )
            seen.setdefault(error, index)
        problems += _prefix_problems(names, service_prefix, where)
    return problems


def _prefix_problems(names: Sequence[str], prefix: str | None, where: str) -> list[str]:
    if prefix is None:
        return []
    return [
        f"{where}: {name!r} never matches: Step Functions names this integration's errors "
        f"'{prefix}.<Code>'; write '{prefix}.{name}'"
        for name in names
        if not name.startswith(("States.", f"{prefix}."))
    ]


def retry_tuple(retry: object) -> tuple[Retry, ...]:
    """``retry=`` as a tuple (empty when it is not a list; the checks report that)."""
    if isinstance(retry, Sequence) and not isinstance(retry, str):
        return tuple(retry)
    return ()


def _retry_problems(step: Step, options: Mapping[str, Any]) -> list[str]:
    prefix = step.action.error_prefix if isinstance(step.action, Integration) else None
    return retry_list_problems(options.get("retry", ()), prefix)


def _seconds_problems(step: Step) -> list[str]:
    problems: list[str] = []
    for name in ("timeout", "heartbeat"):
        value = getattr(step, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{name} is {value!r}; use a whole number of seconds, at least 1")
    if (
        isinstance(step.heartbeat, int)
        and isinstance(step.timeout, int)
        and step.heartbeat >= step.timeout
    ):
        problems.append(
            f"heartbeat ({step.heartbeat}) must be shorter than timeout ({step.timeout}); "
            "lower heartbeat or raise timeout"
        )
    return problems


def path_problems(name: str, value: object, *, result: bool) -> list[str]:
    """Problems of an InputPath (``result=False``) or a ResultPath-like option."""
    if value is None or isinstance(value, Unset):
        return []
    valid = is_valid_result_path(value) if result else is_valid_path(value)
    if valid:
        return []
    kind = (
        "a reference path into the state data such as '$.name'"
        if result
        else "a JSONPath such as '$.order'"
    )
    return [f"{name} is {value!r}; use {kind} (or None)"]


def _path_problems(step: Step, options: Mapping[str, Any]) -> list[str]:
    problems = path_problems("input_path", step.input_path, result=False)
    problems += path_problems("result_path", step.result_path, result=True)
    problems += path_problems("error_path", step.error_path, result=True)
    if step.result_path is None and not isinstance(step.result_selector, Unset):
        problems.append("result_selector has no effect with result_path=None; drop one of them")
    if step.result_path_is_default and step.result_path is not None and step.result_path == "$.":
        problems.append("no result path can be derived from the name; give result_path=")
    return problems


def template_option_problems(unit: Step | ParallelGroup | ForEach) -> list[str]:
    """Problems of ``parameters`` and ``result_selector`` (shared by steps and parallel groups)."""
    problems: list[str] = []
    for name in ("parameters", "result_selector"):
        value = getattr(unit, name)
        if isinstance(value, Unset):
            continue
        if not isinstance(value, Mapping):
            problems.append(f"{name} must be a JSON object (a dict), got {type(value).__name__}")
            continue
        problems += template_problems(value, name)
    return problems


def catch_problems(compensate_on: object, fail_fast_on: object, has: set[str]) -> list[str]:
    """Problems of a step's catch routing (shared by steps and parallel groups)."""
    problems: list[str] = []
    comp: list[str] = []
    fast: list[str] = []
    if "compensate_on" in has:
        if isinstance(compensate_on, str) or not isinstance(compensate_on, Sequence):
            problems.append("compensate_on must be a list of errors")
        elif compensate_on:
            problems += error_problems(compensate_on, "compensate_on")
            comp = [error_name(e) for e in compensate_on if isinstance(e, str | type)]
    else:
        comp = [ALL]
    if "fail_fast_on" in has:
        if isinstance(fail_fast_on, str) or not isinstance(fail_fast_on, Sequence):
            problems.append("fail_fast_on must be a list of errors")
        elif fail_fast_on:
            problems += error_problems(fail_fast_on, "fail_fast_on")
            fast = [error_name(e) for e in fail_fast_on if isinstance(e, str | type)]
    if ALL in fast and comp:
        problems.append(
            "fail_fast_on lists States.ALL, a catch-all that would come before the compensate_on "
            f"catcher ({', '.join(comp)}); a catch-all must be the last catcher: drop it from "
            "fail_fast_on (errors not in compensate_on already fail the execution without "
            "compensation), or set compensate_on=[]"
        )
        return problems
    reserved = [name for name in fast if name.startswith("States.")]
    if reserved:
        problems.append(
            f"fail_fast_on lists {', '.join(reserved)}, but the fail-fast Fail state cannot "
            "re-raise a reserved States.* name; list custom errors only (to fail on "
            f"{reserved[0]} without compensation, leave it out of compensate_on instead)"
        )
        return problems
    both = sorted(set(comp) & set(fast))
    if both:
        problems.append(
            f"{', '.join(both)} is in both fail_fast_on and compensate_on; list it in one of them"
        )
    return problems


def _catch_problems(step: Step, options: Mapping[str, Any]) -> list[str]:
    if step.role != "step":
        return []
    problems: list[str] = []
    prefix = step.action.error_prefix if isinstance(step.action, Integration) else None
    problems += _prefix_problems(
        [e for e in (*step.compensate_on, *step.fail_fast_on) if e != ALL], prefix, "catch"
    )
    return problems
