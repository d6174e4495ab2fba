"""Service-integration behaviours pinned to what AWS Step Functions recorded.

Each expected value (error name, cause text, event details, output) is the one an execution on
AWS recorded for the same situation; the definitions here are written for these tests.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import boto3
import pytest

import engine
from engine.clock import VirtualClock
from engine.diagnostics import DefinitionError
from engine.execution import Execution
from engine.local_engine import LocalEngine
from tests._aws import moto_aws

T0 = datetime(2024, 1, 1, tzinfo=UTC)
REQUEST_ID = r"Request ID: [0-9a-f-]{36}; Proxy: null\)"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_aws(monkeypatch, AWS_MAX_ATTEMPTS="1"):
        yield


def _one_task(resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A Task whose every error is caught into ``$.caught``."""
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": parameters,
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}
                ],
                "End": True,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }


def _failed_details(execution: Execution) -> dict[str, Any]:
    (failed,) = [event for event in execution.history if event.type == "TaskFailed"]
    details: dict[str, Any] = failed.details
    return details


def test_dynamodb_null_item_is_the_service_validation_error(aws: None) -> None:
    # AWS: a null Item is left out of PutItem; DynamoDB's ValidationException surfaces as the
    # SDK's base exception.
    boto3.client("dynamodb").create_table(
        TableName="Orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    definition = _one_task(
        "arn:aws:states:::dynamodb:putItem", {"TableName": "Orders", "Item.$": "$.item"}
    )
    execution = engine.run(definition, {"item": None})
    details = _failed_details(execution)
    assert details["error"] == "DynamoDB.AmazonDynamoDBException"
    assert re.fullmatch(
        re.escape(
            "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
            "Member must not be null (Service: AmazonDynamoDBv2; Status Code: 400; "
            "Error Code: ValidationException; "
        )
        + REQUEST_ID,
        details["cause"],
    )
    assert execution.output["caught"] == {"Error": details["error"], "Cause": details["cause"]}


def test_dynamodb_unmodelled_service_error_is_the_base_exception(aws: None) -> None:
    # An item without its key attribute: DynamoDB answers ValidationException, which the SDK
    # Step Functions uses does not model.
    boto3.client("dynamodb").create_table(
        TableName="Orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    definition = _one_task(
        "arn:aws:states:::dynamodb:putItem",
        {"TableName": "Orders", "Item": {"other": {"S": "x"}}},
    )
    details = _failed_details(engine.run(definition, {}))
    assert details["error"] == "DynamoDB.AmazonDynamoDBException"
    assert (
        "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException;"
        in (details["cause"])
    )


def test_dynamodb_modelled_error_keeps_its_name(aws: None) -> None:
    definition = _one_task(
        "arn:aws:states:::dynamodb:getItem", {"TableName": "Nope", "Key": {"id": {"S": "x"}}}
    )
    details = _failed_details(engine.run(definition, {}))
    assert details["error"] == "DynamoDB.ResourceNotFoundException"


def test_sqs_null_message_body_is_missing_parameter(aws: None) -> None:
    url = boto3.client("sqs").create_queue(QueueName="orders")["QueueUrl"]
    definition = _one_task(
        "arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody.$": "$.body"}
    )
    execution = engine.run(definition, {"body": None})
    details = _failed_details(execution)
    assert details["error"] == "SQS.AmazonSQSException"
    assert re.fullmatch(
        re.escape(
            "The request must contain the parameter MessageBody. (Service: AmazonSQS; "
            "Status Code: 400; Error Code: MissingParameter; "
        )
        + REQUEST_ID,
        details["cause"],
    )
    # Nothing was sent (not the text "null").
    assert "Messages" not in boto3.client("sqs").receive_message(QueueUrl=url)


