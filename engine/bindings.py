"""Binding a Task's ``Resource`` to what runs it: Python handlers, built-in integrations, mocks."""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from engine.clock import Clock
from engine.errors import RUNTIME, StatesError, error_name_of
from engine.inline_steps import ctrl_c, run_inline, runs_inline
from engine.lambda_runtime import (
    Invocation,
    LambdaContext,
    bound_cause,
    bound_error,
    call_step,
    failure_of,
    invoke,
    takes_context,
)
from engine.lambda_shapes import (
    LAMBDA_INVOKE,
    ResourceInfo,
    activity_name,
    classify_resource,
    deployed_timeout,
    function_timed_out,
    lambda_function_name,
    lambda_invoke_response,
    lambda_log_tail,
    placeholder_name,
    placeholder_names,
    request_id_for,
)
from engine.limits import MAX_PAYLOAD_BYTES, data_limit_error
from engine.step_threads import StepTimedOut, run_on_step_thread

__all__ = [
    "CallNext",
    "Handler",
    "Interceptor",
    "LambdaContext",
    "LambdaInvokeBinding",
    "PythonBinding",
    "StateMocker",
    "TaskBinding",
    "TaskRequest",
    "UnboundResourceBinding",
    "call_handler",
    "invoke_handler",
    "chain_interceptors",
    "in_engine_loop",
    "is_mocked",
    "resolve_binding",
    "returns_fresh_json",
    "function_time_limit",
    "unavailable_reason",
    "task_error",
]

Handler = Callable[..., Any]
"""``event -> result`` (sync or async), or ``(event, context) -> result`` like a Lambda handler."""

_T = TypeVar("_T")
_H = TypeVar("_H", bound=Callable[..., Any])
_R = TypeVar("_R")
_PARTIAL_FUNCTION = re.compile(r"(?:^|:)function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")


@dataclass(frozen=True, init=False)
class TaskRequest:
    """One invocation of a Task state's resource, as the interpreter hands it to a binding.

    ``clock`` is the execution's clock, for bindings and interceptors that wait (an injected hang).
    """

    state_name: str
    resource: str
    payload: Any
    context: dict[str, Any] = field(default_factory=dict)
    attempt: int = 0
    invocation: int = 0
    timeout_seconds: float | None = None
    execution_name: str = ""
    clock: Clock | None = None
    on_submitted: Callable[[Any], None] | None = None
    """For ``.sync`` resources: record ``TaskSubmitted`` with the job's start response."""

    def __init__(  # noqa: PLR0917 - the dataclass's own signature
        self,
        state_name: str,
        resource: str,
        payload: Any,
        context: dict[str, Any] | None = None,
        attempt: int = 0,
        invocation: int = 0,
        timeout_seconds: float | None = None,
        execution_name: str = "",
        clock: Clock | None = None,
        on_submitted: Callable[[Any], None] | None = None,
    ) -> None:
        # One write of the instance dict instead of a frozen ``__setattr__`` bypass per field
        # (the generated ``__init__``): one request is made per task attempt.
        self.__dict__.update(
            state_name=state_name,
            resource=resource,
            payload=payload,
            context={} if context is None else context,
            attempt=attempt,
            invocation=invocation,
            timeout_seconds=timeout_seconds,
            execution_name=execution_name,
            clock=clock,
            on_submitted=on_submitted,
        )


@runtime_checkable
class TaskBinding(Protocol):
    """Runs a Task's resource; failures raise ``StatesError(error, cause)``."""

    async def invoke(self, request: TaskRequest) -> Any:
        """Run the task and return its raw result (before ResultSelector/ResultPath)."""
        ...


CallNext = Callable[[TaskRequest], Awaitable[Any]]


@runtime_checkable
class Interceptor(Protocol):
    """Wraps task invocations: fault injection, mock configs, recording."""

    async def __call__(self, request: TaskRequest, call_next: CallNext) -> Any:
        """Return a result, raise ``StatesError``, or delegate to ``call_next(request)``."""
        ...


