"""Deploying through boto3 against moto, and moto's run of the deployed machine vs the engine's."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import engine
from asl_export.deploy import DEFAULT_LOCAL_ROLE_ARN, DeployError, DeployResult, deploy
from asl_export.render import UnresolvedPlaceholderError, render, resolve
from engine.loader import load
from engine.model import StateMachine
from saga.cli import main
from saga.integrations import dynamodb, sqs
from saga.saga import Saga
from saga.templates import JsonPath

ROLE = "arn:aws:iam::123456789012:role/StatesRole"
REGION = "us-east-1"

ORDER_FLOW: dict[str, Any] = {
    "Comment": "Store an order once, read it back, queue it; a duplicate goes to the DLQ",
    "StartAt": "Put Order",
    "States": {
        "Put Order": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {
                "TableName": "orders",
                "Item": {"id": {"S.$": "$.id"}, "status": {"S": "NEW"}},
                "ConditionExpression": "attribute_not_exists(id)",
            },
            "ResultPath": None,
            "Catch": [
                {
                    "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                    "ResultPath": "$.error",
                    "Next": "Dead Letter",
                }
            ],
            "Next": "Get Order",
        },
        "Get Order": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "orders", "Key": {"id": {"S.$": "$.id"}}},
            "ResultSelector": {"status.$": "$.Item.status.S"},
            "ResultPath": "$.order",
            "Next": "Queue Order",
        },
        "Queue Order": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "${OrdersQueue}", "MessageBody.$": "$.order.status"},
            "ResultSelector": {"md5.$": "$.MD5OfMessageBody"},
            "ResultPath": "$.sent",
            "Next": "Stored",
        },
        "Stored": {"Type": "Succeed"},
        "Dead Letter": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "${OrdersQueue}", "MessageBody.$": "$.id"},
            "ResultPath": None,
            "Next": "Duplicate",
        },
        "Duplicate": {"Type": "Fail", "Error": "DuplicateOrder", "Cause": "the order exists"},
    },
}


ORDER_KEY = {"id": {"S": JsonPath("$.id")}}
ORDER_SAGA = Saga("Orders")
ORDER_SAGA.step(
    "Put Order",
    dynamodb.put_item(
        table_name="orders",
        item={"id": {"S": JsonPath("$.id")}, "status": {"S": "NEW"}},
        condition_expression="attribute_not_exists(id)",
    ),
    result_path=None,
).compensate("Delete Order", dynamodb.delete_item(table_name="orders", key=ORDER_KEY))
ORDER_SAGA.step(
    "Get Order",
    dynamodb.get_item(table_name="orders", key=ORDER_KEY),
    result_selector={"status.$": "$.Item.status.S"},
    result_path="$.order",
)
ORDER_SAGA.step(
    "Queue Order",
    sqs.send_message(queue_url="${OrdersQueue}", message_body=JsonPath("$.order.status")),
    result_selector={"md5.$": "$.MD5OfMessageBody"},
    result_path="$.sent",
)
ORDER_SAGA.on_failure(
    "Dead Letter",
    sqs.send_message(queue_url="${OrdersQueue}", message_body=JsonPath("$.id")),
    result_path=None,
    continue_on_error=False,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto with its Step Functions interpreter, an ``orders`` table and a queue."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SFN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        boto3.client("dynamodb").create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        url = boto3.client("sqs").create_queue(QueueName="orders")["QueueUrl"]
        yield {"OrdersQueue": url}


def _machine(values: dict[str, str]) -> StateMachine:
    return resolve(load(ORDER_FLOW, validate=False), values)


def _saga_machine(values: dict[str, str]) -> StateMachine:
    return resolve(load(render(ORDER_SAGA.to_state_machine())), values)


def _moto_run(arn: str, payload: Any) -> dict[str, Any]:
    client = boto3.client("stepfunctions")
    execution = client.start_execution(stateMachineArn=arn, input=json.dumps(payload))
    for _ in range(400):
        described = client.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.025)
    events = client.get_execution_history(executionArn=execution["executionArn"])["events"]
    failed: dict[str, Any] = next(
        (e["executionFailedEventDetails"] for e in events if "executionFailedEventDetails" in e), {}
    )
    return {
        "status": described["status"],
        "output": json.loads(described["output"]) if "output" in described else None,
        "error": failed.get("error"),
        "cause": failed.get("cause"),
        "states": [
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        ],
    }


def _same_request_ids(outcome: dict[str, Any]) -> dict[str, Any]:
    """The outcome with AWS request ids (random per call) in the cause replaced by one token."""
    cause = outcome["cause"]
    if isinstance(cause, str):
        outcome = {**outcome, "cause": re.sub(r"Request ID: [^;]+", "Request ID: <id>", cause)}
    return outcome


def _local_run(machine: StateMachine, payload: Any) -> dict[str, Any]:
    execution = engine.run(machine, payload)
    return {
        "status": execution.status,
        "output": execution.output,
        "error": execution.error,
        "cause": execution.cause,
        "states": execution.states,
    }


def _deployed_and_local_runs(
    machine: StateMachine, name: str, payload: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Deploy ``machine``, run it on moto (id ``dup`` already stored), then run it locally."""
    arn = deploy(machine, name=name, role_arn=ROLE).arn
    if payload["id"] == "dup":
        boto3.client("dynamodb").put_item(TableName="orders", Item={"id": {"S": "dup"}})
    remote = _moto_run(arn, payload)
    if payload["id"] != "dup":
        boto3.client("dynamodb").delete_item(TableName="orders", Key={"id": {"S": "o-1"}})
    return remote, _local_run(machine, payload)