def test_task_token_resolves_in_a_sync_task() -> None:
    # AWS issues a token to a .sync task too: $$.Task.Token resolves in its Parameters.
    child = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
    parent = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {
                    "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child",
                    "Input": {"TaskToken.$": "$$.Task.Token"},
                },
                "OutputPath": "$.Output",
                "End": True,
            }
        },
    }
    execution = engine.run(parent, {}, state_machines={"Child": child})
    assert execution.status == "SUCCEEDED"
    (scheduled,) = [event for event in execution.history if event.type == "TaskScheduled"]
    token = scheduled.details["parameters"]["Input"]["TaskToken"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert execution.output == {"TaskToken": token}


_CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


class _Outbox:
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, event: Any) -> Any:
        self.tokens.append(event["MessageBody"]["token"])
        return {"MessageId": "m-1"}


@pytest.mark.anyio
async def test_send_task_failure_without_error_or_cause() -> None:
    # AWS: TaskFailed carries neither field; the caught error output has both, as null.
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": _CALLBACK,
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    outbox = _Outbox()
    async with LocalEngine(clock=VirtualClock(T0), handlers={_CALLBACK: outbox}) as local:
        handle = await local.start_execution(engine.load(definition), {"a": 1}, "cb")
        with anyio.fail_after(5):
            while not outbox.tokens:
                await anyio.sleep(0.005)
        local.send_task_failure(outbox.tokens[0])
        execution = await handle.result()
    assert _failed_details(execution) == {
        "resource": "sendMessage.waitForTaskToken",
        "resourceType": "sqs",
    }
    assert execution.output == {"a": 1, "err": {"Error": None, "Cause": None}}


def test_an_optimised_action_the_service_lacks_is_refused() -> None:
    # AWS refuses the definition (CreateStateMachine: SCHEMA_VALIDATION_FAILED) with this text.
    definition = _one_task("arn:aws:states:::dynamodb:query", {"TableName": "Orders"})
    with pytest.raises(DefinitionError) as caught:
        engine.load(definition)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.location, diagnostic.message) == (
        "INVALID_RESOURCE",
        "/States/Call/Resource",
        "The resource provided arn:aws:states:::dynamodb:query is not recognized. The value is "
        "not a valid resource ARN, or the resource is not available in this region.",
    )


# -- lambda:invoke ------------------------------------------------------------------------


def _invoke_machine(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName.$": "$.fn",
                    "Payload.$": "$.payload",
                    **(extra or {}),
                },
                "End": True,
            }
        },
    }


def _echo(event: Any) -> Any:
    return event


@pytest.mark.parametrize(
    ("payload", "received", "length"),
    [
        ("true", True, "4"),
        ("0.0", 0.0, "3"),
        ('"HelloWorld"', "HelloWorld", "12"),
        ("[]", [], "2"),
        ("null", None, "4"),
        (None, {}, "2"),
        ({"a": 1}, {"a": 1}, "8"),
    ],
)
def test_lambda_invoke_payload_text_is_the_request_body(
    payload: Any, received: Any, length: str
) -> None:
    # AWS: a string Payload is the invocation's body itself (JSON text arrives as the value it
    # encodes), a null Payload invokes with no body ({} in the Python runtime); the result's
    # Payload is the function's answer and Content-Length that answer's length.
    execution = engine.run(
        _invoke_machine(), {"fn": "Echo", "payload": payload}, handlers={"Echo": _echo}
    )
    assert execution.status == "SUCCEEDED"
    output = execution.output
    assert output["Payload"] == received
    headers = output["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["Content-Length"] == length
    assert output["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Length"] == [length]
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", headers["X-Amzn-Trace-Id"]
    )
    assert sorted(headers) == [
        "Connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "X-Amz-Executed-Version",
        "X-Amzn-Trace-Id",
        "x-amzn-Remapped-Content-Length",
        "x-amzn-RequestId",
    ]
    assert sorted(output) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]


