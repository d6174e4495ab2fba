"""``arn:aws:states:::aws-sdk:SERVICE:ACTION`` through boto3, served by moto in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import boto3
import pytest
from moto import mock_aws

import engine
from engine.diagnostics import DefinitionError
from engine.integrations._boto import clear_client_cache
from engine.integrations.aws_sdk import (
    aws_sdk_target,
    boto3_service_name,
    error_service_name,
    pascal_words,
    sdk_result,
)
from tests._aws import isolate_aws_env


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    isolate_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    clear_client_cache()
    with mock_aws():
        yield
    clear_client_cache()


def _task(resource: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:{resource}", **extra} | (
        {"Parameters": parameters} if parameters else {}
    )


def _caught(error: str) -> list[dict[str, Any]]:
    return [{"ErrorEquals": [error], "ResultPath": "$.error", "Next": "Recovered"}]


RECOVERED = {"Recovered": {"Type": "Pass", "End": True}}


@pytest.mark.parametrize(
    ("arn_service", "boto_service", "error_service"),
    [
        ("s3", "s3", "S3"),
        ("dynamodb", "dynamodb", "DynamoDb"),
        ("sqs", "sqs", "Sqs"),
        ("sfn", "stepfunctions", "Sfn"),
        ("eventbridge", "events", "EventBridge"),
        ("cloudwatchlogs", "logs", "CloudWatchLogs"),
        ("secretsmanager", "secretsmanager", "SecretsManager"),
        ("acmpca", "acm-pca", "AcmPca"),
        ("lambda", "lambda", "Lambda"),
        ("databasemigration", "dms", "DatabaseMigration"),
        ("config", "config", "Config"),
    ],
)
def test_service_names_follow_aws_naming(
    arn_service: str, boto_service: str, error_service: str
) -> None:
    assert boto3_service_name(arn_service) == boto_service
    assert error_service_name(boto_service) == error_service


def test_java_pascal_case_of_service_ids() -> None:
    assert [pascal_words(text) for text in ("DynamoDB", "ACM PCA", "SFN", "EC2", "S3")] == [
        "DynamoDb",
        "AcmPca",
        "Sfn",
        "Ec2",
        "S3",
    ]


def test_unknown_service_action_and_sync_are_refused_before_the_run() -> None:
    machine = {
        "StartAt": "A",
        "States": {
            "A": _task("nosuchservice:doIt", {}, Next="B"),
            "B": _task("s3:doesNotExist", {}, Next="C"),
            "C": _task("s3:getObject.sync", {}, End=True),
        },
    }
    with pytest.raises(DefinitionError) as raised:
        engine.run(machine, {})
    found = {(d.location, d.message) for d in raised.value.diagnostics}
    assert (
        "/States/A/Resource",
        "state 'A': the AWS SDK has no service named 'nosuchservice' "
        "(resource 'arn:aws:states:::aws-sdk:nosuchservice:doIt')",
    ) in found
    assert (
        "/States/B/Resource",
        "state 'B': the AWS SDK service 's3' has no action 'doesNotExist' "
        "(resource 'arn:aws:states:::aws-sdk:s3:doesNotExist')",
    ) in found
    assert any(loc == "/States/C/Resource" and "'.sync'" in msg for loc, msg in found)


def test_action_names_map_to_boto3_operations() -> None:
    target = aws_sdk_target("arn:aws:states:::aws-sdk:s3:listObjectsV2")
    assert not isinstance(target, str)
    assert (target.boto_service, target.operation) == ("s3", "ListObjectsV2")


def test_s3_put_get_list_and_no_such_key(aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="docs")
    machine = {
        "StartAt": "Put",
        "States": {
            "Put": _task(
                "s3:putObject",
                {"Bucket": "docs", "Key": "a.json", "Body.$": "$.doc"},
                ResultPath="$.put",
                Next="Get",
            ),
            "Get": _task(
                "s3:getObject",
                {"Bucket": "docs", "Key": "a.json"},
                ResultSelector={"Body.$": "$.Body", "ContentLength.$": "$.ContentLength"},
                ResultPath="$.got",
                Next="List",
            ),
            "List": _task(
                "s3:listObjectsV2",
                {"Bucket": "docs"},
                ResultSelector={"Keys.$": "$.Contents[*].Key", "KeyCount.$": "$.KeyCount"},
                ResultPath="$.listed",
                Next="Missing",
            ),
            "Missing": _task(
                "s3:getObject",
                {"Bucket": "docs", "Key": "missing.json"},
                Catch=_caught("S3.NoSuchKeyException"),
                End=True,
            ),
            **RECOVERED,
        },
    }
    execution = engine.run(machine, {"doc": {"id": 7}})
    assert execution.status == "SUCCEEDED"
    output = execution.output
    # A blob member given JSON data receives its JSON text, as AWS stores it.
    assert output["got"] == {"Body": '{"id":7}', "ContentLength": 8}
    assert output["listed"] == {"Keys": ["a.json"], "KeyCount": 1}
    assert output["put"]["ETag"] == '"' + __import__("hashlib").md5(b'{"id":7}').hexdigest() + '"'
    assert output["error"]["Error"] == "S3.NoSuchKeyException"
    assert output["error"]["Cause"].startswith(
        "The specified key does not exist. (Service: S3, Status Code: 404, Request ID: "
    )
    scheduled = next(e for e in execution.history if e.type == "TaskScheduled")
    assert scheduled.details["resourceType"] == "aws-sdk:s3"
    assert scheduled.details["resource"] == "putObject"


def test_dynamodb_items_and_resource_not_found(aws: None) -> None:
    boto3.client("dynamodb").create_table(
        TableName="Orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    machine = {
        "StartAt": "Put",
        "States": {
            "Put": _task(
                "dynamodb:putItem",
                {"TableName": "Orders", "Item": {"id": {"S": "o1"}, "qty": {"N": "3"}}},
                ResultPath=None,
                Next="Get",
            ),
            "Get": _task(
                "dynamodb:getItem",
                {"TableName": "Orders", "Key": {"id": {"S": "o1"}}},
                ResultPath="$.got",
                Next="NoTable",
            ),
            "NoTable": _task(
                "dynamodb:putItem",
                {"TableName": "Missing", "Item": {"id": {"S": "x"}}},
                Catch=_caught("DynamoDb.ResourceNotFoundException"),
                End=True,
            ),
            **RECOVERED,
        },
    }
    execution = engine.run(machine, {})
    assert execution.status == "SUCCEEDED"
    assert execution.output["got"] == {"Item": {"id": {"S": "o1"}, "qty": {"N": "3"}}}
    assert execution.output["error"]["Error"] == "DynamoDb.ResourceNotFoundException"
    assert execution.output["error"]["Cause"].startswith(
        "Requested resource not found (Service: DynamoDb, Status Code: 400, Request ID: "
    )


def test_sqs_send_receive_and_queue_does_not_exist(aws: None) -> None:
    url = boto3.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    machine = {
        "StartAt": "Send",
        "States": {
            "Send": _task(
                "sqs:sendMessage",
                {"QueueUrl": url, "MessageBody.$": "$.job"},
                ResultSelector={"Sent.$": "$.MessageId"},
                ResultPath="$.sent",
                Next="Receive",
            ),
            "Receive": _task(
                "sqs:receiveMessage",
                {"QueueUrl": url, "MaxNumberOfMessages": 1},
                ResultSelector={"Body.$": "$.Messages[0].Body"},
                ResultPath="$.received",
                Next="NoQueue",
            ),
            "NoQueue": _task(
                "sqs:getQueueUrl",
                {"QueueName": "absent"},
                Catch=_caught("Sqs.QueueDoesNotExistException"),
                End=True,
            ),
            **RECOVERED,
        },
    }
    execution = engine.run(machine, {"job": {"n": 1}})
    assert execution.status == "SUCCEEDED"
    # A string member given JSON data receives its compact JSON text.
    assert execution.output["received"] == {"Body": '{"n":1}'}
    assert execution.output["error"]["Error"] == "Sqs.QueueDoesNotExistException"


def test_unmodelled_error_is_service_exception(aws: None) -> None:
    machine = {
        "StartAt": "Bad",
        "States": {
            "Bad": _task(
                "dynamodb:putItem",
                {"TableName": "Orders", "Item": {}},
                Catch=_caught("DynamoDb.DynamoDbException"),
                End=True,
            ),
            **RECOVERED,
        },
    }
    boto3.client("dynamodb").create_table(
        TableName="Orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    execution = engine.run(machine, {})
    assert execution.status == "SUCCEEDED"
    assert execution.output["error"]["Error"] == "DynamoDb.DynamoDbException"


def test_sfn_members_are_pascal_cased_both_ways(aws: None) -> None:
    client = boto3.client("stepfunctions")
    arn = client.create_state_machine(
        name="Child",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    machine = {
        "StartAt": "Describe",
        "States": {
            "Describe": _task(
                "sfn:describeStateMachine",
                {"StateMachineArn": arn},
                ResultSelector={"Name.$": "$.Name", "Created.$": "$.CreationDate"},
                End=True,
            )
        },
    }
    execution = engine.run(machine, {})
    assert execution.status == "SUCCEEDED"
    assert execution.output["Name"] == "Child"
    created = execution.output["Created"]
    assert isinstance(created, str) and created.endswith("Z") and created[10] == "T"


def test_result_shapes() -> None:
    from datetime import UTC, datetime

    response = {
        "ResponseMetadata": {"RequestId": "r"},
        "startDate": datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        "blob": b"\x00\x01",
        "items": [{"createdAt": datetime(2024, 1, 2, tzinfo=UTC)}],
    }
    assert sdk_result(response) == {
        "StartDate": "2024-01-02T03:04:05.120Z",
        "Blob": "AAE=",
        "Items": [{"CreatedAt": "2024-01-02T00:00:00Z"}],
    }


def test_wait_for_task_token_through_an_sdk_call(aws: None) -> None:
    from engine.local_engine import LocalEngine

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="approvals")["QueueUrl"]
    machine = {
        "StartAt": "Ask",
        "States": {
            "Ask": _task(
                "sqs:sendMessage.waitForTaskToken",
                {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token"}},
                End=True,
            )
        },
    }

    async def main() -> Any:
        async with LocalEngine() as local:
            handle = await local.start_execution(machine, {}, "approve-1")
            while True:
                messages = sqs.receive_message(QueueUrl=url).get("Messages", [])
                if messages:
                    break
                await anyio.sleep(0.01)
            token = json.loads(messages[0]["Body"])["token"]
            local.send_task_success(token, {"approved": True})
            return await handle.result()

    execution = anyio.run(main)
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"approved": True}
    submitted = next(e for e in execution.history if e.type == "TaskSubmitted")
    assert submitted.details["resourceType"] == "aws-sdk:sqs"
    assert submitted.details["resource"] == "sendMessage.waitForTaskToken"
    assert "MessageId" in submitted.details["output"]
