"""SAM and CloudFormation templates: resources, substitutions, least-privilege policies, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from asl_export.cloudformation import cloudformation_template, render_cloudformation
from asl_export.functions import FunctionSpec
from asl_export.policies import plan_template
from asl_export.render import ExportError, ordered_definition
from asl_export.sam import render_sam, sam_template
from asl_export.yaml_text import dump_yaml
from engine.loader import load
from engine.model import StateMachine
from tests.test_export_golden import (
    AIRLINE_FUNCTIONS,
    ORDERS_FUNCTIONS,
    airline,
    orders,
)

PARTITION_REGION_ACCOUNT = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"


def _one_task(state: dict[str, Any]) -> StateMachine:
    return load(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True, **state}}}, validate=False
    )


def _statements(machine: StateMachine, **kwargs: Any) -> list[dict[str, Any]]:
    return plan_template(machine, name="M", **kwargs).statements


def test_sam_template_resources() -> None:
    template = sam_template(orders(), name="Orders", functions=ORDERS_FUNCTIONS)
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert {k: v["Type"] for k, v in template["Resources"].items()} == {
        "ValidateOrder": "AWS::Serverless::Function",
        "ChargeCard": "AWS::Serverless::Function",
        "OrdersDLQ": "AWS::SQS::Queue",
        "StateMachine": "AWS::Serverless::StateMachine",
    }
    charge = template["Resources"]["ChargeCard"]["Properties"]
    assert charge == {
        "CodeUri": "src",
        "Handler": "saga_lambda_runtime.handler",
        "Runtime": "python3.11",
        "Timeout": 60,
        "MemorySize": 512,
        "Environment": {"Variables": {"SAGA_STEP": "shop.steps:charge_card"}},
    }
    machine = template["Resources"]["StateMachine"]["Properties"]
    assert machine["Definition"] == ordered_definition(orders())
    assert machine["DefinitionSubstitutions"] == {
        "ValidateOrder.Arn": {"Fn::GetAtt": ["ValidateOrder", "Arn"]},
        "OrdersTable": {"Ref": "OrdersTable"},
        "OrdersTopic": {"Ref": "OrdersTopic"},
        "ChargeCard.Arn": {"Fn::GetAtt": ["ChargeCard", "Arn"]},
        "OrdersDLQ": {"Ref": "OrdersDLQ"},
    }
    assert list(template["Parameters"]) == ["Stage", "OrdersTable", "OrdersTopic"]
    assert template["Resources"]["OrdersDLQ"]["Properties"] == {"MessageRetentionPeriod": 1209600}


def test_orders_state_machine_policy_is_least_privilege() -> None:
    table = {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("dynamodb", "table/${OrdersTable}")}
    assert _statements(orders(), functions=ORDERS_FUNCTIONS) == [
        {
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [
                {"Fn::GetAtt": ["ValidateOrder", "Arn"]},
                {"Fn::GetAtt": ["ChargeCard", "Arn"]},
                "arn:aws:lambda:eu-west-1:123456789012:function:pack-item",
            ],
        },
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": [table]},
        {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": [{"Ref": "OrdersTopic"}]},
        {
            "Effect": "Allow",
            "Action": ["events:PutEvents"],
            "Resource": [{"Fn::Sub": PARTITION_REGION_ACCOUNT % ("events", "event-bus/orders")}],
        },
        {"Effect": "Allow", "Action": ["dynamodb:DeleteItem"], "Resource": [table]},
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [{"Fn::GetAtt": ["OrdersDLQ", "Arn"]}],
        },
    ]


def test_airline_policy_matches_what_the_sample_grants() -> None:
    statements = _statements(airline(), functions=AIRLINE_FUNCTIONS)
    assert [s["Action"] for s in statements] == [
        ["dynamodb:UpdateItem"],
        ["lambda:InvokeFunction"],
        ["sqs:SendMessage"],
    ]
    # TableName.$ is read from the input at run time, so any table of the account is needed.
    assert statements[0]["Resource"] == [
        {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("dynamodb", "table/*")}
    ]
    # In the order the states come in the definition: forward steps, then compensations.
    assert statements[1]["Resource"] == [
        {"Fn::GetAtt": ["ReserveBooking", "Arn"]},
        {"Ref": "CollectPaymentFunction"},
        {"Fn::GetAtt": ["ConfirmBooking", "Arn"]},
        {"Fn::GetAtt": ["NotifyBooking", "Arn"]},
        {"Ref": "RefundPaymentFunction"},
        {"Fn::GetAtt": ["CancelBooking", "Arn"]},
    ]
    assert statements[2]["Resource"] == [{"Fn::GetAtt": ["BookingsDLQ", "Arn"]}]


@pytest.mark.parametrize(
    ("state", "action", "resource"),
    [
        (
            {"Resource": "arn:aws:states:::dynamodb:getItem", "Parameters": {"TableName": "t"}},
            "dynamodb:GetItem",
            {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("dynamodb", "table/t")},
        ),
        (
            {
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {"TableName": "arn:aws:dynamodb:eu-west-1:1:table/t"},
            },
            "dynamodb:UpdateItem",
            "arn:aws:dynamodb:eu-west-1:1:table/t",
        ),
        (
            {
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/111/q"},
            },
            "sqs:SendMessage",
            {"Fn::Sub": "arn:${AWS::Partition}:sqs:eu-west-1:111:q"},
        ),
        (
            {"Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {"QueueUrl.$": "$.q"}},
            "sqs:SendMessage",
            {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("sqs", "*")},
        ),
        (
            {"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}},
            "lambda:InvokeFunction",
            {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("lambda", "function:f")},
        ),
        (
            {"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName.$": "$.f"}},
            "lambda:InvokeFunction",
            {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("lambda", "function:*")},
        ),
        (
            {
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": "arn:aws:sns:x"},
            },
            "sns:Publish",
            "arn:aws:sns:x",
        ),
        (
            {"Resource": "arn:aws:states:::events:putEvents", "Parameters": {"Entries": [{}]}},
            "events:PutEvents",
            {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("events", "event-bus/default")},
        ),
        (
            {
                "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": "arn:aws:states:eu-west-1:1:stateMachine:x"},
            },
            "states:StartExecution",
            "arn:aws:states:eu-west-1:1:stateMachine:x",
        ),
    ],
)
def test_integration_policies(state: dict[str, Any], action: str, resource: Any) -> None:
    assert _statements(_one_task(state)) == [
        {"Effect": "Allow", "Action": [action], "Resource": [resource]}
    ]


def test_queue_url_parameter_becomes_an_arn_by_splitting_the_url() -> None:
    machine = _one_task(
        {"Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {"QueueUrl": "q-${Stage}"}}
    )
    assert _statements(machine)[0]["Resource"] == [
        {
            "Fn::Sub": [
                "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${QueueName}",
                {"QueueName": {"Fn::Select": [4, {"Fn::Split": ["/", {"Fn::Sub": "q-${Stage}"}]}]}},
            ]
        }
    ]


def test_user_values_become_substitutions_and_policies() -> None:
    machine = _one_task(
        {
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "${Table}"},
        }
    )
    plan = plan_template(machine, name="M", values={"Table": "orders-${Stage}"})
    assert plan.substitutions == {"Table": {"Fn::Sub": "orders-${Stage}"}}
    assert plan.parameters == {}
    assert plan.statements[0]["Resource"] == [
        {"Fn::Sub": PARTITION_REGION_ACCOUNT % ("dynamodb", "table/orders-${Stage}")}
    ]


def test_activity_tasks_need_no_policy() -> None:
    machine = _one_task({"Resource": "arn:aws:states:eu-west-1:1:activity:review"})
    assert _statements(machine) == []


def test_cloudformation_template_resources_and_roles() -> None:
    template = cloudformation_template(orders(), name="Orders", functions=ORDERS_FUNCTIONS)
    assert "Transform" not in template
    assert {k: v["Type"] for k, v in template["Resources"].items()} == {
        "ValidateOrderRole": "AWS::IAM::Role",
        "ValidateOrder": "AWS::Lambda::Function",
        "ChargeCardRole": "AWS::IAM::Role",
        "ChargeCard": "AWS::Lambda::Function",
        "OrdersDLQ": "AWS::SQS::Queue",
        "StateMachineRole": "AWS::IAM::Role",
        "StateMachine": "AWS::StepFunctions::StateMachine",
    }
    role = template["Resources"]["StateMachineRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "states.amazonaws.com"
    }
    assert role["Policies"][0]["PolicyDocument"]["Statement"] == _statements(
        orders(), functions=ORDERS_FUNCTIONS
    )
    function = template["Resources"]["ValidateOrder"]["Properties"]
    assert function["Code"] == {"S3Bucket": {"Ref": "CodeS3Bucket"}, "S3Key": {"Ref": "CodeS3Key"}}
    assert function["Role"] == {"Fn::GetAtt": ["ValidateOrderRole", "Arn"]}
    assert list(template["Parameters"]) == [
        "Stage",
        "OrdersTable",
        "OrdersTopic",
        "CodeS3Bucket",
        "CodeS3Key",
    ]


def test_function_policy_statements_go_to_the_function() -> None:
    statement = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
    spec = FunctionSpec("Fn.Arn", "m:f", policy_statements=(statement,))
    machine = _one_task({"Resource": "${Fn.Arn}"})
    sam = sam_template(machine, name="M", functions=[spec])
    assert sam["Resources"]["Fn"]["Properties"]["Policies"] == [
        {"Version": "2012-10-17", "Statement": [statement]}
    ]
    cfn = cloudformation_template(machine, name="M", functions=[spec])
    policies = cfn["Resources"]["FnRole"]["Properties"]["Policies"]
    assert policies == [
        {
            "PolicyName": "StepPolicy",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        }
    ]


def test_function_timeout_follows_the_longest_task_timeout() -> None:
    machine = _one_task({"Resource": "${Fn.Arn}", "TimeoutSeconds": 120})
    template = sam_template(machine, name="M", functions=[FunctionSpec("Fn.Arn", "m:f")])
    assert template["Resources"]["Fn"]["Properties"]["Timeout"] == 120


@pytest.mark.parametrize(
    ("machine", "kwargs", "message"),
    [
        (
            _one_task({"Resource": "${Reserve.Arn}"}),
            {},
            "state 'T': ${Reserve.Arn} names nothing the template can create; add a FunctionSpec "
            "with placeholder 'Reserve.Arn' (a Python step) or a value for it in the substitutions",
        ),
        (
            _one_task({"Resource": "arn:aws:states:::glue:startJobRun"}),
            {},
            "state 'T': no policy is known for Resource 'arn:aws:states:::glue:startJobRun'; use a "
            "Lambda function (a FunctionSpec or ${Placeholder}) or a DynamoDB item, SQS "
            "sendMessage, SNS publish, EventBridge putEvents or Step Functions startExecution "
            "integration",
        ),
        (
            _one_task({"Resource": "reserve_booking"}),
            {},
            "state 'T': no policy is known for Resource 'reserve_booking'",
        ),
        (
            _one_task({"Resource": "${Fn}"}),
            {"name": "bad name"},
            "state machine name 'bad name' is not accepted by Step Functions",
        ),
        (
            _one_task({"Resource": "${Fn}"}),
            {"functions": [FunctionSpec("Fn", "not a path")]},
            "function for ${Fn}: handler 'not a path' is not an import path 'module:attribute'",
        ),
        (
            _one_task({"Resource": "${Fn}"}),
            {"functions": [FunctionSpec("Fn.Arn", "m:f", logical_id="Other")]},
            "function for ${Fn.Arn}: the placeholder must be 'Other' or 'Other.Arn'",
        ),
        (
            _one_task({"Resource": "${Fn}"}),
            {"functions": [FunctionSpec("Fn", "m:f", memory=64)]},
            "function for ${Fn}: memory 64 is outside Lambda's 128-10240 MB",
        ),
        (
            _one_task({"Resource": "${StateMachine}"}),
            {},
            "state machine 'M': parameter ${StateMachine} and the template itself both need the "
            "logical id 'StateMachine'",
        ),
        (
            load({"StartAt": "x" * 81, "States": {"x" * 81: {"Type": "Succeed"}}}, validate=False),
            {},
            "state 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'...: the name has 81 characters; "
            "Step Functions allows at most 80",
        ),
    ],
)
def test_undeployable_input_names_the_state_and_the_fix(
    machine: StateMachine, kwargs: dict[str, Any], message: str
) -> None:
    arguments = {"name": "M", **kwargs}
    with pytest.raises(ExportError) as caught:
        sam_template(machine, **arguments)
    assert str(caught.value).startswith(message)


def test_yaml_and_json_templates_hold_the_same_document() -> None:
    template = cloudformation_template(
        airline(), name="ProcessBooking", functions=AIRLINE_FUNCTIONS
    )
    as_yaml = render_cloudformation(airline(), name="ProcessBooking", functions=AIRLINE_FUNCTIONS)
    as_json = render_cloudformation(
        airline(), name="ProcessBooking", functions=AIRLINE_FUNCTIONS, fmt="json"
    )
    assert yaml.safe_load(as_yaml) == template == json.loads(as_json)
    sam = render_sam(airline(), name="ProcessBooking", functions=AIRLINE_FUNCTIONS)
    assert yaml.safe_load(sam) == sam_template(
        airline(), name="ProcessBooking", functions=AIRLINE_FUNCTIONS
    )


_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
)
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_documents = st.recursive(
    _scalars | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_documents)
def test_yaml_writer_round_trips_through_a_yaml_parser(document: Any) -> None:
    assert yaml.safe_load(dump_yaml(document)) == document


def test_yaml_writer_keeps_floats_floats() -> None:
    values = [1e16, 1e-07, 2.0, -0.0, 1.5e300, 10**20, True]
    assert dump_yaml(values) == (
        "- 1.0e+16\n- 1.0e-07\n- 2.0\n- -0.0\n- 1.5e+300\n- 100000000000000000000\n- true\n"
    )
    assert yaml.safe_load(dump_yaml(values)) == values


def test_yaml_writer_quotes_what_yaml_would_misread() -> None:
    assert dump_yaml({"a": ["yes", "2010-09-09", "x: y", "plain", "", "#c", "1.5"]}) == (
        'a:\n  - "yes"\n  - "2010-09-09"\n  - "x: y"\n  - plain\n  - ""\n  - "#c"\n  - "1.5"\n'
    )
