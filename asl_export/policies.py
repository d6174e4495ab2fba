"""What a definition needs from its template: placeholder values and least-privilege policies.

Each ``${Name}`` becomes a Lambda function's ARN (a :class:`FunctionSpec`), a queue the template
creates (an SQS ``QueueUrl``), a value the user gave, or a template parameter. The state
machine role is granted exactly the actions its Task states call, on the resources they name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asl_export.functions import FunctionSpec
from asl_export.policy_extras import aws_sdk_action, distributed_map_needs, sync_start_needs
from asl_export.render import (
    PLACEHOLDER,
    ExportError,
    ordered_definition,
    placeholders,
    walk_states,
)
from engine.lambda_shapes import deployed_timeout
from engine.model import StateMachine
from engine.names import CONTROL_CHARACTERS, MAX_NAME_LENGTH, is_valid_name

__all__ = ["TemplatePlan", "check_names", "cfn_value", "plan_template"]

_PARTITION = "${AWS::Partition}"
_HERE = "${AWS::Region}:${AWS::AccountId}"
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9]{1,255}")
_INTEGRATION = re.compile(
    r"arn:(?:aws[a-z-]*|\$\{AWS::Partition\}):states:::"
    r"(?P<service>(?:aws-sdk:)?[\w-]+):(?P<api>\w+)"
    r"(?P<suffix>\.sync(?::2)?|\.waitForTaskToken)?"
)
_LAMBDA_ARN = re.compile(r"arn:[^:]+:lambda:[^:]*:[^:]*:function:.+")
_ACTIVITY_ARN = re.compile(r"arn:[^:]+:states:[^:]*:[^:]*:activity:.+")
_DYNAMODB_ACTIONS = {
    "getItem": "dynamodb:GetItem",
    "putItem": "dynamodb:PutItem",
    "updateItem": "dynamodb:UpdateItem",
    "deleteItem": "dynamodb:DeleteItem",
}
QUEUE_RETENTION_SECONDS = 1_209_600
"""How long the created (dead-letter) queues keep a message: 14 days, SQS's maximum."""


@dataclass(frozen=True)
class _Binding:
    kind: str
    expr: str


@dataclass(frozen=True)
class TemplatePlan:
    """Everything a template needs besides its own boilerplate."""

    definition: dict[str, Any]
    substitutions: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    queues: tuple[str, ...]
    functions: tuple[tuple[FunctionSpec, int], ...]
    statements: list[dict[str, Any]]


def cfn_value(expr: str) -> Any:
    """The CloudFormation value of ``Fn::Sub`` text: literal, Ref, Fn::GetAtt or Fn::Sub."""
    if "${" not in expr:
        return expr
    attribute = re.fullmatch(r"\$\{(\w+)\.(\w+)\}", expr)
    if attribute:
        return {"Fn::GetAtt": [attribute.group(1), attribute.group(2)]}
    reference = re.fullmatch(r"\$\{([\w:]+)\}", expr)
    if reference:
        return {"Ref": reference.group(1)}
    return {"Fn::Sub": expr}


def check_names(machine: StateMachine, name: str) -> None:
    """Raise :class:`ExportError` for a state machine or state name Step Functions would reject."""
    if not is_valid_name(name):
        raise ExportError(
            f"state machine name {name!r} is not accepted by Step Functions: use 1-80 "
            'characters without spaces, brackets, wildcards or any of " # % \\ ^ | ~ ` $ & , ; : /'
        )
    for state_name, _ in walk_states(ordered_definition(machine)["States"]):
        if len(state_name) > MAX_NAME_LENGTH:
            raise ExportError(
                f"state {state_name[:40]!r}...: the name has {len(state_name)} characters; "
                f"Step Functions allows at most {MAX_NAME_LENGTH}"
            )
        if CONTROL_CHARACTERS.search(state_name):
            raise ExportError(f"state {state_name!r}: remove the control characters from its name")


