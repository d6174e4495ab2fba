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

if TYPE_CHECKING:
    from engine.bindings import TaskRequest

__all__ = ["ServiceIntegration", "integration_for"]


def _exception_name(exc: Any) -> str:
    name = type(exc).__name__
    if name == "ClientError":
        code = str(exc.response.get("Error", {}).get("Code") or "UnknownError")
        name = code.rsplit(".", 1)[-1]
    return name if name.endswith("Exception") else f"{name}Exception"


def _client_error(exc: Any, operation: Operation) -> StatesError:
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or "UnknownError")
    message = str(error.get("Message") or code)
    cause = (
        f"{message} (Service: {operation.java_service}; Status Code: "
        f"{meta.get('HTTPStatusCode', 400)}; Error Code: {code}; "
        f"Request ID: {meta.get('RequestId') or 'null'}; Proxy: null)"
    )
    return StatesError(f"{operation.error_prefix}.{_exception_name(exc)}", cause)


def _sdk_error(exc: Exception, operation: Operation) -> StatesError:
    """Connection, credential and parameter problems: the SDK never reached a service answer."""
    kind = type(exc).__name__
    if kind == "ParamValidationError":
        return StatesError(f"{operation.error_prefix}.ValidationException", str(exc))
    return StatesError(
        f"{operation.error_prefix}.SdkClientException",
        f"{kind}: {exc}",
    )


def _invoke(operation: Operation, parameters: dict[str, Any], context: Mapping[str, Any]) -> Any:
    require_boto3()
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = client_for(operation.service)
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
        return await anyio.to_thread.run_sync(
            functools.partial(_invoke, self.operation, dict(parameters), request.context),
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
