"""Binding a Task's ``Resource`` to what runs it: Python handlers, built-in integrations, mocks."""

from __future__ import annotations

import functools
import inspect
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import anyio
import anyio.to_thread

from engine.clock import Clock
from engine.errors import RUNTIME, StatesError, error_name_of, lambda_error_cause
from engine.lambda_shapes import (
    LAMBDA_INVOKE,
    ResourceInfo,
    activity_name,
    classify_resource,
    lambda_function_name,
    lambda_invoke_response,
    placeholder_names,
    request_id_for,
)

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
    "chain_interceptors",
    "is_mocked",
    "resolve_binding",
    "task_error",
]

Handler = Callable[..., Any]
"""``event -> result`` (sync or async), or ``(event, context) -> result`` like a Lambda handler."""

_DEFAULT_LAMBDA_TIMEOUT = 900.0
_PARTIAL_FUNCTION = re.compile(r"(?:^|:)function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")


@dataclass(frozen=True)
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


class LambdaContext:
    """The ``context`` a Lambda-style ``(event, context)`` handler receives."""

    def __init__(
        self,
        function_name: str,
        aws_request_id: str,
        timeout_seconds: float | None = None,
        *,
        invoked_function_arn: str | None = None,
        memory_limit_in_mb: int = 128,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.client_context: Any = None
        self.identity: Any = None
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn or (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{aws_request_id}"
        budget = _DEFAULT_LAMBDA_TIMEOUT if timeout_seconds is None else timeout_seconds
        self._deadline = time.monotonic() + budget

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the task's timeout (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _is_async(handler: Handler) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _takes_context(handler: Handler) -> bool:
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2


@functools.lru_cache(maxsize=4096)
def _cached_kind(handler: Handler) -> tuple[bool, bool]:
    return _is_async(handler), _takes_context(handler)


def _kind(handler: Handler) -> tuple[bool, bool]:
    """Whether a handler is async and whether it takes ``(event, context)`` (cached)."""
    try:
        return _cached_kind(handler)
    except TypeError:  # unhashable callable object
        return _is_async(handler), _takes_context(handler)


async def call_handler(handler: Handler, event: Any, context: LambdaContext) -> Any:
    """Call a handler of any supported kind; sync ones run in a worker thread.

    The worker thread is abandoned on cancellation, so a state's timeout fires even while
    the handler blocks.
    """
    is_async, takes_context = _kind(handler)
    args: tuple[Any, ...] = (event, context) if takes_context else (event,)
    if is_async:
        result = handler(*args)
    else:
        result = await anyio.to_thread.run_sync(
            functools.partial(handler, *args), abandon_on_cancel=True
        )
    if inspect.isawaitable(result):
        result = await result
    return result


_ENGINE_FILES = (__file__, os.path.dirname(anyio.__file__), functools.__file__)


def _user_traceback(exc: BaseException) -> BaseException:
    """Drop the engine's own frames from the front of a handler's traceback."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_ENGINE_FILES):
        tb = tb.tb_next
    return exc.with_traceback(tb) if tb is not None else exc


def task_error(exc: Exception, *, lambda_resource: bool) -> StatesError:
    """The ``StatesError`` a handler's exception becomes.

    The name is the exception's ``error_name`` or class name; for Lambda resources the cause is
    the JSON Lambda's Python runtime reports, otherwise the exception's message.
    """
    if isinstance(exc, StatesError):
        return exc
    cause = lambda_error_cause(_user_traceback(exc)) if lambda_resource else str(exc)
    return StatesError(error_name_of(exc), cause)


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


def _make_context(request: TaskRequest, function_name: str, arn: str | None) -> LambdaContext:
    request_id = request_id_for(request.execution_name, request.state_name, request.invocation)
    return LambdaContext(
        function_name,
        request_id,
        request.timeout_seconds,
        invoked_function_arn=arn if arn and arn.startswith("arn:") else None,
    )


class PythonBinding:
    """A Python handler bound to a resource; returns the handler's raw result."""

    def __init__(self, handler: Handler, *, lambda_resource: bool, function_name: str) -> None:
        self.handler = handler
        self.lambda_resource = lambda_resource
        self.function_name = function_name

    async def invoke(self, request: TaskRequest) -> Any:
        """Call the handler with the effective input."""
        context = _make_context(request, self.function_name, request.resource)
        try:
            return await call_handler(self.handler, request.payload, context)
        except Exception as exc:
            raise task_error(exc, lambda_resource=self.lambda_resource) from exc


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


def _function_not_found(function_name: str, request_id: str) -> StatesError:
    return StatesError(
        "Lambda.ResourceNotFoundException",
        f"Function not found: {function_name} (Service: AWSLambda; Status Code: 404; "
        f"Error Code: ResourceNotFoundException; Request ID: {request_id}; Proxy: null)",
    )


class LambdaInvokeBinding:
    """``arn:aws:states:::lambda:invoke``: ``FunctionName`` picks the handler at call time.

    The handler receives the request's ``Payload`` and its result comes back wrapped as AWS
    wraps it (``Payload``, ``StatusCode``, ``Sdk*Metadata``). Handlers keyed by the resource
    itself answer for any function name not bound on its own.
    """

    def __init__(self, handlers: Mapping[str, Handler], resource_keys: Sequence[str]) -> None:
        self.handlers = handlers
        self.resource_keys = tuple(resource_keys)

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
            raise _function_not_found(function_name, request_id)
        event = parameters.get("Payload", {})
        name = (lambda_function_name(function_name) or (function_name, None))[0]
        context = _make_context(request, name, function_name)
        invocation_type = parameters.get("InvocationType", "RequestResponse")
        if invocation_type == "DryRun":
            return {**lambda_invoke_response("", request_id), "StatusCode": 204}
        try:
            result = await call_handler(handler, event, context)
        except Exception as exc:
            if invocation_type == "Event":
                result = None
            else:
                raise task_error(exc, lambda_resource=True) from exc
        if invocation_type == "Event":
            return {**lambda_invoke_response("", request_id), "StatusCode": 202}
        return lambda_invoke_response(result, request_id, date=_entered_time(request))


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


def _resolve_lambda_invoke(
    info: ResourceInfo, handlers: Mapping[str, Handler], parameters: Any
) -> TaskBinding | None:
    binding = LambdaInvokeBinding(handlers, list(dict.fromkeys([info.arn, info.base_resource])))
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


def resolve_binding(
    resource: str, handlers: Mapping[str, Handler], *, parameters: Any = None
) -> TaskBinding | None:
    """Find what runs ``resource``, or None when nothing is bound to it.

    Lookup order: the exact resource string; a ``${Name.Attr}`` placeholder's ``Name.Attr`` then
    ``Name``; a Lambda function name (legacy ARN → its name; ``lambda:invoke`` → the
    ``FunctionName`` in the payload, at call time); the built-in optimised integrations; an
    ``aws-sdk:SERVICE:ACTION`` call through boto3.
    ``parameters`` (the state's ``Parameters``, optional) lets a constant ``FunctionName`` be
    checked before the execution starts.
    """
    info = classify_resource(resource)
    if info.resource_type == "lambda" and info.base_resource == LAMBDA_INVOKE:
        return _resolve_lambda_invoke(info, handlers, parameters)
    keys, function_name = _handler_keys(resource, info)
    handler = _lookup(handlers, keys)
    if handler is not None:
        return PythonBinding(handler, lambda_resource=info.is_lambda, function_name=function_name)
    if info.resource_type is not None and info.resource_type.startswith("aws-sdk:"):
        from engine.integrations.aws_sdk import aws_sdk_integration

        return aws_sdk_integration(resource)
    if info.family == "task" and not info.sync:
        from engine.integrations import integration_for

        return integration_for(info.base_resource)
    return None


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