def test_create_then_update(aws: dict[str, str]) -> None:
    client = boto3.client("stepfunctions")
    machine = _machine(aws)
    created = deploy(machine, name="orders", role_arn=ROLE, client=client)
    arn = f"arn:aws:states:{REGION}:123456789012:stateMachine:orders"
    assert created == DeployResult(name="orders", arn=arn, created=True)
    changed = machine.model_copy(update={"comment": "second version"})
    updated = deploy(changed, name="orders", client=client)
    assert updated == DeployResult(name="orders", arn=arn, created=False)
    described = client.describe_state_machine(stateMachineArn=arn)
    assert described["definition"] == render(changed)
    assert described["roleArn"] == ROLE
    assert updated.to_dict() == {"name": "orders", "stateMachineArn": arn, "action": "updated"}


@pytest.mark.parametrize(
    ("payload", "expected_states"),
    [
        ({"id": "o-1"}, ["Put Order", "Get Order", "Queue Order", "Stored"]),
        ({"id": "dup"}, ["Put Order", "Dead Letter", "Duplicate"]),
    ],
)
def test_moto_run_of_the_deployed_machine_matches_the_local_run(
    aws: dict[str, str], payload: dict[str, str], expected_states: list[str]
) -> None:
    machine = _machine(aws)
    remote, local = _deployed_and_local_runs(machine, "orders", payload)
    assert remote["states"] == expected_states
    assert local == remote


@pytest.mark.parametrize(
    ("payload", "expected_states"),
    [
        ({"id": "o-1"}, ["Put Order", "Get Order", "Queue Order"]),
        ({"id": "dup"}, ["Put Order", "Dead Letter", "Saga Failed"]),
    ],
)
def test_moto_run_of_a_deployed_saga_matches_the_local_run(
    aws: dict[str, str], payload: dict[str, str], expected_states: list[str]
) -> None:
    machine = _saga_machine(aws)
    remote, local = _deployed_and_local_runs(machine, "orders-saga", payload)
    assert remote["states"] == expected_states
    assert _same_request_ids(local) == _same_request_ids(remote)


def test_aws_errors_are_one_line_with_the_code(aws: dict[str, str]) -> None:
    with pytest.raises(DeployError) as caught:
        deploy(_machine(aws), name="orders", role_arn="not-an-arn")
    assert (
        str(caught.value) == "CreateStateMachine failed: InvalidArn: Invalid Role Arn: 'not-an-arn'"
    )


def test_a_new_machine_on_aws_needs_a_role(aws: dict[str, str]) -> None:
    with pytest.raises(DeployError, match="does not exist yet: give --role-arn"):
        deploy(_machine(aws), name="orders")


def test_local_targets_get_the_default_role(aws: dict[str, str]) -> None:
    client = boto3.client("stepfunctions")
    result = deploy(
        _machine(aws), name="orders", client=client, endpoint_url="http://localhost:8083"
    )
    assert (
        client.describe_state_machine(stateMachineArn=result.arn)["roleArn"]
        == DEFAULT_LOCAL_ROLE_ARN
    )


def test_placeholders_must_be_resolved_before_deploying(aws: dict[str, str]) -> None:
    with pytest.raises(
        UnresolvedPlaceholderError, match=r"state 'Queue Order': placeholder \$\{OrdersQueue\}"
    ):
        deploy(load(ORDER_FLOW, validate=False), name="orders", role_arn=ROLE)


