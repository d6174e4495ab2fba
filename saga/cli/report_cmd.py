"""``saga report NAME --store PATH -o FILE.html``: one execution as a self-contained page."""

from __future__ import annotations

import argparse
from typing import Any

from engine.diagnostics import DefinitionError
from engine.store import ExecutionDoesNotExist, StoreError
from saga.cli._common import EXIT_OK, UsageError
from saga.cli.executions_cmd import open_existing_store
from saga.cli.export_cmd import write_output

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="one stored execution as a self-contained HTML page",
        description=(
            "Write the page of execution NAME from a SQLite execution store: the state "
            "machine's graph with the path taken coloured by outcome, each state's input, "
            "output, error and cause, retries, the unwind of a saga and the history events. "
            "Everything is inline: the file opens offline and fetches nothing. Exit 0 on "
            "success, 2 on bad usage, an unknown execution or an unusable store."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="the execution's name")
    parser.add_argument("--store", required=True, metavar="PATH", help="the SQLite store file")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from saga.reporting import execution_view

    store = open_existing_store(args.store)
    try:
        view = execution_view(store, args.name)
    except ExecutionDoesNotExist:
        raise UsageError(f"no execution named {args.name!r} in {args.store}") from None
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    except DefinitionError as exc:
        raise UsageError(f"{args.name}: its stored definition cannot be read: {exc}") from None
    finally:
        store.close()
    write_output(view.report(), args.output)
    return EXIT_OK
