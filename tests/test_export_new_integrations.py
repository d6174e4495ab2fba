"""Deployment policies for nested executions, aws-sdk calls and distributed Maps."""

from __future__ import annotations

from typing import Any

from asl_export.policies import plan_template
from engine.loader import load

HERE = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"


def _statements(states: dict[str, Any]) -> dict[str, list[Any]]:
    first = next(iter(states))
    plan = plan_template(load({"StartAt": first, "States": states}), name="Flow")
    return {s["Action"][0]: s["Resource"] for s in plan.statements}


def test_aws_sdk_task_needs_the_api_iam_action() -> None:
    statements = _statements(
        {
            "List": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                "Parameters": {"Bucket": "b"},
                "Next": "Put",
            },
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
                "Parameters": {"TableName": "t", "Item": {}},
                "Next": "Logs",
            },
            "Logs": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:cloudwatchlogs:createLogGroup",
                "Parameters": {"LogGroupName": "g"},
                "End": True,
            },
        }
    )
    assert statements == {
        "s3:ListBucket": ["*"],
        "dynamodb:PutItem": ["*"],
        "logs:CreateLogGroup": ["*"],
    }


def test_sync_start_execution_also_describes_stops_and_watches() -> None:
    child = "arn:aws:states:us-east-1:123456789012:stateMachine:Child"
    statements = _statements(
        {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child},
                "End": True,
            }
        }
    )
    rule = {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
        "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    }
    assert statements == {
        "states:StartExecution": [child],
        "states:DescribeExecution": [{"Fn::Sub": f"{HERE}:execution:*"}],
        "states:StopExecution": [{"Fn::Sub": f"{HERE}:execution:*"}],
        "events:PutTargets": [rule],
        "events:PutRule": [rule],
        "events:DescribeRule": [rule],
    }


def test_distributed_map_runs_its_own_machine_and_reads_and_writes_s3() -> None:
    statements = _statements(
        {
            "Fan": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                    "Parameters": {"Bucket": "in", "Key": "rows.csv"},
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "out", "Prefix": "runs"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        }
    )
    out = {"Fn::Sub": "arn:${AWS::Partition}:s3:::out/*"}
    assert statements == {
        "states:StartExecution": [{"Fn::Sub": f"{HERE}:stateMachine:Flow"}],
        "states:DescribeExecution": [{"Fn::Sub": f"{HERE}:execution:Flow/*"}],
        "states:StopExecution": [{"Fn::Sub": f"{HERE}:execution:Flow/*"}],
        "s3:GetObject": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::in/*"}, out],
        "s3:PutObject": [out],
        "s3:ListMultipartUploadParts": [out],
        "s3:AbortMultipartUpload": [out],
    }
