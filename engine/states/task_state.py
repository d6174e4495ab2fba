"""``Type: Task`` — runs its resource through the bound handler, integration or mock.

InputPath → Parameters → invoke (with TimeoutSeconds, HeartbeatSeconds, task token) →
ResultSelector → ResultPath → OutputPath, inside Retry/Catch. The history records AWS's events
for the resource's family: ``LambdaFunction*`` for legacy Lambda ARNs, ``Activity*`` for
activities, ``Task*`` (with ``resourceType``/``resource``) for everything else.
"""

from __future__ import annotations

import contextlib
import json
from functools import lru_cache
from typing import Any

import anyio
import anyio.lowlevel

from engine.bindings import CallNext, TaskRequest, returns_fresh_json, unavailable_reason
from engine.errors import HEARTBEAT_TIMEOUT, RUNTIME, TIMEOUT, StatesError
from engine.interpreter.context import FatalError, StateContext, TokenWaiter
from engine.interpreter.dataflow import (
    apply_input_path,
    apply_parameters,
    apply_result_selector,
    evaluate_assign,
    fatal,
)
from engine.interpreter.jsonata_dataflow import (
    evaluate_field,
    expected_type,
    jsonata_assign_and_output,
    states_variable,
)
from engine.interpreter.recovery import with_retry_and_catch
from engine.lambda_shapes import ResourceInfo, classify_resource
from engine.limits import MAX_PAYLOAD_BYTES, data_limit_error, json_copy, payload_size
from engine.model import TaskState
from engine.paths import PathNotFound, evaluate_path
from engine.payload_templates import apply_payload_template
from engine.store.pending import commit_staged
from engine.task_progress import TaskProgress, reporting_progress

__all__ = ["run_task", "resource_info"]


class _TimedOut(StatesError):
    """The task ran past TimeoutSeconds or missed a heartbeat.

    Both are ``States.Timeout`` in the history and the error output, as AWS records them; a
    missed heartbeat is also matched by ``States.HeartbeatTimeout`` in Retry and Catch.
    """

    def __init__(self, heartbeat: bool) -> None:
        super().__init__(TIMEOUT, None, aliases=(HEARTBEAT_TIMEOUT,) if heartbeat else ())


def _task_credentials(
    ctx: StateContext, state: TaskState, raw: Any, effective: Any
) -> dict[str, Any] | None:
    """The ``taskCredentials`` of the scheduled event: the state's ``Credentials`` evaluated
    (``RoleArn`` from a path, variable, intrinsic or JSONata), members in camelCase."""
    if ctx.jsonata:
        value = evaluate_field(ctx, state.credentials, "Credentials", states_variable(ctx, raw))
    else:
        value = apply_payload_template(
            state.credentials,
            effective,
            ctx.context,
            ctx.variables,
            field="Credentials",
            rng=ctx.runtime.rng,
        )
    if not isinstance(value, dict):
        return None
    return {str(key)[:1].lower() + str(key)[1:]: item for key, item in value.items()}


@lru_cache(maxsize=1024)
def resource_info(resource: str) -> ResourceInfo:
    """How a resource is recorded and which integration pattern it uses (cached)."""
    return classify_resource(resource)


class _Events:
    """A resource's event names and the detail fields its events share (never mutated)."""

    __slots__ = (
        "common",
        "failed",
        "scheduled",
        "started",
        "submitted",
        "succeeded",
        "timed_out",
    )

    def __init__(self, prefix: str, common: dict[str, Any]) -> None:
        self.common = common
        self.scheduled = prefix + "Scheduled"
        self.started = prefix + "Started"
        self.submitted = prefix + "Submitted"
        self.succeeded = prefix + "Succeeded"
        self.failed = prefix + "Failed"
        self.timed_out = prefix + "TimedOut"


@lru_cache(maxsize=1024)
def _events(resource: str) -> _Events:
    """The event names and common detail fields for the resource's family (cached)."""
    info = resource_info(resource)
    if info.family == "lambda":
        return _Events("LambdaFunction", {})
    if info.family == "activity":
        return _Events("Activity", {})
    common = {"resource": info.resource, "resourceType": info.resource_type or "local"}
    return _Events("Task", common)


def _result_source(resource: str, common: dict[str, Any]) -> str:
    """What AWS names as the source of an oversize task result: the integrated service
    (``'lambda'`` for ``lambda:invoke``), else the resource itself (a Lambda function's ARN)."""
    service = common.get("resourceType")
    return service if isinstance(service, str) and service != "local" else resource


