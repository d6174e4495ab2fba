"""``saga serve``: the Step Functions API (AWS JSON 1.0) over HTTP on the local engine."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from engine.mock_config import MockConfigError, load_mock_config
from saga.cli._common import UsageError
from saga.cli.execute_cmd import load_handlers

__all__ = ["register"]

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    from engine.api import DEFAULT_PORT

    parser = subparsers.add_parser(
        "serve",
        help="serve the Step Functions API for boto3, the AWS CLI and other SDKs",
        description=(
            "Serve the AWS Step Functions API (AWS JSON 1.0, X-Amz-Target: "
            "AWSStepFunctions.<Operation>) on the local engine until interrupted. Port 8083 is "
            "Step Functions Local's, so existing setups switch by pointing their endpoint here."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to bind ({DEFAULT_PORT})"
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="SQLite file keeping state machines and executions across restarts; "
        "executions still running resume when the server starts again",
    )
    parser.add_argument(
        "--handlers",
        metavar="MODULE_OR_FILE.py",
        help="module or file exposing HANDLERS: dict[str, Callable] keyed by resource or name",
    )
    parser.add_argument(
        "--mock-config",
        metavar="FILE",
        help="Step Functions Local mock config (default: $SFN_MOCK_CONFIG); a test case is "
        "chosen by starting 'arn:...:stateMachine:Name#TestCase'",
    )
    parser.add_argument(
        "--lambda-endpoint",
        metavar="URL",
        help="invoke Lambda resources without a handler through the Lambda Invoke API here "
        "(e.g. sam local start-lambda's http://127.0.0.1:3001)",
    )
    parser.add_argument("--region", default="us-east-1", help="region in ARNs (us-east-1)")
    parser.add_argument(
        "--account-id", default="123456789012", help="account id in ARNs (123456789012)"
    )
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from engine.api import ServiceConfig, serve
    from saga.cli.resume_cmd import handlers_ref

    try:
        import botocore  # noqa: F401 - the API's request shapes come from its service model
    except ImportError:
        raise UsageError(
            "saga serve needs botocore for the API's model: pip install 'saga-statemachine[aws]'"
        ) from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a port number (0-65535)")
    if not _ACCOUNT.match(args.account_id):
        raise UsageError(f"--account-id: expected 12 digits, got {args.account_id!r}")
    if not _REGION.match(args.region):
        raise UsageError(f"--region: {args.region!r} is not a region name like us-east-1")
    if args.lambda_endpoint and not args.lambda_endpoint.startswith(("http://", "https://")):
        raise UsageError(
            f"--lambda-endpoint: expected an http(s) URL, got {args.lambda_endpoint!r}"
        )
    handlers = load_handlers(args.handlers) if args.handlers else {}
    mock_path = args.mock_config or os.environ.get("SFN_MOCK_CONFIG") or None
    mock_config = None
    if mock_path:
        try:
            mock_config = load_mock_config(mock_path)
        except MockConfigError as exc:
            raise UsageError(f"--mock-config: {exc}") from None
    store = Path(args.store) if args.store else None
    if store is not None:
        from engine.store import SQLiteStore, StoreError

        try:
            SQLiteStore(store).close()
        except StoreError as exc:
            raise UsageError(f"--store: {exc}") from None
    config = ServiceConfig(
        region=args.region,
        account_id=args.account_id,
        store=store,
        handlers=handlers,
        handlers_ref=handlers_ref(args.handlers) if args.handlers else None,
        mock_config=mock_config,
        lambda_endpoint=args.lambda_endpoint,
    )
    try:
        serve(config, host=args.host, port=args.port)
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc.strerror}") from None
    return 0
