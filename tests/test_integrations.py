"""Built-in optimised integrations through boto3, served by moto in-process."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from engine.bindings import TaskRequest, resolve_binding
from engine.errors import StatesError
from engine.integrations._boto import clear_client_cache, with_metadata
from tests._aws import isolate_aws_env

pytestmark = pytest.mark.anyio

MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:Parent"
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:Parent:run-1"
CONTEXT = {"StateMachine": {"Id": MACHINE_ARN}, "Execution": {"Id": EXECUTION_ARN}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _clean_env(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clear_client_cache()
    with mock_aws():
        yield
    clear_client_cache()


@pytest.fixture
def table(aws: None) -> str:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="Bookings",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="Bookings", Item={"id": {"S": "b1"}, "seats": {"N": "1"}})
    return "Bookings"


@pytest.fixture
def queue(aws: None) -> str:
    url: str = boto3.client("sqs").create_queue(QueueName="booking-dlq")["QueueUrl"]
    return url


async def _call(resource: str, payload: Any, context: dict[str, Any] | None = None) -> Any:
    binding = resolve_binding(resource, {})
    assert binding is not None
    request = TaskRequest(
        state_name="State", resource=resource, payload=payload, context=context or {}
    )
    return await binding.invoke(request)


async def _fails(resource: str, payload: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        await _call(resource, payload)
    return caught.value


def _assert_metadata(result: dict[str, Any]) -> None:
    http = result["SdkHttpMetadata"]
    assert http["HttpStatusCode"] == 200
    assert set(http) == {"AllHttpHeaders", "HttpHeaders", "HttpStatusCode"}
    assert http["AllHttpHeaders"] == {key: [value] for key, value in http["HttpHeaders"].items()}
    request_id = result["SdkResponseMetadata"]["RequestId"]
    assert result["SdkResponseMetadata"] == {"RequestId": request_id}
    assert request_id
    assert list(result) == sorted(result)


# --- DynamoDB ----------------------------------------------------------------------------------


async def test_dynamodb_put_and_get_item(table: str) -> None:
    item = {"id": {"S": "b2"}, "seats": {"N": "4"}, "tags": {"SS": ["a"]}}
    put = await _call("arn:aws:states:::dynamodb:putItem", {"TableName": table, "Item": item})
    assert set(put) == {"SdkHttpMetadata", "SdkResponseMetadata"}
    _assert_metadata(put)
    got = await _call(
        "arn:aws:states:::dynamodb:getItem", {"TableName": table, "Key": {"id": {"S": "b2"}}}
    )
    assert got["Item"] == item
    assert list(got) == ["Item", "SdkHttpMetadata", "SdkResponseMetadata"]
    _assert_metadata(got)


async def test_dynamodb_get_missing_item_has_no_item_key(table: str) -> None:
    got = await _call(
        "arn:aws:states:::dynamodb:getItem", {"TableName": table, "Key": {"id": {"S": "none"}}}
    )
    assert set(got) == {"SdkHttpMetadata", "SdkResponseMetadata"}


async def test_dynamodb_update_item_returns_typed_attributes(table: str) -> None:
    result = await _call(
        "arn:aws:states:::dynamodb:updateItem",
        {
            "TableName": table,
            "Key": {"id": {"S": "b1"}},
            "UpdateExpression": "SET seats = seats - :one",
            "ConditionExpression": "seats > :zero",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    assert result["Attributes"] == {"seats": {"N": "0"}}
    _assert_metadata(result)


async def test_dynamodb_conditional_update_failure(table: str) -> None:
    payload = {
        "TableName": table,
        "Key": {"id": {"S": "b1"}},
        "UpdateExpression": "SET seats = seats - :one",
        "ConditionExpression": "seats > :limit",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": "5"}},
    }
    error = await _fails("arn:aws:states:::dynamodb:updateItem", payload)
    assert error.error == "DynamoDB.ConditionalCheckFailedException"
    assert error.cause is not None
    assert error.cause.startswith(
        "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; "
        "Error Code: ConditionalCheckFailedException; Request ID: "
    )
    assert error.cause.endswith("; Proxy: null)")


async def test_dynamodb_delete_item_and_missing_table(table: str) -> None:
    deleted = await _call(
        "arn:aws:states:::dynamodb:deleteItem",
        {"TableName": table, "Key": {"id": {"S": "b1"}}, "ReturnValues": "ALL_OLD"},
    )
    assert deleted["Attributes"] == {"id": {"S": "b1"}, "seats": {"N": "1"}}
    error = await _fails(
        "arn:aws:states:::dynamodb:getItem", {"TableName": "Nope", "Key": {"id": {"S": "x"}}}
    )
    assert error.error == "DynamoDB.ResourceNotFoundException"


async def test_dynamodb_binary_values_come_back_as_base64(table: str) -> None:
    item = {"id": {"S": "bin"}, "blob": {"B": b"\x00\x01"}}
    boto3.client("dynamodb").put_item(TableName=table, Item=item)
    got = await _call(
        "arn:aws:states:::dynamodb:getItem", {"TableName": table, "Key": {"id": {"S": "bin"}}}
    )
    assert got["Item"]["blob"] == {"B": base64.b64encode(b"\x00\x01").decode()}


async def test_parameter_problems_are_validation_errors(table: str) -> None:
    error = await _fails("arn:aws:states:::dynamodb:getItem", {"Table": table})
    assert error.error == "DynamoDB.AmazonDynamoDBException"
    assert error.cause is not None
    assert error.cause.startswith(
        "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null; Value null at 'key' failed to satisfy constraint: Member must "
        "not be null (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: "
        "ValidationException; Request ID: "
    )
    not_object = await _fails("arn:aws:states:::dynamodb:getItem", ["x"])
    assert not_object.error == "DynamoDB.ValidationException"
    assert not_object.cause == (
        "The parameters of 'arn:aws:states:::dynamodb:getItem' must be a JSON object, got list."
    )


# --- SQS / SNS ---------------------------------------------------------------------------------


async def test_sqs_send_message_serialises_object_bodies(queue: str) -> None:
    result = await _call(
        "arn:aws:states:::sqs:sendMessage",
        {"QueueUrl": queue, "MessageBody": {"id": 1, "ok": True}},
    )
    body = '{"id":1,"ok":true}'
    assert result["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert list(result) == [
        "MD5OfMessageBody",
        "MessageId",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
    ]
    _assert_metadata(result)
    received = boto3.client("sqs").receive_message(QueueUrl=queue)["Messages"]
    assert [(m["Body"], m["MessageId"]) for m in received] == [(body, result["MessageId"])]


async def test_sqs_string_body_unknown_parameters_and_missing_queue(queue: str) -> None:
    await _call(
        "arn:aws:states:::sqs:sendMessage",
        {"QueueUrl": queue, "MessageBody": "plain", "MessageSystemAttribute": {"X": "unknown"}},
    )
    received = boto3.client("sqs").receive_message(QueueUrl=queue)["Messages"]
    assert [m["Body"] for m in received] == ["plain"]
    error = await _fails(
        "arn:aws:states:::sqs:sendMessage", {"QueueUrl": queue + "-missing", "MessageBody": "x"}
    )
    assert error.error == "SQS.QueueDoesNotExistException"
    assert error.cause is not None
    assert "(Service: AmazonSQS; Status Code: 400; " in error.cause


async def test_sns_publish(queue: str) -> None:
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="booking-events")["TopicArn"]
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    result = await _call(
        "arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": {"booking": "b1"}}
    )
    assert list(result) == ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    _assert_metadata(result)
    received = boto3.client("sqs").receive_message(QueueUrl=queue)["Messages"]
    assert [m["Body"] for m in received] == ['{"booking":"b1"}']
    error = await _fails("arn:aws:states:::sns:publish", {"TopicArn": topic + "x", "Message": "m"})
    assert error.error == "SNS.NotFoundException"
    assert error.cause is not None
    assert "(Service: AmazonSNS; Status Code: 404; Error Code: NotFound; " in error.cause


# --- EventBridge -------------------------------------------------------------------------------


async def test_events_put_events_serialises_detail_and_adds_resources(queue: str) -> None:
    events = boto3.client("events")
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventPattern=json.dumps({"source": ["booking"]}))
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": queue_arn}])
    result = await _call(
        "arn:aws:states:::events:putEvents",
        {"Entries": [{"Detail": {"id": "b1"}, "DetailType": "Booked", "Source": "booking"}]},
        CONTEXT,
    )
    assert list(result) == ["Entries", "FailedEntryCount"]
    assert result["FailedEntryCount"] == 0
    assert [set(entry) for entry in result["Entries"]] == [{"EventId"}]
    received = boto3.client("sqs").receive_message(QueueUrl=queue)["Messages"]
    event = json.loads(received[0]["Body"])
    assert event["detail"] == {"id": "b1"}
    assert event["resources"] == [MACHINE_ARN, EXECUTION_ARN]


async def test_events_failed_entry(aws: None) -> None:
    error = await _fails(
        "arn:aws:states:::events:putEvents",
        {"Entries": [{"Detail": {"id": "b1"}, "Source": "booking"}]},
    )
    assert error.error == "EventBridge.FailedEntry"
    assert error.cause is not None
    assert json.loads(error.cause) == {
        "Entries": [
            {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": "Parameter DetailType is not valid. "
                "Reason: DetailType is a required argument.",
            }
        ],
        "FailedEntryCount": 1,
    }


# --- Step Functions ----------------------------------------------------------------------------


async def test_states_start_execution(aws: None) -> None:
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="Child",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    result = await _call(
        "arn:aws:states:::states:startExecution",
        {"StateMachineArn": machine, "Input": {"id": "b1"}, "Name": "child-1"},
    )
    assert list(result) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert result["ExecutionArn"] == machine.replace(":stateMachine:", ":execution:") + ":child-1"
    assert isinstance(result["StartDate"], int)
    _assert_metadata(result)
    described = sfn.describe_execution(executionArn=result["ExecutionArn"])
    assert described["input"] == '{"id":"b1"}'
    assert int(described["startDate"].timestamp() * 1000) == result["StartDate"]
    error = await _fails(
        "arn:aws:states:::states:startExecution", {"StateMachineArn": machine + "-missing"}
    )
    assert error.error == "StepFunctions.StateMachineDoesNotExistException"


# --- configuration and SDK problems ------------------------------------------------------------


def test_with_metadata_shape() -> None:
    response = {
        "MessageId": "m",
        "ResponseMetadata": {
            "RequestId": "r",
            "HTTPStatusCode": 200,
            "HTTPHeaders": {"x-amzn-requestid": "r"},
        },
    }
    assert with_metadata(response) == {
        "MessageId": "m",
        "SdkHttpMetadata": {
            "AllHttpHeaders": {"x-amzn-requestid": ["r"]},
            "HttpHeaders": {"x-amzn-requestid": "r"},
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": "r"},
    }


async def test_unreachable_endpoint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")
    clear_client_cache()
    error = await _fails(
        "arn:aws:states:::sqs:sendMessage", {"QueueUrl": "http://127.0.0.1:9/q", "MessageBody": "x"}
    )
    assert error.error == "SQS.SdkClientException"
    assert error.cause is not None
    assert error.cause.startswith("EndpointConnectionError: Could not connect to the endpoint URL")


async def test_missing_credentials_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    clear_client_cache()
    error = await _fails(
        "arn:aws:states:::dynamodb:getItem", {"TableName": "T", "Key": {"id": {"S": "x"}}}
    )
    assert (error.error, error.cause) == (
        "DynamoDB.SdkClientException",
        "NoCredentialsError: Unable to locate credentials",
    )


async def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    error = await _fails("arn:aws:states:::sns:publish", {"TopicArn": "t", "Message": "m"})
    assert error.error == "States.Runtime"
    assert error.cause == (
        "The built-in AWS service integrations need boto3: "
        "install the 'aws' extra (pip install 'saga-statemachine[aws]')."
    )
