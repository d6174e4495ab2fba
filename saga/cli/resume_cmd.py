"""``saga resume --store PATH [--handlers MODULE]``: continue every unfinished execution.

Each execution is bound again to the handlers it was started with (recorded in the store: the
saga ``TARGET`` of ``saga run``, the ``--handlers`` of ``saga execute``); ``--handlers`` only
overrides them. Prints ``{"executions": [...], "skipped": [...]}``; exit 0 when every resumed
execution succeeded, 1 when one failed, timed out or was aborted, 2 on bad usage, an unusable
store, or an execution that could not be bound again (it stays open for a later resume).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from engine.bindings import Interceptor
from engine.clock import Clock
from engine.durable import ResumeReport, resume
from engine.store import StoredExecution, StoreError
from saga.cli._common import EXIT_BAD_USAGE, EXIT_FAILED, EXIT_OK, UsageError, print_json
from saga.cli.executions_cmd import open_existing_store

__all__ = ["bind_handlers", "handlers_ref", "register", "saga_ref"]


def register(subparsers: Any) -> None:
    """Add the ``resume`` subcommand."""
    parser = subparsers.add_parser(
        "resume",
        help="continue the unfinished executions of a durable store",
        description=(
            "Continue every unfinished execution of a SQLite execution store from its "
            "history (tasks whose outcome was not recorded run again: at least once). "
            "Exit 0 when every resumed execution succeeded, 1 when one failed, 2 on bad "
            "usage, an unusable store or an execution that could not be bound again."
        ),
    )
    parser.add_argument("--store", required=True, metavar="PATH", help="the SQLite store file")
    parser.add_argument(
        "--handlers",
        metavar="MODULE_OR_FILE.py",
        help="bind tasks to this module's HANDLERS instead of the recorded handlers",
    )
    parser.add_argument(
        "--name",
        action="append",
        default=None,
        metavar="NAME",
        help="resume only this execution (repeatable)",
    )
    parser.add_argument(
        "--clock",
        choices=("real", "virtual"),
        help="the clock to continue on (default: the one each execution was started with)",
    )
    parser.add_argument("--history", action="store_true", help="include the history events")
    parser.set_defaults(handler=_resume)


# -- the handlers reference recorded with an execution -----------------------------------------


def saga_ref(target: str, *, mock_config: str | None = None, test_case: str | None = None) -> str:
    """The reference ``saga run TARGET`` records: the saga, and its mock config if any."""
    ref: dict[str, Any] = {"saga": target, "cwd": os.getcwd()}
    if mock_config is not None:
        ref["mockConfig"] = str(Path(mock_config).resolve())
        ref["testCase"] = test_case
    return json.dumps(ref, sort_keys=True)


def handlers_ref(spec: str) -> str:
    """The reference ``saga execute --handlers SPEC`` records (a file is made absolute)."""
    path = Path(spec)
    module = str(path.resolve()) if spec.endswith(".py") or path.is_file() else spec
    return json.dumps({"handlers": module, "cwd": os.getcwd()}, sort_keys=True)


def _parse_ref(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        ref = json.loads(text)
    except ValueError:
        return {"handlers": text}
    return ref if isinstance(ref, dict) else {}


def _with_cwd(ref: Mapping[str, Any]) -> None:
    cwd = ref.get("cwd")
    if isinstance(cwd, str) and cwd not in sys.path:
        sys.path.append(cwd)


def bind_handlers(record: StoredExecution, override: str | None) -> dict[str, Callable[..., Any]]:
    """The handlers to run ``record`` with: ``override``'s, else the recorded ones."""
    from saga.cli.execute_cmd import load_handlers
    from saga.cli.run_cmd import load_saga

    if override is not None:
        return load_handlers(override)
    ref = _parse_ref(record.handlers_ref)
    _with_cwd(ref)
    if isinstance(ref.get("saga"), str):
        return load_saga(ref["saga"]).handlers()
    if isinstance(ref.get("handlers"), str):
        return load_handlers(ref["handlers"])
    return {}


def _interceptors(record: StoredExecution, override: str | None) -> list[Interceptor]:
    ref = _parse_ref(record.handlers_ref)
    if override is not None or not isinstance(ref.get("mockConfig"), str):
        return []
    from engine.mock_config import MockConfigInterceptor

    machine_name = record.state_machine_arn.rsplit(":", 1)[-1]
    try:
        return [MockConfigInterceptor.from_file(ref["mockConfig"], machine_name, ref["testCase"])]
    except Exception as exc:
        raise UsageError(f"mock config {ref['mockConfig']}: {exc}") from None


# -- the command ----------------------------------------------------------------------------------


def _clock(kind: Literal["real", "virtual"] | None) -> Clock | None:
    if kind is None:
        return None
    from saga.running import make_clock

    return make_clock(kind)


def _report(report: ResumeReport, history: bool) -> dict[str, Any]:
    return {
        "executions": [execution.to_dict(history=history) for execution in report.executions],
        "skipped": [{"name": name, "reason": reason} for name, reason in report.skipped],
    }


def _resume(args: argparse.Namespace) -> int:
    store = open_existing_store(args.store)
    names: Sequence[str] | None = args.name
    try:
        if names:
            unknown = [name for name in names if store.find(name) is None]
            if unknown:
                raise UsageError(f"no execution named {unknown[0]!r} in {args.store}")
        report = resume(
            store,
            handlers_for=lambda record: bind_handlers(record, args.handlers),
            interceptors_for=lambda record: _interceptors(record, args.handlers),
            clock=_clock(args.clock),
            names=names,
        )
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    print_json(_report(report, args.history))
    for name, reason in report.unbound:
        print(f"saga: {name} was not resumed: {reason}", file=sys.stderr)
    if report.unbound:
        return EXIT_BAD_USAGE
    if any(execution.status != "SUCCEEDED" for execution in report.executions):
        return EXIT_FAILED
    return EXIT_OK
