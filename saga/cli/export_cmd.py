"""``saga export``: a saga or definition as ASL JSON, a SAM or a CloudFormation template."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asl_export.cloudformation import render_cloudformation
from asl_export.functions import FunctionSpec, function_specs_for
from asl_export.render import ExportError, render, resolve
from asl_export.sam import render_sam
from engine.diagnostics import DefinitionError
from engine.loader import load
from engine.model import StateMachine
from saga.cli._common import (
    EXIT_OK,
    MAX_DEFINITION_BYTES,
    UsageError,
    parse_json_text,
    read_text_file,
)
from saga.cli._targets import describe_error, import_target

__all__ = ["ExportTarget", "load_target", "read_substitutions", "register", "write_output"]


@dataclass(frozen=True)
class ExportTarget:
    """What a TARGET names: the machine, a default name, its Python steps and compensations."""

    machine: StateMachine
    name: str
    functions: tuple[FunctionSpec, ...] = ()
    compensations: frozenset[str] = field(default_factory=frozenset)


def _definition_error(source: str, exc: DefinitionError) -> UsageError:
    problems = "; ".join(
        f"{d.location or '/'}: {d.message}" for d in exc.diagnostics if d.severity == "error"
    )
    return UsageError(f"{source}: not a usable definition: {problems or exc}")


def _default_name(text: str) -> str:
    name = re.sub(r"\.asl$", "", Path(text).stem) if "/" in text or text.endswith(".json") else text
    return (
        re.sub(r"[^A-Za-z0-9_-]+", "-", name.rsplit(":", 1)[-1].rsplit(".", 1)[-1])
        or "StateMachine"
    )


def _functions(value: Any, machine: StateMachine) -> tuple[FunctionSpec, ...]:
    """The Python steps to deploy: ``function_specs()``, else derived from ``handlers()``."""
    specs = getattr(value, "function_specs", None)
    if callable(specs):
        found = tuple(specs())
        for spec in found:
            if not isinstance(spec, FunctionSpec):
                raise UsageError(f"function_specs() gave {type(spec).__name__}, not a FunctionSpec")
        return found
    handlers = getattr(value, "handlers", None)
    if callable(handlers):
        return function_specs_for(machine, handlers())
    return ()


def _compensations(value: Any) -> frozenset[str]:
    """Compensation state names: ``compensation_states()``, else the saga's compensation steps."""
    names = getattr(value, "compensation_states", None)
    if callable(names):
        return frozenset(str(n) for n in names())
    steps = getattr(value, "all_steps", None)
    if callable(steps):
        return frozenset(s.name for s in steps() if getattr(s, "role", None) == "compensation")
    return frozenset()


def load_target(text: str) -> ExportTarget:
    """Load TARGET: a definition file, or ``module:attribute`` of a saga or a StateMachine."""
    path = Path(text)
    if path.is_file() or text.endswith(".json"):
        try:
            with path.open("rb") as file:
                data = file.read(MAX_DEFINITION_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"{text}: cannot read the definition: {exc.strerror}") from None
        if len(data) > MAX_DEFINITION_BYTES:
            raise UsageError(
                f"{text}: the definition is larger than the limit of {MAX_DEFINITION_BYTES:,} bytes"
            )
        try:
            machine = load(data)
        except DefinitionError as exc:
            raise _definition_error(text, exc) from None
        return ExportTarget(machine=machine, name=_default_name(text))
    value = import_target(text, "module:attribute or a definition file")
    name = getattr(value, "name", None)
    default = name if isinstance(name, str) and name else _default_name(text)
    if isinstance(value, StateMachine):
        return ExportTarget(machine=value, name=default)
    compile_machine = getattr(value, "to_state_machine", None)
    if not callable(compile_machine):
        raise UsageError(
            f"TARGET {text!r} is neither a saga nor a StateMachine (it is {type(value).__name__})"
        )
    try:
        machine = compile_machine()
    except DefinitionError as exc:
        raise _definition_error(text, exc) from None
    except Exception as exc:
        raise UsageError(f"TARGET {text!r}: cannot compile: {describe_error(exc)}") from None
    if not isinstance(machine, StateMachine):
        raise UsageError(f"TARGET {text!r}: to_state_machine() did not return a StateMachine")
    try:
        functions = _functions(value, machine)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        raise UsageError(f"TARGET {text!r}: {describe_error(exc)}") from None
    return ExportTarget(
        machine=machine, name=default, functions=functions, compensations=_compensations(value)
    )


def read_substitutions(path: str | None) -> dict[str, str]:
    """The ``--substitutions`` file: a JSON object of placeholder name → string value."""
    if path is None:
        return {}
    document = parse_json_text(read_text_file(path, "--substitutions"), "--substitutions", path)
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise UsageError(f"--substitutions: {path} must hold a JSON object of strings")
    return {str(k): v for k, v in document.items()}


def write_output(text: str, output: str | None) -> None:
    """Write ``text`` to the file ``output`` (UTF-8, as is) or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"-o: cannot write {output}: {exc.strerror}") from None


def add_resolution_arguments(parser: argparse.ArgumentParser) -> None:
    """``--substitutions`` and the account, region and stage their values may use."""
    parser.add_argument(
        "--substitutions",
        metavar="FILE",
        help="JSON object of placeholder values; a value may use ${AWS::AccountId}, "
        "${AWS::Region}, ${AWS::Partition} and ${Stage}",
    )
    parser.add_argument("--account-id", help="the AWS account id for ${AWS::AccountId}")
    parser.add_argument("--region", help="the AWS region for ${AWS::Region}")
    parser.add_argument("--stage", help="the stage for ${Stage}")


def resolved_machine(machine: StateMachine, args: argparse.Namespace) -> StateMachine:
    """The machine with placeholders resolved from ``--substitutions`` (unchanged without it)."""
    values = read_substitutions(args.substitutions)
    if args.substitutions is None:
        return machine
    return resolve(
        machine, values, account_id=args.account_id, region=args.region, stage=args.stage
    )


def _export(args: argparse.Namespace) -> int:
    target = load_target(args.target)
    name: str = args.name or target.name
    try:
        if args.format == "asl":
            text = render(resolved_machine(target.machine, args))
        else:
            values: Mapping[str, str] = read_substitutions(args.substitutions)
            renderer = render_sam if args.format == "sam" else render_cloudformation
            text = renderer(
                target.machine,
                name=name,
                functions=target.functions,
                values=values,
                fmt=args.template_format,
            )
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    write_output(text, args.output)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``saga export`` to the command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="export a saga or definition as ASL JSON or a SAM/CloudFormation template",
        description="Render deterministic ASL JSON (placeholders kept, or resolved with "
        "--substitutions) or a deployment template.",
    )
    parser.add_argument("target", metavar="TARGET", help="module:attribute or a definition file")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--format", choices=("asl", "sam", "cloudformation"), default="asl")
    parser.add_argument("--name", help="state machine name in templates (default: the target's)")
    parser.add_argument(
        "--template-format", choices=("yaml", "json"), default="yaml", help="template syntax"
    )
    add_resolution_arguments(parser)
    parser.set_defaults(handler=_export)
