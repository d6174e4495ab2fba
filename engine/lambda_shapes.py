"""Resource classification and AWS Lambda's result shapes, as Step Functions records them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Final, Literal

__all__ = [
    "DEPLOYED_TIMEOUT_FLOOR",
    "LAMBDA_INVOKE",
    "LAMBDA_MAX_TIMEOUT",
    "ResourceInfo",
    "activity_name",
    "classify_resource",
    "deployed_timeout",
    "function_timed_out",
    "lambda_function_name",
    "lambda_invoke_response",
    "lambda_log_tail",
    "placeholder_name",
    "placeholder_names",
    "request_id_for",
    "sdk_metadata",
]

LAMBDA_INVOKE: Final = "arn:aws:states:::lambda:invoke"

_LEGACY_LAMBDA = re.compile(
    r"^arn:[^:]+:lambda:.*:function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$"
)
_ACTIVITY = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:activity:(?P<name>.+)$")
_SERVICE = re.compile(r"^arn:[^:]+:states:::(?P<service>.+):(?P<action>[^:]+)$")
_PLACEHOLDER = re.compile(r"^\$\{(?P<name>[^}]+)\}$")
_PATTERNS: Final = {".sync:2": "sync:2", ".sync": "sync", ".waitForTaskToken": "waitForTaskToken"}

Family = Literal["lambda", "task", "activity"]
Pattern = Literal["request-response", "sync", "sync:2", "waitForTaskToken"]


@dataclass(frozen=True)
class ResourceInfo:
    """How a Task's resource is recorded in the history and which integration pattern it uses.

    ``family`` picks the event names: ``lambda`` → ``LambdaFunction*`` (legacy Lambda ARN and
    ``${Placeholder}`` resources), ``activity`` → ``Activity*``, ``task`` → ``Task*`` with
    ``resource_type``/``resource`` as in ``TaskScheduled`` (e.g. ``lambda``/``invoke``,
    ``dynamodb``/``updateItem``, ``sqs``/``sendMessage.waitForTaskToken``). ``base_resource``
    is ``arn`` without its ``.sync``/``.waitForTaskToken`` suffix.
    """

    family: Family
    resource_type: str | None
    resource: str
    pattern: Pattern
    is_lambda: bool
    base_resource: str
    arn: str

    @property
    def wait_for_task_token(self) -> bool:
        """Whether the state waits for SendTaskSuccess/SendTaskFailure."""
        return self.pattern == "waitForTaskToken"

    @property
    def sync(self) -> bool:
        """Whether the state waits for the job to finish (``.sync`` or ``.sync:2``)."""
        return self.pattern in ("sync", "sync:2")


def classify_resource(resource: str) -> ResourceInfo:
    """Classify a Task resource for the history and for the integration pattern."""
    if _LEGACY_LAMBDA.match(resource) or _PLACEHOLDER.match(resource):
        return ResourceInfo("lambda", None, resource, "request-response", True, resource, resource)
    if _ACTIVITY.match(resource):
        return ResourceInfo(
            "activity", None, resource, "request-response", False, resource, resource
        )
    suffix = next((s for s in _PATTERNS if resource.endswith(s)), "")
    base = resource[: len(resource) - len(suffix)] if suffix else resource
    match = _SERVICE.match(base)
    if match is None:
        return ResourceInfo("task", None, resource, "request-response", False, resource, resource)
    pattern: Pattern = _PATTERNS.get(suffix, "request-response")  # type: ignore[assignment]
    service, action = match["service"], match["action"]
    return ResourceInfo(
        family="task",
        resource_type=service,
        resource=action + suffix,
        pattern=pattern,
        is_lambda=service == "lambda",
        base_resource=base,
        arn=resource,
    )


def activity_name(resource: str) -> str | None:
    """The activity name of an activity ARN (None for anything else)."""
    match = _ACTIVITY.match(resource)
    return None if match is None else match["name"]


def lambda_function_name(reference: str) -> tuple[str, str | None] | None:
    """The function name and qualifier of a Lambda function ARN (None for anything else)."""
    match = _LEGACY_LAMBDA.match(reference)
    if match is None:
        return None
    return match["name"], match["qualifier"]


def placeholder_name(reference: str) -> str | None:
    """The name inside a ``${Name}`` placeholder (``ReserveBooking.Arn``), or None."""
    match = _PLACEHOLDER.match(reference)
    return None if match is None else match["name"]


def placeholder_names(reference: str) -> list[str]:
    """Handler keys a ``${Name.Attr}`` placeholder may be bound under: ``Name.Attr``, ``Name``."""
    match = _PLACEHOLDER.match(reference)
    if match is None:
        return []
    name = match["name"]
    names = [name]
    if "." in name:
        names.append(name.split(".", 1)[0])
    return names


LAMBDA_MAX_TIMEOUT: Final = 900
"""The longest timeout a Lambda function can have, in seconds."""

DEPLOYED_TIMEOUT_FLOOR: Final = 30
"""The shortest timeout an exported function gets (Lambda's own default, 3 s, is too short for
most steps that call out)."""


def deployed_timeout(longest_task_timeout: int | None) -> int:
    """The timeout, in seconds, an exported function gets: the longest ``TimeoutSeconds`` of the
    Tasks whose resource is its ``${Placeholder}``, at least 30 s, at most Lambda's 900 s.

    The local engine stops the Python step bound to that placeholder at the same figure, so
    a step runs out of time locally where its function would when deployed.
    """
    return min(LAMBDA_MAX_TIMEOUT, max(DEPLOYED_TIMEOUT_FLOOR, longest_task_timeout or 0))


def function_timed_out(request_id: str, seconds: float) -> str:
    """The error document Lambda answers for an invocation stopped at its function's timeout
    (``Sandbox.Timedout``); Step Functions reports it as the task's cause."""
    message = f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds"
    return json.dumps(
        {"errorMessage": message, "errorType": "Sandbox.Timedout"}, separators=(",", ":")
    )