@runtime_checkable
class StateMocker(Protocol):
    """An interceptor that answers for some states itself, so their resources need no binding."""

    def mocks_state(self, state_name: str) -> bool:
        """Whether every invocation of ``state_name`` is answered without calling through."""
        ...


_IN_ENGINE_LOOP = "_saga_in_engine_loop"
_UNAVAILABLE = "_saga_unavailable"


def in_engine_loop(handler: _H, *, unavailable: Callable[[], str | None] | None = None) -> _H:
    """Mark an async handler that belongs to the engine itself (an activity's task queue).

    It is awaited on the engine's own event loop, outside Lambda's runtime contract, because it
    waits on the engine's objects; a user's step never needs this. ``unavailable`` says why
    the handler cannot take a task right now (an activity that does not exist), or None: see
    :func:`unavailable_reason`.
    """
    setattr(handler, _IN_ENGINE_LOOP, True)
    if unavailable is not None:
        setattr(handler, _UNAVAILABLE, unavailable)
    return handler


def unavailable_reason(call: CallNext) -> str | None:
    """Why the engine handler ``call`` ends in cannot take a task now, or None.

    Asked before a task is scheduled: AWS fails the execution with ``States.Runtime`` before
    ``ActivityScheduled`` when the activity a Task names does not exist.
    """
    while isinstance(call, functools.partial) and call.func is _intercept:
        call = call.args[1]
    binding = getattr(call, "__self__", None)
    if not isinstance(binding, PythonBinding):
        return None
    check: Callable[[], str | None] | None = getattr(binding.handler, _UNAVAILABLE, None)
    return check() if check is not None else None


async def _invoke_in_engine_loop(
    handler: Handler, event: Any, context: LambdaContext, *, lambda_resource: bool
) -> Any:
    try:
        result = handler(event, context) if takes_context(handler) else handler(event)
        return await result if inspect.isawaitable(result) else result
    except Exception as exc:
        raise task_error(exc, lambda_resource=lambda_resource) from exc


async def _invoke_bound(
    handler: Handler,
    event: Any,
    context: LambdaContext,
    *,
    lambda_resource: bool,
    limit: float | None = None,
    clock: Clock | None = None,
) -> Invocation | Any:
    """The invocation of a user's step, or the result of an engine handler (see above).

    ``limit``: the step's function times out after that many seconds of ``clock``.
    """
    if getattr(handler, _IN_ENGINE_LOOP, False):
        return await _invoke_in_engine_loop(
            handler, event, context, lambda_resource=lambda_resource
        )
    return await invoke_handler(
        handler, event, context, context.aws_request_id, limit=limit, clock=clock
    )


async def _run_step(
    function: Callable[[], _R],
    handler: Handler,
    limit: float | None = None,
    clock: Clock | None = None,
) -> _R:
    """Run a step's call on a step thread, or here when the step is marked inline.

    Past ``limit`` seconds of ``clock`` the step is abandoned (:class:`StepTimedOut`); a step
    run here cannot be interrupted, so it is checked when it returns.
    """
    if runs_inline(handler):
        began = clock.time() if limit is not None and clock is not None else 0.0
        # No checkpoint first: a stop or timeout reaches this execution at its next await,
        # and the interpreter yields every few transitions, so a loop of these still ends.
        # On the engine's thread an interrupt is Ctrl-C aimed at the engine: it stops it,
        # whether it escapes the call or Lambda's runtime caught it as the step's exit.
        try:
            result = run_inline(function)
        except KeyboardInterrupt as interrupt:
            await ctrl_c(interrupt)
        if isinstance(result, Invocation) and isinstance(result.exception, KeyboardInterrupt):
            await ctrl_c(result.exception)
        if limit is not None and clock is not None and clock.time() - began >= limit:
            raise StepTimedOut(limit)
        return result
    return await run_on_step_thread(function, handler, limit=limit, clock=clock)


