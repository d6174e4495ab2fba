"""The optimised integrations as task bindings: a resource names an operation, run through boto3.

The registry sits above the integration modules it gathers (``dynamodb``, ``sqs``, ``sns``,
``events``, ``sfn``), which share the client and response helpers of ``_boto`` below them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from engine.errors import StatesError
from engine.integrations import dynamodb, events, sfn, sns, sqs
from engine.integrations._boto import Operation, client_for, require_boto3
from engine.integrations._service_errors import base_exception, missing_members_answer
from engine.lambda_shapes import request_id_for

if TYPE_CHECKING:
    from engine.bindings import TaskRequest

__all__ = ["ServiceIntegration", "integration_for"]


def _exception_name(exc: Any, operation: Operation) -> str:
    name = type(exc).__name__
    if name == "ClientError":  # botocore's class for an error the service does not model
        return base_exception(operation.java_service)
    return name if name.endswith("Exception") else f"{name}Exception"


def _service_error(
    operation: Operation, name: str, *, code: str, message: str, status: Any, request_id: Any
) -> StatesError:
    cause = (
        f"{message} (Service: {operation.java_service}; Status Code: {status}; "
        f"Error Code: {code}; Request ID: {request_id or 'null'}; Proxy: null)"
    )
    return StatesError(f"{operation.error_prefix}.{name}", cause)


def _client_error(exc: Any, operation: Operation) -> StatesError:
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or "UnknownError")
    message = str(error.get("Message") or code)
    return _service_error(
        operation,
        _exception_name(exc, operation),
        code=code,
        message=message,
        status=meta.get("HTTPStatusCode", 400),
        request_id=meta.get("RequestId"),
    )


def _missing_required(
    client: Any, operation: Operation, api: str, parameters: dict[str, Any], request_id: str
) -> StatesError | None:
    """The service's answer to a request without a required member, for the services whose
    answer AWS recorded (others go on to boto3's own parameter check)."""
    required = client.meta.service_model.operation_model(api).input_shape.required_members
    missing = [member for member in required if member not in parameters]
    answer = missing_members_answer(operation.service, missing)
    if answer is None:
        return None
    code, message = answer
    return _service_error(
        operation,
        base_exception(operation.java_service),
        code=code,
        message=message,
        status=400,
        request_id=request_id,
    )


def _sdk_error(exc: Exception, operation: Operation) -> StatesError:
    """Connection, credential and parameter problems: the SDK never reached a service answer."""
    kind = type(exc).__name__
    if kind == "ParamValidationError":
        return StatesError(f"{operation.error_prefix}.ValidationException", str(exc))
    return StatesError(
        f"{operation.error_prefix}.SdkClientException",
        f"{kind}: {exc}",
    )


def _invoke(
    operation: Operation,
    api: str,
    parameters: dict[str, Any],
    context: Mapping[str, Any],
    request_id: str,
) -> Any:
    require_boto3()
    from botocore.exceptions import BotoCoreError, ClientError

    # The Java SDK Step Functions calls with sends no member for a null value.
    parameters = {key: value for key, value in parameters.items() if value is not None}
    try:
        client = client_for(operation.service)
        missing = _missing_required(client, operation, api, parameters, request_id)
        if missing is not None:
            raise missing
        return operation.call(client, parameters, context)
    except ClientError as exc:
        raise _client_error(exc, operation) from None
    except BotoCoreError as exc:
        raise _sdk_error(exc, operation) from None


class ServiceIntegration:
    """A ``TaskBinding`` calling one optimised integration through boto3 in a worker thread."""

    def __init__(self, resource: str, operation: Operation) -> None:
        self.resource = resource
        self.operation = operation

    async def invoke(self, request: TaskRequest) -> Any:
        """Call the API with the effective input as its parameters."""
        parameters = request.payload
        if not isinstance(parameters, dict):
            raise StatesError(
                f"{self.operation.error_prefix}.ValidationException",
                f"The parameters of '{self.resource}' must be a JSON object, "
                f"got {type(parameters).__name__}.",
            )
        action = self.resource.rsplit(":", 1)[-1]
        request_id = request_id_for(request.execution_name, request.state_name, request.invocation)
        return await anyio.to_thread.run_sync(
            functools.partial(
                _invoke,
                self.operation,
                action[:1].upper() + action[1:],
                dict(parameters),
                request.context,
                request_id,
            ),
            abandon_on_cancel=True,
        )


@functools.cache
def _registry() -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    for module in (dynamodb, sqs, sns, events, sfn):
        operations.update(module.OPERATIONS)
    return operations


def integration_for(resource: str) -> ServiceIntegration | None:
    """The built-in optimised integration for a resource without its pattern suffix, if any."""
    operation = _registry().get(resource)
    return None if operation is None else ServiceIntegration(resource, operation)
