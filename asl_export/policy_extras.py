"""IAM needs of nested executions, ``aws-sdk:`` calls and distributed Maps.

From Step Functions' documented policies: ``startExecution.sync`` also describes and stops the
child and manages the EventBridge rule Step Functions watches it with; an ``aws-sdk:`` task
needs the API's IAM action (``SERVICE:Action``, the service's signing name as prefix); a
distributed Map starts, describes and stops executions of its own machine, reads its
``ItemReader`` objects and writes its ``ResultWriter`` prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from engine.integrations.aws_sdk import aws_sdk_target, iam_action

__all__ = ["aws_sdk_action", "distributed_map_needs", "sync_start_needs"]

Add = Callable[[str, Any], None]
Arn = Callable[[str, str], Any]

SYNC_RULE: Final = "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"


def aws_sdk_action(resource: str) -> str | None:
    """The IAM action an ``aws-sdk:`` resource needs (None when the SDK has no such call)."""
    target = aws_sdk_target(resource)
    return None if isinstance(target, str) else iam_action(target)


def sync_start_needs(add: Add, arn: Arn) -> None:
    """What ``states:startExecution.sync`` needs besides ``states:StartExecution``."""
    add("states:DescribeExecution", arn("states", "execution:*"))
    add("states:StopExecution", arn("states", "execution:*"))
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        add(action, arn("events", SYNC_RULE))


def _s3(bucket: Any, rest: str) -> Any:
    if isinstance(bucket, str) and "${" not in bucket:
        return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket}{rest}"}
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::*{rest}"}


def distributed_map_needs(state: Mapping[str, Any], machine_name: str, add: Add, arn: Arn) -> None:
    """What one distributed Map state needs."""
    add("states:StartExecution", arn("states", f"stateMachine:{machine_name}"))
    for action in ("states:DescribeExecution", "states:StopExecution"):
        add(action, arn("states", f"execution:{machine_name}/*"))
    reader = state.get("ItemReader")
    if isinstance(reader, Mapping):
        parameters = reader.get("Parameters") or reader.get("Arguments") or {}
        bucket = parameters.get("Bucket") if isinstance(parameters, Mapping) else None
        if str(reader.get("Resource", "")).endswith("listObjectsV2"):
            add("s3:ListBucket", _s3(bucket, ""))
        else:
            add("s3:GetObject", _s3(bucket, "/*"))
    writer = state.get("ResultWriter")
    if isinstance(writer, Mapping) and "Resource" in writer:
        parameters = writer.get("Parameters") or writer.get("Arguments") or {}
        bucket = parameters.get("Bucket") if isinstance(parameters, Mapping) else None
        for action in (
            "s3:PutObject",
            "s3:GetObject",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
        ):
            add(action, _s3(bucket, "/*"))
