"""A distributed Map's child executions through ``saga serve`` and boto3: ``list_executions``
with ``mapRunArn`` (by status, paged), ``describe_execution`` and ``get_execution_history`` of
a child, and AWS's errors for unknown ARNs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._sfn_server import ROLE, client_for, definition, running_server, wait_for

PREFIX = "arn:aws:states:us-east-1:123456789012"
ITEMS = [{"n": 1}, {"n": 2, "fail": True}, {"n": 3}, {"n": 4}]
MACHINE = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "Label": "Orders",
            "ItemsPath": "$.items",
            "MaxConcurrency": 2,
            "ToleratedFailureCount": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": {
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.fail", "IsPresent": True, "Next": "Broken"}],
                        "Default": "Done",
                    },
                    "Done": {"Type": "Pass", "End": True},
                    "Broken": {"Type": "Fail", "Error": "Item.Broken", "Cause": "bad item"},
                },
            },
            "ResultPath": None,
            "End": True,
        }
    },
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    tmp: Path = tmp_path_factory.mktemp("serve-map-run-children")
    with running_server(tmp) as server:
        sfn = client_for(server.endpoint)
        machine = sfn.create_state_machine(
            name="Shop", definition=definition(MACHINE), roleArn=ROLE
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=machine, name="order-1", input=json.dumps({"items": ITEMS})
        )["executionArn"]

        def finished() -> bool:
            return bool(sfn.describe_execution(executionArn=execution)["status"] != "RUNNING")

        wait_for(finished)
        [run] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
        yield sfn, run["mapRunArn"]


def test_children_of_a_map_run_listed_newest_first_and_paged(served: tuple[Any, str]) -> None:
    sfn, map_run_arn = served
    listed = sfn.list_executions(mapRunArn=map_run_arn)
    assert "nextToken" not in listed
    children = listed["executions"]
    assert [child["status"] for child in children] == [
        "SUCCEEDED",
        "SUCCEEDED",
        "FAILED",
        "SUCCEEDED",
    ]
    for child in children:
        assert child["executionArn"] == f"{PREFIX}:execution:Shop/Orders:{child['name']}"
        assert child["stateMachineArn"] == f"{PREFIX}:stateMachine:Shop/Orders"
        assert (child["mapRunArn"], child["itemCount"], child["redriveCount"]) == (
            map_run_arn,
            1,
            0,
        )
        assert child["stopDate"] >= child["startDate"]
    first = sfn.list_executions(mapRunArn=map_run_arn, maxResults=3)
    second = sfn.list_executions(mapRunArn=map_run_arn, maxResults=3, nextToken=first["nextToken"])
    assert "nextToken" not in second
    assert first["executions"] + second["executions"] == children


def test_a_failed_child_listed_described_and_its_history(served: tuple[Any, str]) -> None:
    sfn, map_run_arn = served
    [failed] = sfn.list_executions(mapRunArn=map_run_arn, statusFilter="FAILED")["executions"]
    arn = failed["executionArn"]
    described = sfn.describe_execution(executionArn=arn)
    described.pop("ResponseMetadata")
    start, stop = described.pop("startDate"), described.pop("stopDate")
    assert (start, stop) == (failed["startDate"], failed["stopDate"])
    assert described == {
        "executionArn": arn,
        "stateMachineArn": f"{PREFIX}:stateMachine:Shop/Orders",
        "name": failed["name"],
        "status": "FAILED",
        "input": '{"n":2,"fail":true}',
        "inputDetails": {"included": True},
        "mapRunArn": map_run_arn,
        "error": "Item.Broken",
        "cause": "bad item",
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
    }
    events = sfn.get_execution_history(executionArn=arn)["events"]
    assert [event["type"] for event in events] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "FailStateEntered",
        "ExecutionFailed",
    ]
    assert events[-1]["executionFailedEventDetails"] == {
        "error": "Item.Broken",
        "cause": "bad item",
    }
    assert sfn.list_executions(mapRunArn=map_run_arn, statusFilter="ABORTED")["executions"] == []


def test_a_succeeded_child_described_with_its_output(served: tuple[Any, str]) -> None:
    sfn, map_run_arn = served
    succeeded = sfn.list_executions(mapRunArn=map_run_arn, statusFilter="SUCCEEDED")
    newest = succeeded["executions"][0]
    described = sfn.describe_execution(executionArn=newest["executionArn"])
    assert (described["input"], described["output"]) == ('{"n":4}', '{"n":4}')
    assert described["outputDetails"] == {"included": True}
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    events = sfn.get_execution_history(executionArn=newest["executionArn"])["events"]
    assert [event["type"] for event in events] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_unknown_children_and_map_runs_answer_aws_errors(served: tuple[Any, str]) -> None:
    sfn, map_run_arn = served
    missing_child = f"{PREFIX}:execution:Shop/Orders:00000000-0000-0000-0000-000000000000"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=missing_child)
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.get_execution_history(executionArn=missing_child)
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=f"{PREFIX}:execution:Other/Orders:x")
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_executions(mapRunArn=f"{PREFIX}:mapRun:Shop/Orders:nope")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.list_executions(mapRunArn=f"{PREFIX}:execution:Shop:order-1")
    with pytest.raises(sfn.exceptions.ClientError) as both:
        sfn.list_executions(mapRunArn=map_run_arn, stateMachineArn=f"{PREFIX}:stateMachine:Shop")
    assert both.value.response["Error"]["Code"] == "ValidationException"
