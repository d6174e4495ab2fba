"""boto3 clients for the optimised integrations, and how their answers and errors are shaped."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from engine.errors import StatesError
from engine.lambda_shapes import sdk_metadata

if TYPE_CHECKING:
    from engine.bindings import TaskRequest

__all__ = [
    "Operation",
    "ServiceIntegration",
    "as_json_text",
    "clear_client_cache",
    "client_for",
    "only_supported",
    "with_metadata",
]

_DEFAULT_REGION = "us-east-1"
_local = threading.local()
_generation = 0
_generation_lock = threading.Lock()


@dataclass(frozen=True)
class Operation:
    """One optimised integration: the boto3 service, the Step Functions error prefix, the call.

    ``call(client, parameters, context)`` runs in a worker thread and returns the task result;
    ``context`` is the state's ``$$`` object.
    """

    service: str
    error_prefix: str
    java_service: str
    call: Callable[[Any, dict[str, Any], Mapping[str, Any]], Any]


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise StatesError(
            "States.Runtime",
            "The built-in AWS service integrations need boto3: "
            "install the 'aws' extra (pip install 'saga-statemachine[aws]').",
        ) from exc
    return boto3


def clear_client_cache() -> None:
    """Forget every cached client (e.g. after changing credentials or endpoints)."""
    global _generation
    with _generation_lock:
        _generation += 1


def _cache_key(service: str) -> tuple[str, ...]:
    watched = sorted(
        (key, value)
        for key, value in os.environ.items()
        if key.startswith(("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"))
        or key in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    )
    return (service, *(f"{key}={value}" for key, value in watched))


def client_for(service: str) -> Any:
    """A boto3 client for ``service`` with the standard configuration, cached per thread.

    Endpoints come from boto3's own settings (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``,
    config files); the region from them too, defaulting to us-east-1.
    """
    cache: dict[tuple[str, ...], Any] | None = getattr(_local, "clients", None)
    if cache is None or getattr(_local, "generation", -1) != _generation:
        cache = {}
        _local.clients = cache
        _local.generation = _generation
    key = _cache_key(service)
    client = cache.get(key)
    if client is None:
        session = _boto3().session.Session()
        region = session.region_name or _DEFAULT_REGION
        client = session.client(service, region_name=region)
        cache[key] = client
    return client


def only_supported(client: Any, operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters the API accepts; Step Functions drops other keys instead of failing."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    return {key: value for key, value in parameters.items() if key in members}


def as_json_text(value: Any) -> Any:
    """Objects and arrays as the compact JSON text Step Functions sends; strings unchanged."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def with_metadata(
    response: Mapping[str, Any], keys: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The API response as Step Functions returns it: its fields and ``Sdk*Metadata``, sorted."""
    meta = response.get("ResponseMetadata", {})
    fields = {
        key: value
        for key, value in response.items()
        if key != "ResponseMetadata" and (keys is None or key in keys)
    }
    headers = {str(k): str(v) for k, v in dict(meta.get("HTTPHeaders", {})).items()}
    request_id = str(meta.get("RequestId", ""))
    merged = {**fields, **sdk_metadata(request_id, headers, int(meta.get("HTTPStatusCode", 200)))}
    return dict(sorted(merged.items()))


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
    _boto3()
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
    from engine.integrations import dynamodb, events, sfn, sns, sqs

    operations: dict[str, Operation] = {}
    for module in (dynamodb, sqs, sns, events, sfn):
        operations.update(module.OPERATIONS)
    return operations


def integration_for(resource: str) -> ServiceIntegration | None:
    """The built-in integration for a resource without its pattern suffix, if there is one."""
    operation = _registry().get(resource)
    return None if operation is None else ServiceIntegration(resource, operation)