def _positive_seconds(
    ctx: StateContext, literal: int | str | None, path: str | None, field: str, data: Any
) -> int | None:
    if literal is not None:
        if isinstance(literal, str):
            if not ctx.jsonata:
                raise StatesError(RUNTIME, f"{field} must be an integer in a JSONPath state")
            value = evaluate_field(ctx, literal, field, states_variable(ctx, data))
            positive = isinstance(value, int | float) and not isinstance(value, bool)
            positive = positive and float(value).is_integer() and value > 0
            expected_type(ctx, literal, value, field, "integer", ok=positive)
            return int(value)
        return literal
    if path is None:
        return None
    try:
        value = evaluate_path(path, data, ctx.context, ctx.variables)
    except PathNotFound as exc:
        raise StatesError(RUNTIME, exc.cause) from None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise StatesError(
            RUNTIME,
            f"The {field}Path field refers to value {json.dumps(value)} which is not a valid "
            "positive integer",
        )
    return value


def _not_json(ctx: StateContext, what: str, exc: Exception) -> FatalError:
    return FatalError(
        RUNTIME,
        f"An error occurred while executing the state '{ctx.name}' (entered at the event id "
        f"#{ctx.entered_id}). The {what} is not JSON-serialisable: {exc}",
    )


def _json_copy(ctx: StateContext, value: Any, what: str) -> tuple[Any, int]:
    """A JSON-clean copy of ``value`` and its size in bytes; non-JSON data is States.Runtime."""
    try:
        return json_copy(value)
    except (TypeError, ValueError) as exc:
        raise _not_json(ctx, what, exc) from None


def _result_size(ctx: StateContext, value: Any) -> int:
    """The payload size of a result that needs no copy (see ``returns_fresh_json``); the same
    error as :func:`_json_copy` when it is not JSON data (NaN from the runtime's text)."""
    try:
        return payload_size(value)
    except (TypeError, ValueError) as exc:
        raise _not_json(ctx, "task result", exc) from None


def _heartbeat_deadline(waiter: TokenWaiter | None, progress: TaskProgress | None) -> float | None:
    if waiter is not None and waiter.heartbeat_deadline is not None:
        return waiter.heartbeat_deadline
    return progress.deadline if progress is not None else None


def _reporting(progress: TaskProgress | None) -> contextlib.AbstractContextManager[None]:
    return reporting_progress(progress) if progress is not None else contextlib.nullcontext()


async def _call_or_token(call: CallNext, request: TaskRequest, waiter: TokenWaiter) -> Any:
    """The call's result, or the outcome sent with the task's token if that comes first (the
    call is then cancelled).

    The call's end sets the waiter's event too (with no outcome), so neither side is left to
    be cancelled on the usual path: a cancelled task's traceback would keep its frames (and
    the execution they refer to) in a reference cycle.
    """
    box: dict[str, Any] = {}
    async with anyio.create_task_group() as tg:

        async def run_call() -> None:
            try:
                box["result"] = await call(request)
            except Exception as exc:
                box["error"] = exc
            finally:
                waiter.event.set()

        tg.start_soon(run_call)
        await waiter.event.wait()
        if "result" not in box and "error" not in box:
            tg.cancel_scope.cancel()
    if "result" in box:
        return box["result"]
    if "error" in box:
        raise box.pop("error")
    assert waiter.outcome is not None
    ok, value, cause = waiter.outcome
    if not ok:
        raise StatesError(value, cause)
    return value


