"""The plain CloudFormation template (no transform) that deploys a state machine and its steps.

Contents: an ``AWS::StepFunctions::StateMachine`` with its definition and DefinitionSubstitutions,
its ``AWS::IAM::Role`` with one inline least-privilege policy, per Python step an
``AWS::Lambda::Function`` (code from the ``CodeS3Bucket``/``CodeS3Key`` parameters) and its role,
and the queues the definition sends to by placeholder (the dead-letter queue).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from asl_export import _template
from asl_export.functions import FunctionSpec
from asl_export.policies import plan_template
from engine.model import StateMachine

__all__ = ["cloudformation_template", "render_cloudformation"]

_LAMBDA_BASIC_EXECUTION = (
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
)


def _role(service: str, policy_name: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "AssumeRolePolicyDocument": _template.policy_document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ]
        ),
    }
    if service == "lambda.amazonaws.com":
        properties["ManagedPolicyArns"] = [{"Fn::Sub": _LAMBDA_BASIC_EXECUTION}]
    if statements:
        properties["Policies"] = [
            {"PolicyName": policy_name, "PolicyDocument": _template.policy_document(statements)}
        ]
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def cloudformation_template(
    machine: StateMachine,
    *,
    name: str,
    functions: Sequence[FunctionSpec] = (),
    values: Mapping[str, str] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The CloudFormation template as a JSON object (keys in the order they are written)."""
    plan = plan_template(machine, name=name, functions=functions, values=values)
    resources: dict[str, Any] = {}
    for spec, timeout in plan.functions:
        role_id = f"{spec.resource_id}Role"
        resources[role_id] = _role(
            "lambda.amazonaws.com", "StepPolicy", [dict(s) for s in spec.policy_statements]
        )
        resources[spec.resource_id] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {"S3Bucket": {"Ref": "CodeS3Bucket"}, "S3Key": {"Ref": "CodeS3Key"}},
                "Role": {"Fn::GetAtt": [role_id, "Arn"]},
                **_template.function_properties(spec, timeout),
            },
        }
    resources.update(_template.queue_resources(plan))
    resources["StateMachineRole"] = _role(
        "states.amazonaws.com", "StateMachinePolicy", plan.statements
    )
    machine_properties = _template.machine_properties(
        plan, name, name_key="StateMachineName", type_key="StateMachineType"
    )
    machine_properties["RoleArn"] = {"Fn::GetAtt": ["StateMachineRole", "Arn"]}
    resources["StateMachine"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": machine_properties,
    }
    code: list[tuple[str, dict[str, Any]]] = []
    if plan.functions:
        code = [
            ("CodeS3Bucket", {"Type": "String", "Description": "S3 bucket of the code package"}),
            ("CodeS3Key", {"Type": "String", "Description": "S3 key of the code package (zip)"}),
        ]
    return _template.document(name, description, _template.parameters(plan, name, *code), resources)


def render_cloudformation(
    machine: StateMachine,
    *,
    name: str,
    functions: Sequence[FunctionSpec] = (),
    values: Mapping[str, str] | None = None,
    fmt: _template.TemplateFormat = "yaml",
) -> str:
    """The CloudFormation template as YAML (default) or JSON text."""
    template = cloudformation_template(machine, name=name, functions=functions, values=values)
    return _template.dump(template, fmt)
