"""``arn:aws:states:::states:startExecution`` (plain, ``.sync``, ``.sync:2``, ``.waitForTaskToken``)
run as a child execution of the same local engine.

The child machine is found by ARN among the machines the engine knows
(:meth:`LocalEngine.register_state_machine`, and every machine it has started). The child has
its own execution, history and store record. The parent's result is shaped as AWS shapes it
(recorded by LocalStack against AWS): the StartExecution response for the plain and callback
patterns; for ``.sync`` a ``TaskSubmitted`` event with that response, then the child's
DescribeExecution fields with ``Input``/``Output`` as JSON text (``.sync:2``: parsed). A child
that does not succeed fails the task with ``States.TaskFailed`` and the child's
DescribeExecution fields (with its ``Error``/``Cause``) as JSON text in the cause. Stopping or
timing out the parent's task stops the child. A child whose name is not given gets one derived
from the parent execution, state and invocation, so a resumed parent re-attaches to the child
it had started (running, resumable or finished) instead of starting another.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Final

import anyio

from engine.bindings import TaskBinding, TaskRequest
from engine.errors import StatesError
from engine.integrations.sfn import render_date
from engine.lambda_shapes import request_id_for, sdk_metadata
from engine.limits import InvalidExecutionInput
from engine.paths import compact_json
from engine.store.base import ExecutionAlreadyExists

if TYPE_CHECKING:
    from engine.execution import Execution
    from engine.local_engine import LocalEngine
    from engine.store.base import StoredExecution

__all__ = ["NESTED_RESOURCES", "NestedExecutionBinding", "nested_bindings"]

_START: Final = "arn:aws:states:::states:startExecution"
NESTED_RESOURCES: Final = (
    _START,
    f"{_START}.sync",
    f"{_START}.sync:2",
    f"{_START}.waitForTaskToken",
)
"""The resources a local engine runs as child executions when the ARN names a known machine."""

TASK_FAILED: Final = "States.TaskFailed"


def _service_error(code: str, message: str, request_id: str) -> StatesError:
    return StatesError(
        f"StepFunctions.{code}Exception",
        f"{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)",
    )


def _start_response(child: Execution | StoredExecution, request_id: str) -> dict[str, Any]:
    started = datetime.fromtimestamp(child.start_posix, UTC)
    # The service's JSON answer (epoch seconds for the date) sizes Content-Length.
    body = compact_json(
        {"executionArn": child.execution_arn, "startDate": round(child.start_posix, 3)}
    )
    headers = {
        "Content-Length": str(len(body.encode("utf-8"))),
        "Content-Type": "application/x-amz-json-1.0",
        "Date": format_datetime(started, usegmt=True),
        "connection": "keep-alive",
        "x-amzn-RequestId": request_id,
    }
    return {
        "ExecutionArn": child.execution_arn,
        **sdk_metadata(request_id, headers),
        "StartDate": render_date(datetime.fromtimestamp(child.start_posix, UTC)),
    }


def _describe(
    record: Execution | StoredExecution, *, parsed: bool, include_output: bool = True
) -> dict[str, Any]:
    """The child's DescribeExecution fields as the ``.sync`` integrations return them."""
    described: dict[str, Any] = {
        "ExecutionArn": record.execution_arn,
        "Input": record.input if parsed else compact_json(record.input),
        "InputDetails": {"Included": True},
        "Name": record.name,
        "StartDate": render_date(datetime.fromtimestamp(record.start_posix, UTC)),
        "StateMachineArn": record.state_machine_arn,
        "Status": record.status,
    }
    if record.stop_posix is not None:
        described["StopDate"] = render_date(datetime.fromtimestamp(record.stop_posix, UTC))
    if record.status == "SUCCEEDED" and include_output:
        described["Output"] = record.output if parsed else compact_json(record.output)
        described["OutputDetails"] = {"Included": True}
    if record.error is not None:
        described["Error"] = record.error
    if record.cause is not None:
        described["Cause"] = record.cause
    described.update(_redrive_fields(record))
    return dict(sorted(described.items()))


_REDRIVABLE: Final = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})


def _redrive_fields(record: Execution | StoredExecution) -> dict[str, Any]:
    """DescribeExecution's redrive members (AWS returns them since redrive exists): the count,
    and whether the finished child could be redriven (why not, when it cannot)."""
    fields: dict[str, Any] = {"RedriveCount": getattr(record, "redrive_count", 0)}
    if record.status in _REDRIVABLE:
        fields["RedriveStatus"] = "REDRIVABLE"
    else:
        fields["RedriveStatus"] = "NOT_REDRIVABLE"
        fields["RedriveStatusReason"] = f"Execution is {record.status} and cannot be redriven"
    return fields


