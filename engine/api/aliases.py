"""State machine aliases: create, describe, update, delete, list, and routing a start.

An alias (``…:stateMachine:Name:alias``) routes StartExecution to one or two versions of its
machine by weight (summing to 100). Which version an execution gets is drawn from the alias
ARN and the execution name (:func:`route`), so the same name always takes the same version.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import TYPE_CHECKING, Any, Final

from engine.api.errors import ApiError
from engine.api.paging import page
from engine.api.registry import AliasRecord, MachineRecord
from engine.api.wire import posix

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = [
    "create_state_machine_alias",
    "delete_state_machine_alias",
    "describe_state_machine_alias",
    "list_state_machine_aliases",
    "route",
    "update_state_machine_alias",
]

_NAME_PATTERN: Final = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"


def route(alias: AliasRecord, execution_name: str) -> str:
    """The version ARN an execution named ``execution_name`` starts through ``alias``."""
    digest = hashlib.sha256(f"{alias.arn}/{execution_name}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") % 100
    for entry in alias.routing:
        weight = int(entry["weight"])
        if draw < weight:
            return str(entry["stateMachineVersionArn"])
        draw -= weight
    return str(alias.routing[-1]["stateMachineVersionArn"])


def _check_name(name: str) -> None:
    if not re.match(_NAME_PATTERN, name):
        raise ApiError.validation(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {_NAME_PATTERN}"
        )


def _check_routing(
    service: StepFunctionsService, record: MachineRecord, routing: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The routing configuration, checked as AWS checks it (versions of ``record``)."""
    arns = [str(entry["stateMachineVersionArn"]) for entry in routing]
    shown = f"[{', '.join(arns)}]"
    for arn in arns:
        _, qualifier, _ = service.arns.parse_qualified(arn)
        if qualifier is None or not qualifier.isdigit():
            raise ApiError.validation(
                f"Routing configuration must contain state machine version ARNs. Received: {shown}"
            )
    if len(set(arns)) != len(arns):
        raise ApiError.validation(
            "Routing configuration must contain distinct state machine version ARNs. "
            f"Received: {shown}"
        )
    weights = [int(entry["weight"]) for entry in routing]
    if sum(weights) != 100:
        raise ApiError.validation(
            "Sum of routing configuration weights must equal 100. "
            f"Received: [{', '.join(str(w) for w in weights)}]"
        )
    for arn in arns:
        version = service.registry.versions.get(arn)
        if version is None or version.machine != record.name:
            raise ApiError.resource_not_found()
    return [
        {"stateMachineVersionArn": arn, "weight": w} for arn, w in zip(arns, weights, strict=True)
    ]


def _alias(service: StepFunctionsService, arn: str) -> AliasRecord:
    _, qualifier, _ = service.arns.parse_qualified(arn)
    if qualifier is None or qualifier.isdigit():
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
    alias = service.registry.aliases.get(arn)
    if alias is None:
        raise ApiError.resource_not_found()
    return alias


async def create_state_machine_alias(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """CreateStateMachineAlias: idempotent for the same routing and description."""
    name = params["name"]
    _check_name(name)
    routing = params["routingConfiguration"]
    first = str(routing[0]["stateMachineVersionArn"]) if routing else ""
    machine, _, _ = service.arns.parse_qualified(first)
    record = service.registry.machines.get(machine)
    if record is None:
        raise ApiError.resource_not_found()
    checked = _check_routing(service, record, routing)
    arn = service.arns.alias(record.name, name)
    description = params.get("description", "")
    existing = service.registry.aliases.get(arn)
    if existing is not None:
        if existing.routing == checked and existing.description == description:
            return {"stateMachineAliasArn": arn, "creationDate": posix(existing.creation_posix)}
        raise ApiError.conflict(
            "Failed to create alias because an alias with the same name and a different "
            "routing configuration already exists."
        )
    now = time.time()
    alias = AliasRecord(
        machine=record.name,
        name=name,
        arn=arn,
        routing=checked,
        creation_posix=now,
        update_posix=now,
        description=description,
    )
    service.registry.put_alias(alias)
    return {"stateMachineAliasArn": arn, "creationDate": posix(now)}


async def describe_state_machine_alias(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DescribeStateMachineAlias."""
    alias = _alias(service, params["stateMachineAliasArn"])
    out: dict[str, Any] = {
        "stateMachineAliasArn": alias.arn,
        "name": alias.name,
        "routingConfiguration": [dict(entry) for entry in alias.routing],
        "creationDate": posix(alias.creation_posix),
        "updateDate": posix(alias.update_posix),
    }
    if alias.description:
        out["description"] = alias.description
    return out


async def update_state_machine_alias(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """UpdateStateMachineAlias: a new description and/or routing configuration."""
    alias = _alias(service, params["stateMachineAliasArn"])
    if "description" not in params and "routingConfiguration" not in params:
        raise ApiError.validation(
            "Either the description or the RoutingConfiguration must be specified"
        )
    if "routingConfiguration" in params:
        record = service.registry.machines[alias.machine]
        alias.routing = _check_routing(service, record, params["routingConfiguration"])
    if "description" in params:
        alias.description = params["description"]
    alias.update_posix = time.time()
    service.registry.put_alias(alias)
    return {"updateDate": posix(alias.update_posix)}


async def delete_state_machine_alias(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DeleteStateMachineAlias (an unknown alias is no error, as on AWS)."""
    arn = params["stateMachineAliasArn"]
    _, qualifier, _ = service.arns.parse_qualified(arn)
    if qualifier is None or qualifier.isdigit():
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {arn}")
    service.registry.drop_alias(arn)
    return {}


async def list_state_machine_aliases(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """ListStateMachineAliases of a machine, oldest first, paged."""
    target = service.target(params["stateMachineArn"])
    if target.alias is not None:
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {params['stateMachineArn']}")
    aliases = service.registry.machine_aliases(target.record.name)
    if target.version is not None:
        arn = target.version.arn
        aliases = [a for a in aliases if any(e["stateMachineVersionArn"] == arn for e in a.routing)]
    chunk, token = page(
        aliases,
        params.get("maxResults"),
        params.get("nextToken"),
        f"ListStateMachineAliases:{params['stateMachineArn']}",
    )
    out: dict[str, Any] = {
        "stateMachineAliases": [
            {"stateMachineAliasArn": a.arn, "creationDate": posix(a.creation_posix)} for a in chunk
        ]
    }
    if token:
        out["nextToken"] = token
    return out