async def call_handler(handler: Handler, event: Any, context: LambdaContext) -> Any:
    """Call a handler of any supported kind on a daemon thread and return its raw result.

    Async handlers run on an event loop of their own in that thread, so a step that blocks
    its loop (``time.sleep``) or spins the CPU still times out. A step marked with
    :func:`~engine.inline_steps.inline_step` runs on the engine's thread instead.
    """
    return await _run_step(functools.partial(call_step, handler, event, context), handler)


async def invoke_handler(
    handler: Handler,
    event: Any,
    context: LambdaContext,
    request_id: str,
    *,
    limit: float | None = None,
    clock: Clock | None = None,
) -> Invocation:
    """Invoke a handler under Lambda's Python runtime contract on a daemon thread (or on the
    engine's thread, for a step marked inline).

    Past ``limit`` seconds of ``clock`` (its function's timeout) the invocation fails as
    Lambda fails it then, with ``Sandbox.Timedout``, and the step is abandoned.
    """
    try:
        return await _run_step(
            functools.partial(invoke, handler, event, context, request_id=request_id),
            handler,
            limit,
            clock,
        )
    except StepTimedOut as exc:
        return Invocation(function_timed_out(request_id, exc.seconds), "Sandbox.Timedout")


def task_error(exc: Exception, *, lambda_resource: bool, request_id: str = "") -> StatesError:
    """The ``StatesError`` a handler's exception becomes.

    The name is the exception's ``error_name`` or class name; for Lambda resources the cause is
    the error document Lambda's Python runtime reports, otherwise the exception's message.
    """
    if isinstance(exc, StatesError):
        return exc
    if lambda_resource:
        outcome = failure_of(exc, request_id)
        return StatesError(outcome.error(), outcome.cause())
    return StatesError(bound_error(error_name_of(exc)), bound_cause(_message(exc)))


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__} object>"


def _outcome_error(outcome: Invocation, *, lambda_resource: bool) -> StatesError:
    """The ``StatesError`` of a failed invocation (a handler's ``StatesError`` passes through)."""
    if isinstance(outcome.exception, StatesError):
        return outcome.exception
    if lambda_resource:
        return StatesError(outcome.error(), outcome.cause())
    return StatesError(outcome.error(), bound_cause(outcome.error_message()))


def _decoded(outcome: Invocation, state_name: str, source: str) -> Any:
    """The function's result decoded from its response text.

    A response over the payload limit fails the task with ``States.DataLimitExceeded`` (naming
    ``source``, as AWS does) before it is read, so a long text that is not JSON fails that way
    too, and a Catch can handle it.
    """
    if len(outcome.payload) * 4 > MAX_PAYLOAD_BYTES and payload_bytes(outcome) > MAX_PAYLOAD_BYTES:
        raise data_limit_error(source)
    try:
        return outcome.result()
    except ValueError:
        text = outcome.payload[:200]
        raise StatesError(
            RUNTIME, f"The state '{state_name}' produced a value that is not JSON: {text!r}"
        ) from None


def payload_bytes(outcome: Invocation) -> int:
    """The size in bytes of a function's response text."""
    return len(outcome.payload.encode("utf-8", "surrogateescape"))


