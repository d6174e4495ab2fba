"""Pieces shared by the SAM and CloudFormation templates."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from asl_export.child_machines import ChildMachine, check_children
from asl_export.functions import LAMBDA_ADAPTER_HANDLER, STEP_ENVIRONMENT_VARIABLE, FunctionSpec
from asl_export.policies import QUEUE_RETENTION_SECONDS, TemplatePlan, plan_template
from asl_export.render import ExportError, render_json
from asl_export.yaml_text import dump_yaml
from engine.model import StateMachine
from engine.names import MAX_NAME_LENGTH

TemplateFormat = Literal["yaml", "json"]
POLICY_VERSION = "2012-10-17"


@dataclass(frozen=True)
class MachinePlan:
    """One state machine of a template: its logical ids, its name and its plan."""

    resource_id: str
    role_id: str
    name: str
    plan: TemplatePlan


def machine_plans(
    machine: StateMachine,
    name: str,
    functions: Sequence[FunctionSpec],
    values: Mapping[str, str] | None,
    children: Sequence[ChildMachine],
) -> list[MachinePlan]:
    """The plan of the machine, then of each child, each child's ARN bound to its ``Ref``."""
    check_children(children)
    machines = {child.placeholder: child.resource_id for child in children}
    plans = [
        MachinePlan(
            "StateMachine",
            "StateMachineRole",
            name,
            plan_template(
                machine, name=name, functions=functions, values=values, machines=machines
            ),
        )
    ]
    for child in children:
        if child.name == name:
            raise ExportError(
                f"child state machine {child.name!r} has the name of its parent; rename one"
            )
        plan = plan_template(
            child.machine,
            name=child.name,
            functions=child.functions,
            values=values,
            machines=machines,
        )
        plans.append(MachinePlan(child.resource_id, child.role_id, child.name, plan))
    _check_ids(plans)
    return plans


def stack_functions(plans: Sequence[MachinePlan]) -> list[tuple[FunctionSpec, int]]:
    """Every machine's Python steps, each function once (its longest timeout)."""
    found: dict[str, tuple[FunctionSpec, int]] = {}
    for machine in plans:
        for spec, timeout in machine.plan.functions:
            known = found.get(spec.resource_id)
            if known is not None and known[0] != spec:
                raise ExportError(
                    f"state machine {machine.name!r}: function {spec.resource_id!r} "
                    f"({spec.handler}) differs from another machine's {known[0].handler}; "
                    "give the steps different names"
                )
            found[spec.resource_id] = (spec, max(timeout, known[1] if known else 0))
    return list(found.values())


def _check_ids(plans: Sequence[MachinePlan]) -> None:
    seen: dict[str, str] = {"Stage": "the template itself"}
    for machine in plans:
        owner = f"state machine {machine.name!r}"
        claims = [(machine.resource_id, owner), (machine.role_id, owner)]
        claims += [(queue, f"queue ${{{queue}}}") for queue in machine.plan.queues]
        claims += [(p, f"parameter ${{{p}}}") for p in machine.plan.parameters]
        for spec, _ in machine.plan.functions:
            claims += [(spec.resource_id, f"function {spec.resource_id}")]
            claims += [(f"{spec.resource_id}Role", f"function {spec.resource_id}")]
        for logical_id, claimant in claims:
            if seen.get(logical_id, claimant) != claimant:
                raise ExportError(
                    f"{claimant} and {seen[logical_id]} both need the logical id "
                    f"{logical_id!r}; rename one"
                )
            seen[logical_id] = claimant


def stage_parameter(names: Sequence[str]) -> dict[str, Any]:
    """The ``Stage`` parameter; its length keeps every ``NAME-STAGE`` within Step Functions' 80."""
    return {
        "Type": "String",
        "Default": "dev",
        "AllowedPattern": "[A-Za-z0-9_-]+",
        "MaxLength": MAX_NAME_LENGTH - max(len(name) for name in names) - 1,
        "Description": "Deployment stage, appended to the state machine name",
    }


def parameters(plans: Sequence[MachinePlan], *extra: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Stage, the placeholders the template leaves to its user, then ``extra``."""
    found: dict[str, Any] = {"Stage": stage_parameter([m.name for m in plans])}
    for machine in plans:
        found.update(machine.plan.parameters)
    return {**found, **dict(extra)}


def queue_resources(plans: Sequence[MachinePlan]) -> dict[str, Any]:
    """One ``AWS::SQS::Queue`` per queue a definition sends to by placeholder (the DLQ)."""
    return {
        queue: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": QUEUE_RETENTION_SECONDS},
        }
        for machine in plans
        for queue in machine.plan.queues
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
    plans: Sequence[MachinePlan],
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
        "Description": description or describe(plans),
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": outputs(plans),
    }


def describe(plans: Sequence[MachinePlan]) -> str:
    """The template's default description: its machines and their steps."""
    if len(plans) == 1:
        return f"State machine {plans[0].name} and its steps"
    children = ", ".join(m.name for m in plans[1:])
    return f"State machine {plans[0].name}, the machines it starts ({children}) and their steps"


def outputs(plans: Sequence[MachinePlan]) -> dict[str, Any]:
    """The state machine's ARN and name as stack outputs, then each child's ARN."""
    children = {
        f"{child.resource_id}Arn": {
            "Description": f"ARN of the state machine {child.name}",
            "Value": {"Ref": child.resource_id},
        }
        for child in plans[1:]
    }
    return {
        "StateMachineArn": {
            "Description": "ARN of the state machine",
            "Value": {"Ref": "StateMachine"},
        },
        "StateMachineName": {
            "Description": "Name of the state machine",
            "Value": {"Fn::GetAtt": ["StateMachine", "Name"]},
        },
        **children,
    }


def dump(template: dict[str, Any], fmt: TemplateFormat) -> str:
    """Template text: YAML (block style, long-form intrinsics) or JSON."""
    if fmt == "json":
        return render_json(template)
    return dump_yaml(json.loads(json.dumps(template)))
