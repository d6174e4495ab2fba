"""``saga export``: a saga or definition as ASL JSON, a SAM or a CloudFormation template."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asl_export.child_machines import ChildMachine
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
    write_stdout,
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
    children: tuple[ChildMachine, ...] = ()


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


def _children(value: Any) -> tuple[ChildMachine, ...]:
    """The sagas a saga runs as steps (theirs too), each with its machine and Python steps."""
    from saga.steps import child_arn_placeholder

    sagas = getattr(value, "child_sagas", None)
    if not callable(sagas):
        return ()
    children: list[ChildMachine] = []
    for child in sagas():
        machine = child.to_state_machine()
        try:
            functions = function_specs_for(machine, child.handlers())
        except ExportError as exc:
            raise ExportError(f"child saga {child.name!r}: {exc}") from None
        children.append(
            ChildMachine(
                placeholder=child_arn_placeholder(child),
                name=child.name,
                machine=machine,
                functions=functions,
            )
        )
    return tuple(children)


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
    if text.endswith(".py") and ":" not in text:
        raise UsageError(
            f"TARGET {text!r} is a Python file; name the saga in it as module:attribute "
            f"(e.g. {path.stem}:saga, run from its directory)"
        )
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
        children = _children(value)
    except DefinitionError as exc:
        raise _definition_error(text, exc) from None
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        raise UsageError(f"TARGET {text!r}: {describe_error(exc)}") from None
    return ExportTarget(
        machine=machine,
        name=default,
        functions=functions,
        compensations=_compensations(value),
        children=children,
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
        write_stdout(text)
        return
    try:
        write_whole_file(Path(output), text)
    except OSError as exc:
        raise UsageError(f"-o: cannot write {output}: {exc.strerror}") from None


def write_whole_file(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, as is) to ``path`` whole or not at all.

    A regular file is written beside it and renamed into place, so a failure (a full disk, an
    interrupt) leaves the previous file as it was and no partial one; anything else (a device,
    a pipe) is written directly.
    """
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8", newline="") as file:
            file.write(text)
        return
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with aside.open("x", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(aside, path)
    except BaseException:
        with contextlib.suppress(OSError):
            aside.unlink()
        raise


_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def account_id(text: str) -> str:
    """An ``--account-id`` value: AWS account ids are 12 digits."""
    if not _ACCOUNT_ID.match(text):
        raise argparse.ArgumentTypeError(f"expected 12 digits, got {text!r}")
    return text


def region_name(text: str) -> str:
    """A ``--region`` value: a region name such as ``eu-west-1``."""
    if not _REGION_NAME.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a region name like us-east-1")
    return text


def add_resolution_arguments(parser: argparse.ArgumentParser) -> None:
    """``--substitutions`` and the account, region and stage their values may use."""
    parser.add_argument(
        "--substitutions",
        metavar="FILE",
        help="JSON object of placeholder values; a value may use ${AWS::AccountId}, "
        "${AWS::Region}, ${AWS::Partition} and ${Stage}",
    )
    parser.add_argument(
        "--account-id", type=account_id, help="the AWS account id for ${AWS::AccountId}"
    )
    parser.add_argument("--region", type=region_name, help="the AWS region for ${AWS::Region}")
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
    if args.children_dir is not None and args.format != "asl":
        raise UsageError(
            "--children-dir: only with --format asl; a template already holds the children"
        )
    try:
        if args.format == "asl":
            text = render(resolved_machine(target.machine, args))
            if args.children_dir is not None:
                _write_children(target.children, args)
        else:
            values: Mapping[str, str] = read_substitutions(args.substitutions)
            renderer = render_sam if args.format == "sam" else render_cloudformation
            text = renderer(
                target.machine,
                name=name,
                functions=target.functions,
                values=values,
                fmt=args.template_format,
                children=target.children,
            )
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    write_output(text, args.output)
    return EXIT_OK


def _write_children(children: tuple[ChildMachine, ...], args: argparse.Namespace) -> None:
    """Write each child machine as ``DIR/NAME.asl.json``."""
    directory = Path(args.children_dir)
    # Every child is rendered before any is written: one that cannot be leaves no file behind.
    texts = {
        directory / f"{child.name}.asl.json": render(resolved_machine(child.machine, args))
        for child in children
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--children-dir: cannot create {directory}: {exc.strerror}") from None
    for path, text in texts.items():
        try:
            write_whole_file(path, text)
        except OSError as exc:
            raise UsageError(f"--children-dir: cannot write {path}: {exc.strerror}") from None


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
    parser.add_argument(
        "--children-dir",
        metavar="DIR",
        help="with --format asl, also write each saga the target runs as a step (theirs too) "
        "as DIR/NAME.asl.json",
    )
    add_resolution_arguments(parser)
    parser.set_defaults(handler=_export)
