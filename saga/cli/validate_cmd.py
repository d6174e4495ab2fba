"""``saga validate DEFINITION.asl.json|TARGET``: print a definition's (or a saga's) diagnostics.

A saga TARGET (``module:attribute``) is compiled; its compensations that can never run are
reported as warnings (code ``UNREACHABLE_COMPENSATION``) beside the machine's diagnostics.

Exit codes: 0 no errors (warnings allowed), 1 errors, 2 unusable input (unreadable file,
larger than 1 MiB, not UTF-8, not JSON) reported in one line.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from engine.diagnostics import DefinitionError, Diagnostic
from engine.loader import load
from saga.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    MAX_DEFINITION_BYTES,
    UsageError,
    fail,
    one_line,
    print_json,
    read_bounded,
)
from saga.cli._targets import describe_error

__all__ = ["register"]

_UNUSABLE = frozenset({"INVALID_JSON"})


def register(subparsers: Any) -> None:
    """Add the ``validate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check an ASL definition and print every diagnostic",
        description="Check an Amazon States Language definition: schema and graph errors, "
        "plus warnings for likely bugs. Exit 0 without errors, 1 with errors, 2 when the "
        "file cannot be read or is not JSON.",
    )
    parser.add_argument(
        "definition",
        metavar="DEFINITION.asl.json|TARGET",
        help="the ASL file, or a saga as module:attribute",
    )
    parser.add_argument(
        "--substitute",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="replace ${NAME} placeholders (DefinitionSubstitutions); repeatable",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the diagnostics as one JSON object"
    )
    parser.set_defaults(handler=run)


def _substitutions(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--substitute expects NAME=VALUE, got {pair!r}")
        out[name] = value
    return out


def _report(path: str, diagnostics: list[Diagnostic], as_json: bool) -> int:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    if as_json:
        print_json(
            {
                "definition": path,
                "valid": errors == 0,
                "diagnostics": [
                    {
                        "severity": d.severity,
                        "code": d.code,
                        "location": d.location,
                        "message": d.message,
                    }
                    for d in diagnostics
                ],
            }
        )
    else:
        for diagnostic in diagnostics:
            print(one_line(f"{path}: {diagnostic}"))
        verdict = "invalid" if errors else "valid"
        print(one_line(f"{path}: {verdict} ({errors} error(s), {warnings} warning(s))"))
    return EXIT_FAILED if errors else EXIT_OK


def _validate_saga(target: str, as_json: bool) -> int:
    """Compile the saga ``target``; report its machine's diagnostics and the saga's warnings."""
    from saga.cli.run_cmd import load_saga
    from saga.compile import saga_warnings
    from saga.errors import SagaDefinitionError

    saga = load_saga(target)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            machine = saga.to_state_machine()
        found = saga_warnings(saga)
    except SagaDefinitionError as exc:
        return _report(target, [Diagnostic("SAGA_DEFINITION", "", str(exc))], as_json)
    except Exception as exc:
        raise UsageError(f"TARGET {target!r}: cannot compile: {describe_error(exc)}") from None
    diagnostics = machine.validate() + [
        Diagnostic(w.code, "", str(w), severity="warning") for w in found
    ]
    return _report(target, diagnostics, as_json)


def run(args: argparse.Namespace) -> int:
    """Validate ``args.definition`` and print the diagnostics."""
    substitutions = _substitutions(args.substitute)
    path = Path(args.definition)
    if ":" in args.definition and not path.exists() and not args.definition.endswith(".json"):
        return _validate_saga(args.definition, args.json)
    data = read_bounded(path, MAX_DEFINITION_BYTES)
    try:
        machine = load(data, substitutions, validate=False)
    except DefinitionError as exc:
        unusable = [d for d in exc.diagnostics if d.code in _UNUSABLE]
        if unusable:
            return fail(f"{path}: {unusable[0].message}")
        return _report(str(path), exc.diagnostics, args.json)
    return _report(str(path), machine.validate(), args.json)