async def _invoke(  # noqa: PLR0917
    ctx: StateContext,
    call: CallNext,
    request: TaskRequest,
    timeout: float | None,
    heartbeat: float | None,
    token: str | None,
    on_submitted: Any,
    progress: TaskProgress | None = None,
    sync_token: str | None = None,
) -> Any:
    """Call the binding; race it against the timeout/heartbeat; wait for the callback.

    A callback task's heartbeat clock runs from its scheduling; an activity's (``progress``)
    from the moment a worker picks it up. A ``.sync`` task's ``sync_token`` completes it too:
    SendTaskSuccess/SendTaskFailure with it ends the wait for the job, as on AWS.
    """
    clock = ctx.flow.runtime.clock
    if timeout is None and token is None and sync_token is None:
        if progress is None:
            with clock.busy():
                return await call(request)
        if heartbeat is None:
            with clock.busy(), reporting_progress(progress):
                return await call(request)
    runtime = ctx.runtime
    waiter: TokenWaiter | None = None
    if token is not None:
        waiter = TokenWaiter(heartbeat)
        runtime.tokens[token] = waiter
        if heartbeat is not None:
            waiter.heartbeat_deadline = clock.time() + heartbeat
    sync_waiter: TokenWaiter | None = None
    if sync_token is not None:
        sync_waiter = TokenWaiter(None)
        runtime.tokens[sync_token] = sync_waiter
    deadline = clock.time() + timeout if timeout is not None else None
    box: dict[str, Any] = {}

    async def timer(scope: anyio.CancelScope) -> None:
        try:
            while True:
                # Taken before reading the deadlines: a report after this sets this event.
                changed = progress.changed if progress is not None else None
                beat = _heartbeat_deadline(waiter, progress)
                limits = [limit for limit in (deadline, beat) if limit is not None]
                if not limits:
                    assert changed is not None  # an activity not picked up, with no timeout
                    await changed.wait()
                    continue
                limit = min(limits)
                now = clock.time()
                if now >= limit:
                    box["timed_out"] = _TimedOut(heartbeat=limit == beat and limit != deadline)
                    scope.cancel()
                    return
                if changed is None:
                    await clock.sleep(limit - now)
                else:
                    await clock.sleep_unless(limit - now, changed)
        finally:
            clock.flow_finished()

    try:
        with clock.busy():
            async with anyio.create_task_group() as tg:
                if deadline is not None or heartbeat is not None:
                    clock.flow_started()
                    tg.start_soon(timer, tg.cancel_scope)
                try:
                    try:
                        with _reporting(progress):
                            if sync_waiter is None:
                                result = await call(request)
                            else:
                                result = await _call_or_token(call, request, sync_waiter)
                    except Exception:
                        if deadline is not None and clock.time() >= deadline:
                            raise _TimedOut(heartbeat=False) from None  # failed too late
                        raise
                    if deadline is not None and clock.time() >= deadline:
                        # Returned (or failed, above) too late for the timer to see it (a step
                        # run inline, or one racing its deadline): on AWS it was stopped at the
                        # deadline, before its result or its error.
                        raise _TimedOut(heartbeat=False)
                    if waiter is not None:
                        on_submitted(result)
                        if heartbeat is not None:
                            waiter.heartbeat_deadline = clock.time() + heartbeat
                        await waiter.event.wait()
                        assert waiter.outcome is not None
                        ok, value, cause = waiter.outcome
                        if not ok:
                            raise StatesError(value, cause)
                        result = value
                    box["result"] = result
                except Exception as exc:
                    box["error"] = exc
                tg.cancel_scope.cancel()
    finally:
        if token is not None:
            runtime.tokens.pop(token, None)
        if sync_token is not None:
            runtime.tokens.pop(sync_token, None)
    if "error" in box:
        raise box["error"]
    if "result" in box:
        return box["result"]
    timed_out: _TimedOut = box["timed_out"]
    raise timed_out


