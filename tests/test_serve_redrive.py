"""``saga serve`` through boto3: RedriveExecution, its history and its refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._sfn_server import ROLE, client_for, definition, running_server, wait_for

HANDLERS = """
from pathlib import Path

ROOT = Path({root!r})

def count(event):
    with (ROOT / "count.log").open("a") as log:
        log.write("called\\n")
    return {{"counted": True}}

def flaky(event):
    if not (ROOT / "healed").exists():
        raise ValueError("not yet")
    return {{"healed": event}}

def notify(event):
    return None

def item(event):
    with (ROOT / "items.log").open("a") as log:
        log.write(f"{{event['n']}} {{event['redrives']}}\\n")
    if event["n"] % 2 and not (ROOT / "items-healed").exists():
        raise ValueError(f"item {{event['n']}} failed")
    return event["n"] * 10

HANDLERS = {{"count": count, "flaky": flaky, "notify": notify, "item": item}}
"""

FLAKY = {
    "StartAt": "Count",
    "States": {
        "Count": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:count",
            "ResultPath": "$.count",
            "Next": "Flaky",
        },
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
            "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 1, "IntervalSeconds": 0}],
            "End": True,
        },
    },
}
CALLBACK = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}

SPREAD = {
    "StartAt": "Spread",
    "States": {
        "Spread": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ToleratedFailureCount": 1,
            "ItemSelector": {"n.$": "$$.Map.Item.Value"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Item",
                "States": {
                    "Item": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:item",
                        "Parameters": {"n.$": "$.n", "redrives.$": "$$.Execution.RedriveCount"},
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}


def _handlers(root: Path) -> Path:
    handlers = root / "handlers.py"
    handlers.write_text(HANDLERS.format(root=str(root)), encoding="utf-8")
    return handlers


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    root = tmp_path_factory.mktemp("redrive")
    with running_server(root, "--handlers", str(_handlers(root))) as server:
        yield client_for(server.endpoint), root


def _ended(sfn: Any, execution_arn: str) -> dict[str, Any]:
    def done() -> Any:
        described = sfn.describe_execution(executionArn=execution_arn)
        return described if described["status"] != "RUNNING" else None

    found: dict[str, Any] = wait_for(done)
    return found


def _types(sfn: Any, execution_arn: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=execution_arn)["events"]]


def _error(info: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def test_redrive_a_failed_execution(served: tuple[Any, Path]) -> None:
    sfn, root = served
    arn = sfn.create_state_machine(name="Flaky", definition=definition(FLAKY), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="first", input='{"n": 1}')[
        "executionArn"
    ]
    failed = _ended(sfn, execution)
    assert failed["status"] == "FAILED"
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")
    assert "redriveStatusReason" not in failed
    (root / "healed").touch()

    answer = sfn.redrive_execution(executionArn=execution)
    assert set(answer) - {"ResponseMetadata"} == {"redriveDate"}
    done = _ended(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"healed": {"n": 1, "count": {"counted": True}}}
    assert done["redriveCount"] == 1
    assert done["redriveDate"] == answer["redriveDate"]
    assert done["redriveStatus"] == "NOT_REDRIVABLE"
    assert done["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    # The state that succeeded (Count) did not run again.
    assert (root / "count.log").read_text(encoding="utf-8").splitlines() == ["called"]
    assert _types(sfn, execution) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "ExecutionFailed",
        "ExecutionRedriven",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    events = sfn.get_execution_history(executionArn=execution)["events"]
    redriven = events[14]
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert redriven["previousEventId"] == events[13]["id"]
    # The failed state is entered again with the input it was entered with before.
    assert json.loads(events[15]["stateEnteredEventDetails"]["input"]) == json.loads(
        events[6]["stateEnteredEventDetails"]["input"]
    )
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert (listed[0]["redriveCount"], listed[0]["redriveDate"]) == (1, answer["redriveDate"])

    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable) as info:
        sfn.redrive_execution(executionArn=execution)
    assert _error(info) == (
        "ExecutionNotRedrivable",
        "Execution is SUCCEEDED and cannot be redriven",
    )


def test_redrive_an_aborted_execution_and_refusals(served: tuple[Any, Path]) -> None:
    sfn, _ = served
    arn = sfn.create_state_machine(name="Approval", definition=definition(CALLBACK), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="waiting")["executionArn"]

    def scheduled() -> bool:
        return "TaskScheduled" in _types(sfn, execution)

    wait_for(scheduled)
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable) as info:
        sfn.redrive_execution(executionArn=execution)
    assert _error(info) == ("ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven")
    described = sfn.describe_execution(executionArn=execution)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is RUNNING and cannot be redriven",
    )
    sfn.stop_execution(executionArn=execution, error="Paused", cause="by hand")
    assert _ended(sfn, execution)["status"] == "ABORTED"

    sfn.redrive_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"

    def token() -> str | None:
        events = sfn.get_execution_history(executionArn=execution)["events"]
        redriven = [e["id"] for e in events if e["type"] == "ExecutionRedriven"]
        for event in events:
            if event["type"] == "TaskScheduled" and redriven and event["id"] > redriven[0]:
                parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                return str(parameters["Payload"]["token"])
        return None

    sfn.send_task_success(taskToken=wait_for(token), output='{"approved": true}')
    done = _ended(sfn, execution)
    assert (done["status"], done["redriveCount"]) == ("SUCCEEDED", 1)
    assert json.loads(done["output"]) == {"approved": True}

    missing = arn.replace(":stateMachine:", ":execution:") + ":nobody"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist) as info:
        sfn.redrive_execution(executionArn=missing)
    assert _error(info) == ("ExecutionDoesNotExist", f"Execution Does Not Exist: '{missing}'")


def test_redrive_after_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    handlers = _handlers(tmp_path)
    with running_server(tmp_path, "--handlers", str(handlers), "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        arn = sfn.create_state_machine(name="Kept", definition=definition(FLAKY), roleArn=ROLE)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, name="kept")["executionArn"]
        assert _ended(sfn, execution)["status"] == "FAILED"
    (tmp_path / "healed").touch()
    with running_server(tmp_path, "--handlers", str(handlers), "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        sfn.redrive_execution(executionArn=execution)
        done = _ended(sfn, execution)
        assert (done["status"], done["redriveCount"]) == ("SUCCEEDED", 1)
        assert _types(sfn, execution).count("ExecutionRedriven") == 1


def test_redrive_a_failed_distributed_map_redrives_its_map_run(served: tuple[Any, Path]) -> None:
    sfn, root = served
    arn = sfn.create_state_machine(name="Spread", definition=definition(SPREAD), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="spread", input="[0, 1, 2, 3]")[
        "executionArn"
    ]
    assert _ended(sfn, execution)["status"] == "FAILED"
    (run,) = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    before = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert (before["status"], before["redriveCount"]) == ("FAILED", 0)
    assert "redriveDate" not in before
    assert (before["executionCounts"]["succeeded"], before["executionCounts"]["failed"]) == (2, 2)
    (root / "items-healed").touch()

    sfn.redrive_execution(executionArn=execution)
    done = _ended(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == [0, 10, 20, 30]
    # Children 1 and 3 ran again (redriven once); 0 and 2 kept their outputs.
    assert (root / "items.log").read_text(encoding="utf-8").splitlines() == [
        "0 0",
        "1 0",
        "2 0",
        "3 0",
        "1 1",
        "3 1",
    ]
    assert sfn.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"] == run["mapRunArn"]
    after = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert (after["status"], after["redriveCount"]) == ("SUCCEEDED", 1)
    assert before["stopDate"] <= after["redriveDate"] <= after["stopDate"]
    assert after["startDate"] == before["startDate"]
    counts = {"failuresNotRedrivable": 0, "pendingRedrive": 0, "resultsWritten": 0}
    assert after["executionCounts"] == {
        "pending": 0,
        "running": 0,
        "succeeded": 4,
        "failed": 0,
        "timedOut": 0,
        "aborted": 0,
        "total": 4,
        **counts,
    }
    assert after["itemCounts"] == after["executionCounts"]
    events = sfn.get_execution_history(executionArn=execution)["events"]
    types = [event["type"] for event in events]
    assert types[types.index("ExecutionRedriven") :] == [
        "ExecutionRedriven",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunRedriven",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    redriven = events[types.index("MapRunRedriven")]
    assert redriven["mapRunRedrivenEventDetails"] == {
        "mapRunArn": run["mapRunArn"],
        "redriveCount": 1,
    }
