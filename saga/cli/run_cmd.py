"""``saga run TARGET``: compile a saga and run it on the local engine, printing one JSON object.

The object and exit codes are those of ``saga execute``: 0 when the execution succeeded, 1 when
it failed, timed out or was aborted, 2 on bad usage or a saga that cannot compile.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from engine.diagnostics import DefinitionError
from engine.execution import Execution
from engine.local_engine import ExecutionAlreadyExists, InvalidExecutionInput
from engine.store import StoreError
from saga.cli._common import (
    EXIT_BAD_USAGE,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    fail,
    print_json,
    read_json_arg,
)
from saga.errors import SagaDefinitionError
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
    parser.add_argument(
        "--input", default="{}", metavar="JSON|@FILE", help="execution input (default {})"
    )
    parser.add_argument("--name", help="execution name (default: a UUID)")
    parser.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="virtual",
        help="virtual (default) skips waits and backoff; real waits for real",
    )
    parser.add_argument(
        "--mock-config",
        metavar="FILE",
        help="answer states from a Step Functions Local mock config (with --test-case)",
    )
    parser.add_argument("--test-case", metavar="NAME", help="the mock config's test case")
    parser.add_argument("--history", action="store_true", help="include the history events")
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="keep the execution in this SQLite file, so 'saga resume' can continue it",
    )
    parser.set_defaults(handler=_run)


def load_saga(text: str) -> Saga:
    """The saga ``module:attribute`` names (the current directory is importable)."""
    module_name, _, attribute = text.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"TARGET {text!r}: expected module:attribute, e.g. shop.orders:saga")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        value: Any = importlib.import_module(module_name)
    except SagaDefinitionError as exc:
        raise UsageError(f"TARGET {text!r}: {exc}") from None
    except ImportError as exc:
        raise UsageError(f"TARGET {text!r}: cannot import {module_name!r}: {exc}") from None
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise UsageError(
                f"TARGET {text!r}: {module_name} has no attribute {attribute!r}"
            ) from None
    if not isinstance(value, Saga):
        raise UsageError(f"TARGET {text!r} is not a Saga (it is {type(value).__name__})")
    return value


def _interceptors(args: argparse.Namespace, saga: Saga) -> list[Any]:
    if args.mock_config is None:
        if args.test_case is not None:
            raise UsageError("--test-case needs --mock-config")
        return []
    if args.test_case is None:
        raise UsageError("--mock-config needs --test-case NAME")
    from engine.mock_config import MockConfigInterceptor

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
    from saga.cli.resume_cmd import saga_ref
    from saga.running import make_clock

    store = open_store_option(args.store)
    try:
        return run(
            saga.to_state_machine(),
            data,
            handlers=saga.handlers(),
            name=args.name,
            clock=make_clock(args.clock),
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
    interceptors = _interceptors(args, saga)
    try:
        if args.store is None:
            execution = saga.run(data, name=args.name, clock=args.clock, interceptors=interceptors)
        else:
            execution = _run_durable(args, saga, data, interceptors)
    except SagaDefinitionError as exc:
        return fail(f"{args.target}: {exc}", code=EXIT_BAD_USAGE)
    except DefinitionError as exc:
        print(f"saga: {args.target} cannot run locally:", file=sys.stderr)
        for diagnostic in exc.diagnostics:
            print(f"  {diagnostic}", file=sys.stderr)
        return EXIT_BAD_USAGE
    except (InvalidExecutionInput, ValueError, ExecutionAlreadyExists, StoreError) as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        return fail(f"the local engine failed: {type(exc).__name__}: {exc}", code=EXIT_FAILED)
    print_json(execution.to_dict(history=args.history))
    return EXIT_OK if execution.status == "SUCCEEDED" else EXIT_FAILED
