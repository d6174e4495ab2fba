"""The plain CloudFormation template (no transform) that deploys a state machine and its steps.

Contents: an ``AWS::StepFunctions::StateMachine`` with its definition and DefinitionSubstitutions,
its ``AWS::IAM::Role`` with one inline least-privilege policy, per Python step an
``AWS::Lambda::Function`` (code from the ``CodeS3Bucket``/``CodeS3Key`` parameters) and its role,
and the queues the definition sends to by placeholder (the dead-letter queue). The child machines
it runs as nested executions (:class:`ChildMachine`) are resources of the same template, each
with its role and functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from asl_export import _template
from asl_export.child_machines import ChildMachine
from asl_export.functions import FunctionSpec
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
    children: Sequence[ChildMachine] = (),
) -> dict[str, Any]:
    """The CloudFormation template as a JSON object (keys in the order they are written)."""
    plans = _template.machine_plans(machine, name, functions, values, children)
    functions_planned = _template.stack_functions(plans)
    resources: dict[str, Any] = {}
    for spec, timeout in functions_planned:
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
    resources.update(_template.queue_resources(plans))
    for planned in plans:
        resources[planned.role_id] = _role(
            "states.amazonaws.com", "StateMachinePolicy", planned.plan.statements
        )
        properties = _template.machine_properties(
            planned.plan, planned.name, name_key="StateMachineName", type_key="StateMachineType"
        )
        properties["RoleArn"] = {"Fn::GetAtt": [planned.role_id, "Arn"]}
        resources[planned.resource_id] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": properties,
        }
    code: list[tuple[str, dict[str, Any]]] = []
    if functions_planned:
        code = [
            ("CodeS3Bucket", {"Type": "String", "Description": "S3 bucket of the code package"}),
            ("CodeS3Key", {"Type": "String", "Description": "S3 key of the code package (zip)"}),
        ]
    return _template.document(plans, description, _template.parameters(plans, *code), resources)


def render_cloudformation(
    machine: StateMachine,
    *,
    name: str,
    functions: Sequence[FunctionSpec] = (),
    values: Mapping[str, str] | None = None,
    fmt: _template.TemplateFormat = "yaml",
    children: Sequence[ChildMachine] = (),
) -> str:
    """The CloudFormation template as YAML (default) or JSON text."""
    template = cloudformation_template(
        machine, name=name, functions=functions, values=values, children=children
    )
    return _template.dump(template, fmt)