def _tasks(document: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for state_name, state in walk_states(document["States"]):
        if state["Type"] == "Task":
            yield state_name, state


def _payload(state: Mapping[str, Any]) -> dict[str, Any]:
    payload = state.get("Parameters", state.get("Arguments"))
    return payload if isinstance(payload, dict) else {}


def _queue_placeholders(document: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for _, state in _tasks(document):
        match = _INTEGRATION.fullmatch(state["Resource"])
        if match and (match["service"], match["api"]) == ("sqs", "sendMessage"):
            url = _payload(state).get("QueueUrl")
            whole = PLACEHOLDER.fullmatch(url) if isinstance(url, str) else None
            if whole:
                found.add(whole.group(1))
    return found


def _check_value(placeholder: str, value: str) -> None:
    allowed = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "Stage"}
    for match in PLACEHOLDER.finditer(value):
        if match.group(1) not in allowed:
            raise ExportError(
                f"the value of ${{{placeholder}}} uses ${{{match.group(1)}}}; a value may use only "
                "${AWS::AccountId}, ${AWS::Region}, ${AWS::Partition}, ${AWS::URLSuffix}, ${Stage}"
            )


def _bindings(
    machine: StateMachine,
    document: Mapping[str, Any],
    functions: Mapping[str, FunctionSpec],
    values: Mapping[str, str],
    machines: Mapping[str, str],
) -> dict[str, _Binding]:
    queues = _queue_placeholders(document)
    bindings: dict[str, _Binding] = {}
    for name, users in placeholders(machine).items():
        if name == "Stage":
            bindings[name] = _Binding("stage", "${Stage}")
        elif name in values:
            _check_value(name, values[name])
            bindings[name] = _Binding("value", values[name])
        elif name in functions:
            bindings[name] = _Binding("function", f"${{{functions[name].resource_id}.Arn}}")
        elif name in machines:
            bindings[name] = _Binding("machine", f"${{{machines[name]}}}")
        elif _PARAMETER_NAME.fullmatch(name):
            bindings[name] = _Binding("queue" if name in queues else "parameter", f"${{{name}}}")
        else:
            raise ExportError(
                f"state {users[0]!r}: ${{{name}}} names nothing the template can create; add a "
                f"FunctionSpec with placeholder {name!r} (a Python step) or a value for it in "
                "the substitutions"
            )
    return bindings


class _Needs:
    """Actions and resources, grouped by action in first-use order, without duplicates."""

    def __init__(self) -> None:
        self.by_action: dict[str, list[Any]] = {}
        self._seen: set[tuple[str, str]] = set()

    def add(self, action: str, resource: Any) -> None:
        key = (action, json.dumps(resource, sort_keys=True))
        if key not in self._seen:
            self._seen.add(key)
            self.by_action.setdefault(action, []).append(resource)

    def statements(self) -> list[dict[str, Any]]:
        return [
            {"Effect": "Allow", "Action": [action], "Resource": resources}
            for action, resources in self.by_action.items()
        ]


class _Resolver:
    def __init__(self, bindings: Mapping[str, _Binding]) -> None:
        self.bindings = bindings

    def expr(self, text: str) -> str:
        """Fn::Sub text for a definition string: its placeholders replaced by what they mean."""
        return PLACEHOLDER.sub(lambda m: self.bindings[m.group(1)].expr, text)

    def literal(self, payload: Mapping[str, Any], key: str) -> str | None:
        """The Fn::Sub text of a literal payload field, None when it is set at run time."""
        value = payload.get(key)
        if isinstance(value, str) and not value.startswith("{%"):
            return self.expr(value)
        return None

    def whole(self, text: str) -> _Binding | None:
        match = PLACEHOLDER.fullmatch(text)
        return self.bindings[match.group(1)] if match else None


def _arn(service: str, rest: str) -> Any:
    return cfn_value(f"arn:{_PARTITION}:{service}:{_HERE}:{rest}")


def _lambda_resource(name: str | None) -> Any:
    if name is None:
        return _arn("lambda", "function:*")
    if name.startswith("arn:") or re.fullmatch(r"\$\{[^}]+\}", name):
        return cfn_value(name)
    return _arn("lambda", f"function:{name}")


def _queue_resource(resolver: _Resolver, url: str | None, raw: Any) -> Any:
    binding = resolver.whole(raw) if isinstance(raw, str) else None
    if binding is not None and binding.kind == "queue":
        return {"Fn::GetAtt": [binding.expr[2:-1], "Arn"]}
    if url is None:
        return _arn("sqs", "*")
    if "${" not in url:
        parts = url.rstrip("/").split("/")
        region = re.search(r"sqs\.([a-z0-9-]+)\.", url)
        if len(parts) >= 2 and region:
            return cfn_value(f"arn:{_PARTITION}:sqs:{region.group(1)}:{parts[-2]}:{parts[-1]}")
    return {
        "Fn::Sub": [
            f"arn:{_PARTITION}:sqs:{_HERE}:${{QueueName}}",
            {"QueueName": {"Fn::Select": [4, {"Fn::Split": ["/", cfn_value(url)]}]}},
        ]
    }


def _event_buses(resolver: _Resolver, payload: Mapping[str, Any]) -> list[Any]:
    entries = payload.get("Entries")
    if not isinstance(entries, list):
        return [_arn("events", "event-bus/*")]
    buses: list[Any] = []
    for entry in entries:
        if not isinstance(entry, dict):
            buses.append(_arn("events", "event-bus/*"))
            continue
        if "EventBusName.$" in entry:
            buses.append(_arn("events", "event-bus/*"))
            continue
        name = resolver.literal(entry, "EventBusName") or "default"
        buses.append(
            cfn_value(name) if name.startswith("arn:") else _arn("events", f"event-bus/{name}")
        )
    return buses or [_arn("events", "event-bus/default")]


def _task_needs(
    state_name: str, state: Mapping[str, Any], resolver: _Resolver, needs: _Needs
) -> None:
    resource: str = state["Resource"]
    payload = _payload(state)
    binding = resolver.whole(resource)
    if binding is not None:
        needs.add("lambda:InvokeFunction", cfn_value(binding.expr))
        return
    if _LAMBDA_ARN.fullmatch(resource):
        needs.add("lambda:InvokeFunction", cfn_value(resolver.expr(resource)))
        return
    if _ACTIVITY_ARN.fullmatch(resource):
        return
    match = _INTEGRATION.fullmatch(resource)
    service, api, suffix = (
        (match["service"], match["api"], match["suffix"]) if match else ("", "", None)
    )
    if service == "lambda" and api == "invoke" and suffix != ".sync":
        needs.add(
            "lambda:InvokeFunction",
            _lambda_resource(resolver.literal(payload, "FunctionName")),
        )
    elif service == "dynamodb" and api in _DYNAMODB_ACTIONS and suffix is None:
        table = resolver.literal(payload, "TableName")
        arn = (
            cfn_value(table)
            if table and table.startswith("arn:")
            else _arn("dynamodb", f"table/{table if table else '*'}")
        )
        needs.add(_DYNAMODB_ACTIONS[api], arn)
    elif service == "sqs" and api == "sendMessage" and suffix != ".sync":
        needs.add(
            "sqs:SendMessage",
            _queue_resource(
                resolver, resolver.literal(payload, "QueueUrl"), payload.get("QueueUrl")
            ),
        )
    elif service == "sns" and api == "publish" and suffix != ".sync":
        topic = resolver.literal(payload, "TopicArn") or resolver.literal(payload, "TargetArn")
        needs.add("sns:Publish", cfn_value(topic) if topic else _arn("sns", "*"))
    elif service == "events" and api == "putEvents" and suffix != ".sync":
        for bus in _event_buses(resolver, payload):
            needs.add("events:PutEvents", bus)
    elif service == "states" and api == "startExecution":
        machine_arn = resolver.literal(payload, "StateMachineArn")
        needs.add(
            "states:StartExecution",
            cfn_value(machine_arn) if machine_arn else _arn("states", "stateMachine:*"),
        )
        if suffix in (".sync", ".sync:2"):
            raw = payload.get("StateMachineArn")
            child = resolver.whole(raw) if isinstance(raw, str) else None
            executions = (
                _arn("states", f"execution:${{{child.expr[2:-1]}.Name}}:*")
                if child is not None and child.kind == "machine"
                else None
            )
            sync_start_needs(needs.add, _arn, executions)
    elif service.startswith("aws-sdk:") and aws_sdk_action(resource) is not None:
        needs.add(str(aws_sdk_action(resource)), "*")
    else:
        raise ExportError(
            f"state {state_name!r}: no policy is known for Resource {resource!r}; use a Lambda "
            "function (a FunctionSpec or ${Placeholder}) or a DynamoDB item, SQS sendMessage, "
            "SNS publish, EventBridge putEvents or Step Functions startExecution integration"
        )


def _timeouts(document: Mapping[str, Any], functions: Mapping[str, FunctionSpec]) -> dict[str, int]:
    longest: dict[str, int] = {}
    for _, state in _tasks(document):
        match = PLACEHOLDER.fullmatch(state["Resource"])
        timeout = state.get("TimeoutSeconds")
        if match and match.group(1) in functions and isinstance(timeout, int):
            longest[match.group(1)] = max(longest.get(match.group(1), 0), timeout)
    return longest


def plan_template(
    machine: StateMachine,
    *,
    name: str,
    functions: Sequence[FunctionSpec] = (),
    values: Mapping[str, str] | None = None,
    machines: Mapping[str, str] | None = None,
) -> TemplatePlan:
    """Work out substitutions, parameters, queues, functions and the role's policy statements.

    ``machines`` maps a placeholder to the logical id of a state machine in the same template
    (a child run as a nested execution): the placeholder becomes its ``Ref`` (the ARN).
    """
    check_names(machine, name)
    by_placeholder: dict[str, FunctionSpec] = {}
    for spec in functions:
        spec.check()
        if spec.placeholder in by_placeholder:
            raise ExportError(f"two FunctionSpecs use the placeholder ${{{spec.placeholder}}}")
        by_placeholder[spec.placeholder] = spec
    document = ordered_definition(machine)
    bindings = _bindings(machine, document, by_placeholder, values or {}, machines or {})
    resolver = _Resolver(bindings)
    needs = _Needs()
    for state_name, state in _tasks(document):
        _task_needs(state_name, state, resolver, needs)
    for _, state in walk_states(document["States"]):
        processor = state.get("ItemProcessor")
        config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
        if isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED":
            distributed_map_needs(state, name, needs.add, _arn)
    parameters = {
        placeholder: {
            "Type": "String",
            "Description": f"Value of the {placeholder} placeholder in the definition",
        }
        for placeholder, binding in bindings.items()
        if binding.kind == "parameter"
    }
    queues = tuple(p for p, binding in bindings.items() if binding.kind == "queue")
    timeouts = _timeouts(document, by_placeholder)
    planned = tuple(
        (spec, spec.timeout or deployed_timeout(timeouts.get(spec.placeholder)))
        for spec in functions
    )
    _check_ids(name, planned, queues, parameters)
    return TemplatePlan(
        definition=document,
        substitutions={p: cfn_value(b.expr) for p, b in bindings.items()},
        parameters=parameters,
        queues=queues,
        functions=planned,
        statements=needs.statements(),
    )


_RESERVED_IDS = ("StateMachine", "StateMachineRole", "Stage", "CodeS3Bucket", "CodeS3Key")


def _check_ids(
    name: str,
    functions: Sequence[tuple[FunctionSpec, int]],
    queues: Sequence[str],
    parameters: Mapping[str, Any],
) -> None:
    seen: dict[str, str] = {reserved: "the template itself" for reserved in _RESERVED_IDS}
    claims = [(spec.resource_id, f"function ${{{spec.placeholder}}}") for spec, _ in functions]
    claims += [
        (f"{spec.resource_id}Role", f"function ${{{spec.placeholder}}}") for spec, _ in functions
    ]
    claims += [(queue, f"queue ${{{queue}}}") for queue in queues]
    claims += [(parameter, f"parameter ${{{parameter}}}") for parameter in parameters]
    for logical_id, owner in claims:
        if logical_id in seen:
            raise ExportError(
                f"state machine {name!r}: {owner} and {seen[logical_id]} both need the logical id "
                f"{logical_id!r}; rename one of the placeholders"
            )
        seen[logical_id] = owner
