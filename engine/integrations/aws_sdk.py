"""``arn:aws:states:::aws-sdk:SERVICE:ACTION``: any AWS API through boto3, as Step Functions does.

The ARN names the service as the AWS SDK for Java 2.x names its client package (``sfn``,
``eventbridge``, ``cloudwatchlogs``: the service id without spaces, lower case) and the action
in camelCase. Parameters are the API's members in PascalCase; a string member given JSON data
receives its compact JSON text, a blob member given anything but text receives its JSON text
(as AWS recorded for ``s3:putObject``). Results are the API's response with each member's first
letter upper-cased, timestamps as ISO-8601 text, streamed bodies as text and blobs as base64.
Errors are ``Service.ExceptionName``: the service id in Java's PascalCase (``DynamoDb``,
``S3``, ``Sfn``), the modelled exception with an ``Exception`` suffix, or
``Service.ServiceException`` for an error the API does not model (AWS recorded
``DynamoDb.DynamoDbException`` and ``SecretsManager.SecretsManagerException``).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread

from engine.errors import StatesError
from engine.integrations._boto import client_for
from engine.integrations._service_errors import missing_members_answer
from engine.lambda_shapes import request_id_for
from engine.paths import compact_json

if TYPE_CHECKING:
    from engine.bindings import TaskRequest

__all__ = [
    "AwsSdkIntegration",
    "SdkTarget",
    "aws_sdk_integration",
    "aws_sdk_problem",
    "aws_sdk_target",
    "boto3_service_name",
    "error_service_name",
    "iam_action",
    "is_aws_sdk_resource",
    "pascal_words",
    "sdk_result",
]

_AWS_SDK = re.compile(
    r"^arn:[^:]+:states:::aws-sdk:(?P<service>[^:]+):(?P<action>[^:.]+)"
    r"(?P<suffix>\.waitForTaskToken|\.sync(?::2)?)?$"
)

# ARN service names (the Java SDK's client packages: the service id without a trailing
# "Service", spaces and case) whose boto3 name is not that name without hyphens, from
# botocore's service ids.
_BOTO3_NAMES: Final[dict[str, str]] = {
    "applicationdiscovery": "discovery",
    "cloudwatchlogs": "logs",
    "cognitoidentityprovider": "cognito-idp",
    "costandusagereport": "cur",
    "costexplorer": "ce",
    "databasemigration": "dms",
    "directory": "ds",
    "directoryservicedata": "ds-data",
    "elasticloadbalancing": "elb",
    "elasticloadbalancingv2": "elbv2",
    "elasticsearch": "es",
    "eventbridge": "events",
    "iotdataplane": "iot-data",
    "iotjobsdataplane": "iot-jobs-data",
    "lexmodelbuilding": "lex-models",
    "lexmodelsv2": "lexv2-models",
    "lexruntimev2": "lexv2-runtime",
    "marketplacemetering": "meteringmarketplace",
    "migrationhub": "mgh",
    "pinpointsmsvoice": "sms-voice",
    "serverlessapplicationrepository": "serverlessrepo",
    "sfn": "stepfunctions",
    "simpledb": "sdb",
}


def is_aws_sdk_resource(resource: str) -> bool:
    """Whether ``resource`` is an ``aws-sdk:`` integration ARN (any pattern suffix)."""
    return _AWS_SDK.match(resource) is not None


def pascal_words(text: str) -> str:
    """``text`` in the Java SDK's PascalCase: ``DynamoDB`` → ``DynamoDb``, ``ACM PCA`` → ``AcmPca``.

    Words split at non-alphanumerics, lower→upper changes, the end of an acronym and after
    a digit; each word is lower-cased and capitalised.
    """
    spaced = re.sub(r"[^A-Za-z0-9]+", " ", text)
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z][a-zA-Z0-9])", " ", spaced)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    spaced = re.sub(r"([0-9])([a-zA-Z])", r"\1 \2", spaced)
    return "".join(word.lower().capitalize() for word in spaced.split())


def _service_words(service_id: str) -> str:
    return re.sub(r"\s+Service$", "", service_id)


def _arn_name(service_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", _service_words(service_id)).lower()


@functools.cache
def _loader() -> Any:
    import botocore.session

    return botocore.session.get_session().get_component("data_loader")


@functools.cache
def _service_model(boto_name: str) -> Any:
    import botocore.model

    return botocore.model.ServiceModel(
        _loader().load_service_model(boto_name, "service-2"), boto_name
    )


@functools.cache
def boto3_service_name(arn_service: str) -> str | None:
    """The boto3 client name for the service an ``aws-sdk:`` ARN names (None when unknown)."""
    known = _BOTO3_NAMES.get(arn_service)
    if known is not None:
        return known
    for name in _loader().list_available_services("service-2"):
        if name.replace("-", "") == arn_service and (
            _arn_name(_service_model(name).service_id) == arn_service
        ):
            return str(name)
    return None


@functools.cache
def error_service_name(boto_name: str) -> str:
    """The service part of Step Functions' error names: ``DynamoDb``, ``S3``, ``Sfn``, ``Sqs``."""
    return pascal_words(_service_words(str(_service_model(boto_name).service_id)))