def test_lambda_invoke_log_type_tail_returns_the_log_result() -> None:
    # AWS: LogType Tail adds LogResult (base64 of the log's last lines) and the
    # X-Amz-Log-Result header carrying the same text.
    definition = _invoke_machine({"LogType": "Tail"})
    execution = engine.run(definition, {"fn": "Echo", "payload": None}, handlers={"Echo": _echo})
    output = execution.output
    assert sorted(output) == [
        "ExecutedVersion",
        "LogResult",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert output["Payload"] == {}
    request_id = output["SdkResponseMetadata"]["RequestId"]
    assert base64.b64decode(output["LogResult"]).decode() == (
        f"START RequestId: {request_id} Version: $LATEST\n"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\n"
    )
    metadata = output["SdkHttpMetadata"]
    assert metadata["HttpHeaders"]["X-Amz-Log-Result"] == output["LogResult"]
    assert metadata["AllHttpHeaders"]["X-Amz-Log-Result"] == [output["LogResult"]]


def _raises(event: Any) -> Any:
    raise Exception("Some exception was raised.")


def test_lambda_invoke_function_error_cause_is_compact_json() -> None:
    # AWS: lambda:invoke reports the runtime's error document re-serialised as compact JSON
    # (the legacy Lambda ARN resource keeps the runtime's own text, with spaces).
    execution = engine.run(
        _one_task("arn:aws:states:::lambda:invoke", {"FunctionName": "Boom", "Payload.$": "$"}),
        {},
        handlers={"Boom": _raises},
    )
    details = _failed_details(execution)
    assert details["error"] == "Exception"
    cause = details["cause"]
    assert cause.startswith(
        '{"errorMessage":"Some exception was raised.","errorType":"Exception","requestId":"'
    )
    assert '","stackTrace":["  File \\"' in cause
    assert ", " not in cause.split('"stackTrace"')[0]
    assert execution.output["caught"] == {"Error": "Exception", "Cause": cause}


def test_lambda_invoke_unknown_function_names_its_arn() -> None:
    # AWS (recorded November 2025): "Function not found:
    # arn:aws:lambda:<region>:<account>:function:<name>:$LATEST (Service: AWSLambda; ...)".
    execution = engine.run(
        _one_task("arn:aws:states:::lambda:invoke", {"FunctionName.$": "$.fn"}),
        {"fn": "no_such_fn"},
        handlers={"Other": _echo},
    )
    details = _failed_details(execution)
    assert details["error"] == "Lambda.ResourceNotFoundException"
    assert re.fullmatch(
        re.escape(
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no_such_fn:$LATEST "
            "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; "
        )
        + REQUEST_ID,
        details["cause"],
    )


def test_lambda_invoke_unknown_qualified_function_names_its_qualifier() -> None:
    # A version or alias given is the one named; only an unqualified name gets $LATEST.
    for function_name, named in [
        ("no_such_fn:prod", "function:no_such_fn:prod "),
        ("arn:aws:lambda:eu-west-1:111111111111:function:gone:7", "function:gone:7 "),
        ("arn:aws:lambda:eu-west-1:111111111111:function:gone", "function:gone:$LATEST "),
    ]:
        execution = engine.run(
            _one_task("arn:aws:states:::lambda:invoke", {"FunctionName.$": "$.fn"}),
            {"fn": function_name},
            handlers={"Other": _echo},
        )
        cause = _failed_details(execution)["cause"]
        assert cause.split(" (Service: ")[0].endswith(named.strip()), cause


def test_aws_sdk_null_required_member_is_the_service_validation_error(aws: None) -> None:
    # AWS (aws-sdk:dynamodb:putItem with Item null): the member is left out, DynamoDB answers
    # its ValidationException, reported as the SDK's service exception.
    definition = _one_task(
        "arn:aws:states:::aws-sdk:dynamodb:putItem", {"TableName": "Nope", "Item.$": "$.item"}
    )
    execution = engine.run(definition, {"item": None})
    details = _failed_details(execution)
    assert details["error"] == "DynamoDb.DynamoDbException"
    assert re.fullmatch(
        re.escape(
            "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
            "Member must not be null (Service: DynamoDb, Status Code: 400, Request ID: "
        )
        + r"[0-9a-f-]{36}\)",
        details["cause"],
    )


# -- states:startExecution.sync and Credentials --------------------------------------------

_TARGET = "arn:aws:states:us-east-1:123456789012:stateMachine:Target"
_PASS_RESULT = {
    "StartAt": "State_1",
    "States": {"State_1": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}},
}


