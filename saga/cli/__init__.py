"""The ``saga`` command line: validate, execute, run, export, graph, package, deploy, resume,
executions, serve, test-state, report, console."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import warnings
from collections.abc import Sequence

from saga.cli import (
    console_cmd,
    deploy_cmd,
    execute_cmd,
    executions_cmd,
    export_cmd,
    graph_cmd,
    package_cmd,
    report_cmd,
    resume_cmd,
    run_cmd,
    serve_cmd,
    test_state_cmd,
    validate_cmd,
)
from saga.cli._common import UsageError, fail
from saga.errors import SagaWarning

__all__ = ["main"]

_COMMANDS = (
    validate_cmd,
    execute_cmd,
    run_cmd,
    export_cmd,
    graph_cmd,
    package_cmd,
    deploy_cmd,
    resume_cmd,
    executions_cmd,
    serve_cmd,
    test_state_cmd,
    report_cmd,
    console_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="saga",
        description="Sagas on a local Step Functions engine, exported as ASL.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 failed, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SagaWarning)
        code = _dispatch(args)
    _report_warnings(caught)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:  # what a command printed could not be written (a full disk)
        return fail(f"cannot write to stdout: {exc.strerror or exc}", code=max(code, 1))
    return code


def _report_warnings(caught: Sequence[warnings.WarningMessage]) -> None:
    """Saga warnings as ``saga: warning: ...`` lines on stderr (each once); others as usual."""
    seen: set[str] = set()
    for item in caught:
        if isinstance(item.message, SagaWarning):
            text = str(item.message)
            if text not in seen:
                seen.add(text)
                print(f"saga: warning: {text}", file=sys.stderr)
        else:
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail("interrupted", code=130)
    except BrokenPipeError:
        # The reader went away (``saga ... | head``): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        if exc.filename is None and exc.errno in _OUTPUT_ERRNOS:  # a print to stdout
            return fail(f"cannot write to stdout: {exc.strerror}")
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return fail(f"{where}{exc.strerror or exc}")
    return code


_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG})


if __name__ == "__main__":
    sys.exit(main())