def test_cli_deploys_then_updates(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "orders.asl.json"
    definition.write_text(json.dumps(ORDER_FLOW))
    substitutions = tmp_path / "values.json"
    substitutions.write_text(json.dumps(aws))
    argv = ["deploy", str(definition), "--name", "orders", "--substitutions", str(substitutions)]
    assert main([*argv, "--role-arn", ROLE]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "created"
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == {
        "name": "orders",
        "stateMachineArn": f"arn:aws:states:{REGION}:123456789012:stateMachine:orders",
        "action": "updated",
    }


def test_cli_reports_deploy_errors_in_one_line(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "orders.asl.json"
    definition.write_text(json.dumps(ORDER_FLOW))
    substitutions = tmp_path / "values.json"
    substitutions.write_text(json.dumps(aws))
    code = main(
        [
            "deploy",
            str(definition),
            "--name",
            "orders",
            "--role-arn",
            "bad",
            "--substitutions",
            str(substitutions),
        ]
    )
    assert code == 1
    assert (
        capsys.readouterr().err
        == "saga: CreateStateMachine failed: InvalidArn: Invalid Role Arn: 'bad'\n"
    )
    code = main(["deploy", str(definition), "--name", "orders", "--role-arn", ROLE])
    assert code == 2
    assert capsys.readouterr().err == (
        "saga: state 'Queue Order': placeholder ${OrdersQueue} has no value; "
        "give its value (saga deploy --substitutions FILE)\n"
    )


def test_cli_deploys_each_child_saga_first_and_gives_the_parent_their_arns(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from asl_export import placeholders
    from saga.steps import child_arn_placeholder
    from tests.test_export_nested import long_trip

    children = {child_arn_placeholder(c) for c in long_trip.child_sagas()}
    functions = {
        name: f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
        for machine in [long_trip, *long_trip.child_sagas()]
        for name in placeholders(machine.to_state_machine())
        if name not in children
    }
    substitutions = tmp_path / "values.json"
    substitutions.write_text(json.dumps(functions))
    argv = [
        "deploy",
        "tests.test_export_nested:long_trip",
        "--name",
        "long-trip",
        "--substitutions",
        str(substitutions),
        "--role-arn",
        ROLE,
    ]
    machines = f"arn:aws:states:{REGION}:123456789012:stateMachine:"
    for action in ["created", "updated"]:
        assert main(argv) == 0
        # the grandchild first: the child starts it, the parent starts the child
        assert json.loads(capsys.readouterr().out) == {
            "name": "long-trip",
            "stateMachineArn": machines + "long-trip",
            "action": action,
            "children": [
                {"name": "Seats", "stateMachineArn": machines + "Seats", "action": action},
                {
                    "name": "NestedFlights",
                    "stateMachineArn": machines + "NestedFlights",
                    "action": action,
                },
            ],
        }
    client = boto3.client("stepfunctions")

    def started(name: str, state: str) -> Any:
        described = client.describe_state_machine(stateMachineArn=machines + name)
        return json.loads(described["definition"])["States"][state]["Parameters"]

    assert started("long-trip", "Book Flights")["StateMachineArn"] == machines + "NestedFlights"
    assert started("NestedFlights", "Choose Seats")["StateMachineArn"] == machines + "Seats"
    for name in ["long-trip", "NestedFlights", "Seats"]:
        definition = client.describe_state_machine(stateMachineArn=machines + name)["definition"]
        assert "${" not in definition


def test_children_deploy_after_the_children_they_start() -> None:
    from asl_export import ChildMachine, deploy_order
    from saga.steps import child_arn_placeholder

    shared = Saga("Shared")
    shared.step("Work", lambda event: 1)
    first, second = Saga("First"), Saga("Second")
    first.step("Use Shared", shared)
    second.step("Use Shared Too", shared)
    parent = Saga("Parent")
    parent.step("Run First", first)
    parent.step("Run Second", second)
    assert [c.name for c in parent.child_sagas()] == ["First", "Shared", "Second"]
    children = [
        ChildMachine(
            placeholder=child_arn_placeholder(child),
            name=child.name,
            machine=child.to_state_machine(),
            functions=(),
        )
        for child in parent.child_sagas()
    ]
    assert [c.name for c in deploy_order(children)] == ["Shared", "First", "Second"]
