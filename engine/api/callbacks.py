"""Callback operations: task tokens (SendTaskSuccess/Failure/Heartbeat) and activities."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.api.arns import check_name
from engine.api.errors import ApiError
from engine.api.paging import page
from engine.api.registry import ActivityRecord
from engine.api.wire import encryption, posix
from engine.local_engine import InvalidToken
from engine.task_tokens import InvalidOutput, parse_output

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = [
    "create_activity",
    "delete_activity",
    "describe_activity",
    "get_activity_task",
    "list_activities",
    "send_task_failure",
    "send_task_heartbeat",
    "send_task_success",
]


def _invalid_output(exc: InvalidOutput) -> ApiError:
    return ApiError("InvalidOutput", f"Invalid Output: '{exc.reason}'")


async def send_task_success(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """SendTaskSuccess: complete a callback task or an activity task.

    As on AWS, the token is checked before the output: an unknown token is ``InvalidToken``
    even when the output is not JSON. The output text is parsed once, so a JSON string
    (``"hello"``) is the task's result as it is.
    """
    token, text = params["taskToken"], params["output"]
    try:
        task = service.activities.find(token)
        if task is not None:
            service.activities.succeed(task, parse_output(text))
            return {}
        for engine in service.engines():
            try:
                engine.send_task_success(token, text)
            except InvalidToken:
                continue
            return {}
    except InvalidOutput as exc:
        raise _invalid_output(exc) from None
    raise ApiError.invalid_token("Invalid token")


async def send_task_failure(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """SendTaskFailure: fail a callback task or an activity task."""
    token = params["taskToken"]
    error, cause = params.get("error"), params.get("cause")
    task = service.activities.find(token)
    if task is not None:
        service.activities.fail(task, error, cause)
        return {}
    for engine in service.engines():
        try:
            engine.send_task_failure(token, error, cause)
        except InvalidToken:
            continue
        return {}
    raise ApiError.invalid_token("Invalid token")


async def send_task_heartbeat(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """SendTaskHeartbeat: the task is still being worked on."""
    token = params["taskToken"]
    task = service.activities.find(token)
    if task is not None:
        service.activities.heartbeat(task)
        return {}
    for engine in service.engines():
        try:
            engine.send_task_heartbeat(token)
        except InvalidToken:
            continue
        return {}
    raise ApiError.invalid_token("Invalid token")


async def create_activity(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """CreateActivity (idempotent by name)."""
    name = params["name"]
    check_name(name)
    record = service.registry.activities.get(name)
    if record is None:
        record = ActivityRecord(
            name,
            service.arns.activity(name),
            time.time(),
            encryption_configuration=params.get("encryptionConfiguration") or {},
        )
        service.registry.put_activity(record)
        tags = {tag["key"]: tag.get("value", "") for tag in params.get("tags", [])}
        service.registry.set_tags(record.arn, tags)
    return {"activityArn": record.arn, "creationDate": posix(record.creation_posix)}


def _activity(service: StepFunctionsService, arn: str) -> ActivityRecord:
    name = service.arns.parse_activity(arn)
    record = service.registry.activities.get(name)
    if record is None or record.arn != arn:
        raise ApiError.activity_does_not_exist(arn)
    return record


async def describe_activity(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DescribeActivity."""
    record = _activity(service, params["activityArn"])
    return {
        "activityArn": record.arn,
        "name": record.name,
        "creationDate": posix(record.creation_posix),
        "encryptionConfiguration": encryption(record.encryption_configuration),
    }


async def delete_activity(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteActivity (deleting an unknown activity succeeds, as on AWS)."""
    name = service.arns.parse_activity(params["activityArn"])
    if name in service.registry.activities:
        service.registry.drop_activity(name)
        service.activities.forget(params["activityArn"])
    return {}


async def list_activities(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """ListActivities, in creation order, paged."""
    records = sorted(service.registry.activities.values(), key=lambda a: a.creation_posix)
    chunk, token = page(
        records, params.get("maxResults"), params.get("nextToken"), "ListActivities"
    )
    out: dict[str, Any] = {
        "activities": [
            {
                "activityArn": record.arn,
                "name": record.name,
                "creationDate": posix(record.creation_posix),
            }
            for record in chunk
        ]
    }
    if token:
        out["nextToken"] = token
    return out


async def get_activity_task(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """GetActivityTask: the next task of the activity, waiting up to 60 seconds for one."""
    record = _activity(service, params["activityArn"])
    task = await service.activities.next_task(record.arn, worker_name=params.get("workerName"))
    if task is None:
        return {}
    return {"taskToken": task.token, "input": service.activities.input_text(task)}
