"""``saga execute``: run any ASL definition locally and print the outcome as one JSON object."""

from __future__ import annotations

import argparse
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
from saga.cli._user_code import handlers_ref, load_handlers
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
        text = read_bounded(path, MAX_DEFINITION_BYTES, f"--state-machine {name}")
        try:
            machines[name] = load(text, substitutions or None)
        except DefinitionError as exc:
            problems = "; ".join(f"{d.location or '/'}: {d.message}" for d in exc.diagnostics)
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
