"""Every operation the server answers, by its API name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from engine.api import (
    aliases,
    callbacks,
    executions,
    machines,
    map_runs,
    tags,
    test_state_op,
    versions,
)

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = ["OPERATIONS", "Operation"]

Operation = Callable[["StepFunctionsService", dict[str, Any]], Awaitable[dict[str, Any]]]

OPERATIONS: Final[dict[str, Operation]] = {
    "CreateStateMachine": machines.create_state_machine,
    "DescribeStateMachine": machines.describe_state_machine,
    "UpdateStateMachine": machines.update_state_machine,
    "DeleteStateMachine": machines.delete_state_machine,
    "ListStateMachines": machines.list_state_machines,
    "ValidateStateMachineDefinition": machines.validate_state_machine_definition,
    "StartExecution": executions.start_execution,
    "StartSyncExecution": executions.start_sync_execution,
    "DescribeExecution": executions.describe_execution,
    "DescribeStateMachineForExecution": executions.describe_state_machine_for_execution,
    "StopExecution": executions.stop_execution,
    "ListExecutions": executions.list_executions,
    "GetExecutionHistory": executions.get_execution_history,
    "SendTaskSuccess": callbacks.send_task_success,
    "SendTaskFailure": callbacks.send_task_failure,
    "SendTaskHeartbeat": callbacks.send_task_heartbeat,
    "CreateActivity": callbacks.create_activity,
    "DescribeActivity": callbacks.describe_activity,
    "DeleteActivity": callbacks.delete_activity,
    "ListActivities": callbacks.list_activities,
    "GetActivityTask": callbacks.get_activity_task,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsForResource": tags.list_tags_for_resource,
    "DescribeMapRun": map_runs.describe_map_run,
    "ListMapRuns": map_runs.list_map_runs,
    "TestState": test_state_op.test_state,
    "PublishStateMachineVersion": versions.publish_state_machine_version,
    "ListStateMachineVersions": versions.list_state_machine_versions,
    "DeleteStateMachineVersion": versions.delete_state_machine_version,
    "CreateStateMachineAlias": aliases.create_state_machine_alias,
    "DescribeStateMachineAlias": aliases.describe_state_machine_alias,
    "UpdateStateMachineAlias": aliases.update_state_machine_alias,
    "DeleteStateMachineAlias": aliases.delete_state_machine_alias,
    "ListStateMachineAliases": aliases.list_state_machine_aliases,
    "RedriveExecution": executions.redrive_execution,
}
