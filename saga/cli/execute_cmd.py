"""``saga execute``: run any ASL definition locally and print the outcome as one JSON object."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine.diagnostics import DefinitionError
from engine.execution import Execution
from engine.loader import load
from engine.local_engine import run
from saga.cli._common import MAX_DEFINITION_BYTES, UsageError, read_bounded, read_json_arg
from saga.cli._execution import (
    add_history_and_store_arguments,
    add_input_argument,
    add_name_and_clock_arguments,
    check_name_option,
    print_diagnostics,
    report_execution,
)
from saga.cli._targets import describe_error, import_module
from saga.outcome import explain
from saga.running import make_clock

__all__ = ["load_handlers", "parse_substitutions", "register"]


def register(subparsers: Any) -> None:
    """Add the ``execute`` subcommand."""
    parser = subparsers.add_parser(
        "execute",
        help="run an ASL definition locally",
        description=(
            "Run an ASL definition on the local engine and print one JSON object: status, "
            "output or error and cause, name, states (and history with --history). "
            "Exit 0 when the execution succeeded, 1 when it failed, timed out or was aborted, "
            "2 on bad usage or an invalid definition."
        ),
    )
    parser.add_argument("definition", metavar="DEFINITION.asl.json", help="the ASL definition")
    add_input_argument(parser)
    parser.add_argument(
        "--handlers",
        metavar="MODULE_OR_FILE.py",
        help="module or file exposing HANDLERS: dict[str, Callable] keyed by resource or name",
    )
    add_name_and_clock_arguments(parser)
    parser.add_argument(
        "--substitute",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="replace ${NAME} in the definition (repeatable)",
    )
    parser.add_argument(
        "--state-machine",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="a machine states:startExecution can start by the ARN of NAME (repeatable)",
    )
    add_history_and_store_arguments(parser)
    parser.set_defaults(handler=_execute)


def _children(items: list[str], substitutions: dict[str, str]) -> dict[str, Any]:
    """``NAME=FILE`` arguments as loaded machines; UsageError naming a bad one."""
    machines: dict[str, Any] = {}
    for item in items:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise UsageError(f"--state-machine: expected NAME=FILE, got {item!r}")
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"--state-machine: no such definition file: {file}")
        try:
            machines[name] = load(path, substitutions or None)
        except DefinitionError as exc:
            problems = "; ".join(f"{d.location}: {d.message}" for d in exc.diagnostics)
            raise UsageError(
                f"--state-machine {name}: invalid definition {file}: {problems}"
            ) from None
        except OSError as exc:
            raise UsageError(f"--state-machine: cannot read {file}: {exc.strerror}") from None
    return machines


def parse_substitutions(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` arguments as a mapping."""
    substitutions: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--substitute: expected NAME=VALUE, got {item!r}")
        substitutions[name] = value
    return substitutions


def _import_module(spec: str) -> Any:
    path = Path(spec)
    if spec.endswith(".py") or path.is_file():
        if not path.is_file():
            raise UsageError(f"--handlers: no such file: {spec}")
        module_name = f"_saga_handlers_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise UsageError(f"--handlers: cannot load {spec}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        directory = str(path.resolve().parent)
        sys.path.insert(0, directory)
        try:
            module_spec.loader.exec_module(module)
        finally:
            sys.path.remove(directory)
        return module
    return import_module(spec)


def load_handlers(spec: str) -> dict[str, Callable[..., Any]]:
    """The ``HANDLERS`` mapping of a module name or a ``.py`` file; UsageError when unusable.

    Any failure while the module is imported (``SystemExit`` included) is one line.
    """
    try:
        module = _import_module(spec)
    except UsageError as exc:
        message = str(exc)
        raise UsageError(
            message if message.startswith("--handlers") else f"--handlers: {message}"
        ) from None
    except ModuleNotFoundError as exc:
        raise UsageError(f"--handlers: cannot import {spec}: {exc}") from None
    except (Exception, SystemExit) as exc:
        raise UsageError(f"--handlers: importing {spec} failed: {describe_error(exc)}") from None
    handlers = getattr(module, "HANDLERS", None)
    if not isinstance(handlers, Mapping):
        raise UsageError(f"--handlers: {spec} has no HANDLERS dict (resource or name -> callable)")
    bad = [str(key) for key, value in handlers.items() if not callable(value)]
    if bad:
        raise UsageError(f"--handlers: HANDLERS entries are not callable: {', '.join(bad)}")
    return {str(key): value for key, value in handlers.items()}


def _machine_name(path: Path) -> str:
    name = path.name
    for suffix in (".asl.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or "LocalStateMachine"
    return name or "LocalStateMachine"


def _execute(args: argparse.Namespace) -> int:
    path = Path(args.definition)
    if not path.is_file():
        raise UsageError(f"no such definition file: {path}")
    substitutions = parse_substitutions(args.substitute)
    data = read_json_arg(args.input)
    check_name_option(args.name)
    text = read_bounded(path, MAX_DEFINITION_BYTES)
    handlers = load_handlers(args.handlers) if args.handlers else {}
    children = _children(args.state_machine, substitutions)
    try:
        machine = load(text, substitutions or None)
    except DefinitionError as exc:
        return print_diagnostics(f"invalid definition {path}:", exc)
    from saga.cli.executions_cmd import open_store_option
    from saga.cli.resume_cmd import handlers_ref

    store = open_store_option(args.store)

    def start() -> Execution:
        try:
            execution = run(
                machine,
                data,
                handlers=handlers,
                name=args.name,
                clock=make_clock(args.clock),
                seed=args.seed,
                state_machine_name=_machine_name(path),
                store=store,
                handlers_ref=handlers_ref(args.handlers) if args.handlers else None,
                state_machines=children,
            )
            return explain(execution, machine=machine)
        finally:
            if store is not None:
                store.close()

    return report_execution(start, str(path), history=args.history)
