"""The AWS SAM template that deploys a state machine with its Python steps.

Contents: the ``AWS::Serverless::StateMachine`` (definition, DefinitionSubstitutions and the
least policies its states need), one ``AWS::Serverless::Function`` per Python step running the
Lambda adapter, the queues the definition sends to by placeholder (the dead-letter queue), and
parameters for every placeholder the template cannot fill in itself. The child machines it runs
as nested executions (:class:`ChildMachine`) are resources of the same template, with theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from asl_export import _template
from asl_export.child_machines import ChildMachine
from asl_export.functions import CODE_FOLDER, FunctionSpec
from engine.model import StateMachine

__all__ = ["render_sam", "sam_template"]


def sam_template(
    machine: StateMachine,
    *,
    name: str,
    functions: Sequence[FunctionSpec] = (),
    values: Mapping[str, str] | None = None,
    description: str | None = None,
    children: Sequence[ChildMachine] = (),
) -> dict[str, Any]:
    """The SAM template as a JSON object (keys in the order they are written)."""
    plans = _template.machine_plans(machine, name, functions, values, children)
    resources: dict[str, Any] = {}
    for spec, timeout in _template.stack_functions(plans):
        properties = {"CodeUri": spec.code_uri, **_template.function_properties(spec, timeout)}
        if spec.policy_statements:
            properties["Policies"] = [
                _template.policy_document([dict(s) for s in spec.policy_statements])
            ]
        resources[spec.resource_id] = {
            "Type": "AWS::Serverless::Function",
            "Properties": properties,
        }
    resources.update(_template.queue_resources(plans))
    for planned in plans:
        plan = planned.plan
        properties = _template.machine_properties(
            plan, planned.name, name_key="Name", type_key="Type"
        )
        if plan.statements:
            properties["Policies"] = [_template.policy_document(plan.statements)]
        resources[planned.resource_id] = {
            "Type": "AWS::Serverless::StateMachine",
            "Properties": properties,
        }
    if description is None and functions:
        description = (
            f"{_template.describe(plans)}; their code folder {CODE_FOLDER}/ is written by "
            "'saga package'"
        )
    return _template.document(
        plans,
        description,
        _template.parameters(plans),
        resources,
        transform="AWS::Serverless-2016-10-31",
    )


def render_sam(
    machine: StateMachine,
    *,
    name: str,
    functions: Sequence[FunctionSpec] = (),
    values: Mapping[str, str] | None = None,
    fmt: _template.TemplateFormat = "yaml",
    children: Sequence[ChildMachine] = (),
) -> str:
    """The SAM template as YAML (default) or JSON text."""
    template = sam_template(
        machine, name=name, functions=functions, values=values, children=children
    )
    return _template.dump(template, fmt)
