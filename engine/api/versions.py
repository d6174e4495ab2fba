"""State machine versions: publish, list, delete (and publishing on create or update).

A version freezes a machine's current revision (definition, role, configuration) under
``…:stateMachine:Name:N``; numbers count up per machine and are never given out again, even
after a deletion. Publishing a revision that already has a version answers that version.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.api.errors import ApiError
from engine.api.paging import page
from engine.api.registry import MachineRecord, VersionRecord
from engine.api.wire import posix

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = [
    "check_version_description",
    "delete_state_machine_version",
    "list_state_machine_versions",
    "publish",
    "publish_state_machine_version",
]


def check_version_description(params: dict[str, Any]) -> None:
    """``versionDescription`` only comes with ``publish: true`` (AWS's error otherwise)."""
    if "versionDescription" in params and not params.get("publish", False):
        raise ApiError.validation("Version description can only be set when publish is true")


def publish(
    service: StepFunctionsService, record: MachineRecord, description: str = ""
) -> VersionRecord:
    """The version of ``record``'s current revision: the existing one, else a new one."""
    for version in service.registry.machine_versions(record.name):
        if version.revision_id == record.revision_id:
            return version
    record.versions_published += 1
    service.registry.put_machine(record)
    version = VersionRecord(
        machine=record.name,
        number=record.versions_published,
        arn=service.arns.version(record.name, record.versions_published),
        definition=record.definition,
        role_arn=record.role_arn,
        type=record.type,
        revision_id=record.revision_id,
        creation_posix=time.time(),
        description=description,
        logging_configuration=dict(record.logging_configuration),
        tracing_configuration=dict(record.tracing_configuration),
        encryption_configuration=dict(record.encryption_configuration),
    )
    service.registry.put_version(version)
    return version


async def publish_state_machine_version(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """PublishStateMachineVersion: a version of the current revision (``revisionId`` checked)."""
    target = service.target(params["stateMachineArn"])
    if target.version is not None or target.alias is not None:
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {params['stateMachineArn']}")
    record = target.record
    expected = params.get("revisionId")
    if expected is not None and expected != record.revision_id:
        raise ApiError.conflict(
            f"Failed to publish the State Machine version for revision {expected}. "
            f"The current State Machine revision is {record.revision_id}."
        )
    version = publish(service, record, params.get("description", ""))
    return {
        "creationDate": posix(version.creation_posix),
        "stateMachineVersionArn": version.arn,
    }


async def list_state_machine_versions(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """ListStateMachineVersions: newest first, paged."""
    target = service.target(params["stateMachineArn"])
    if target.version is not None or target.alias is not None:
        raise ApiError.invalid_arn(f"Invalid ARN prefix: {params['stateMachineArn']}")
    versions = service.registry.machine_versions(target.record.name)
    chunk, token = page(
        versions,
        params.get("maxResults"),
        params.get("nextToken"),
        f"ListStateMachineVersions:{target.record.arn}",
    )
    out: dict[str, Any] = {
        "stateMachineVersions": [
            {"stateMachineVersionArn": v.arn, "creationDate": posix(v.creation_posix)}
            for v in chunk
        ]
    }
    if token:
        out["nextToken"] = token
    return out


async def delete_state_machine_version(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """DeleteStateMachineVersion: refused while an alias routes to it; unknown ones are fine."""
    arn = params["stateMachineVersionArn"]
    _, qualifier, _ = service.arns.parse_qualified(arn)
    if qualifier is None or not qualifier.isdigit():
        raise ApiError.validation(f"Invalid state machine version ARN: '{arn}'")
    version = service.registry.versions.get(arn)
    if version is None:
        return {}
    referencing = [
        alias.name
        for alias in service.registry.machine_aliases(version.machine)
        if any(route["stateMachineVersionArn"] == arn for route in alias.routing)
    ]
    if referencing:
        raise ApiError.conflict(
            "Version to be deleted must not be referenced by an alias. Current list of aliases "
            f"referencing this version: [{', '.join(referencing)}]"
        )
    service.registry.drop_version(arn)
    return {}
