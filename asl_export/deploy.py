"""Create or update a state machine through boto3 (AWS, LocalStack, moto, Step Functions Local).

Every failure is a :class:`DeployError` whose message is one line with AWS's error code.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asl_export.child_machines import ChildMachine
from asl_export.policies import check_names
from asl_export.render import UnresolvedPlaceholderError, placeholders, render
from engine.model import StateMachine

__all__ = [
    "DEFAULT_LOCAL_ROLE_ARN",
    "DeployError",
    "DeployResult",
    "deploy",
    "deploy_order",
    "is_local_target",
]

DEFAULT_LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/DummyRole"
"""The role used for local targets when none is given; emulators accept any well-formed ARN."""

_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL")


class DeployError(Exception):
    """Creating or updating the state machine failed; the message is one readable line."""


@dataclass(frozen=True)
class DeployResult:
    """What :func:`deploy` did: the machine's ARN and whether it was created or updated."""

    name: str
    arn: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``saga deploy`` prints."""
        return {
            "name": self.name,
            "stateMachineArn": self.arn,
            "action": "created" if self.created else "updated",
        }


def deploy_order(children: Sequence[ChildMachine]) -> list[ChildMachine]:
    """``children`` in an order to deploy them: each after the children its definition starts
    (their ARNs fill its placeholders), otherwise as given."""
    by_placeholder = {child.placeholder: child for child in children}
    ordered: list[ChildMachine] = []
    placed: set[str] = set()

    def place(child: ChildMachine, path: tuple[str, ...]) -> None:
        if child.placeholder in placed:
            return
        if child.placeholder in path:
            cycle = " -> ".join(by_placeholder[p].name for p in (*path, child.placeholder))
            raise DeployError(f"the child state machines start each other: {cycle}")
        for used in placeholders(child.machine):
            if used in by_placeholder:
                place(by_placeholder[used], (*path, child.placeholder))
        placed.add(child.placeholder)
        ordered.append(child)

    for child in children:
        place(child, ())
    return ordered


def is_local_target(endpoint_url: str | None = None) -> bool:
    """True when boto3 talks to a local endpoint (an explicit URL or ``AWS_ENDPOINT_URL*``)."""
    return bool(endpoint_url or any(os.environ.get(v) for v in _ENDPOINT_VARIABLES))


def _client(endpoint_url: str | None, region: str | None) -> Any:
    try:
        import boto3
    except ImportError:
        raise DeployError("deploying needs boto3: pip install 'saga-statemachine[aws]'") from None
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.client("stepfunctions", endpoint_url=endpoint_url, region_name=region)
    except BotoCoreError as exc:
        raise DeployError(f"cannot reach Step Functions: {exc}") from None
    except ValueError as exc:  # boto3 refuses an endpoint URL it cannot use
        raise DeployError(f"cannot use the endpoint URL {endpoint_url!r}: {exc}") from None


def _aws_error(operation: str, exc: Exception) -> DeployError:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = " ".join(str(error.get("Message", "")).split())
        return DeployError(f"{operation} failed: {code}: {message}".rstrip(": "))
    text = " ".join(str(exc).split())
    return DeployError(f"{operation} failed: {type(exc).__name__}: {text}")


def _find(client: Any, name: str) -> str | None:
    paginator = client.get_paginator("list_state_machines")
    for page in paginator.paginate():
        for machine in page.get("stateMachines", ()):
            if machine.get("name") == name:
                return str(machine["stateMachineArn"])
    return None


def deploy(
    machine: StateMachine,
    *,
    name: str,
    role_arn: str | None = None,
    client: Any = None,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> DeployResult:
    """Create the state machine ``name``, or update its definition (and role) when it exists.

    The definition must have no placeholders left (resolve it first). Without ``role_arn`` a
    new machine gets :data:`DEFAULT_LOCAL_ROLE_ARN` on a local target and is refused on AWS.
    """
    check_names(machine, name)
    used = placeholders(machine)
    if used:
        first = next(iter(used))
        raise UnresolvedPlaceholderError(
            used[first][0], first, "give its value (saga deploy --substitutions FILE)"
        )
    definition = render(machine)
    if client is None:
        client = _client(endpoint_url, region)
    from botocore.exceptions import BotoCoreError, ClientError

    operation = "ListStateMachines"
    try:
        arn = _find(client, name)
        if arn is not None:
            operation = "UpdateStateMachine"
            update: dict[str, Any] = {"stateMachineArn": arn, "definition": definition}
            if role_arn:
                update["roleArn"] = role_arn
            client.update_state_machine(**update)
            return DeployResult(name=name, arn=arn, created=False)
        if role_arn is None:
            if not is_local_target(endpoint_url):
                raise DeployError(
                    f"state machine {name!r} does not exist yet: give --role-arn (the IAM role "
                    "Step Functions assumes to run it)"
                )
            role_arn = DEFAULT_LOCAL_ROLE_ARN
        operation = "CreateStateMachine"
        created = client.create_state_machine(name=name, definition=definition, roleArn=role_arn)
        return DeployResult(name=name, arn=str(created["stateMachineArn"]), created=True)
    except (ClientError, BotoCoreError) as exc:
        raise _aws_error(operation, exc) from None
