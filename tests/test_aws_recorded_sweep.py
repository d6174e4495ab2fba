"""Behaviours found by running AWS-recorded executions on the engine and comparing histories.

The definitions below are written for these tests; each expected value (header, error name,
cause text, event types, links and details) is the one AWS recorded for a definition doing the
same thing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import run
from tests._aws import moto_aws

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
LIMIT_CAUSE = (
    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes "
    "service limit."
)


def _run(definition: dict[str, Any], data: Any, handlers: dict[str, Any]) -> Execution:
    return run(definition, data, handlers=handlers, clock=VirtualClock(T0), name="rec")


def _invoke(payload: Any) -> dict[str, Any]:
    return {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "fn", "Payload": payload},
                "End": True,
            }
        },
    }


def _returning(value: Any) -> Any:
    def handler(event: Any) -> Any:
        return value

    return handler


# -- lambda:invoke response headers -----------------------------------------------------------


def test_lambda_invoke_content_length_is_the_runtime_response_size() -> None:
    # Recorded: Payload {"foo": "foo-1"} -> Content-Length 16 (``{"foo": "foo-1"}``).
    ex = _run(_invoke({"foo": "foo-1"}), {}, {"fn": lambda event: event})
    headers = ex.output["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["Content-Length"] == "16"
    assert ex.output["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Length"] == ["16"]


def test_lambda_invoke_content_length_of_scalars() -> None:
    # Recorded: "HelloWorld" -> 12, null -> 4, 0.0 -> 3, true -> 4, [] -> 2, {} -> 2.
    cases = [("HelloWorld", "12"), (None, "4"), (0.0, "3"), (True, "4"), ([], "2"), ({}, "2")]
    for value, length in cases:
        ex = _run(_invoke({"v": 1}), {}, {"fn": _returning(value)})
        assert ex.output["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == length, value


def test_lambda_invoke_response_carries_a_trace_header() -> None:
    ex = _run(_invoke({}), {}, {"fn": lambda event: {}})
    http = ex.output["SdkHttpMetadata"]
    assert set(http["HttpHeaders"]) == {
        "Connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "X-Amz-Executed-Version",
        "X-Amzn-Trace-Id",
        "x-amzn-Remapped-Content-Length",
        "x-amzn-RequestId",
    }
    assert http["HttpHeaders"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert http["AllHttpHeaders"]["X-Amzn-Trace-Id"] == [http["HttpHeaders"]["X-Amzn-Trace-Id"]]


# -- a Lambda response over the payload limit that is not JSON --------------------------------


def _big_text(event: Any) -> bytes:
    return b"a" * (257 * 1024)


def _catching(resource: str, error: str, parameters: dict[str, Any] | None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Catch": [{"ErrorEquals": [error], "Next": "Handle"}],
        "End": True,
    }
    if parameters is not None:
        task["Parameters"] = parameters
    return {
        "StartAt": "InvokeLambda",
        "States": {"InvokeLambda": task, "Handle": {"Type": "Pass", "End": True}},
    }


def _links(ex: Execution) -> list[tuple[int, str, int]]:
    return [(e.id, e.type, e.previous_event_id) for e in ex.history]


def test_oversize_text_from_lambda_invoke_is_a_catchable_data_limit_error() -> None:
    for error in ("States.DataLimitExceeded", "States.ALL"):
        definition = _catching(
            "arn:aws:states:::lambda:invoke",
            error,
            {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
        )
        ex = _run(definition, {"FunctionName": "fn", "Payload": None}, {"fn": _big_text})
        cause = LIMIT_CAUSE.format("lambda")
        assert ex.status == "SUCCEEDED"
        assert ex.output == {"Error": "States.DataLimitExceeded", "Cause": cause}
        assert _links(ex) == [
            (1, "ExecutionStarted", 0),
            (2, "TaskStateEntered", 0),
            (3, "TaskScheduled", 2),
            (4, "TaskStarted", 3),
            (5, "TaskFailed", 4),
            (6, "TaskStateExited", 5),
            (7, "PassStateEntered", 6),
            (8, "PassStateExited", 7),
            (9, "ExecutionSucceeded", 8),
        ]
        assert ex.history[4].details == {
            "cause": cause,
            "error": "States.DataLimitExceeded",
            "resource": "invoke",
            "resourceType": "lambda",
        }


def test_oversize_text_from_a_lambda_arn_task_names_the_function() -> None:
    for error in ("States.DataLimitExceeded", "States.ALL"):
        definition = _catching(FUNCTION_ARN, error, None)
        ex = _run(definition, {"FunctionName": "fn", "Payload": None}, {"fn": _big_text})
        cause = LIMIT_CAUSE.format(FUNCTION_ARN)
        assert ex.status == "SUCCEEDED"
        assert ex.output == {"Error": "States.DataLimitExceeded", "Cause": cause}
        assert [e.type for e in ex.history] == [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ]
        assert ex.history[4].details == {"cause": cause, "error": "States.DataLimitExceeded"}


# -- a distributed Map's MaxItemsPath naming a string of digits -------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_aws(monkeypatch):
        yield


@pytest.mark.usefixtures("aws")
def test_max_items_path_reads_a_string_of_digits_as_its_integer() -> None:
    items = [{"verdict": "true"}, {"verdict": "false"}, {"verdict": "mostly-true"}, {"v": 4}]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="file.json", Body=json.dumps(items))
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {"Type": "Pass", "Assign": {"maxItems": "2"}, "Next": "MapState"},
            "MapState": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemReader": {
                    "ReaderConfig": {"InputType": "JSON", "MaxItemsPath": "$maxItems"},
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "PassItem",
                    "States": {"PassItem": {"Type": "Pass", "End": True}},
                },
                "End": True,
            },
        },
    }
    ex = _run(definition, {"Bucket": "bucket", "Key": "file.json"}, {})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == items[:2]
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "PassStateEntered", 0),
        (3, "PassStateExited", 2),
        (4, "MapStateEntered", 3),
        (5, "MapStateStarted", 4),
        (6, "MapRunStarted", 5),
        (7, "MapRunSucceeded", 6),
        (8, "MapStateSucceeded", 7),
        (9, "MapStateExited", 6),
        (10, "ExecutionSucceeded", 9),
    ]
    assert ex.history[4].details == {"length": 0}


# -- a branch assigning the name its Parallel's catcher assigns -------------------------------


def test_a_branch_may_assign_the_name_its_parallels_catcher_assigns() -> None:
    # AWS accepted and ran such a machine: the catcher's Assign happens after the branches end.
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "ParallelState",
        "States": {
            "ParallelState": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Inner",
                        "States": {
                            "Inner": {
                                "Type": "Pass",
                                "Assign": {"inputVar": "{% $states.input %}"},
                                "Next": "Boom",
                            },
                            "Boom": {"Type": "Fail", "Error": "E", "Cause": "c"},
                        },
                    }
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Assign": {
                            "inputVar": "{% $states.input %}",
                            "errorVar": "{% $states.errorOutput %}",
                        },
                        "Next": "Fallback",
                    }
                ],
                "Next": "Finish",
            },
            "Fallback": {
                "Type": "Pass",
                "Output": {"error": "{% $errorVar %}", "input": "{% $inputVar %}"},
                "End": True,
            },
            "Finish": {"Type": "Pass", "End": True},
        },
    }
    ex = _run(definition, {"inputData": "dummy"}, {})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == {"error": {"Error": "E", "Cause": "c"}, "input": {"inputData": "dummy"}}


# -- a JSONata expression whose value is a function -------------------------------------------


def test_an_expression_returning_a_function_is_an_unsupported_result_type() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "MapIterateState",
        "States": {
            "MapIterateState": {
                "Type": "Map",
                "Items": "{% $fn := function($x){$x} %}",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Pass",
                    "States": {"Pass": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    ex = _run(definition, {}, {})
    cause = (
        "An error occurred while executing the state 'MapIterateState' (entered at the event id "
        "#2). The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' "
        "returned an unsupported result type."
    )
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "States.QueryEvaluationError", cause)
    assert _links(ex) == [
        (1, "ExecutionStarted", 0),
        (2, "MapStateEntered", 0),
        (3, "EvaluationFailed", 0),
        (4, "MapStateFailed", 3),
        (5, "ExecutionFailed", 4),
    ]
    assert ex.history[2].details == {
        "cause": cause,
        "error": "States.QueryEvaluationError",
        "location": "Items",
        "state": "MapIterateState",
    }


def test_an_expression_returning_null_is_null() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": {"v": "{% null %}"}, "End": True}},
    }
    assert _run(definition, {}, {}).output == {"v": None}