def _start_sync(resource: str, credentials: dict[str, Any] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": {"StateMachineArn": _TARGET, "Input.$": "$.Input", "Name": "Child"},
        "End": True,
    }
    if credentials is not None:
        state["Credentials"] = credentials
    return {"StartAt": "Start", "States": {"Start": state}}


def test_start_execution_sync_output_has_the_redrive_members() -> None:
    # AWS (recorded 2024): the .sync result is DescribeExecution's answer, with RedriveCount,
    # RedriveStatus and its reason for the finished child.
    execution = engine.run(
        _start_sync("arn:aws:states:::states:startExecution.sync"),
        {"Input": '"InputFromTrustedAccount"'},
        state_machines={"Target": _PASS_RESULT},
    )
    output = execution.output
    assert {key: output[key] for key in sorted(output) if key not in ("StartDate", "StopDate")} == {
        "ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:Target:Child",
        "Input": '"InputFromTrustedAccount"',
        "InputDetails": {"Included": True},
        "Name": "Child",
        "Output": '{"Arg1":"argument1"}',
        "OutputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StateMachineArn": _TARGET,
        "Status": "SUCCEEDED",
    }


def test_start_execution_sync_failed_child_cause_is_its_description() -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}
    execution = engine.run(
        _start_sync("arn:aws:states:::states:startExecution.sync:2"),
        {"Input": {}},
        state_machines={"Target": failing},
    )
    details = _failed_details(execution)
    assert details["error"] == "States.TaskFailed"
    cause = json.loads(details["cause"])
    assert {key: cause[key] for key in ("Cause", "Error", "RedriveCount", "RedriveStatus")} == {
        "Cause": "C",
        "Error": "E",
        "RedriveCount": 0,
        "RedriveStatus": "REDRIVABLE",
    }
    assert "RedriveStatusReason" not in cause


@pytest.mark.parametrize(
    "credentials",
    [
        {"RoleArn.$": "$.Role"},
        {"RoleArn.$": "States.Format('{}', $.Role)"},
        {"RoleArn.$": "$$.Execution.Input.Role"},
    ],
)
def test_credentials_are_recorded_as_task_credentials(credentials: dict[str, Any]) -> None:
    # AWS: TaskScheduled carries taskCredentials {roleArn} evaluated from the state's
    # Credentials (path, intrinsic, context object, variable or JSONata).
    role = "arn:aws:iam::111111111111:role/trusted"
    execution = engine.run(
        _start_sync("arn:aws:states:::states:startExecution.sync", credentials),
        {"Input": {}, "Role": role},
        state_machines={"Target": _PASS_RESULT},
    )
    (scheduled,) = [e for e in execution.history if e.type == "TaskScheduled"]
    assert scheduled.details["taskCredentials"] == {"roleArn": role}


def test_credentials_on_a_legacy_lambda_and_in_jsonata() -> None:
    role = "arn:aws:iam::111111111111:role/trusted"
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "LambdaTask",
        "States": {
            "LambdaTask": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Echo",
                "Credentials": {"RoleArn": "{% $states.input.Role %}"},
                "End": True,
            }
        },
    }
    execution = engine.run(definition, {"Role": role}, handlers={"Echo": _echo})
    (scheduled,) = [e for e in execution.history if e.type == "LambdaFunctionScheduled"]
    assert scheduled.details["taskCredentials"] == {"roleArn": role}
    assert execution.output == {"Role": role}


