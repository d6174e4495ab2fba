"""``saga serve`` through boto3: every operation, and AWS's typed errors."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests._sfn_server import ROLE, client_for, definition, running_server, wait_for

HANDLERS = """
def double(event):
    return {"value": event["value"] * 2}

def fail(event):
    raise ValueError("bad value")

def notify(event):
    return None

HANDLERS = {"double": double, "fail": fail, "notify": notify}
"""

DOUBLE = {
    "StartAt": "Double",
    "States": {
        "Double": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
            "End": True,
        }
    },
}
CALLBACK = {
    "StartAt": "Wait for approval",
    "States": {
        "Wait for approval": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            "HeartbeatSeconds": 3600,
            "End": True,
        }
    },
}
ACTIVITY = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:us-east-1:123456789012:activity:worker",
            "End": True,
        }
    },
}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve")
    handlers = tmp / "handlers.py"
    handlers.write_text(HANDLERS, encoding="utf-8")
    with running_server(tmp, "--handlers", str(handlers)) as server:
        yield server.endpoint


@pytest.fixture(scope="module")
def sfn(endpoint: str) -> Any:
    return client_for(endpoint)


def _create(sfn: Any, name: str, document: dict[str, Any], **extra: Any) -> str:
    arn: str = sfn.create_state_machine(
        name=name, definition=definition(document), roleArn=ROLE, **extra
    )["stateMachineArn"]
    return arn


def _finished(sfn: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_for(check)
    return result


def _scheduled_token(sfn: Any, arn: str) -> str:
    def check() -> str | None:
        for event in sfn.get_execution_history(executionArn=arn)["events"]:
            if event["type"] == "TaskScheduled":
                return str(
                    json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
                )
        return None

    token: str = wait_for(check)
    return token


def test_state_machine_lifecycle(sfn: Any) -> None:
    arn = _create(sfn, "Lifecycle", DOUBLE, tags=[{"key": "team", "value": "payments"}])
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:Lifecycle"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == "Lifecycle"
    assert described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD"
    assert described["roleArn"] == ROLE
    assert json.loads(described["definition"]) == DOUBLE
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    # Creating it again with the same definition and role is idempotent, as on AWS.
    assert _create(sfn, "Lifecycle", DOUBLE) == arn
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        _create(sfn, "Lifecycle", ACTIVITY)
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert "Lifecycle" in names
    # The revision a machine is created with has no id; the first update that changes it gets
    # one, and DescribeStateMachine shows it from then (as AWS records it).
    assert "revisionId" not in described
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=definition(ACTIVITY))
    assert sfn.describe_state_machine(stateMachineArn=arn)["revisionId"] == updated["revisionId"]
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == ACTIVITY
    with pytest.raises(sfn.exceptions.MissingRequiredParameter):
        sfn.update_state_machine(stateMachineArn=arn)
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as missing:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert missing.value.response["Error"]["Message"] == f"State Machine Does Not Exist: '{arn}'"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Deleting what does not exist succeeds, as on AWS.
    sfn.delete_state_machine(stateMachineArn=arn)


def test_create_refuses_bad_definitions_names_and_arns(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.InvalidDefinition) as invalid:
        sfn.create_state_machine(
            name="Broken", definition='{"StartAt": "Missing", "States": {}}', roleArn=ROLE
        )
    assert "/StartAt" in invalid.value.response["Error"]["Message"]
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.create_state_machine(name="NotJson", definition="{not json", roleArn=ROLE)
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.create_state_machine(name="NotObject", definition="[1, 2]", roleArn=ROLE)
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.create_state_machine(name="Deep", definition=deep, roleArn=ROLE)
    assert sfn.validate_state_machine_definition(definition=deep)["result"] == "FAIL"
    assert sfn.validate_state_machine_definition(definition="[]")["result"] == "FAIL"
    machine = _create(sfn, "TakesInput", DOUBLE)
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=machine, input=deep)
    with pytest.raises(sfn.exceptions.InvalidName):
        _create(sfn, "has space", DOUBLE)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_state_machine(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:execution:M:e"
        )
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn="not-an-arn")


def test_validate_state_machine_definition(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=definition(DOUBLE))
    assert (ok["result"], ok["diagnostics"], ok["truncated"]) == ("OK", [], False)
    bad = sfn.validate_state_machine_definition(
        definition=definition({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    )
    assert bad["result"] == "FAIL"
    assert [(d["severity"], d["location"]) for d in bad["diagnostics"]] == [
        ("ERROR", "/States/A/Next")
    ]


def test_execution_runs_a_python_handler(sfn: Any) -> None:
    arn = _create(sfn, "Doubler", DOUBLE)
    started = sfn.start_execution(stateMachineArn=arn, name="first", input='{"value": 21}')
    assert (
        started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:Doubler:first"
    )
    described = _finished(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"value": 42}
    assert json.loads(described["input"]) == {"value": 21}
    assert described["stateMachineArn"] == arn
    assert described["stopDate"] >= described["startDate"]
    for_execution = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert json.loads(for_execution["definition"]) == DOUBLE
    assert for_execution["name"] == "Doubler"
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="first", input='{"value": 1}')
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input="{oops")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=started["executionArn"] + "x")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=arn + "Gone")
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in history] == list(range(1, 8))


def test_a_failing_handler_fails_the_execution_as_lambda_reports_it(sfn: Any) -> None:
    arn = _create(
        sfn,
        "Failing",
        {
            "StartAt": "Fail",
            "States": {
                "Fail": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:fail",
                    "End": True,
                }
            },
        },
    )
    described = _finished(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "ValueError"
    cause = json.loads(described["cause"])
    assert (cause["errorType"], cause["errorMessage"]) == ("ValueError", "bad value")


def test_list_executions_pages_newest_first_and_filters(sfn: Any) -> None:
    arn = _create(sfn, "Listed", DOUBLE)
    for index in range(5):
        sfn.start_execution(stateMachineArn=arn, name=f"run-{index}", input='{"value": 1}')
    for index in range(5):
        _finished(sfn, f"arn:aws:states:us-east-1:123456789012:execution:Listed:run-{index}")
    first = sfn.list_executions(stateMachineArn=arn, maxResults=3)
    assert [e["name"] for e in first["executions"]] == ["run-4", "run-3", "run-2"]
    second = sfn.list_executions(stateMachineArn=arn, maxResults=3, nextToken=first["nextToken"])
    assert [e["name"] for e in second["executions"]] == ["run-1", "run-0"]
    assert "nextToken" not in second
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"] == []
    succeeded = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]
    assert len(succeeded) == 5
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_executions(stateMachineArn=arn, nextToken="garbage")


def test_callback_task_completes_with_send_task_success(sfn: Any) -> None:
    arn = _create(sfn, "Callback", CALLBACK)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    token = _scheduled_token(sfn, execution)
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    described = _finished(sfn, execution)
    assert (described["status"], json.loads(described["output"])) == (
        "SUCCEEDED",
        {"approved": True},
    )
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken=token, output="{}")


def test_callback_task_fails_with_send_task_failure(sfn: Any) -> None:
    arn = _create(sfn, "CallbackFail", CALLBACK)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    token = _scheduled_token(sfn, execution)
    with pytest.raises(sfn.exceptions.InvalidOutput):
        sfn.send_task_success(taskToken=token, output="{not json")
    sfn.send_task_failure(taskToken=token, error="Rejected", cause="no budget")
    described = _finished(sfn, execution)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Rejected",
        "no budget",
    )


def test_stop_execution_aborts_it(sfn: Any) -> None:
    arn = _create(sfn, "Stopped", CALLBACK)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    _scheduled_token(sfn, execution)
    # Starting again with the same name and input while it runs returns the same execution.
    name = execution.rsplit(":", 1)[1]
    again = sfn.start_execution(stateMachineArn=arn, name=name, input="{}")
    assert again["executionArn"] == execution
    stopped = sfn.stop_execution(executionArn=execution, error="Cancelled", cause="by the test")
    assert "stopDate" in stopped
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Cancelled",
        "by the test",
    )
    events = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert events[0]["type"] == "ExecutionAborted"


def test_express_machine_runs_synchronously(sfn: Any) -> None:
    arn = _create(sfn, "Express", DOUBLE, type="EXPRESS")
    answer = sfn.start_sync_execution(stateMachineArn=arn, input='{"value": 5}', name="sync")
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"value": 10}
    assert answer["executionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:express:Express:sync:"
    )
    started = sfn.start_execution(stateMachineArn=arn, input='{"value": 1}', name="async")
    assert started["executionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:express:Express:async:"
    )
    # AWS keeps no record of Express executions to describe (recorded answers).
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution):
        with pytest.raises(sfn.exceptions.InvalidArn) as refused:
            call(executionArn=started["executionArn"])
        assert refused.value.response["Error"]["Message"] == (
            "Invalid Arn: 'Resource type not valid in this context: express'"
        )
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.list_executions(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.InvalidDefinition) as callback:
        _create(sfn, "ExpressCallback", CALLBACK, type="EXPRESS")
    assert callback.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine "
        "does not support '.waitForTaskToken' service integration  at "
        "/States/Wait for approval/Resource'"
    )
    with pytest.raises(sfn.exceptions.InvalidDefinition) as activity:
        _create(sfn, "ExpressActivity", ACTIVITY, type="EXPRESS")
    assert activity.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine "
        "does not support Activity ARN at /States/Work/Resource'"
    )
    standard = _create(sfn, "NotExpress", DOUBLE)
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=standard, input="{}")


def test_activity_worker_round_trip(sfn: Any) -> None:
    created = sfn.create_activity(name="worker")
    activity = created["activityArn"]
    assert activity == "arn:aws:states:us-east-1:123456789012:activity:worker"
    assert sfn.create_activity(name="worker")["activityArn"] == activity
    assert sfn.describe_activity(activityArn=activity)["name"] == "worker"
    assert "worker" in [a["name"] for a in sfn.list_activities()["activities"]]
    arn = _create(sfn, "WithActivity", ACTIVITY)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"job": 7}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="test")
    assert json.loads(task["input"]) == {"job": 7}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": 7}')
    described = _finished(sfn, execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"done": 7})
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert "ActivityScheduled" in types and "ActivitySucceeded" in types

    failing = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Crashed", cause="worker died")
    described = _finished(sfn, failing)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Crashed",
        "worker died",
    )
    sfn.delete_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.get_activity_task(activityArn=activity)


def _activity_machine(activity: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": activity, "End": True, **task}},
    }


def _history(sfn: Any, execution: str) -> list[tuple[str, dict[str, Any] | None]]:
    """Each event's type and details (JSON-text fields parsed), without ids and timestamps."""
    out: list[tuple[str, dict[str, Any] | None]] = []
    for event in sfn.get_execution_history(executionArn=execution)["events"]:
        key = next((k for k in event if k.endswith("EventDetails")), None)
        details = dict(event[key]) if key else None
        for field in ("input", "output"):
            if details is not None and isinstance(details.get(field), str):
                details[field] = json.loads(details[field])
        out.append((event["type"], details))
    return out


