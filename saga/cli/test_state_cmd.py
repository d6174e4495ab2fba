"""``saga test-state``: run one state offline and print AWS TestState's response."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.test_state import TestStateError, test_state
from saga.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    print_json,
    read_json_arg,
    read_text_file,
)
from saga.cli._user_code import load_handlers

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``test-state`` subcommand."""
    parser = subparsers.add_parser(
        "test-state",
        help="run one state offline, answered as AWS TestState answers",
        description=(
            "Run one state (a state definition, or a whole machine with --state-name) on one "
            "input and print AWS TestState's response: status, nextState, output, error, cause "
            "and, at DEBUG/TRACE, inspectionData. Exit 0 unless the status is FAILED (1); "
            "2 on bad usage or a request TestState refuses."
        ),
    )
    parser.add_argument("definition", metavar="STATE.json", help="the state (or machine) file")
    parser.add_argument("--input", default="{}", help="the state input: JSON or @FILE ({})")
    parser.add_argument("--state-name", help="the state to test within a whole machine")
    parser.add_argument("--mock", help='a mock: JSON or @FILE, e.g. {"result": "{\\"ok\\": true}"}')
    parser.add_argument("--inspection-level", choices=("INFO", "DEBUG", "TRACE"), default="INFO")
    parser.add_argument("--variables", help="workflow variables: a JSON object or @FILE")
    parser.add_argument("--context", help="context object fields: a JSON object or @FILE")
    parser.add_argument(
        "--state-configuration",
        help=(
            'e.g. {"retrierRetryCount": 2, "errorCausedByState": "States.Timeout"}; for a Map '
            '{"mapIterationFailureCount": 1, "mapItemReaderData": "[1, 2, 3]"} (JSON or @FILE)'
        ),
    )
    parser.add_argument(
        "--handlers",
        metavar="MODULE_OR_FILE.py",
        help="module or file exposing HANDLERS for an unmocked Task",
    )
    parser.set_defaults(handler=_test_state)


def _optional(text: str | None, what: str) -> Any:
    return None if text is None else read_json_arg(text, what)


def _test_state(args: argparse.Namespace) -> int:
    path = Path(args.definition)
    definition = read_text_file(path, "")
    mock = _optional(args.mock, "--mock")
    if mock is not None and not isinstance(mock, dict):
        raise UsageError("--mock: expected a JSON object with 'result' or 'errorOutput'")
    configuration = _optional(args.state_configuration, "--state-configuration")
    if configuration is not None and not isinstance(configuration, dict):
        raise UsageError("--state-configuration: expected a JSON object")
    handlers = load_handlers(args.handlers) if args.handlers else {}
    try:
        answer = test_state(
            definition,
            json.dumps(read_json_arg(args.input)),
            state_name=args.state_name,
            inspection_level=args.inspection_level,
            variables=_optional(args.variables, "--variables"),
            context=_optional(args.context, "--context"),
            mock=mock,
            state_configuration=configuration,
            handlers=handlers,
        )
    except TestStateError as exc:
        raise UsageError(f"{path}: {exc.error_type}: {exc.message}") from None
    print_json(answer)
    return EXIT_FAILED if answer["status"] == "FAILED" else EXIT_OK
