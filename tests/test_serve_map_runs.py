"""Distributed Map runs through ``saga serve``: items read from S3 (moto's server), and the
map run seen through boto3's ``list_map_runs``, ``describe_map_run`` and the history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests._sfn_server import (
    ROLE,
    aws_env,
    client_for,
    definition,
    running_moto_server,
    running_server,
    wait_for,
)

PREFIX = "arn:aws:states:us-east-1:123456789012"
ITEMS = [{"n": 1}, {"n": 2, "fail": True}, {"n": 3}, {"n": 4}]
MACHINE = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "Label": "Orders",
            "MaxConcurrency": 2,
            "ToleratedFailureCount": 1,
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": "data", "Key": "items.json"},
            },
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
def sfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp: Path = tmp_path_factory.mktemp("serve-map-runs")
    with running_moto_server() as aws:
        s3 = boto3.client(
            "s3",
            endpoint_url=aws,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="items.json", Body=json.dumps(ITEMS).encode())
        with running_server(tmp, env=aws_env(aws)) as server:
            yield client_for(server.endpoint)


def _finished(sfn: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_for(check)
    return result


def test_map_run_listed_described_and_in_the_history(sfn: Any) -> None:
    machine = sfn.create_state_machine(name="Fanout", definition=definition(MACHINE), roleArn=ROLE)[
        "stateMachineArn"
    ]
    started = sfn.start_execution(stateMachineArn=machine, name="run-1", input="{}")
    execution = started["executionArn"]
    assert _finished(sfn, execution)["status"] == "SUCCEEDED"

    events = sfn.get_execution_history(executionArn=execution)["events"]
    [map_run_started] = [e for e in events if e["type"] == "MapRunStarted"]
    map_run_arn = map_run_started["mapRunStartedEventDetails"]["mapRunArn"]
    assert map_run_arn.startswith(f"{PREFIX}:mapRun:Fanout/Orders:")
    assert [e["type"] for e in events if e["type"].startswith("MapRun")] == [
        "MapRunStarted",
        "MapRunSucceeded",
    ]

    listed = sfn.list_map_runs(executionArn=execution)
    [item] = listed["mapRuns"]
    assert "nextToken" not in listed
    assert (item["executionArn"], item["mapRunArn"], item["stateMachineArn"]) == (
        execution,
        map_run_arn,
        f"{PREFIX}:stateMachine:Fanout/Orders",
    )
    assert item["stopDate"] >= item["startDate"]

    described = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert (described["mapRunArn"], described["executionArn"], described["status"]) == (
        map_run_arn,
        execution,
        "SUCCEEDED",
    )
    assert (described["maxConcurrency"], described["toleratedFailureCount"]) == (2, 1)
    assert described["toleratedFailurePercentage"] == 0.0
    assert described["redriveCount"] == 0
    expected = {
        "pending": 0,
        "running": 0,
        "succeeded": 3,
        "failed": 1,
        "timedOut": 0,
        "aborted": 0,
        "total": 4,
        "resultsWritten": 0,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }
    assert described["itemCounts"] == expected
    assert described["executionCounts"] == expected
    assert described["stopDate"] == item["stopDate"]


def test_map_run_errors_are_typed(sfn: Any) -> None:
    missing = f"{PREFIX}:mapRun:Fanout/Orders:00000000-0000-0000-0000-000000000000"
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_map_run(mapRunArn=missing)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_map_run(mapRunArn=f"{PREFIX}:execution:Fanout:run-1")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.list_map_runs(executionArn=f"{PREFIX}:execution:Fanout:never")


def test_an_execution_without_a_distributed_map_has_no_map_runs(sfn: Any) -> None:
    machine = sfn.create_state_machine(
        name="Plain",
        definition=definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=machine, input="{}")
    _finished(sfn, started["executionArn"])
    assert sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"] == []