@pytest.mark.anyio
async def test_send_task_success_with_a_sync_tasks_token_completes_it() -> None:
    # AWS: a startExecution.sync task's $$.Task.Token can be sent back: SendTaskSuccess ends
    # the wait for the child (TaskSucceeded with the sent output, after TaskSubmitted).
    child = {
        "StartAt": "Forward",
        "States": {
            "Forward": {
                "Type": "Task",
                "Resource": _CALLBACK,
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$.ParentToken"}},
                "End": True,
            }
        },
    }
    parent = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync",
                "Parameters": {
                    "StateMachineArn": _TARGET,
                    "Input": {"ParentToken.$": "$$.Task.Token"},
                },
                "End": True,
            }
        },
    }
    outbox = _Outbox()
    async with LocalEngine(
        clock=VirtualClock(T0), handlers={_CALLBACK: outbox}, state_machines={"Target": child}
    ) as local:
        handle = await local.start_execution(engine.load(parent), {}, "parent")
        with anyio.fail_after(5):
            while not outbox.tokens:
                await anyio.sleep(0.005)
        local.send_task_success(outbox.tokens[0], '"SQS_SEND_MESSAGE_AND_WAIT"')
        execution = await handle.result()
    assert execution.status == "SUCCEEDED"
    assert execution.output == "SQS_SEND_MESSAGE_AND_WAIT"
    assert [event.type for event in execution.history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    succeeded = execution.history[5].details
    assert succeeded == {
        "resourceType": "states",
        "resource": "startExecution.sync",
        "output": "SQS_SEND_MESSAGE_AND_WAIT",
    }


def test_start_execution_response_headers() -> None:
    # AWS: the StartExecution answer's headers, Content-Length included (the JSON answer's size).
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": _TARGET, "Name": "Child"},
                "End": True,
            }
        },
    }
    execution = engine.run(
        definition, {}, clock=VirtualClock(T0), state_machines={"Target": _PASS_RESULT}
    )
    headers = execution.output["SdkHttpMetadata"]["HttpHeaders"]
    request_id = execution.output["SdkResponseMetadata"]["RequestId"]
    body = (
        '{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:Target:Child",'
        '"startDate":1704067200.0}'
    )
    assert len(body) == 104
    assert headers == {
        "Content-Length": "104",
        "Content-Type": "application/x-amz-json-1.0",
        "Date": "Mon, 01 Jan 2024 00:00:00 GMT",
        "connection": "keep-alive",
        "x-amzn-RequestId": request_id,
    }
    assert execution.output["StartDate"] == 1704067200000


def test_integration_headers_keep_the_names_the_service_sent() -> None:
    # AWS: SdkHttpMetadata shows the response headers as the service named them
    # ("Content-Type", "x-amzn-RequestId"); botocore's HTTPHeaders are lower-cased.
    from botocore.awsrequest import HeadersDict

    from engine.integrations._boto import keep_header_names, with_metadata

    class _Response:
        headers = HeadersDict(
            {
                "x-amzn-RequestId": "r-1",
                "connection": "keep-alive",
                "Content-Length": "106",
                "Content-Type": "application/x-amz-json-1.0",
            }
        )

    parsed: dict[str, Any] = {
        "MessageId": "m-1",
        "ResponseMetadata": {
            "RequestId": "r-1",
            "HTTPStatusCode": 200,
            "HTTPHeaders": {"x-amzn-requestid": "r-1", "content-type": "x"},
        },
    }
    keep_header_names(http_response=_Response(), parsed=parsed)
    assert with_metadata(parsed) == {
        "MessageId": "m-1",
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "x-amzn-RequestId": ["r-1"],
                "connection": ["keep-alive"],
                "Content-Length": ["106"],
                "Content-Type": ["application/x-amz-json-1.0"],
            },
            "HttpHeaders": {
                "x-amzn-RequestId": "r-1",
                "connection": "keep-alive",
                "Content-Length": "106",
                "Content-Type": "application/x-amz-json-1.0",
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": "r-1"},
    }