def _outcome(record: Execution | StoredExecution, *, parsed: bool) -> dict[str, Any]:
    """The ``.sync`` task result, or the task failure a child that did not succeed causes."""
    if record.status == "SUCCEEDED":
        return _describe(record, parsed=parsed)
    raise StatesError(TASK_FAILED, compact_json(_describe(record, parsed=parsed)))


def _child_input(parameters: Mapping[str, Any], request_id: str) -> Any:
    value = parameters.get("Input")
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise _service_error(
                "InvalidExecutionInput",
                f"Invalid State Machine Execution Input: {exc.msg}",
                request_id,
            ) from None
    return value


class NestedExecutionBinding:
    """Runs ``states:startExecution*`` against the machines a :class:`LocalEngine` knows.

    An ARN the engine does not know goes to ``fallback`` (the boto3 integration, for the
    plain and callback patterns) or fails as AWS fails it
    (``StepFunctions.StateMachineDoesNotExistException``).
    """

    def __init__(
        self, engine: LocalEngine, resource: str, fallback: TaskBinding | None = None
    ) -> None:
        self.engine = engine
        self.resource = resource
        self.pattern = resource[len(_START) :].lstrip(".") or "request-response"
        self.fallback = fallback

    async def invoke(self, request: TaskRequest) -> Any:
        """Start (or re-attach to) the child; for ``.sync`` wait for its end."""
        parameters = request.payload if isinstance(request.payload, Mapping) else {}
        request_id = request_id_for(request.execution_name, request.state_name, request.invocation)
        arn = parameters.get("StateMachineArn")
        machine = self.engine.state_machine(arn) if isinstance(arn, str) else None
        if machine is None:
            if self.fallback is not None and not self.pattern.startswith("sync"):
                return await self.fallback.invoke(request)
            raise _service_error(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'", request_id
            )
        data = _child_input(parameters, request_id)
        name = parameters.get("Name")
        if not isinstance(name, str):
            name = self._derived_name(request)
        sm_name = str(arn).rsplit(":", 1)[-1]
        started_by = self._started_by(request)
        finished = self.engine.finished_execution(name, data, started_by)
        if finished is not None:
            if self.pattern.startswith("sync"):
                return _outcome(finished, parsed=self.pattern == "sync:2")
            return _start_response(finished, request_id)
        try:
            handle = await self.engine.start_execution(
                machine, data, name, state_machine_name=sm_name, started_by=started_by
            )
        except Exception as exc:
            raise _start_error(exc, name, request_id) from None
        response = _start_response(handle.execution, request_id)
        if not self.pattern.startswith("sync"):
            return response
        if request.on_submitted is not None:
            request.on_submitted(response)
        record = await self._wait(handle.name, request)
        return _outcome(record, parsed=self.pattern == "sync:2")

    @staticmethod
    def _started_by(request: TaskRequest) -> str:
        """Which parent task invocation starts the child: recorded with the child."""
        parent = request.context.get("Execution")
        parent_id = parent.get("Id") if isinstance(parent, Mapping) else request.execution_name
        return f"{parent_id}#{request.state_name}#{request.invocation}"

    def _derived_name(self, request: TaskRequest) -> str:
        key = self._started_by(request)
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"saga:child:{key}"))

    async def _wait(self, name: str, request: TaskRequest) -> Execution:
        """Park until the child ends; a cancelled wait (stop, timeout) stops the child."""
        engine = self.engine
        clock = request.clock or engine.clock
        gate = engine.watch(name)
        try:
            with clock.idle():
                await gate.wait()
        except anyio.get_cancelled_exc_class():
            if not engine.closing:
                with anyio.CancelScope(shield=True):
                    await engine.stop(name)
            raise
        return engine.describe(name)


def _start_error(exc: Exception, name: str, request_id: str) -> StatesError:
    if isinstance(exc, ExecutionAlreadyExists):
        return _service_error(
            "ExecutionAlreadyExists", f"Execution Already Exists: '{name}'", request_id
        )
    if isinstance(exc, InvalidExecutionInput):
        return _service_error("InvalidExecutionInput", str(exc), request_id)
    if isinstance(exc, ValueError):
        return _service_error("InvalidName", str(exc), request_id)
    if isinstance(exc, StatesError):
        return exc
    raise exc


def nested_bindings(
    engine: LocalEngine, fallbacks: Mapping[str, TaskBinding | None]
) -> dict[str, TaskBinding]:
    """One binding per ``startExecution`` resource, for ``engine``."""
    return {
        resource: NestedExecutionBinding(engine, resource, fallbacks.get(resource))
        for resource in NESTED_RESOURCES
    }
