"""``saga deploy``: create or update a state machine through boto3."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit

from asl_export.deploy import DEFAULT_LOCAL_ROLE_ARN, DeployError, deploy, deploy_order
from asl_export.render import ExportError, resolve
from engine.model import StateMachine
from saga.cli._common import EXIT_FAILED, EXIT_OK, UsageError, fail, print_json
from saga.cli.export_cmd import (
    ExportTarget,
    add_resolution_arguments,
    load_target,
    read_substitutions,
    resolved_machine,
)

__all__ = ["register"]


def _check_endpoint(url: str | None) -> None:
    """``--endpoint-url`` must be an http(s) URL with a host, as boto3 needs it."""
    if url is None:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks the port
    except ValueError as exc:
        raise UsageError(f"--endpoint-url: {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UsageError(
            f"--endpoint-url: {url!r} is not an http(s) URL (e.g. http://localhost:4566)"
        )


def _resolved(
    machine: StateMachine, args: argparse.Namespace, arns: dict[str, str]
) -> StateMachine:
    """``machine`` with ``--substitutions`` and the deployed children's ARNs filled in."""
    if not arns:
        return resolved_machine(machine, args)
    values = {**read_substitutions(args.substitutions), **arns}
    return resolve(
        machine, values, account_id=args.account_id, region=args.region, stage=args.stage
    )


def _deploy_all(target: ExportTarget, args: argparse.Namespace) -> dict[str, Any]:
    """Deploy each child saga's machine (those it starts first), then the parent, whose
    definition gets the children's ARNs; the parent's result with ``children`` added."""
    arns: dict[str, str] = {}
    children: list[dict[str, Any]] = []
    common: dict[str, Any] = {
        "role_arn": args.role_arn,
        "endpoint_url": args.endpoint_url,
        "region": args.region,
    }
    for child in deploy_order(target.children):
        done = deploy(_resolved(child.machine, args, arns), name=child.name, **common)
        arns[child.placeholder] = done.arn
        children.append(done.to_dict())
    result = deploy(_resolved(target.machine, args, arns), name=args.name, **common).to_dict()
    if children:
        result["children"] = children
    return result


def _deploy(args: argparse.Namespace) -> int:
    _check_endpoint(args.endpoint_url)
    target = load_target(args.target)
    try:
        result = _deploy_all(target, args)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    except DeployError as exc:
        return fail(str(exc), code=EXIT_FAILED)
    print_json(result)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``saga deploy`` to the command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "deploy",
        help="create or update the state machine through boto3",
        description="Create the state machine, or update it when one with this name exists. "
        "A saga that runs other sagas as steps deploys their state machines first (each under "
        "its saga's name; those it starts before it) and gives the parent their ARNs. "
        "boto3's usual configuration applies (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...). "
        f"On a local endpoint a new machine gets the role {DEFAULT_LOCAL_ROLE_ARN} unless "
        "--role-arn is given.",
    )
    parser.add_argument("target", metavar="TARGET", help="module:attribute or a definition file")
    parser.add_argument("--name", required=True, help="the state machine name")
    parser.add_argument("--role-arn", help="IAM role Step Functions assumes (required on AWS)")
    parser.add_argument("--endpoint-url", help="Step Functions endpoint (LocalStack, SFN Local)")
    add_resolution_arguments(parser)
    parser.set_defaults(handler=_deploy)