@dataclass(frozen=True)
class SdkTarget:
    """What an ``aws-sdk:`` resource calls: the boto3 service and the API operation."""

    arn_service: str
    boto_service: str
    operation: str
    error_service: str


def _snake(name: str) -> str:
    from botocore import xform_name

    return str(xform_name(name[:1].upper() + name[1:])).replace("_", "")


@functools.cache
def _operations(boto_name: str) -> dict[str, str]:
    return {_snake(name): name for name in _service_model(boto_name).operation_names}


def aws_sdk_target(resource: str) -> SdkTarget | str:
    """The call an ``aws-sdk:`` resource makes, or why it cannot be made (a message)."""
    match = _AWS_SDK.match(resource)
    if match is None:
        return f"'{resource}' is not an aws-sdk integration ARN"
    service, action, suffix = match["service"], match["action"], match["suffix"]
    if suffix and suffix.startswith(".sync"):
        return (
            f"the aws-sdk integration '{resource}' does not support '{suffix}': Step Functions "
            "offers only request-response and .waitForTaskToken for aws-sdk integrations"
        )
    try:
        boto_name = boto3_service_name(service)
    except ImportError:
        return "aws-sdk integrations need boto3: install the 'aws' extra"
    if boto_name is None:
        return f"the AWS SDK has no service named '{service}' (resource '{resource}')"
    operation = _operations(boto_name).get(_snake(action))
    if operation is None:
        return f"the AWS SDK service '{service}' has no action '{action}' (resource '{resource}')"
    return SdkTarget(service, boto_name, operation, error_service_name(boto_name))


# -- requests -------------------------------------------------------------------------------


def _member_names(shape: Any) -> dict[str, str]:
    return {name.lower(): name for name in shape.members}


