"""What `saga execute` and `saga run` share: their common options, how an outcome is shown."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable

from engine.diagnostics import DefinitionError
from engine.execution import Execution
from engine.local_engine import ExecutionAlreadyExists, InvalidExecutionInput
from engine.store import ExecutionNotRecorded, StoreError
from saga.cli._common import (
    EXIT_BAD_USAGE,
    EXIT_FAILED,
    EXIT_NOT_RECORDED,
    EXIT_OK,
    UsageError,
    fail,
    one_line,
    print_json,
)

__all__ = [
    "add_history_and_store_arguments",
    "add_input_argument",
    "add_name_and_clock_arguments",
    "check_name_option",
    "print_diagnostics",
    "report_execution",
]


def add_input_argument(parser: argparse.ArgumentParser) -> None:
    """``--input JSON|@FILE``."""
    parser.add_argument(
        "--input", default="{}", metavar="JSON|@FILE", help="execution input (default {})"
    )


def add_name_and_clock_arguments(parser: argparse.ArgumentParser) -> None:
    """``--name``, ``--seed`` and ``--clock real|virtual``."""
    parser.add_argument("--name", help="execution name (default: a UUID)")
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of retry jitter and every random draw (default: derived from --name, so "
        "the same name and input repeat the same run)",
    )
    parser.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="virtual",
        help="virtual (default) skips waits and backoff; real waits for real",
    )


def check_name_option(name: str | None) -> None:
    """``--name`` must be text the store and AWS can take: no lone surrogate (undecodable bytes)."""
    if name is None:
        return
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"--name: {name!r} is not valid Unicode text (it holds bytes that are not UTF-8)"
        ) from None


def add_history_and_store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--history`` and ``--store PATH`` (a durable execution 'saga resume' can continue)."""
    parser.add_argument("--history", action="store_true", help="include the history events")
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="keep the execution in this SQLite file, so 'saga resume' can continue it",
    )


def print_diagnostics(title: str, error: DefinitionError) -> int:
    """Print ``saga: title`` and one indented line a diagnostic on stderr; exit code 2."""
    print(f"saga: {one_line(title)}", file=sys.stderr)
    for diagnostic in error.diagnostics:
        print(f"  {one_line(str(diagnostic))}", file=sys.stderr)
    return EXIT_BAD_USAGE


def report_execution(
    start: Callable[[], Execution],
    source: str,
    *,
    history: bool,
    invalid: tuple[type[Exception], ...] = (),
) -> int:
    """Run ``start`` and print the execution as one JSON object; exit 0 only when it succeeded.

    ``invalid`` errors (a saga that cannot compile) and bad input are usage errors (exit 2).
    When the store could not record an event the execution is printed as the store keeps it
    (RUNNING, with ``notRecorded`` saying why) and the exit code is 3.
    """
    try:
        # What steps print goes to stderr, as a Lambda's prints go to its logs, so stdout
        # holds the one JSON object.
        with contextlib.redirect_stdout(sys.stderr):
            execution = start()
    except ExecutionNotRecorded as exc:
        if exc.execution is not None:
            print_json(exc.execution.to_dict(history=history))
        return fail(str(exc), code=EXIT_NOT_RECORDED)
    except invalid as exc:
        return fail(f"{source}: {exc}", code=EXIT_BAD_USAGE)
    except DefinitionError as exc:
        return print_diagnostics(f"{source} cannot run locally:", exc)
    except UsageError:
        raise  # an option the start found unusable (a --store that cannot be opened): exit 2
    except (InvalidExecutionInput, ValueError, ExecutionAlreadyExists, StoreError) as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        return fail(f"the local engine failed: {type(exc).__name__}: {exc}", code=EXIT_FAILED)
    print_json(execution.to_dict(history=history))
    return EXIT_OK if execution.status == "SUCCEEDED" else EXIT_FAILED