_URL_NAMESPACE: Final = uuid.NAMESPACE_URL.bytes


def request_id_for(execution_name: str, state_name: str, invocation: int) -> str:
    """A request id that is stable for one invocation, so seeded runs record identical histories.

    ``uuid5(NAMESPACE_URL, "saga:<execution>/<state>/<invocation>")``, computed from its SHA-1
    directly (``uuid.uuid5`` builds two ``UUID`` objects on the way; this runs on every task).
    """
    name = f"saga:{execution_name}/{state_name}/{invocation}".encode()
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def trace_header(request_id: str, when: datetime | None) -> str:
    """An X-Ray trace header (``Root=1-<epoch hex>-<96 bits>;Parent=<64 bits>;Sampled=0``).

    AWS's recordings show Lambda's response always carries one (its value varies per call);
    here it is derived from the request id and the call's time, so seeded runs repeat it.
    """
    digest = hashlib.sha1(request_id.encode(), usedforsecurity=False).hexdigest()
    epoch = int(when.timestamp()) if when is not None else 0
    return f"Root=1-{epoch:08x}-{digest[:24]};Parent={digest[24:40]};Sampled=0"


def _http_date(when: datetime | None) -> str | None:
    if when is None:
        return None
    return format_datetime(when, usegmt=True) if when.tzinfo else format_datetime(when)


def sdk_metadata(
    request_id: str, headers: dict[str, str], status_code: int = 200
) -> dict[str, Any]:
    """The ``SdkHttpMetadata``/``SdkResponseMetadata`` keys of an optimised integration result."""
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": dict(headers),
            "HttpStatusCode": status_code,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def lambda_log_tail(request_id: str, version: str = "$LATEST") -> str:
    """The base64 ``LogResult`` of an invocation with ``LogType: Tail`` (the runtime's lines)."""
    lines = (
        f"START RequestId: {request_id} Version: {version}\n"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\n"
    )
    return base64.b64encode(lines.encode()).decode("ascii")


def lambda_invoke_response(
    payload: Any,
    request_id: str,
    *,
    date: datetime | None = None,
    version: str = "$LATEST",
    body: str | None = None,
    log_result: str | None = None,
) -> dict[str, Any]:
    """The result ``arn:aws:states:::lambda:invoke`` returns for a function's ``payload``.

    ``body`` is the response's JSON text as the function's runtime wrote it, whose length is
    the ``Content-Length`` header (by default the payload as the Python runtime writes it);
    ``log_result`` the base64 log tail asked for with ``LogType: Tail`` (a ``LogResult``
    member and header).
    """
    text = json.dumps(payload) if body is None else body
    headers = {
        "Connection": "keep-alive",
        "Content-Length": str(len(text.encode("utf-8", "surrogateescape"))),
        "Content-Type": "application/json",
        "X-Amz-Executed-Version": version,
        "X-Amzn-Trace-Id": trace_header(request_id, date),
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
    }
    if log_result is not None:
        headers["X-Amz-Log-Result"] = log_result
    rendered = _http_date(date)
    if rendered is not None:
        headers["Date"] = rendered
    response: dict[str, Any] = {"ExecutedVersion": version}
    if log_result is not None:
        response["LogResult"] = log_result
    response["Payload"] = payload
    return {
        **response,
        **sdk_metadata(request_id, dict(sorted(headers.items()))),
        "StatusCode": 200,
    }