def test_a_timed_out_execution_is_described_without_error_or_cause(sfn: Any) -> None:
    # As AWS describes one: status TIMED_OUT, no "error" or "cause" (the history's
    # ExecutionTimedOut event carries the error).
    machine = {
        "TimeoutSeconds": 1,
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": True}},
    }
    arn = _create(sfn, "TimesOut", machine)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    described = _finished(sfn, execution)
    assert described["status"] == "TIMED_OUT"
    assert "error" not in described and "cause" not in described
    assert _history(sfn, execution)[-1] == ("ExecutionTimedOut", {"error": "States.Timeout"})


def test_activity_worker_missing_its_heartbeat_times_out(sfn: Any) -> None:
    # AWS's recorded history: ActivityStarted when the worker picks the task up, with its
    # name; a missed heartbeat is ActivityTimedOut with error States.Timeout and no cause.
    activity = sfn.create_activity(name="silent-worker")["activityArn"]
    machine = _activity_machine(activity, HeartbeatSeconds=1, TimeoutSeconds=600)
    arn = _create(sfn, "SilentWorker", machine)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"job": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
    assert json.loads(task["input"]) == {"job": 1}
    described = _finished(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    assert "cause" not in described
    assert _history(sfn, execution)[2:] == [
        (
            "ActivityScheduled",
            {
                "resource": activity,
                "input": {"job": 1},
                "inputDetails": {"truncated": False},
                "timeoutInSeconds": 600,
                "heartbeatInSeconds": 1,
            },
        ),
        ("ActivityStarted", {"workerName": "worker-1"}),
        ("ActivityTimedOut", {"error": "States.Timeout"}),
        ("ExecutionFailed", {"error": "States.Timeout"}),
    ]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")


ACTIVITY_HEARTBEAT_SECONDS = 2
"""The server runs the real clock: heartbeats every 0.2 s leave 1.8 s for a loaded machine."""


def test_activity_heartbeats_keep_the_task_alive(sfn: Any) -> None:
    activity = sfn.create_activity(name="beating-worker")["activityArn"]
    machine = _activity_machine(activity, HeartbeatSeconds=ACTIVITY_HEARTBEAT_SECONDS)
    arn = _create(sfn, "BeatingWorker", machine)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    started = time.monotonic()
    # Alive for 1.75 heartbeat periods: without the heartbeats it would have timed out.
    while time.monotonic() - started < 1.75 * ACTIVITY_HEARTBEAT_SECONDS:
        time.sleep(0.2)
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"alive": true}')
    described = _finished(sfn, execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"alive": True})
    types = [event_type for event_type, _ in _history(sfn, execution)]
    assert types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    assert ("ActivityStarted", {}) in _history(sfn, execution)  # no workerName given