def test_sqs_result_headers_come_as_the_endpoint_sent_them(aws: None) -> None:
    # moto answers SendMessage with a "Content-Type" header: it is reported with that name.
    url = boto3.client("sqs").create_queue(QueueName="orders")["QueueUrl"]
    definition = _one_task(
        "arn:aws:states:::sqs:sendMessage", {"QueueUrl": url, "MessageBody": "hello"}
    )
    output = engine.run(definition, {}).output
    headers = output["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert "content-type" not in headers
    assert output["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"


def test_lambda_invoke_compacts_an_error_document_from_a_remote_function() -> None:
    # A function error reported as its error document (e.g. by a Lambda endpoint) is reported
    # by lambda:invoke as compact JSON too; text that is not a JSON object is kept.
    from engine.errors import StatesError

    def remote(event: Any) -> Any:
        raise StatesError("E", '{"errorMessage": "x", "errorType": "E", "stackTrace": []}')

    def plain(event: Any) -> Any:
        raise StatesError("F", "not json: {}")

    definition = _one_task(
        "arn:aws:states:::lambda:invoke", {"FunctionName.$": "$.fn", "Payload": {}}
    )
    first = _failed_details(engine.run(definition, {"fn": "Remote"}, handlers={"Remote": remote}))
    assert (first["error"], first["cause"]) == (
        "E",
        '{"errorMessage":"x","errorType":"E","stackTrace":[]}',
    )
    second = _failed_details(engine.run(definition, {"fn": "Plain"}, handlers={"Plain": plain}))
    assert (second["error"], second["cause"]) == ("F", "not json: {}")


def test_aws_sdk_s3_put_object_sends_json_text_as_utf8_text(aws: None) -> None:
    # AWS (aws-sdk:s3:putObject, Body "text data"): the object holds the body's JSON text, typed
    # text/plain; charset=UTF-8; the answer carries its ETag and CRC32.
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="bucket")
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                "Parameters": {"Bucket": "bucket", "Key": "k", "Body.$": "$.body"},
                "End": True,
            }
        },
    }
    execution = engine.run(definition, {"body": "text data"})
    assert execution.output == {
        "ChecksumCRC32": "KUmHvQ==",
        "ETag": '"2b5df3712557f503a9977a8ea893b2c9"',
    }
    stored = s3.get_object(Bucket="bucket", Key="k")
    assert stored["Body"].read() == b'"text data"'
    assert stored["ContentType"] == "text/plain; charset=UTF-8"


def test_aws_sdk_s3_get_object_answer_has_no_checksum(aws: None) -> None:
    # AWS (aws-sdk:s3:getObject): Step Functions' SDK asks for no response checksum, so the
    # answer has no ChecksumCRC32 even for an object stored with one.
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="k", Body=b"text data")
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "bucket", "Key": "k"},
                "End": True,
            }
        },
    }
    output = engine.run(definition, {}).output
    output.pop("LastModified")
    assert output == {
        "AcceptRanges": "bytes",
        "Body": "text data",
        "ContentLength": 9,
        "ContentType": "binary/octet-stream",
        "ETag": '"332eec544317a6d340b8e77da7fe54ad"',
        "Metadata": {},
    }


def test_lambda_invoke_event_invocation_has_an_empty_body() -> None:
    # An asynchronous invocation (InvocationType Event) answers 202 with no body.
    definition = _invoke_machine({"InvocationType": "Event"})
    output = engine.run(definition, {"fn": "Echo", "payload": {}}, handlers={"Echo": _echo}).output
    assert (output["StatusCode"], output["Payload"]) == (202, "")
    assert output["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "0"
