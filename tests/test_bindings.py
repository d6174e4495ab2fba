"""Task bindings: resource lookup, handler kinds, error names and causes, Lambda result shapes."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from engine.bindings import (
    LambdaContext,
    LambdaInvokeBinding,
    PythonBinding,
    TaskBinding,
    TaskRequest,
    UnboundResourceBinding,
    call_handler,
    chain_interceptors,
    is_mocked,
    resolve_binding,
    task_error,
)
from engine.errors import StatesError
from engine.integrations import ServiceIntegration
from engine.lambda_shapes import (
    classify_resource,
    lambda_function_name,
    lambda_invoke_response,
    placeholder_names,
    request_id_for,
)

LEGACY = "arn:aws:lambda:us-east-1:123456789012:function:ReserveBooking"
INVOKE = "arn:aws:states:::lambda:invoke"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _request(resource: str, payload: Any, **fields: Any) -> TaskRequest:
    return TaskRequest(
        state_name=fields.pop("state_name", "Reserve"),
        resource=resource,
        payload=payload,
        execution_name=fields.pop("execution_name", "exec-1"),
        **fields,
    )


async def _invoke(binding: TaskBinding | None, request: TaskRequest) -> Any:
    assert binding is not None
    return await binding.invoke(request)


class BookingReservationException(Exception):
    pass


class _Named(Exception):
    error_name = "Booking.SoldOut"


# --- resource classification -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "family", "resource_type", "recorded", "pattern"),
    [
        (LEGACY, "lambda", None, LEGACY, "request-response"),
        ("${ReserveBooking.Arn}", "lambda", None, "${ReserveBooking.Arn}", "request-response"),
        (INVOKE, "task", "lambda", "invoke", "request-response"),
        (
            INVOKE + ".waitForTaskToken",
            "task",
            "lambda",
            "invoke.waitForTaskToken",
            "waitForTaskToken",
        ),
        (
            "arn:aws:states:::dynamodb:updateItem",
            "task",
            "dynamodb",
            "updateItem",
            "request-response",
        ),
        (
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "task",
            "sqs",
            "sendMessage.waitForTaskToken",
            "waitForTaskToken",
        ),
        (
            "arn:aws:states:::states:startExecution.sync:2",
            "task",
            "states",
            "startExecution.sync:2",
            "sync:2",
        ),
        (
            "arn:aws:states:::states:startExecution.sync",
            "task",
            "states",
            "startExecution.sync",
            "sync",
        ),
        (
            "arn:aws:states:::aws-sdk:dynamodb:putItem",
            "task",
            "aws-sdk:dynamodb",
            "putItem",
            "request-response",
        ),
        (
            "arn:aws:states:us-east-1:123456789012:activity:Approve",
            "activity",
            None,
            "arn:aws:states:us-east-1:123456789012:activity:Approve",
            "request-response",
        ),
        ("my-handler", "task", None, "my-handler", "request-response"),
    ],
)
def test_classify_resource(
    resource: str, family: str, resource_type: str | None, recorded: str, pattern: str
) -> None:
    info = classify_resource(resource)
    assert (info.family, info.resource_type, info.resource, info.pattern) == (
        family,
        resource_type,
        recorded,
        pattern,
    )
    assert info.arn == resource


def test_classify_flags_and_base_resource() -> None:
    token = classify_resource("arn:aws:states:::sqs:sendMessage.waitForTaskToken")
    assert (token.wait_for_task_token, token.sync, token.is_lambda) == (True, False, False)
    assert token.base_resource == "arn:aws:states:::sqs:sendMessage"
    sync = classify_resource("arn:aws:states:::states:startExecution.sync:2")
    assert (sync.wait_for_task_token, sync.sync) == (False, True)
    assert sync.base_resource == "arn:aws:states:::states:startExecution"
    assert classify_resource(INVOKE).is_lambda is True
    assert classify_resource(LEGACY).is_lambda is True


def test_lambda_function_name_and_placeholders() -> None:
    assert lambda_function_name(LEGACY) == ("ReserveBooking", None)
    assert lambda_function_name(LEGACY + ":live") == ("ReserveBooking", "live")
    assert lambda_function_name("arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:F") == (
        "F",
        None,
    )
    assert lambda_function_name(INVOKE) is None
    assert placeholder_names("${ReserveBooking.Arn}") == ["ReserveBooking.Arn", "ReserveBooking"]
    assert placeholder_names("${Table}") == ["Table"]
    assert placeholder_names("arn:${X}") == []


# --- resolve_binding lookup order --------------------------------------------------------------


def _tagged(tag: str) -> Callable[[Any], str]:
    def handler(event: Any) -> str:
        return tag

    return handler


@pytest.mark.anyio
async def test_exact_resource_wins_over_function_name() -> None:
    handlers = {LEGACY: _tagged("exact"), "ReserveBooking": _tagged("name")}
    assert await _invoke(resolve_binding(LEGACY, handlers), _request(LEGACY, {})) == "exact"


@pytest.mark.anyio
async def test_placeholder_attribute_then_bare_name() -> None:
    resource = "${ReserveBooking.Arn}"
    both = {"ReserveBooking.Arn": _tagged("attr"), "ReserveBooking": _tagged("bare")}
    assert await _invoke(resolve_binding(resource, both), _request(resource, {})) == "attr"
    bare = {"ReserveBooking": _tagged("bare")}
    assert await _invoke(resolve_binding(resource, bare), _request(resource, {})) == "bare"
    full = {resource: _tagged("full"), "ReserveBooking": _tagged("bare")}
    assert await _invoke(resolve_binding(resource, full), _request(resource, {})) == "full"


@pytest.mark.anyio
async def test_legacy_arn_by_function_name_and_qualifier() -> None:
    handlers = {"ReserveBooking:live": _tagged("alias"), "ReserveBooking": _tagged("name")}
    aliased = LEGACY + ":live"
    assert await _invoke(resolve_binding(aliased, handlers), _request(aliased, {})) == "alias"
    other = LEGACY + ":beta"
    assert await _invoke(resolve_binding(other, handlers), _request(other, {})) == "name"


@pytest.mark.anyio
async def test_placeholder_function_name_inside_an_arn() -> None:
    resource = "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:${PaymentFn}"
    binding = resolve_binding(resource, {"PaymentFn": _tagged("payment")})
    assert await _invoke(binding, _request(resource, {})) == "payment"
    invoke = resolve_binding(INVOKE, {"PaymentFn": _tagged("payment")})
    payload = {"FunctionName": resource, "Payload": {}}
    assert (await _invoke(invoke, _request(INVOKE, payload)))["Payload"] == "payment"


@pytest.mark.anyio
async def test_activity_by_name_and_pattern_suffix_by_base_resource() -> None:
    activity = "arn:aws:states:us-east-1:123456789012:activity:Approve"
    binding = resolve_binding(activity, {"Approve": _tagged("activity")})
    assert await _invoke(binding, _request(activity, {})) == "activity"
    token = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    base = {"arn:aws:states:::sqs:sendMessage": _tagged("base")}
    assert await _invoke(resolve_binding(token, base), _request(token, {})) == "base"


def test_builtin_integrations_resolve_without_handlers() -> None:
    for resource in (
        "arn:aws:states:::dynamodb:getItem",
        "arn:aws:states:::dynamodb:putItem",
        "arn:aws:states:::dynamodb:updateItem",
        "arn:aws:states:::dynamodb:deleteItem",
        "arn:aws:states:::sqs:sendMessage",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:states:::sns:publish",
        "arn:aws:states:::events:putEvents",
        "arn:aws:states:::states:startExecution",
    ):
        binding = resolve_binding(resource, {})
        assert isinstance(binding, ServiceIntegration), resource
        assert binding.resource == classify_resource(resource).base_resource


@pytest.mark.anyio
async def test_python_handler_overrides_a_builtin_integration() -> None:
    resource = "arn:aws:states:::dynamodb:putItem"
    binding = resolve_binding(resource, {resource: _tagged("fake")})
    assert isinstance(binding, PythonBinding)
    assert await _invoke(binding, _request(resource, {})) == "fake"


@pytest.mark.parametrize(
    "resource",
    [
        LEGACY,
        "${Missing.Arn}",
        "arn:aws:states:::states:startExecution.sync",
        "arn:aws:states:::aws-sdk:s3:noSuchAction",
        "arn:aws:states:::batch:submitJob.sync",
        "arn:aws:states:us-east-1:123456789012:activity:Approve",
        "something-else",
    ],
)
def test_unbound_resources_resolve_to_none(resource: str) -> None:
    assert resolve_binding(resource, {"Other": _tagged("x")}) is None


def test_lambda_invoke_with_constant_function_name_checked_up_front() -> None:
    handlers = {"ReserveBooking": _tagged("x")}
    bound = resolve_binding(INVOKE, handlers, parameters={"FunctionName": LEGACY})
    assert isinstance(bound, LambdaInvokeBinding)
    missing = {"FunctionName": "arn:aws:lambda:us-east-1:1:function:Nope", "Payload.$": "$"}
    assert resolve_binding(INVOKE, handlers, parameters=missing) is None
    dynamic = resolve_binding(INVOKE, handlers, parameters={"FunctionName.$": "$.fn"})
    assert isinstance(dynamic, LambdaInvokeBinding)
    assert isinstance(resolve_binding(INVOKE, handlers), LambdaInvokeBinding)


# --- Lambda shapes -----------------------------------------------------------------------------


def test_lambda_invoke_response_shape() -> None:
    from datetime import UTC, datetime

    response = lambda_invoke_response({"ok": True}, "rid-1", date=datetime(2024, 1, 2, tzinfo=UTC))
    headers = {
        "Connection": "keep-alive",
        "Content-Length": "12",  # len('{"ok": true}'), as Lambda's Python runtime writes it
        "Content-Type": "application/json",
        "Date": "Tue, 02 Jan 2024 00:00:00 GMT",
        "X-Amz-Executed-Version": "$LATEST",
        "X-Amzn-Trace-Id": (
            "Root=1-65935200-2e9fd42c1d6c3b15db7d8d01;Parent=e3a28b91870e7004;Sampled=0"
        ),
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": "rid-1",
    }
    assert response == {
        "ExecutedVersion": "$LATEST",
        "Payload": {"ok": True},
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": "rid-1"},
        "StatusCode": 200,
    }
    assert list(response) == sorted(response)


@pytest.mark.anyio
async def test_legacy_arn_returns_the_raw_result() -> None:
    binding = resolve_binding(LEGACY, {"ReserveBooking": lambda event: {"seen": event}})
    assert await _invoke(binding, _request(LEGACY, {"a": 1})) == {"seen": {"a": 1}}


@pytest.mark.anyio
async def test_lambda_invoke_wraps_and_picks_handler_by_function_name() -> None:
    handlers = {"ReserveBooking": lambda event: {"seen": event}, "Other": _tagged("other")}
    binding = resolve_binding(INVOKE, handlers)
    context = {"State": {"EnteredTime": "2024-05-06T07:08:09.000Z", "Name": "Reserve"}}
    for function_name in ("ReserveBooking", LEGACY, "123456789012:function:ReserveBooking"):
        payload = {"FunctionName": function_name, "Payload": {"id": 7}}
        result = await _invoke(binding, _request(INVOKE, payload, context=context, invocation=2))
        request_id = request_id_for("exec-1", "Reserve", 2)
        assert result == lambda_invoke_response(
            {"seen": {"id": 7}},
            request_id,
            date=__import__("datetime").datetime.fromisoformat("2024-05-06T07:08:09+00:00"),
        )
        assert result["SdkHttpMetadata"]["HttpHeaders"]["Date"] == "Mon, 06 May 2024 07:08:09 GMT"


@pytest.mark.anyio
async def test_lambda_invoke_finds_handlers_keyed_by_function_arn() -> None:
    binding = resolve_binding(INVOKE, {LEGACY: lambda event: "by-arn"})
    result = await _invoke(binding, _request(INVOKE, {"FunctionName": "ReserveBooking"}))
    assert result["Payload"] == "by-arn"


@pytest.mark.anyio
async def test_lambda_invoke_without_payload_sends_an_empty_object() -> None:
    binding = resolve_binding(INVOKE, {"F": lambda event: event})
    result = await _invoke(binding, _request(INVOKE, {"FunctionName": "F"}))
    assert result["Payload"] == {}


@pytest.mark.anyio
async def test_lambda_invoke_catch_all_resource_handler() -> None:
    binding = resolve_binding(INVOKE, {INVOKE: lambda event: ["any", event]})
    result = await _invoke(binding, _request(INVOKE, {"FunctionName": "Whatever", "Payload": 1}))
    assert result["Payload"] == ["any", 1]


@pytest.mark.anyio
async def test_lambda_invoke_event_and_dry_run() -> None:
    calls: list[Any] = []
    binding = resolve_binding(INVOKE, {"F": calls.append})
    event = await _invoke(
        binding, _request(INVOKE, {"FunctionName": "F", "Payload": 1, "InvocationType": "Event"})
    )
    assert (event["StatusCode"], event["Payload"], calls) == (202, "", [1])
    dry = await _invoke(
        binding, _request(INVOKE, {"FunctionName": "F", "InvocationType": "DryRun"})
    )
    assert (dry["StatusCode"], calls) == (204, [1])


@pytest.mark.anyio
async def test_lambda_invoke_unknown_function_and_missing_function_name() -> None:
    binding = resolve_binding(INVOKE, {"F": _tagged("f")})
    with pytest.raises(StatesError) as missing:
        await _invoke(binding, _request(INVOKE, {"FunctionName": "Nope", "Payload": {}}))
    assert missing.value.error == "Lambda.ResourceNotFoundException"
    assert missing.value.cause is not None
    assert missing.value.cause.startswith(
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope:$LATEST "
        "(Service: AWSLambda;"
    )
    with pytest.raises(StatesError) as no_name:
        await _invoke(binding, _request(INVOKE, {"Payload": {}}))
    assert no_name.value.error == "States.Runtime"
    assert no_name.value.cause is not None
    assert "'FunctionName'" in no_name.value.cause


# --- handler kinds -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_sync_handler_runs_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()

    def handler(event: Any) -> dict[str, Any]:
        return {"event": event, "same_thread": threading.get_ident() == loop_thread}

    context = LambdaContext("F", "rid")
    assert await call_handler(handler, 1, context) == {"event": 1, "same_thread": False}


@pytest.mark.anyio
async def test_async_handler_runs_on_its_own_loop_off_the_engine_thread() -> None:
    loop_thread = threading.get_ident()

    async def handler(event: Any) -> dict[str, Any]:
        await anyio.sleep(0)
        return {"event": event, "same_thread": threading.get_ident() == loop_thread}

    assert await call_handler(handler, 2, LambdaContext("F", "rid")) == {
        "event": 2,
        "same_thread": False,
    }


@pytest.mark.anyio
async def test_callable_objects_and_partials() -> None:
    class AsyncCallable:
        async def __call__(self, event: Any) -> str:
            return f"object:{event}"

    def add(prefix: str, event: Any) -> str:
        return f"{prefix}:{event}"

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, event: Any, context: LambdaContext) -> str:
            return f"{context.function_name}:{event}"

    context = LambdaContext("F", "rid")
    assert await call_handler(AsyncCallable(), 3, context) == "object:3"
    assert await call_handler(Unhashable(), 5, context) == "F:5"
    assert await call_handler(functools.partial(add, "partial"), 4, context) == "partial:4"


@pytest.mark.anyio
async def test_event_context_handler_gets_a_lambda_context() -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: LambdaContext) -> Any:
        seen.update(
            name=context.function_name,
            request_id=context.aws_request_id,
            remaining=context.get_remaining_time_in_millis(),
            arn=context.invoked_function_arn,
        )
        return event

    binding = resolve_binding(LEGACY, {"ReserveBooking": handler})
    request = _request(LEGACY, {"k": 1}, timeout_seconds=30.0, invocation=4)
    assert await _invoke(binding, request) == {"k": 1}
    assert seen["name"] == "ReserveBooking"
    assert seen["request_id"] == request_id_for("exec-1", "Reserve", 4)
    assert 0 < seen["remaining"] <= 30_000
    assert seen["arn"] == LEGACY


def test_lambda_context_remaining_time_never_negative() -> None:
    assert LambdaContext("F", "rid", 0.0).get_remaining_time_in_millis() == 0
    assert LambdaContext("F", "rid").function_version == "$LATEST"


@pytest.mark.anyio
async def test_blocked_sync_handler_is_abandoned_on_timeout() -> None:
    release = threading.Event()

    def blocking(event: Any) -> str:
        release.wait(10)
        return "late"

    binding = resolve_binding(LEGACY, {"ReserveBooking": blocking})
    try:
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.2):
                await _invoke(binding, _request(LEGACY, {}))
    finally:
        release.set()


@pytest.mark.anyio
async def test_sync_handler_returning_an_awaitable_is_awaited() -> None:
    async def later() -> str:
        return "awaited"

    def handler(event: Any) -> Awaitable[str]:
        return later()

    assert await call_handler(handler, None, LambdaContext("F", "rid")) == "awaited"


# --- error names and causes --------------------------------------------------------------------


def _raiser(exc: Exception) -> Callable[[Any], Any]:
    def handler(event: Any) -> Any:
        raise exc

    return handler


@pytest.mark.anyio
async def test_error_name_is_class_name_and_cause_is_lambda_json() -> None:
    binding = resolve_binding(
        LEGACY, {"ReserveBooking": _raiser(BookingReservationException("no seats"))}
    )
    with pytest.raises(StatesError) as caught:
        await _invoke(binding, _request(LEGACY, {}))
    assert caught.value.error == "BookingReservationException"
    assert caught.value.cause is not None
    cause = json.loads(caught.value.cause)
    assert list(cause) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert cause["errorMessage"] == "no seats"
    assert cause["errorType"] == "BookingReservationException"
    assert len(cause["stackTrace"]) == 1
    assert cause["stackTrace"][0].startswith(f'  File "{__file__}", line ')
    assert "in handler\n    raise exc\n" in cause["stackTrace"][0]


@pytest.mark.anyio
async def test_error_name_attribute_wins() -> None:
    async def handler(event: Any) -> Any:
        raise _Named("sold out")

    binding = resolve_binding(INVOKE, {"F": handler})
    with pytest.raises(StatesError) as caught:
        await _invoke(binding, _request(INVOKE, {"FunctionName": "F", "Payload": {}}))
    assert caught.value.error == "Booking.SoldOut"
    assert caught.value.cause is not None
    assert json.loads(caught.value.cause)["errorType"] == "Booking.SoldOut"


@pytest.mark.anyio
async def test_placeholder_resources_report_lambda_causes() -> None:
    resource = "${ReserveBooking.Arn}"
    binding = resolve_binding(resource, {"ReserveBooking": _raiser(ValueError("bad"))})
    with pytest.raises(StatesError) as caught:
        await _invoke(binding, _request(resource, {}))
    assert caught.value.error == "ValueError"
    assert caught.value.cause is not None
    assert json.loads(caught.value.cause)["errorMessage"] == "bad"


@pytest.mark.anyio
async def test_other_resources_report_the_message_as_cause() -> None:
    resource = "arn:aws:states:::dynamodb:putItem"
    binding = resolve_binding(resource, {resource: _raiser(KeyError("pk"))})
    with pytest.raises(StatesError) as caught:
        await _invoke(binding, _request(resource, {}))
    assert (caught.value.error, caught.value.cause) == ("KeyError", "'pk'")


@pytest.mark.anyio
async def test_states_error_from_a_handler_passes_through() -> None:
    binding = resolve_binding(LEGACY, {"ReserveBooking": _raiser(StatesError("Custom", "why"))})
    with pytest.raises(StatesError) as caught:
        await _invoke(binding, _request(LEGACY, {}))
    assert (caught.value.error, caught.value.cause) == ("Custom", "why")


def test_task_error_mapping() -> None:
    plain = task_error(RuntimeError("x"), lambda_resource=False)
    assert (plain.error, plain.cause) == ("RuntimeError", "x")
    wrapped = task_error(RuntimeError("x"), lambda_resource=True)
    assert wrapped.cause == (
        '{"errorMessage": "x", "errorType": "RuntimeError", "requestId": "", "stackTrace": []}'
    )


@pytest.mark.anyio
async def test_unbound_resource_binding_names_state_and_resource() -> None:
    binding = UnboundResourceBinding("Reserve", LEGACY)
    with pytest.raises(StatesError) as caught:
        await binding.invoke(_request(LEGACY, {}))
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == f"No handler is bound to resource '{LEGACY}' of state 'Reserve'."


# --- interceptors ------------------------------------------------------------------------------


class _Recorder:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def __call__(
        self, request: TaskRequest, call_next: Callable[[TaskRequest], Awaitable[Any]]
    ) -> Any:
        self.log.append(f"{self.name}>")
        result = await call_next(request)
        self.log.append(f"<{self.name}")
        return [self.name, result]


class _Mocker:
    def mocks_state(self, state_name: str) -> bool:
        return state_name == "Mocked"

    async def __call__(
        self, request: TaskRequest, call_next: Callable[[TaskRequest], Awaitable[Any]]
    ) -> Any:
        return "mocked"


@pytest.mark.anyio
async def test_chain_interceptors_runs_outermost_first() -> None:
    log: list[str] = []
    binding = resolve_binding(LEGACY, {"ReserveBooking": _tagged("task")})
    assert binding is not None
    call = chain_interceptors([_Recorder("outer", log), _Recorder("inner", log)], binding)
    assert await call(_request(LEGACY, {})) == ["outer", ["inner", "task"]]
    assert log == ["outer>", "inner>", "<inner", "<outer"]


def test_is_mocked_asks_state_mockers_only() -> None:
    log: list[str] = []
    assert is_mocked([_Recorder("r", log), _Mocker()], "Mocked") is True
    assert is_mocked([_Recorder("r", log), _Mocker()], "Real") is False
    assert is_mocked([_Recorder("r", log)], "Mocked") is False


# --- step threads --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_steps_one_after_another_reuse_a_daemon_step_thread() -> None:
    def where(event: Any) -> tuple[int, str, bool]:
        thread = threading.current_thread()
        return thread.ident or 0, thread.name, thread.daemon

    context = LambdaContext("F", "rid")
    first = await call_handler(where, None, context)
    second = await call_handler(where, None, context)
    assert first == second
    assert first[1:] == ("saga-step", True)


@pytest.mark.anyio
async def test_a_thread_abandoned_by_a_timeout_is_not_reused() -> None:
    release = threading.Event()
    stuck: list[int] = []

    def blocking(event: Any) -> str:
        stuck.append(threading.get_ident())
        release.wait(10)
        return "late"

    def ident(event: Any) -> int:
        return threading.get_ident()

    context = LambdaContext("F", "rid")
    try:
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.2):
                await call_handler(blocking, None, context)
        # The blocked step still holds its thread: the next steps run on others.
        assert await call_handler(ident, None, context) != stuck[0]
        assert await call_handler(ident, None, context) != stuck[0]
    finally:
        release.set()


@pytest.mark.anyio
async def test_an_async_step_leaves_nothing_running_for_the_next_one() -> None:
    seen: list[str] = []

    async def leaves_a_task(event: Any) -> str:
        import asyncio

        async def background() -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

        asyncio.get_running_loop().create_task(background())
        await asyncio.sleep(0)
        return "first"

    async def counts_tasks(event: Any) -> int:
        import asyncio

        return len(asyncio.all_tasks())

    context = LambdaContext("F", "rid")
    assert await call_handler(leaves_a_task, None, context) == "first"
    assert seen == ["cancelled"]  # cancelled when the step returned, as asyncio.run does
    assert await call_handler(counts_tasks, None, context) == 1
