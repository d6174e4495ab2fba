"""``saga executions list|describe|history --store PATH``: read a durable execution store.

Prints one JSON object in the shapes of Step Functions' ListExecutions, DescribeExecution and
GetExecutionHistory. Exit 0 on success, 1 when ``list`` found damaged records (listed apart
under ``damaged``, one line each on stderr, the others listed as usual), 2 on bad usage, an
unknown execution or a store that cannot be read (missing, damaged, not an execution store).
The store is opened read-only: reading it writes nothing and leaves no file behind.
``describe --saga TARGET`` adds a saga execution's ``failure`` and ``unwind`` as ``saga run``
prints them; the saga is the one the user names (a store's own reference is never imported),
and its compiled definition must be the one the execution ran.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.history import HistoryEvent
from engine.store import ExecutionStore, SQLiteStore, StoredExecution, StoreError
from saga.cli._common import EXIT_FAILED, EXIT_OK, UsageError, fail, print_json

__all__ = ["open_existing_store", "open_store_option", "register"]

_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def register(subparsers: Any) -> None:
    """Add the ``executions`` subcommand and its ``list``, ``describe``, ``history`` actions."""
    parser = subparsers.add_parser(
        "executions",
        help="list and inspect the executions of a durable store",
        description=(
            "Read the executions kept in a SQLite execution store (saga run/execute --store). "
            "Prints one JSON object; exit 0 on success, 2 on bad usage, an unknown execution "
            "or an unusable store."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every execution, in start order")
    listing.add_argument("--status", choices=_STATUSES, help="only executions with this status")
    describe = actions.add_parser("describe", help="one execution: status, input, output...")
    describe.add_argument("name", metavar="NAME", help="the execution's name")
    describe.add_argument(
        "--saga",
        metavar="TARGET",
        help="the saga (module:attribute) the execution ran: adds its failure and unwind",
    )
    history = actions.add_parser("history", help="one execution's history events")
    history.add_argument("name", metavar="NAME", help="the execution's name")
    history.add_argument(
        "--reverse-order", action="store_true", help="newest event first, as AWS can list them"
    )
    for sub in (listing, describe, history):
        sub.add_argument("--store", required=True, metavar="PATH", help="the SQLite store file")
        sub.set_defaults(handler=_executions)


def open_existing_store(path: str, *, read_only: bool = False) -> ExecutionStore:
    """The SQLite store at ``path``, which must exist; UsageError when it cannot be used.

    ``read_only`` stores write nothing and leave no file behind (``saga executions``).
    """
    if not Path(path).is_file():
        raise UsageError(f"--store: no such execution store: {path}")
    try:
        return SQLiteStore(path, read_only=read_only)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def open_store_option(path: str | None) -> ExecutionStore | None:
    """The store a ``--store PATH`` option names (created when missing), or None without one."""
    if path is None:
        return None
    try:
        return SQLiteStore(path)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _executions(args: argparse.Namespace) -> int:
    store = open_existing_store(args.store, read_only=True)
    try:
        if args.action == "list":
            listing = store.listing(status=args.status)
            out: dict[str, Any] = {
                "executions": [record.summary() for record in listing.executions]
            }
            if listing.damaged:
                out["damaged"] = [{"name": name, "error": why} for name, why in listing.damaged]
            print_json(out)
            for _, why in listing.damaged:
                fail(why)
            return EXIT_FAILED if listing.damaged else EXIT_OK
        record = store.find(args.name)
        if record is None:
            raise UsageError(f"no execution named {args.name!r} in {args.store}")
        if args.action == "describe":
            described = record.describe()
            if args.saga is not None:
                described = _with_unwind(described, record, store.history(args.name), args.saga)
            print_json(described)
            return EXIT_OK
        events = [event.to_dict() for event in store.history(args.name)]
        if args.reverse_order:
            events.reverse()
        print_json({"events": events})
        return EXIT_OK
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()


def _with_unwind(
    described: dict[str, Any],
    record: StoredExecution,
    history: list[HistoryEvent],
    target: str,
) -> dict[str, Any]:
    """``described`` plus the ``failure`` (after ``cause``) and ``unwind`` of ``saga run``."""
    from saga.cli._user_code import canonical_definition, load_saga, same_definition
    from saga.compile import compile_saga
    from saga.outcome import explain

    saga = load_saga(target)
    if not same_definition(record, canonical_definition(compile_saga(saga).to_dict())):
        raise UsageError(
            f"--saga {target!r}: execution {record.name!r} ran another definition than the "
            "one this saga compiles to"
        )
    execution = record.to_execution(history)
    explained = explain(execution, saga=saga)
    out: dict[str, Any] = {}
    for key, value in described.items():
        out[key] = value
        if key == "cause" and explained.failure is not None:
            out["failure"] = explained.failure.to_dict()
    if explained.failure is not None and "failure" not in out:
        out["failure"] = explained.failure.to_dict()
    if explained.unwind:
        out["unwind"] = [step.to_dict() for step in explained.unwind]
    return out
