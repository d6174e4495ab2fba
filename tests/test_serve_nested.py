"""Nested executions through ``saga serve``: a served machine starts another served machine
(``states:startExecution``, ``.sync``, ``.sync:2``), through boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._sfn_server import (
    ROLE,
    aws_env,
    client_for,
    definition,
    free_port,
    running_server,
    wait_for,
)

START = "arn:aws:states:::states:startExecution"
CHILD_FAILS = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Broken",
        },
        "Done": {"Type": "Pass", "Result": {"checked": True}, "End": True},
        "Broken": {"Type": "Fail", "Error": "Child.Broken", "Cause": "the child broke"},
    },
}


def _parent(resource: str, child_arn: str, name: str) -> dict[str, Any]:
    return {
        "StartAt": "Run child",
        "States": {
            "Run child": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {
                    "StateMachineArn": child_arn,
                    "Name": name,
                    "Input": {"ok.$": "$.ok"},
                },
                "Catch": [
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.caught",
                        "Next": "Handled",
                    }
                ],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }


@pytest.fixture(scope="module")
def sfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp: Path = tmp_path_factory.mktemp("serve-nested")
    with running_server(tmp) as server:
        yield client_for(server.endpoint)


def _create(sfn: Any, name: str, document: dict[str, Any]) -> str:
    arn: str = sfn.create_state_machine(name=name, definition=definition(document), roleArn=ROLE)[
        "stateMachineArn"
    ]
    return arn


def _finished(sfn: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_for(check)
    return result


def test_sync2_child_fails_and_the_parent_catches_it(sfn: Any) -> None:
    child = _create(sfn, "Checker", CHILD_FAILS)
    parent = _create(sfn, "Caller", _parent(f"{START}.sync:2", child, "check-1"))
    started = sfn.start_execution(stateMachineArn=parent, name="call-1", input='{"ok": false}')
    described = _finished(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["caught"]["Error"] == "States.TaskFailed"
    cause = json.loads(output["caught"]["Cause"])
    child_arn = "arn:aws:states:us-east-1:123456789012:execution:Checker:check-1"
    assert {k: cause[k] for k in ("ExecutionArn", "Name", "Status", "Error", "Cause")} == {
        "ExecutionArn": child_arn,
        "Name": "check-1",
        "Status": "FAILED",
        "Error": "Child.Broken",
        "Cause": "the child broke",
    }
    assert cause["Input"] == {"ok": False}  # .sync:2 gives the input parsed
    # The child is an execution of its own machine, as on AWS.
    listed = sfn.list_executions(stateMachineArn=child)["executions"]
    assert [(e["name"], e["status"]) for e in listed] == [("check-1", "FAILED")]
    assert sfn.list_executions(stateMachineArn=parent)["executions"][0]["name"] == "call-1"
    child_described = sfn.describe_execution(executionArn=child_arn)
    assert (child_described["error"], child_described["cause"]) == (
        "Child.Broken",
        "the child broke",
    )
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    types = [e["type"] for e in events]
    assert types[:6] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskFailed",
    ]
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert submitted["ExecutionArn"] == child_arn


def test_sync_child_succeeds_with_its_output_as_text(sfn: Any) -> None:
    child = _create(sfn, "CheckerOk", CHILD_FAILS)
    parent = _create(sfn, "CallerSync", _parent(f"{START}.sync", child, "check-ok"))
    started = sfn.start_execution(stateMachineArn=parent, input='{"ok": true}')
    described = _finished(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert (output["Status"], output["Name"], output["Output"]) == (
        "SUCCEEDED",
        "check-ok",
        '{"checked":true}',
    )
    assert output["Input"] == '{"ok":true}'


def test_plain_start_returns_at_once_and_the_child_runs_on(sfn: Any) -> None:
    child = _create(sfn, "Background", CHILD_FAILS)
    parent = _create(sfn, "Starter", _parent(START, child, "bg-1"))
    started = sfn.start_execution(stateMachineArn=parent, input='{"ok": true}')
    described = _finished(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    child_arn = "arn:aws:states:us-east-1:123456789012:execution:Background:bg-1"
    assert output["ExecutionArn"] == child_arn
    child_described = _finished(sfn, child_arn)
    assert child_described["output"] == '{"checked":true}'
    # The StartExecution response as the integration gives it: the date in epoch milliseconds
    # (the API rounds to the millisecond, the integration truncates).
    assert abs(output["StartDate"] - child_described["startDate"].timestamp() * 1000) <= 1


def test_a_machine_the_server_does_not_serve_fails_the_sync_task(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:Nowhere"
    document = _parent(f"{START}.sync", missing, "x")
    document["States"]["Run child"]["Catch"][0]["ErrorEquals"] = ["States.ALL"]
    parent = _create(sfn, "Lost", document)
    started = sfn.start_execution(stateMachineArn=parent, input='{"ok": true}')
    output = json.loads(_finished(sfn, started["executionArn"])["output"])
    assert output["caught"]["Error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert output["caught"]["Cause"].startswith(f"State Machine Does Not Exist: '{missing}'")


def test_a_child_created_after_the_parent_and_then_deleted(sfn: Any) -> None:
    child = "arn:aws:states:us-east-1:123456789012:stateMachine:Later"
    document = _parent(f"{START}.sync:2", child, "later-1")
    document["States"]["Run child"]["Catch"][0]["ErrorEquals"] = ["States.ALL"]
    parent = _create(sfn, "Early", document)
    assert _create(sfn, "Later", CHILD_FAILS) == child
    first = sfn.start_execution(stateMachineArn=parent, input='{"ok": true}')
    output = json.loads(_finished(sfn, first["executionArn"])["output"])
    assert (output["Status"], output["Output"]) == ("SUCCEEDED", {"checked": True})
    sfn.delete_state_machine(stateMachineArn=child)
    second = sfn.start_execution(stateMachineArn=parent, input='{"ok": true}')
    output = json.loads(_finished(sfn, second["executionArn"])["output"])
    assert output["caught"]["Error"] == "StepFunctions.StateMachineDoesNotExistException"


def test_stopping_the_parent_stops_the_sync_child(sfn: Any) -> None:
    waiting = {
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}},
    }
    child = _create(sfn, "Sleeper", waiting)
    parent = _create(sfn, "Waiter", _parent(f"{START}.sync:2", child, "sleep-1"))
    started = sfn.start_execution(stateMachineArn=parent, input='{"ok": true}')
    child_arn = "arn:aws:states:us-east-1:123456789012:execution:Sleeper:sleep-1"

    def child_running() -> bool:
        listed = sfn.list_executions(stateMachineArn=child)["executions"]
        return [(e["name"], e["status"]) for e in listed] == [("sleep-1", "RUNNING")]

    wait_for(child_running)
    sfn.stop_execution(executionArn=started["executionArn"], error="Halt", cause="stop all")
    assert _finished(sfn, started["executionArn"])["status"] == "ABORTED"
    assert _finished(sfn, child_arn)["status"] == "ABORTED"


def test_a_restarted_server_reattaches_the_parent_to_its_child(tmp_path: Path) -> None:
    store = tmp_path / "serve.db"
    waiting = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "End": True}}}
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        child = _create(sfn, "Sleeper", waiting)
        parent = _create(sfn, "Waiter", _parent(f"{START}.sync:2", child, "sleep-1"))
        started = sfn.start_execution(stateMachineArn=parent, name="p-1", input='{"ok": true}')
        wait_for(lambda: sfn.list_executions(stateMachineArn=child)["executions"])
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        described = _finished(sfn, started["executionArn"])
        assert described["status"] == "SUCCEEDED"
        output = json.loads(described["output"])
        assert (output["Name"], output["Status"], output["Output"]) == (
            "sleep-1",
            "SUCCEEDED",
            {"ok": True},
        )
        # The resumed parent found the child it had started instead of starting another.
        listed = sfn.list_executions(stateMachineArn=child)["executions"]
        assert [(e["name"], e["status"]) for e in listed] == [("sleep-1", "SUCCEEDED")]


def test_wait_for_task_token_child_answers_through_the_server(tmp_path: Path) -> None:
    port = free_port()
    # The child's aws-sdk:sfn call goes to AWS_ENDPOINT_URL: this very server.
    with running_server(tmp_path, env=aws_env(f"http://127.0.0.1:{port}"), port=port) as server:
        sfn = client_for(server.endpoint)
        answer = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
            "Parameters": {"TaskToken.$": "$.token", "Output": '{"answered": true}'},
            "End": True,
        }
        child = _create(sfn, "Answerer", {"StartAt": "Answer", "States": {"Answer": answer}})
        ask = {
            "Type": "Task",
            "Resource": f"{START}.waitForTaskToken",
            "Parameters": {
                "StateMachineArn": child,
                "Name": "answer-1",
                "Input": {"token.$": "$$.Task.Token"},
            },
            "End": True,
        }
        parent = _create(sfn, "Asker", {"StartAt": "Ask", "States": {"Ask": ask}})
        started = sfn.start_execution(stateMachineArn=parent, input="{}")
        described = _finished(sfn, started["executionArn"])
        assert (described["status"], described["output"]) == ("SUCCEEDED", '{"answered":true}')
        child_arn = "arn:aws:states:us-east-1:123456789012:execution:Answerer:answer-1"
        assert _finished(sfn, child_arn)["status"] == "SUCCEEDED"