def test_activity_nobody_picks_up_times_out(sfn: Any) -> None:
    # TimeoutSeconds runs from scheduling; no worker, so no ActivityStarted. A Catch on
    # States.HeartbeatTimeout does not match it; States.Timeout does.
    activity = sfn.create_activity(name="absent-worker")["activityArn"]
    catch = [
        {"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Heartbeat"},
        {"ErrorEquals": ["States.Timeout"], "Next": "Timeout"},
    ]
    work = {"Type": "Task", "Resource": activity, "TimeoutSeconds": 1, "Catch": catch}
    machine = {
        "StartAt": "Work",
        "States": {
            "Work": {**work, "End": True},
            "Heartbeat": {"Type": "Pass", "Result": "Heartbeat", "End": True},
            "Timeout": {"Type": "Pass", "Result": "Timeout", "End": True},
        },
    }
    arn = _create(sfn, "AbsentWorker", machine)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    described = _finished(sfn, execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", "Timeout")
    types = [event_type for event_type, _ in _history(sfn, execution)]
    assert types[2:4] == ["ActivityScheduled", "ActivityTimedOut"]
    assert "ActivityStarted" not in types


def test_tags(sfn: Any) -> None:
    arn = _create(sfn, "Tagged", DOUBLE, tags=[{"key": "a", "value": "1"}])
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    tags = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
    assert sorted((t["key"], t["value"]) for t in tags) == [("a", "3"), ("b", "2")]
    sfn.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:Nobody"
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_tags_for_resource(resourceArn=missing)


def test_history_of_more_than_1000_events_pages(sfn: Any) -> None:
    loop = {
        "StartAt": "Count",
        "States": {
            "Count": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                "Next": "Done?",
            },
            "Done?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 300, "Next": "End"}],
                "Default": "Count",
            },
            "End": {"Type": "Succeed"},
        },
    }
    arn = _create(sfn, "Loop", loop)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 0}')["executionArn"]
    assert _finished(sfn, execution)["status"] == "SUCCEEDED"
    total = 300 * 4 + 4  # started, 300 x (Pass + Choice, entered and exited), Succeed, ended
    pages, token = [], None
    while True:
        page = sfn.get_execution_history(
            executionArn=execution, maxResults=1000, **({"nextToken": token} if token else {})
        )
        pages.append(page["events"])
        token = page.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [1000, total - 1000]
    ids = [e["id"] for p in pages for e in p]
    assert ids == list(range(1, total + 1))
    paginator = sfn.get_paginator("get_execution_history")
    reversed_ids = [
        e["id"]
        for page in paginator.paginate(
            executionArn=execution, reverseOrder=True, PaginationConfig={"PageSize": 250}
        )
        for e in page["events"]
    ]
    assert reversed_ids == list(range(total, 0, -1))
    without_data = sfn.get_execution_history(
        executionArn=execution, maxResults=1, includeExecutionData=False
    )["events"][0]
    assert without_data["executionStartedEventDetails"].get("input") is None


