"""Hand-written valid ASL definitions covering every state type and field family.

Each is a parsed JSON object that must load, validate without errors, round-trip exactly and
be accepted by the independent validators (placeholders resolved with ``SUBSTITUTIONS``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SUBSTITUTIONS", "VALID_DEFINITIONS"]

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
SUBSTITUTIONS = {
    "WorkFunction.Arn": LAMBDA,
    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
}


def _one(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"StartAt": "Only", "States": {"Only": state}, **top}


def _two(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` first, then a terminal Pass named ``Recover``."""
    return {
        "StartAt": "First",
        "States": {"First": state, "Recover": {"Type": "Pass", "End": True}},
    }


VALID_DEFINITIONS: dict[str, dict[str, Any]] = {
    "pass-minimal": _one({"Type": "Pass", "End": True}),
    "pass-result-nulls-and-numbers": _one(
        {
            "Type": "Pass",
            "Result": {
                "n": None,
                "i": 2,
                "f": 2.0,
                "big": 12345678901234567890,
                "e": 1e-7,
                "list": [None, 1, 1.5, "x", True, {"deep": [None]}],
            },
            "ResultPath": "$.out",
            "InputPath": None,
            "OutputPath": None,
            "End": True,
        },
        Comment="nulls kept, ints stay ints",
        Version="1.0",
        TimeoutSeconds=3600,
    ),
    "pass-parameters-template": _one(
        {
            "Type": "Pass",
            "Parameters": {
                "literal": "$.not-a-path",
                "fromInput.$": "$.a.b",
                "fromContext.$": "$$.Execution.Id",
                "uuid.$": "States.UUID()",
                "formatted.$": "States.Format('Hello {}, you are {}', $.name, $.age)",
                "list": [{"inner.$": "$.x"}, 3, "y"],
                "nested": {"array.$": "States.Array($.a, 'b', 3, true, null)"},
            },
            "ResultPath": None,
            "End": True,
        }
    ),
    "task-everything": _two(
        {
            "Type": "Task",
            "Comment": "all JSONPath task fields",
            "Resource": "arn:aws:states:::lambda:invoke",
            "InputPath": "$.request",
            "Parameters": {"FunctionName": LAMBDA, "Payload.$": "$"},
            "ResultSelector": {"body.$": "$.Payload", "status.$": "$.StatusCode"},
            "ResultPath": "$.response",
            "OutputPath": "$.response.body",
            "TimeoutSeconds": 300,
            "HeartbeatSeconds": 60,
            "Credentials": {"RoleArn": "arn:aws:iam::123456789012:role/worker"},
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 6,
                    "BackoffRate": 2.5,
                    "MaxDelaySeconds": 30,
                    "JitterStrategy": "FULL",
                    "Comment": "throttling",
                },
                {"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0},
                {"ErrorEquals": ["States.ALL"], "BackoffRate": 1, "IntervalSeconds": 0},
            ],
            "Catch": [
                {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Recover"},
                {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Recover"},
            ],
            "Next": "Recover",
        }
    ),
    "task-paths-and-placeholders": {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "${WorkFunction.Arn}",
                "TimeoutSecondsPath": "$.limits.timeout",
                "HeartbeatSecondsPath": "$.limits.heartbeat",
                "ResultPath": "$.result",
                "Next": "Report",
            },
            "Report": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": "${QueueUrl}", "MessageBody.$": "$"},
                "Catch": [
                    {
                        "ErrorEquals": ["SQS.SdkClientException"],
                        "ResultPath": "$.error",
                        "Next": "Failed",
                    }
                ],
                "End": True,
            },
            "Failed": {"Type": "Fail", "Error": "ReportFailed", "Cause": "the queue refused"},
        },
    },
    "choice-every-operator": {
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "InputPath": "$.input",
                "OutputPath": "$",
                "Choices": [
                    {"Variable": "$.s", "StringEquals": "a", "Next": "Yes"},
                    {"Variable": "$.s", "StringEqualsPath": "$.t", "Next": "Yes"},
                    {"Variable": "$.s", "StringLessThan": "b", "Next": "Yes"},
                    {"Variable": "$.s", "StringGreaterThanEquals": "c", "Next": "Yes"},
                    {"Variable": "$.s", "StringMatches": "log-*.txt", "Next": "Yes"},
                    {"Variable": "$.n", "NumericEquals": 3, "Next": "Yes"},
                    {"Variable": "$.n", "NumericLessThan": 2.5, "Next": "Yes"},
                    {"Variable": "$.n", "NumericGreaterThanPath": "$.limit", "Next": "Yes"},
                    {"Variable": "$.b", "BooleanEquals": False, "Next": "Yes"},
                    {"Variable": "$.ts", "TimestampEquals": "2016-03-14T01:59:00Z", "Next": "Yes"},
                    {
                        "Variable": "$.ts",
                        "TimestampLessThanEqualsPath": "$.deadline",
                        "Next": "Yes",
                    },
                    {"Variable": "$.x", "IsNull": True, "Next": "Yes"},
                    {"Variable": "$.x", "IsPresent": False, "Next": "Yes"},
                    {"Variable": "$.x", "IsNumeric": True, "Next": "Yes"},
                    {"Variable": "$.x", "IsString": True, "Next": "Yes"},
                    {"Variable": "$.x", "IsBoolean": True, "Next": "Yes"},
                    {"Variable": "$.x", "IsTimestamp": True, "Next": "Yes"},
                    {
                        "And": [
                            {"Variable": "$.a", "NumericGreaterThan": 1},
                            {
                                "Or": [
                                    {"Variable": "$.b", "StringEquals": "x"},
                                    {"Not": {"Variable": "$.c", "IsPresent": True}},
                                ]
                            },
                        ],
                        "Comment": "nested",
                        "Next": "No",
                    },
                ],
                "Default": "No",
            },
            "Yes": {"Type": "Succeed"},
            "No": {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.cause"},
        },
    },
    "wait-variants": {
        "StartAt": "Seconds",
        "States": {
            "Seconds": {"Type": "Wait", "Seconds": 0, "Next": "Timestamp"},
            "Timestamp": {
                "Type": "Wait",
                "Timestamp": "2030-01-01T00:00:00.5+02:00",
                "Next": "SecondsPath",
            },
            "SecondsPath": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "TimestampPath"},
            "TimestampPath": {"Type": "Wait", "TimestampPath": "$.until", "End": True},
        },
    },
    "parallel-nested": {
        "StartAt": "Fan out",
        "States": {
            "Fan out": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Inner parallel",
                        "States": {
                            "Inner parallel": {
                                "Type": "Parallel",
                                "Branches": [
                                    {"StartAt": "Leaf", "States": {"Leaf": {"Type": "Succeed"}}}
                                ],
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Second",
                        "Comment": "second branch",
                        "States": {"Second": {"Type": "Pass", "Result": 1, "End": True}},
                    },
                ],
                "ResultSelector": {"first.$": "$[0]"},
                "ResultPath": "$.branches",
                "Retry": [{"ErrorEquals": ["States.ALL"]}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Done"}],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    },
    "map-item-processor": _one(
        {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
            "MaxConcurrency": 0,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Each",
                "States": {"Each": {"Type": "Pass", "End": True}},
            },
            "ResultPath": "$.results",
            "End": True,
        }
    ),
    "map-legacy-iterator": _one(
        {
            "Type": "Map",
            "ItemsPath": "$.items",
            "Parameters": {"item.$": "$$.Map.Item.Value"},
            "Iterator": {"StartAt": "Each", "States": {"Each": {"Type": "Succeed"}}},
            "End": True,
        }
    ),
    "map-distributed-kept": _one(
        {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "Each",
                "States": {"Each": {"Type": "Succeed"}},
            },
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:listObjectsV2",
                "Parameters": {"Bucket": "my-bucket"},
            },
            "ItemBatcher": {"MaxItemsPerBatch": 10},
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "my-bucket", "Prefix": "out"},
            },
            "ToleratedFailurePercentage": 5,
            "ToleratedFailureCount": 2,
            "Label": "Files",
            "End": True,
        }
    ),
    "variables-assign": {
        "StartAt": "Set",
        "States": {
            "Set": {
                "Type": "Pass",
                "Assign": {
                    "count": 0,
                    "name.$": "$.name",
                    "greeting.$": "States.Format('hi {}', $.name)",
                },
                "Next": "Use",
            },
            "Use": {
                "Type": "Pass",
                "Parameters": {"who.$": "$name", "n.$": "$count"},
                "End": True,
            },
        },
    },
    "jsonata-machine": {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": LAMBDA, "Payload": "{% $states.input %}"},
                "Output": "{% $states.result.Payload %}",
                "Assign": {"attempt": "{% 1 %}"},
                "TimeoutSeconds": "{% $states.input.timeout %}",
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Output": "{% $states.errorOutput %}",
                        "Next": "Check",
                    }
                ],
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.ok %}", "Next": "Done"}],
                "Default": "Wait",
            },
            "Wait": {"Type": "Wait", "Seconds": "{% 1 + 1 %}", "Next": "Done"},
            "Done": {"Type": "Succeed", "Output": {"ok": True}},
        },
    },
    "mixed-query-languages": {
        "StartAt": "Path",
        "States": {
            "Path": {"Type": "Pass", "Result": {"x": 1}, "Next": "Ata"},
            "Ata": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $states.input.x %}",
                "End": True,
            },
        },
    },
    "loops-with-exit": {
        "StartAt": "Poll",
        "States": {
            "Poll": {"Type": "Task", "Resource": LAMBDA, "Next": "Ready?"},
            "Ready?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ready", "BooleanEquals": True, "Next": "Finish"}],
                "Default": "Sleep",
            },
            "Sleep": {"Type": "Wait", "Seconds": 5, "Next": "Poll"},
            "Finish": {"Type": "Succeed"},
        },
    },
    "names-with-pointer-characters": {
        "StartAt": "a/b~c",
        "States": {
            "a/b~c": {"Type": "Pass", "Next": "Ünïcode state"},
            "Ünïcode state": {"Type": "Succeed"},
        },
    },
    "dynamodb-prefixed-errors": _one(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {"TableName": "Flights", "Key": {"id": {"S.$": "$.id"}}},
            "Retry": [
                {
                    "ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"],
                    "BackoffRate": 2.0,
                },
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "MaxAttempts": 0},
            ],
            "ResultPath": None,
            "End": True,
        }
    ),
}
