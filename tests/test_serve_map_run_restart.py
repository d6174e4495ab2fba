"""``saga serve --store``: a distributed Map run survives a restart and goes on where it was;
``UpdateMapRun`` changes a running map run; its child executions, running and ended, are
listed, described and their histories read, from the store once no engine runs them (boto3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests._sfn_server import ROLE, client_for, definition, running_server, wait_for

PREFIX = "arn:aws:states:us-east-1:123456789012"


def _machine(activity: str) -> dict[str, Any]:
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "Label": "Work",
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Do",
                    "States": {"Do": {"Type": "Task", "Resource": activity, "End": True}},
                },
                "End": True,
            }
        },
    }


def _task(sfn: Any, activity: str) -> tuple[int, str]:
    """The next activity task: its item and its token."""
    task = sfn.get_activity_task(activityArn=activity, workerName="test")
    assert task.get("taskToken"), "no activity task came"
    return json.loads(task["input"]), task["taskToken"]


def _map_run(sfn: Any, execution: str) -> str:
    def started() -> str | None:
        runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
        return runs[0]["mapRunArn"] if runs else None

    found: str = wait_for(started)
    return found


def test_a_map_run_goes_on_after_a_restart_and_can_be_updated(tmp_path: Path) -> None:
    store = tmp_path / "sfn.sqlite"
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        activity = sfn.create_activity(name="work")["activityArn"]
        machine = sfn.create_state_machine(
            name="Batch", definition=definition(_machine(activity)), roleArn=ROLE
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=machine, name="b1", input='{"items": [1, 2, 3]}'
        )["executionArn"]
        map_run = _map_run(sfn, execution)
        assert map_run.startswith(f"{PREFIX}:mapRun:Batch/Work:")
        item, token = _task(sfn, activity)
        assert item == 1
        sfn.send_task_success(taskToken=token, output='{"done": 1}')
        item, _ = _task(sfn, activity)
        assert item == 2  # left unanswered: the server goes away
        running, ended_first = sfn.list_executions(mapRunArn=map_run)["executions"]
        assert (running["status"], ended_first["status"]) == ("RUNNING", "SUCCEEDED")
        assert "stopDate" not in running
        child = sfn.describe_execution(executionArn=running["executionArn"])
        assert (child["status"], child["input"], child["mapRunArn"]) == ("RUNNING", "2", map_run)
        child_events = sfn.get_execution_history(executionArn=running["executionArn"])["events"]
        assert [e["type"] for e in child_events] == [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
        ]
        sfn.update_map_run(mapRunArn=map_run, toleratedFailureCount=2)
        assert sfn.describe_map_run(mapRunArn=map_run)["toleratedFailureCount"] == 2
        server.stop()

    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        described = sfn.describe_map_run(mapRunArn=map_run)
        assert described["status"] == "RUNNING"
        assert described["executionArn"] == execution
        assert (described["maxConcurrency"], described["toleratedFailureCount"]) == (1, 2)
        [listed] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
        assert listed["mapRunArn"] == map_run
        # item 1 ended before the restart: it is not run again; item 2 is, and now two
        # children may run at once, so item 3 comes without item 2 being answered
        sfn.update_map_run(mapRunArn=map_run, maxConcurrency=2)
        tasks = dict([_task(sfn, activity), _task(sfn, activity)])
        assert sorted(tasks) == [2, 3]
        for item, token in tasks.items():
            sfn.send_task_success(taskToken=token, output=json.dumps({"done": item}))

        def finished() -> dict[str, Any] | None:
            out: dict[str, Any] = sfn.describe_execution(executionArn=execution)
            return out if out["status"] != "RUNNING" else None

        ended = wait_for(finished)
        assert ended["status"] == "SUCCEEDED"
        assert json.loads(ended["output"]) == [{"done": 1}, {"done": 2}, {"done": 3}]
        described = sfn.describe_map_run(mapRunArn=map_run)
        assert described["status"] == "SUCCEEDED"
        assert described["maxConcurrency"] == 2
        assert described["executionCounts"]["succeeded"] == 3
        assert described["executionCounts"]["total"] == 3
        with pytest.raises(sfn.exceptions.ValidationException) as ended_run:
            sfn.update_map_run(mapRunArn=map_run, maxConcurrency=3)
        assert "not in progress" in str(ended_run.value)
        with pytest.raises(sfn.exceptions.ResourceNotFound):
            sfn.update_map_run(
                mapRunArn=f"{PREFIX}:mapRun:Batch/Work:00000000-0000-0000-0000-000000000000",
                maxConcurrency=3,
            )
        with pytest.raises(sfn.exceptions.InvalidArn):
            sfn.update_map_run(mapRunArn=execution, maxConcurrency=3)
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        # No engine runs the machine now: the children are read from the store.
        children = sfn.list_executions(mapRunArn=map_run)["executions"]
        assert [c["status"] for c in children] == ["SUCCEEDED"] * 3
        assert children[1]["executionArn"] == running["executionArn"]
        child = sfn.describe_execution(executionArn=running["executionArn"])
        assert (child["status"], child["output"]) == ("SUCCEEDED", '{"done":2}')
        child_events = sfn.get_execution_history(executionArn=running["executionArn"])["events"]
        assert [e["type"] for e in child_events] == [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded",
        ]
        sfn = client_for(server.endpoint, validate=False)
        with pytest.raises(sfn.exceptions.ValidationException) as negative:
            sfn.update_map_run(mapRunArn=map_run, maxConcurrency=-1)
        assert str(negative.value).endswith(
            "1 validation error detected: Value '-1' at 'maxConcurrency' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0"
        )
        with pytest.raises(sfn.exceptions.ValidationException) as too_many:
            sfn.update_map_run(mapRunArn=map_run, toleratedFailurePercentage=101.0)
        assert str(too_many.value).endswith(
            "1 validation error detected: Value '101.0' at 'toleratedFailurePercentage' failed "
            "to satisfy constraint: Member must have value less than or equal to 100"
        )
