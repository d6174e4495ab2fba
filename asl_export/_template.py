"""Pieces shared by the SAM and CloudFormation templates."""

from __future__ import annotations

import json
from typing import Any, Literal

from asl_export.functions import LAMBDA_ADAPTER_HANDLER, STEP_ENVIRONMENT_VARIABLE, FunctionSpec
from asl_export.policies import QUEUE_RETENTION_SECONDS, TemplatePlan
from asl_export.render import render_json
from asl_export.yaml_text import dump_yaml

TemplateFormat = Literal["yaml", "json"]
POLICY_VERSION = "2012-10-17"


def stage_parameter(name: str) -> dict[str, Any]:
    """The ``Stage`` parameter; its length keeps ``NAME-STAGE`` within Step Functions' 80."""
    return {
        "Type": "String",
        "Default": "dev",
        "AllowedPattern": "[A-Za-z0-9_-]+",
        "MaxLength": 80 - len(name) - 1,
        "Description": "Deployment stage, appended to the state machine name",
    }


def parameters(plan: TemplatePlan, name: str, *extra: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Stage, the placeholders the template leaves to its user, then ``extra``."""
    return {"Stage": stage_parameter(name), **plan.parameters, **dict(extra)}


def queue_resources(plan: TemplatePlan) -> dict[str, Any]:
    """One ``AWS::SQS::Queue`` per queue the definition sends to by placeholder (the DLQ)."""
    return {
        queue: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": QUEUE_RETENTION_SECONDS},
        }
        for queue in plan.queues
    }


def environment(spec: FunctionSpec) -> dict[str, Any]:
    """The function's environment: the step the Lambda adapter runs, then the spec's own."""
    return {"Variables": {STEP_ENVIRONMENT_VARIABLE: spec.handler, **dict(spec.environment)}}


def function_properties(spec: FunctionSpec, timeout: int) -> dict[str, Any]:
    """Properties common to ``AWS::Serverless::Function`` and ``AWS::Lambda::Function``."""
    return {
        "Handler": LAMBDA_ADAPTER_HANDLER,
        "Runtime": spec.runtime,
        "Timeout": timeout,
        "MemorySize": spec.memory,
        "Environment": environment(spec),
    }


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """An IAM policy document holding ``statements``."""
    return {"Version": POLICY_VERSION, "Statement": statements}


def machine_name(name: str) -> dict[str, Any]:
    """The deployed state machine name, ``NAME-STAGE``."""
    return {"Fn::Sub": f"{name}-${{Stage}}"}


def machine_properties(
    plan: TemplatePlan, name: str, *, name_key: str, type_key: str
) -> dict[str, Any]:
    """The machine's name (``NAME-STAGE``), type, Definition and DefinitionSubstitutions."""
    properties: dict[str, Any] = {
        name_key: machine_name(name),
        type_key: "STANDARD",
        "Definition": plan.definition,
    }
    if plan.substitutions:
        properties["DefinitionSubstitutions"] = plan.substitutions
    return properties


def document(
    name: str,
    description: str | None,
    parameters: dict[str, Any],
    resources: dict[str, Any],
    *,
    transform: str | None = None,
) -> dict[str, Any]:
    """The whole template: format version, transform if any, description, parameters,
    resources and outputs, in that order."""
    header: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09"}
    if transform is not None:
        header["Transform"] = transform
    return {
        **header,
        "Description": description or f"State machine {name} and its steps",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": outputs(),
    }


def outputs() -> dict[str, Any]:
    """The state machine's ARN and name as stack outputs."""
    return {
        "StateMachineArn": {
            "Description": "ARN of the state machine",
            "Value": {"Ref": "StateMachine"},
        },
        "StateMachineName": {
            "Description": "Name of the state machine",
            "Value": {"Fn::GetAtt": ["StateMachine", "Name"]},
        },
    }


def dump(template: dict[str, Any], fmt: TemplateFormat) -> str:
    """Template text: YAML (block style, long-form intrinsics) or JSON."""
    if fmt == "json":
        return render_json(template)
    return dump_yaml(json.loads(json.dumps(template)))