def _entered_time(request: TaskRequest) -> datetime | None:
    state = request.context.get("State")
    entered = state.get("EnteredTime") if isinstance(state, Mapping) else None
    if isinstance(entered, datetime):
        return entered
    if isinstance(entered, str):
        try:
            return datetime.fromisoformat(entered.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _make_context(
    request: TaskRequest, function_name: str, arn: str | None, function_timeout: int | None = None
) -> LambdaContext:
    """The step's Lambda context: its remaining time counts down to its function's timeout
    when that is known (as on AWS), else to the state's ``TimeoutSeconds``."""
    request_id = request_id_for(request.execution_name, request.state_name, request.invocation)
    return LambdaContext(
        function_name,
        request_id,
        request.timeout_seconds if function_timeout is None else function_timeout,
        invoked_function_arn=arn if arn and arn.startswith("arn:") else None,
    )


def _limit(request: TaskRequest, function_timeout: int | None) -> float | None:
    """When the step's function times out, unless the state's own ``TimeoutSeconds`` comes
    first (Step Functions' timer starts before the function's)."""
    if function_timeout is None:
        return None
    state_timeout = request.timeout_seconds
    if state_timeout is not None and state_timeout <= function_timeout:
        return None
    return float(function_timeout)


def function_time_limit(call: CallNext, request: TaskRequest) -> float | None:
    """Seconds after which the Lambda function ``call`` ends in times out for ``request``
    (see :class:`PythonBinding`), or None: not known, or the state's ``TimeoutSeconds`` comes
    first. Interceptors that stand in for the function (a hang) ask it of their ``call_next``.
    """
    while isinstance(call, functools.partial) and call.func is _intercept:
        call = call.args[1]
    binding = getattr(call, "__self__", None)
    if isinstance(binding, PythonBinding):
        return _limit(request, binding.function_timeout)
    if isinstance(binding, LambdaInvokeBinding):
        payload = request.payload
        name = payload.get("FunctionName") if isinstance(payload, dict) else None
        if isinstance(name, str):
            return _limit(request, _function_timeout(name, binding.function_timeouts))
    return None


class PythonBinding:
    """A Python handler bound to a resource; returns the handler's raw result.

    ``function_timeout``: the timeout of the Lambda function the step is deployed as, when
    known (a ``${Placeholder}`` resource, see :func:`~engine.lambda_shapes.deployed_timeout`).
    """

    def __init__(
        self,
        handler: Handler,
        *,
        lambda_resource: bool,
        function_name: str,
        function_timeout: int | None = None,
    ) -> None:
        self.handler = handler
        self.lambda_resource = lambda_resource
        self.function_name = function_name
        self.function_timeout = function_timeout
        self.fresh_results = not getattr(handler, _IN_ENGINE_LOOP, False)
        """Whether every result is decoded from the runtime's JSON text (a user's step), so
        nothing but the caller holds it; an engine handler's result is its own object."""

    async def invoke(self, request: TaskRequest) -> Any:
        """Invoke the handler on the effective input under Lambda's runtime contract."""
        timeout = self.function_timeout
        context = _make_context(request, self.function_name, request.resource, timeout)
        outcome = await _invoke_bound(
            self.handler,
            request.payload,
            context,
            lambda_resource=self.lambda_resource,
            limit=_limit(request, timeout),
            clock=request.clock,
        )
        if not isinstance(outcome, Invocation):
            return outcome
        if outcome.failed:
            raise _outcome_error(outcome, lambda_resource=self.lambda_resource)
        return _decoded(outcome, request.state_name, request.resource)


def _function_keys(function_name: str) -> tuple[list[str], str]:
    """Handler keys for a ``FunctionName`` (name, partial or full ARN), and the bare name."""
    keys = [function_name, *placeholder_names(function_name)]
    match = _PARTIAL_FUNCTION.search(function_name)
    if match is not None:
        name, qualifier = match["name"], match["qualifier"]
    elif ":" in function_name and not function_name.startswith("arn:"):
        name, _, qualifier = function_name.partition(":")
    else:
        name, qualifier = function_name, None
    if qualifier:
        keys.append(f"{name}:{qualifier}")
    keys += [name, *placeholder_names(name)]
    return list(dict.fromkeys(keys)), name


def _lookup(handlers: Mapping[str, Handler], keys: Sequence[str]) -> Handler | None:
    for key in keys:
        handler = handlers.get(key)
        if handler is not None:
            return handler
    return None


_MACHINE_ARN = re.compile(r"^arn:(?P<partition>[^:]+):states:(?P<region>[^:]+):(?P<account>[^:]+):")


def _function_arn(function_name: str, context: Mapping[str, Any]) -> str:
    """The ARN Lambda names a function by: a name (or ``account:function:name``) is placed in
    the execution's partition, region and account; an ARN stays as given."""
    if function_name.startswith("arn:"):
        return function_name
    partition, region, account = "aws", "us-east-1", "123456789012"
    machine = context.get("StateMachine")
    machine_id = machine.get("Id") if isinstance(machine, Mapping) else None
    match = _MACHINE_ARN.match(machine_id) if isinstance(machine_id, str) else None
    if match is not None:
        partition, region, account = match["partition"], match["region"], match["account"]
    partial = _PARTIAL_FUNCTION.search(function_name)
    if partial is not None:
        qualifier = partial["qualifier"]
        function_name = partial["name"] + (f":{qualifier}" if qualifier else "")
    return f"arn:{partition}:lambda:{region}:{account}:function:{function_name}"


def _function_not_found(function_arn: str, request_id: str) -> StatesError:
    """Lambda's answer for a function that does not exist; it names the version it looked
    for, ``$LATEST`` when the name has no qualifier (AWS recordings since late 2025)."""
    match = _PARTIAL_FUNCTION.search(function_arn)
    if match is not None and match["qualifier"] is None:
        function_arn += ":$LATEST"
    return StatesError(
        "Lambda.ResourceNotFoundException",
        f"Function not found: {function_arn} (Service: AWSLambda; Status Code: 404; "
        f"Error Code: ResourceNotFoundException; Request ID: {request_id}; Proxy: null)",
    )


def _compact_cause(error: StatesError) -> StatesError:
    """A function error as ``lambda:invoke`` reports it: the runtime's error document as compact
    JSON (the legacy Lambda resource keeps the runtime's own text)."""
    if error.cause is None:
        return error
    try:
        document = json.loads(error.cause)
    except ValueError:
        return error
    if not isinstance(document, dict):
        return error
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return StatesError(error.error, compact, aliases=error.aliases)


def _invoke_payload(payload: Any) -> Any:
    """The event a ``lambda:invoke`` Payload gives the function, as AWS recorded it.

    A null or absent Payload invokes with no body (the Python runtime's event is ``{}``); a
    string is sent as the request body itself, so JSON text arrives as the value it encodes
    (``"true"`` → ``true``, ``"\\"Hi\\""`` → ``"Hi"``); any other value as its JSON.
    """
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError:
            return payload
    return payload


class LambdaInvokeBinding:
    """``arn:aws:states:::lambda:invoke``: ``FunctionName`` picks the handler at call time.

    The handler receives the request's ``Payload`` and its result comes back wrapped as AWS
    wraps it (``Payload``, ``StatusCode``, ``Sdk*Metadata``). Handlers keyed by the resource
    itself answer for any function name not bound on its own.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        resource_keys: Sequence[str],
        function_timeouts: Mapping[str, int] | None = None,
    ) -> None:
        self.handlers = handlers
        self.resource_keys = tuple(resource_keys)
        self.function_timeouts = function_timeouts
        """Longest ``TimeoutSeconds`` by ``${Placeholder}`` (see :func:`resolve_binding`)."""

    def find(self, function_name: str) -> Handler | None:
        """The handler a ``FunctionName`` resolves to, if any.

        Tried in order: the name as given, its placeholder and function-name forms, a handler
        keyed by a Lambda ARN of the same function, then handlers keyed by the resource.
        """
        keys, name = _function_keys(function_name)
        handler = _lookup(self.handlers, keys)
        if handler is not None:
            return handler
        for key, candidate in self.handlers.items():
            function = lambda_function_name(key)
            if function is not None and function[0] == name:
                return candidate
        return _lookup(self.handlers, self.resource_keys)

    async def invoke(self, request: TaskRequest) -> Any:
        """Invoke the function named in the payload and wrap its result."""
        parameters = request.payload
        function_name = parameters.get("FunctionName") if isinstance(parameters, dict) else None
        if not isinstance(function_name, str) or not function_name:
            raise StatesError(
                RUNTIME,
                f"The resource '{request.resource}' of state '{request.state_name}' needs a "
                "string 'FunctionName' in its parameters.",
            )
        request_id = request_id_for(request.execution_name, request.state_name, request.invocation)
        handler = self.find(function_name)
        if handler is None:
            raise _function_not_found(_function_arn(function_name, request.context), request_id)
        event = _invoke_payload(parameters.get("Payload"))
        name = (lambda_function_name(function_name) or (function_name, None))[0]
        timeout = _function_timeout(function_name, self.function_timeouts)
        context = _make_context(request, name, function_name, timeout)
        invocation_type = parameters.get("InvocationType", "RequestResponse")
        if invocation_type == "DryRun":
            return {**lambda_invoke_response("", request_id, body=""), "StatusCode": 204}
        try:
            outcome = await _invoke_bound(
                handler,
                event,
                context,
                lambda_resource=True,
                limit=_limit(request, timeout),
                clock=request.clock,
            )
        except StatesError as exc:
            if invocation_type != "Event":
                raise _compact_cause(exc) from None
            outcome = None
        if invocation_type == "Event":
            return {**lambda_invoke_response("", request_id, body=""), "StatusCode": 202}
        body: str | None = None
        if not isinstance(outcome, Invocation):
            result = outcome
        elif outcome.failed:
            raise _compact_cause(_outcome_error(outcome, lambda_resource=True))
        else:
            result = _decoded(outcome, request.state_name, "lambda")
            body = outcome.payload
        tail = parameters.get("LogType") == "Tail"
        return lambda_invoke_response(
            result,
            request_id,
            date=_entered_time(request),
            body=body,
            log_result=lambda_log_tail(request_id) if tail else None,
        )


class UnboundResourceBinding:
    """Stands in for a resource nothing is bound to (e.g. a state a mock config answers)."""

    def __init__(self, state_name: str, resource: str) -> None:
        self.state_name = state_name
        self.resource = resource

    async def invoke(self, request: TaskRequest) -> Any:
        """Fail: the resource has no handler, integration or mock."""
        raise StatesError(
            RUNTIME,
            f"No handler is bound to resource '{self.resource}' of state '{self.state_name}'.",
        )


def _static_function_name(parameters: Any) -> str | None:
    if isinstance(parameters, Mapping):
        value = parameters.get("FunctionName")
        if isinstance(value, str):
            return value
    return None


def _function_timeout(reference: str, function_timeouts: Mapping[str, int] | None) -> int | None:
    """The timeout of the function a ``${Placeholder}`` reference is deployed as (None: not
    known here, e.g. a function's ARN)."""
    if function_timeouts is None:
        return None
    placeholder = placeholder_name(reference)
    if placeholder is None:
        return None
    return deployed_timeout(function_timeouts.get(placeholder))


def _resolve_lambda_invoke(
    info: ResourceInfo,
    handlers: Mapping[str, Handler],
    parameters: Any,
    function_timeouts: Mapping[str, int] | None,
) -> TaskBinding | None:
    binding = LambdaInvokeBinding(
        handlers, list(dict.fromkeys([info.arn, info.base_resource])), function_timeouts
    )
    static_name = _static_function_name(parameters)
    if static_name is not None and binding.find(static_name) is None:
        return None
    return binding


def _handler_keys(resource: str, info: ResourceInfo) -> tuple[list[str], str]:
    """Handler keys for a non-``lambda:invoke`` resource, in lookup order, and its function name."""
    placeholder = placeholder_names(resource)
    keys = [resource, *placeholder]
    function_name = resource
    function = lambda_function_name(resource)
    if function is not None:
        name, qualifier = function
        keys += [f"{name}:{qualifier}"] if qualifier else []
        keys += [name, *placeholder_names(name)]
        function_name = name
    if placeholder:
        function_name = placeholder[-1]
    activity = activity_name(resource)
    if activity is not None:
        keys.append(activity)
    if info.base_resource != resource:
        keys.append(info.base_resource)
    return list(dict.fromkeys(keys)), function_name


@functools.lru_cache(maxsize=1024)
def _resource_lookup(resource: str) -> tuple[ResourceInfo, tuple[str, ...], str]:
    """A resource's classification, handler keys and function name (they depend on it alone)."""
    info = classify_resource(resource)
    keys, function_name = _handler_keys(resource, info)
    return info, tuple(keys), function_name


def resolve_binding(
    resource: str,
    handlers: Mapping[str, Handler],
    *,
    parameters: Any = None,
    function_timeouts: Mapping[str, int] | None = None,
) -> TaskBinding | None:
    """Find what runs ``resource``, or None when nothing is bound to it.

    Lookup order: the exact resource string; a ``${Name.Attr}`` placeholder's ``Name.Attr`` then
    ``Name``; a Lambda function name (legacy ARN → its name; ``lambda:invoke`` → the
    ``FunctionName`` in the payload, at call time); the built-in optimised integrations; an
    ``aws-sdk:SERVICE:ACTION`` call through boto3.
    ``parameters`` (the state's ``Parameters``, optional) lets a constant ``FunctionName`` be
    checked before the execution starts. ``function_timeouts`` (the machine's longest
    ``TimeoutSeconds`` by ``${Placeholder}`` resource, as
    :func:`engine.task_calls.function_timeouts_of` finds them) gives a Python step bound to a
    placeholder function the timeout that function is deployed with.
    """
    info, keys, function_name = _resource_lookup(resource)
    if info.resource_type == "lambda" and info.base_resource == LAMBDA_INVOKE:
        return _resolve_lambda_invoke(info, handlers, parameters, function_timeouts)
    handler = _lookup(handlers, keys)
    if handler is not None:
        return PythonBinding(
            handler,
            lambda_resource=info.is_lambda,
            function_name=function_name,
            function_timeout=(
                _function_timeout(resource, function_timeouts) if info.is_lambda else None
            ),
        )
    if info.resource_type is not None and info.resource_type.startswith("aws-sdk:"):
        from engine.integrations.aws_sdk import aws_sdk_integration

        return aws_sdk_integration(resource)
    if info.family == "task" and not info.sync:
        from engine.integrations import integration_for

        return integration_for(info.base_resource)
    return None


def returns_fresh_json(call: CallNext) -> bool:
    """Whether ``call`` is a Python step's binding itself (no interceptor around it): its
    results are JSON data just decoded from the runtime's text, held by nobody else."""
    binding = getattr(call, "__self__", None)
    return isinstance(binding, PythonBinding) and binding.fresh_results


def chain_interceptors(interceptors: Sequence[Interceptor], binding: TaskBinding) -> CallNext:
    """One callable running ``interceptors`` outermost-first around ``binding.invoke``."""
    call: CallNext = binding.invoke
    for interceptor in reversed(interceptors):
        call = functools.partial(_intercept, interceptor, call)
    return call


async def _intercept(interceptor: Interceptor, call_next: CallNext, request: TaskRequest) -> Any:
    return await interceptor(request, call_next)


def is_mocked(interceptors: Sequence[Interceptor], state_name: str) -> bool:
    """Whether some interceptor answers every invocation of ``state_name`` itself."""
    return any(
        isinstance(interceptor, StateMocker) and interceptor.mocks_state(state_name)
        for interceptor in interceptors
    )
