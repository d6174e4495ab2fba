"""``saga run TARGET``: compile a saga and run it on the local engine, printing one JSON object.

The object and exit codes are those of ``saga execute``: 0 when the execution succeeded, 1 when
it failed, timed out or was aborted, 2 on bad usage or a saga that cannot compile.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.diagnostics import DefinitionError
from engine.execution import Execution
from saga.cli._common import MAX_DEFINITION_BYTES, UsageError, read_bounded, read_json_arg
from saga.cli._execution import (
    add_history_and_store_arguments,
    add_input_argument,
    add_name_and_clock_arguments,
    check_name_option,
    report_execution,
)
from saga.cli._user_code import load_saga, saga_ref
from saga.cli.execute_cmd import parse_substitutions
from saga.errors import SagaDefinitionError
from saga.outcome import explain
from saga.saga import Saga

__all__ = ["load_saga", "register"]


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a saga locally",
        description=(
            "Compile the saga TARGET (module:attribute) and run it on the local engine; print "
            "one JSON object: status, output or error and cause, name, states (and history "
            "with --history). Exit 0 when the execution succeeded, 1 when it failed, timed out "
            "or was aborted, 2 on bad usage or a saga that cannot compile."
        ),
    )
    parser.add_argument("target", metavar="TARGET", help="the saga, as module:attribute")
    add_input_argument(parser)
    add_name_and_clock_arguments(parser)
    parser.add_argument(
        "--mock-config",
        metavar="FILE",
        help="answer states from a Step Functions Local mock config (with --test-case)",
    )
    parser.add_argument("--test-case", metavar="NAME", help="the mock config's test case")
    parser.add_argument(
        "--substitute",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fill ${NAME} in the compiled saga, as Saga.run(substitutions=...) does "
        "(repeatable; not with --store)",
    )
    add_history_and_store_arguments(parser)
    parser.set_defaults(handler=_run)


def _interceptors(args: argparse.Namespace, saga: Saga) -> list[Any]:
    if args.mock_config is None:
        if args.test_case is not None:
            raise UsageError("--test-case needs --mock-config")
        return []
    if args.test_case is None:
        raise UsageError("--mock-config needs --test-case NAME")
    from engine.mock_config import MockConfigInterceptor

    read_bounded(args.mock_config, MAX_DEFINITION_BYTES, "--mock-config")
    try:
        return [MockConfigInterceptor.from_file(args.mock_config, saga.name, args.test_case)]
    except DefinitionError as exc:
        raise UsageError(f"--mock-config: {exc}") from None
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(f"--mock-config {args.mock_config}: {exc}") from None


def _run_durable(
    args: argparse.Namespace, saga: Saga, data: Any, interceptors: list[Any]
) -> Execution:
    """Run with every event kept in the ``--store`` file, and the saga recorded for a resume."""
    from engine.local_engine import run
    from saga.cli.executions_cmd import open_store_option
    from saga.compile import compile_with_handlers
    from saga.running import make_clock

    machine, handlers = compile_with_handlers(saga)
    store = open_store_option(args.store)
    try:
        return run(
            machine,
            data,
            handlers=handlers,
            name=args.name,
            clock=make_clock(args.clock),
            seed=args.seed,
            interceptors=interceptors,
            state_machine_name=saga.name,
            store=store,
            handlers_ref=saga_ref(
                args.target, mock_config=args.mock_config, test_case=args.test_case
            ),
        )
    finally:
        if store is not None:
            store.close()


def _run(args: argparse.Namespace) -> int:
    saga = load_saga(args.target)
    data = read_json_arg(args.input)
    check_name_option(args.name)
    interceptors = _interceptors(args, saga)
    substitutions = parse_substitutions(args.substitute)
    if substitutions and args.store is not None:
        raise UsageError(
            "--substitute: not with --store, since 'saga resume' compiles the saga again "
            "without them; give the values in the input (JsonPath) instead"
        )

    def start() -> Execution:
        if args.store is None:
            return saga.run(
                data,
                name=args.name,
                clock=args.clock,
                seed=args.seed,
                interceptors=interceptors,
                substitutions=substitutions,
            )
        return explain(_run_durable(args, saga, data, interceptors), saga=saga)

    return report_execution(
        start, args.target, history=args.history, invalid=(SagaDefinitionError,)
    )