async def run_task(ctx: StateContext, state: TaskState, raw: Any) -> tuple[Any, str | None]:
    """Run the Task state with its Retry and Catch."""
    runtime = ctx.runtime
    info = resource_info(state.resource)
    events = _events(state.resource)
    common = events.common
    call = runtime.calls[ctx.name]
    fresh = returns_fresh_json(call)  # its results need no isolating copy, only a size

    def finish(result: Any) -> Any:
        """Assign, then the effective result (JSONPath) or the state output (JSONata)."""
        if ctx.jsonata:
            states = states_variable(ctx, raw, result=result)
            return jsonata_assign_and_output(ctx, state, states, result)
        evaluate_assign(ctx, state.assign, result)
        return apply_result_selector(ctx, state, result)

    async def attempt() -> Any:
        resumed = ctx.resumed
        if resumed is not None and resumed.succeeded:
            # Resumed after a crash that followed a recorded success: not run again.
            ctx.resumed = None
            return finish(resumed.result)
        effective = raw if ctx.jsonata else apply_input_path(ctx, state, raw)
        timeout = heartbeat = None
        if state.timeout_seconds is not None or state.timeout_seconds_path is not None:
            timeout = _positive_seconds(
                ctx, state.timeout_seconds, state.timeout_seconds_path, "TimeoutSeconds", effective
            )
        if state.heartbeat_seconds is not None or state.heartbeat_seconds_path is not None:
            heartbeat = _positive_seconds(
                ctx,
                state.heartbeat_seconds,
                state.heartbeat_seconds_path,
                "HeartbeatSeconds",
                effective,
            )
        # AWS issues a token for the callback and the ``.sync`` patterns alike ($$.Task.Token
        # resolves in a ``.sync`` task's Parameters); only a callback task waits for it.
        token = runtime.new_token() if info.wait_for_task_token or info.sync else None
        ctx.set_task_token(token)
        # A mocked callback task answers with its mocked result; nobody sends the token back.
        wait_token = None if ctx.name in runtime.mocked or info.sync else token
        payload = effective
        if ctx.jsonata:
            if "arguments" in state.model_fields_set:
                payload = evaluate_field(
                    ctx, state.arguments, "Arguments", states_variable(ctx, raw)
                )
        elif state.parameters is not None:
            payload = apply_parameters(ctx, state.parameters, effective)
        handler_input, size = _json_copy(ctx, payload, "task input")
        if size > MAX_PAYLOAD_BYTES:
            error = data_limit_error(ctx.name)
            raise FatalError(error.error, error.cause)
        if info.family == "activity":
            missing = unavailable_reason(call)  # a deleted activity: no ActivityScheduled
            if missing is not None:
                raise fatal(ctx, StatesError(RUNTIME, missing))
        scheduled: dict[str, Any] = dict(common)
        if info.family == "task":
            scheduled["region"] = runtime.region
            scheduled["parameters"] = payload
        else:
            scheduled["resource"] = state.resource
            scheduled["input"] = payload
        if timeout is not None:
            scheduled["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            scheduled["heartbeatInSeconds"] = heartbeat
        if state.credentials is not None:
            credentials = _task_credentials(ctx, state, raw, effective)
            if credentials is not None:
                scheduled["taskCredentials"] = credentials
        ctx.add(events.scheduled, scheduled)
        progress: TaskProgress | None = None
        if info.family == "activity":
            # AWS records ActivityStarted when a worker picks the task up (GetActivityTask).

            def activity_started(details: dict[str, Any] | None) -> None:
                ctx.add("ActivityStarted", details)

            progress = TaskProgress(ctx.clock, heartbeat, activity_started)
        else:
            ctx.add(events.started, dict(common) if common else None)

        def submitted(output: Any) -> None:
            value, _ = _json_copy(ctx, output, "task's submission result")
            ctx.add(events.submitted, {**common, "output": value})

        request = TaskRequest(
            state_name=ctx.name,
            resource=state.resource,
            payload=handler_input,
            context=ctx.context,
            attempt=ctx.retry_count,
            invocation=runtime.next_invocation(ctx.name),
            timeout_seconds=float(timeout) if timeout is not None else None,
            execution_name=runtime.record.name,
            clock=ctx.clock,
            on_submitted=submitted if info.sync else None,
        )

        if not ctx.flow.top_level:
            # The other branches or iterations go on while the call is made, as on AWS: a
            # step that returns at once does not finish before its siblings have started.
            await anyio.lowlevel.checkpoint()
        # The handler, integration or interceptor acts on what was recorded: commit it first.
        if not commit_staged():
            await anyio.lowlevel.checkpoint_if_cancelled()  # this execution stopped, unrecorded
        try:
            try:
                result = await _invoke(
                    ctx,
                    call,
                    request,
                    timeout,
                    heartbeat,
                    wait_token,
                    submitted,
                    progress,
                    sync_token=token if info.sync and ctx.name not in runtime.mocked else None,
                )
            finally:
                if progress is not None:
                    progress.settle()
        except FatalError:
            raise
        except _TimedOut as exc:
            ctx.add(events.timed_out, {**common, "error": exc.error})
            raise
        except StatesError as exc:
            if exc.error == RUNTIME:
                raise
            failed = dict(common)
            if exc.error is not None:
                failed["error"] = exc.error
            if exc.cause is not None:
                failed["cause"] = exc.cause
            ctx.add(events.failed, failed)
            raise
        finally:
            ctx.set_task_token(None)
        if fresh:
            size = _result_size(ctx, result)
        else:
            result, size = _json_copy(ctx, result, "task result")
        if size > MAX_PAYLOAD_BYTES:
            error = data_limit_error(_result_source(state.resource, common))
            ctx.add(events.failed, {**common, "error": error.error, "cause": error.cause})
            raise error
        ctx.add(events.succeeded, {**common, "output": result})
        ctx.checked = result
        return finish(result)

    return await with_retry_and_catch(ctx, state, raw, attempt)