def _request_value(value: Any, shape: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        names = _member_names(shape)
        converted: dict[str, Any] = {}
        for key, item in value.items():
            member = names.get(str(key).lower())
            if item is None and member is not None:
                continue  # the Java SDK sends no member for a null value
            if member is None:
                converted[key] = item  # boto3 reports it as an unknown parameter
            else:
                converted[member] = _request_value(item, shape.members[member])
        return converted
    if kind == "list" and isinstance(value, list):
        return [_request_value(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, Mapping):
        return {key: _request_value(item, shape.value) for key, item in value.items()}
    if kind == "string" and not isinstance(value, str):
        return compact_json(value)
    if kind == "blob" and not isinstance(value, bytes | bytearray):
        return compact_json(value).encode("utf-8")
    return value


# -- responses ------------------------------------------------------------------------------


def _iso_instant(value: datetime) -> str:
    """A timestamp as Java's ``Instant.toString()`` writes it (UTC, ``Z``, milliseconds if any)."""
    when = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        fraction = f"{when.microsecond:06d}"
        text += "." + (fraction[:3] if fraction.endswith("000") else fraction)
    return text + "Z"


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso_instant(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    read = getattr(value, "read", None)
    if callable(read):  # a streamed body (S3 GetObject): its content as text
        return bytes(read()).decode("utf-8", errors="replace")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _response_value(value: Any, shape: Any) -> Any:
    """A response value by its shape: structure members capitalised, map keys kept."""
    kind = shape.type_name if shape is not None else None
    if isinstance(value, Mapping):
        if kind == "map":
            return {key: _response_value(item, shape.value) for key, item in value.items()}
        members = shape.members if kind == "structure" else {}
        return {
            str(key)[:1].upper() + str(key)[1:]: _response_value(item, members.get(key))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        member = shape.member if kind == "list" else None
        return [_response_value(item, member) for item in value]
    return _scalar(value)


def sdk_result(response: Mapping[str, Any], shape: Any = None) -> dict[str, Any]:
    """A boto3 response as an aws-sdk task's result: no ``ResponseMetadata``, PascalCase members.

    ``shape`` is the operation's output shape (botocore); map keys (e.g. DynamoDB attribute
    names) keep their case.
    """
    fields = {key: item for key, item in response.items() if key != "ResponseMetadata"}
    result: dict[str, Any] = _response_value(fields, shape)
    return result


# -- errors ---------------------------------------------------------------------------------


def _client_error(exc: Any, target: SdkTarget) -> StatesError:
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or code or "Unknown error")
    # botocore raises a modelled error as its own class, anything else as ClientError.
    name = type(exc).__name__
    if name == "ClientError":
        name = target.error_service
    if not name.endswith("Exception"):
        name += "Exception"
    details = [
        f"Service: {target.error_service}",
        f"Status Code: {meta.get('HTTPStatusCode', 400)}",
        f"Request ID: {meta.get('RequestId') or 'null'}",
    ]
    host_id = meta.get("HostId")
    if host_id:
        details.append(f"Extended Request ID: {host_id}")
    return StatesError(f"{target.error_service}.{name}", f"{message} ({', '.join(details)})")


def _missing_required(target: SdkTarget, shape: Any, request: Any, request_id: str) -> None:
    """Fail as the service answers a request without a required member, for the services whose
    answer AWS recorded (others go on to boto3's own parameter check)."""
    if shape is None or not isinstance(request, dict):
        return
    missing = [member for member in shape.required_members if member not in request]
    answer = missing_members_answer(target.boto_service, missing)
    if answer is None:
        return
    service = target.error_service
    raise StatesError(
        f"{service}.{service}Exception",
        f"{answer[1]} (Service: {service}, Status Code: 400, Request ID: {request_id})",
    )


_TEXT_BODY: Final = "text/plain; charset=UTF-8"


def _text_body_content_type(shape: Any, request: Any) -> None:
    """A streamed body made from the state's JSON data is text: the SDK Step Functions uses
    sends it as ``text/plain; charset=UTF-8`` unless ``ContentType`` is given (AWS recorded
    s3:putObject storing that type)."""
    if shape is None or not isinstance(request, dict):
        return
    payload = shape.serialization.get("payload")
    if payload is None or payload not in request or "ContentType" not in shape.members:
        return
    if shape.members[payload].type_name == "blob" and "ContentType" not in request:
        request["ContentType"] = _TEXT_BODY


def _call(target: SdkTarget, parameters: dict[str, Any], request_id: str = "") -> Any:
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    client = client_for(target.boto_service)
    operation = client.meta.service_model.operation_model(target.operation)
    shape = operation.input_shape
    request = _request_value(parameters, shape) if shape is not None else parameters
    _missing_required(target, shape, request, request_id)
    _text_body_content_type(shape, request)
    method = getattr(client, _botocore_method(target.operation))
    try:
        response = method(**request)
    except ClientError as exc:
        raise _client_error(exc, target) from None
    except ParamValidationError as exc:
        raise StatesError(
            f"{target.error_service}.{target.error_service}Exception", str(exc)
        ) from None
    except BotoCoreError as exc:
        raise StatesError(
            f"{target.error_service}.SdkClientException", f"{type(exc).__name__}: {exc}"
        ) from None
    return sdk_result(response, operation.output_shape)


def _botocore_method(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


class AwsSdkIntegration:
    """A ``TaskBinding`` for an ``aws-sdk:`` resource: one boto3 call in a worker thread."""

    def __init__(self, resource: str, target: SdkTarget) -> None:
        self.resource = resource
        self.target = target

    async def invoke(self, request: TaskRequest) -> Any:
        """Call the API with the effective input as its parameters."""
        parameters = request.payload if request.payload is not None else {}
        if not isinstance(parameters, dict):
            service = self.target.error_service
            raise StatesError(
                f"{service}.{service}Exception",
                f"The parameters of '{self.resource}' must be a JSON object, "
                f"got {type(parameters).__name__}.",
            )
        request_id = request_id_for(request.execution_name, request.state_name, request.invocation)
        return await anyio.to_thread.run_sync(
            functools.partial(_call, self.target, dict(parameters), request_id),
            abandon_on_cancel=True,
        )


# API operations whose IAM action has another name.
_IAM_ACTIONS: Final[dict[tuple[str, str], str]] = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
}


def iam_action(target: SdkTarget) -> str:
    """The IAM action the call needs: the service's signing name and the operation."""
    model = _service_model(target.boto_service)
    prefix = str(model.signing_name or model.endpoint_prefix)
    return _IAM_ACTIONS.get((prefix, target.operation), f"{prefix}:{target.operation}")


def aws_sdk_problem(resource: str) -> str:
    """Why an ``aws-sdk:`` resource cannot be called (empty when it can)."""
    target = aws_sdk_target(resource)
    return "" if isinstance(target, SdkTarget) else target


def aws_sdk_integration(resource: str) -> AwsSdkIntegration | None:
    """The binding for an ``aws-sdk:`` resource, or None when the SDK has no such call."""
    target = aws_sdk_target(resource)
    return AwsSdkIntegration(resource, target) if isinstance(target, SdkTarget) else None
