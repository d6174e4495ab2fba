"""``arn:aws:states:::states:startExecution`` through boto3."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from engine.integrations._boto import Operation, as_json_text, call_api, with_metadata

__all__ = ["OPERATIONS", "render_date"]


def render_date(value: datetime) -> int:
    """A date as Step Functions writes it into integration results: epoch milliseconds.

    The service serialises the SDK's dates as Java does (milliseconds since the epoch).
    """
    when = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _api_key(name: str) -> str:
    return name[:1].lower() + name[1:]


def _task_key(name: str) -> str:
    return name[:1].upper() + name[1:]


def _start_execution(client: Any, parameters: dict[str, Any], context: Mapping[str, Any]) -> Any:
    request = {_api_key(key): value for key, value in parameters.items()}
    request["input"] = as_json_text(request.get("input", {}))
    response = call_api(client, "StartExecution", request)
    result = with_metadata(
        {
            (key if key == "ResponseMetadata" else _task_key(key)): value
            for key, value in response.items()
        }
    )
    if isinstance(result.get("StartDate"), datetime):
        result["StartDate"] = render_date(result["StartDate"])
    return result


OPERATIONS: Final[dict[str, Operation]] = {
    "arn:aws:states:::states:startExecution": Operation(
        "stepfunctions", "StepFunctions", "AWSStepFunctions", _start_execution
    ),
}