def _post(endpoint: str, target: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_unknown_operations_and_malformed_requests_get_aws_errors(endpoint: str) -> None:
    status, body = _post(endpoint, "AWSStepFunctions.MakeCoffee", b"{}")
    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    status, body = _post(endpoint, "AWSStepFunctions.DescribeStateMachines", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert body["message"] == "Unknown operation: AWSStepFunctions.DescribeStateMachines"
    status, body = _post(endpoint, None, b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = _post(endpoint, "AWSStepFunctions.ListStateMachines", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = _post(endpoint, "AWSStepFunctions.ListStateMachines", b"[" * 100_000)
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = _post(endpoint, "AWSStepFunctions.ListStateMachines", b"[]")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = _post(endpoint, "AWSStepFunctions.ListStateMachines", b" " * 5_000_000)
    assert (status, body["__type"]) == (413, "RequestEntityTooLargeException")
    status, body = _post(endpoint, "AWSStepFunctions.DescribeExecution", b"{}")
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body["message"] == (
        "1 validation error detected: Value null at 'executionArn' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_shape_violations_raise_validation_exception(endpoint: str) -> None:
    loose = client_for(endpoint, validate=False)
    with pytest.raises(loose.exceptions.ValidationException) as error:
        loose.list_state_machines(maxResults=5000)
    assert "Member must have value less than or equal to 1000" in str(error.value)


def test_test_state_operation(sfn: Any) -> None:
    # AWS's recorded answer for a Pass state with InputPath, Parameters and ResultPath.
    state = {
        "Type": "Pass",
        "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData",
        "End": True,
    }
    data = {
        "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
        "unrelatedData": {"someOtherField": 1234},
    }
    answer = sfn.test_state(
        definition=json.dumps(state), roleArn=ROLE, input=json.dumps(data), inspectionLevel="DEBUG"
    )
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {
        **data,
        "modifiedData": {"staticValue": "some value", "inputValue": "value from input"},
    }
    inspection = {key: json.loads(value) for key, value in answer["inspectionData"].items()}
    assert inspection["afterInputPath"] == data["initialData"]
    assert inspection["afterParameters"] == {
        "staticValue": "some value",
        "inputValue": "value from input",
    }
    with pytest.raises(sfn.exceptions.ValidationException) as refused:
        sfn.test_state(definition=json.dumps(state), mock={"result": "{}"})
    assert refused.value.response["Error"]["Message"] == (
        "State type 'Pass' is not supported when a mock is specified"
    )
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.test_state(definition='{"Type": "Nope"}')
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    with pytest.raises(sfn.exceptions.ValidationException) as no_role:
        sfn.test_state(definition=json.dumps(task))
    assert no_role.value.response["Error"]["Message"] == (
        "RoleArn must be specified when testing a Task state"
    )
    mocked = sfn.test_state(
        definition=json.dumps(task),
        input='{"a": 1}',
        mock={"errorOutput": {"error": "Boom", "cause": "mocked"}},
    )
    assert (mocked["status"], mocked["error"], mocked["cause"]) == ("FAILED", "Boom", "mocked")
    with pytest.raises(sfn.exceptions.ValidationException) as secrets:
        sfn.test_state(definition=json.dumps(task), mock={"result": "{}"}, revealSecrets=True)
    assert secrets.value.response["Error"]["Message"] == (
        "TestState does not support RevealSecrets when a mock is specified."
    )


def test_test_state_on_a_map_with_item_reader_data(sfn: Any, endpoint: str) -> None:
    # AWS's recorded answer (TRACE) for a distributed Map whose ItemReader data is supplied.
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "State0",
        "States": {
            "State0": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemReader": {
                    "ReaderConfig": {"InputType": "JSON"},
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Arguments": {"Bucket": "{% $states.input.Bucket %}", "Key": "k"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "HandleItem",
                    "States": {"HandleItem": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    answer = sfn.test_state(
        definition=json.dumps(machine),
        stateName="State0",
        roleArn=ROLE,
        input='{"Bucket": "test-bucket"}',
        inspectionLevel="TRACE",
        mock={"result": "[1, 4, 9]"},
        stateConfiguration={"mapItemReaderData": "[1, 2, 3]"},
    )
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", [1, 4, 9])
    assert answer["inspectionData"] == {"input": '{"Bucket":"test-bucket"}', "maxConcurrency": 1}
    loose = client_for(endpoint, validate=False)
    with pytest.raises(loose.exceptions.ValidationException) as too_long:
        loose.test_state(
            definition=json.dumps(machine),
            stateName="State0",
            mock={"result": "[]"},
            stateConfiguration={"mapItemReaderData": "x" * 262145},
        )
    assert "stateConfiguration.mapItemReaderData" in str(too_long.value)
    assert "Member must have length less than or equal to 262144" in str(too_long.value)
    with pytest.raises(sfn.exceptions.ValidationException) as no_reader:
        sfn.test_state(
            definition=json.dumps(
                {k: v for k, v in machine["States"]["State0"].items() if k != "ItemReader"}
            ),
            mock={"result": "[]"},
            stateConfiguration={"mapItemReaderData": "[1]"},
        )
    assert no_reader.value.response["Error"]["Message"] == (
        "stateConfiguration.mapItemReaderData is only for a Map state with an ItemReader"
    )


def test_jsonata_machine_runs(sfn: Any) -> None:
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
                "Arguments": {"value": "{% $states.input.n %}"},
                "Assign": {"doubled": "{% $states.result.value %}"},
                "Next": "Report",
            },
            "Report": {"Type": "Pass", "Output": {"result": "{% $doubled + 1 %}"}, "End": True},
        },
    }
    arn = _create(sfn, "Jsonata", machine)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 20}')["executionArn"]
    described = _finished(sfn, execution)
    assert (described["status"], json.loads(described["output"])) == (
        "SUCCEEDED",
        {"result": 41},
    )
