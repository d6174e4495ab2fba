"""``saga resume [TARGET] --store PATH``: continue the unfinished executions of a store.

A store names the code its executions were started with (the saga ``TARGET`` of ``saga run``,
the ``--handlers`` of ``saga execute``), but a store file may come from anywhere: resuming
imports nothing the store alone names. Tasks are bound to the saga ``TARGET`` or the
``--handlers`` given here; ``--trust-store`` imports what the store names, saying what first.
Prints ``{"executions": [...], "skipped": [...]}`` and one line on stderr per execution not
resumed, with why. Exit 0 when every execution asked for ran to success, 1 when one failed or
was not resumed (another process runs it, it has ended), 2 on bad usage, an unusable store or
an execution that could not be bound, 3 when the store could not record an event (the
execution is left RUNNING, resumable).
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
from saga.cli._common import (
    EXIT_BAD_USAGE,
    EXIT_FAILED,
    EXIT_NOT_RECORDED,
    EXIT_OK,
    MAX_DEFINITION_BYTES,
    UsageError,
    fail,
    print_json,
    read_bounded,
)
from saga.cli.executions_cmd import open_existing_store

__all__ = ["Binding", "handlers_ref", "register", "saga_ref"]


def register(subparsers: Any) -> None:
    """Add the ``resume`` subcommand."""
    parser = subparsers.add_parser(
        "resume",
        help="continue the unfinished executions of a durable store",
        description=(
            "Continue every unfinished execution of a SQLite execution store from its "
            "history (tasks whose outcome was not recorded run again: at least once). Tasks "
            "are bound to the saga TARGET or --handlers given here; the code a store names "
            "is imported only with --trust-store. Exit 0 when every execution asked for "
            "succeeded, 1 when one failed or was not resumed, 2 on bad usage, an unusable "
            "store or an execution that could not be bound, 3 when the store could not "
            "record an event."
        ),
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        help="bind tasks to this saga (module:attribute), as 'saga run TARGET' does",
    )
    parser.add_argument("--store", required=True, metavar="PATH", help="the SQLite store file")
    parser.add_argument(
        "--handlers",
        metavar="MODULE_OR_FILE.py",
        help="bind tasks to this module's HANDLERS, as 'saga execute --handlers' does",
    )
    parser.add_argument(
        "--trust-store",
        action="store_true",
        help="import the saga or handlers each execution recorded (printed first); only for "
        "a store you made: a store file can name any code",
    )
    parser.add_argument(
        "--take-over",
        action="store_true",
        help="take over executions claimed by a process on another host or container that "
        "is gone (it cannot be checked from here)",
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


class Binding:
    """How ``saga resume`` binds each execution's tasks: given code, or (if trusted) the store's.

    ``target`` is a saga ``module:attribute`` and ``handlers`` a ``--handlers`` module or file,
    both given by the user; with ``trust_store`` the code an execution recorded is imported
    (announced on stderr first). Without any, only executions that name no code are bound.
    """

    def __init__(
        self,
        *,
        target: str | None = None,
        handlers: str | None = None,
        trust_store: bool = False,
        store: str = "the store",
    ) -> None:
        self.target = target
        self.handlers = handlers
        self.trust_store = trust_store
        self.store = store

    def handlers_for(self, record: StoredExecution) -> dict[str, Callable[..., Any]]:
        """The handlers to run ``record`` with; UsageError when they cannot (or may not) load."""
        from saga.cli.execute_cmd import load_handlers
        from saga.cli.run_cmd import load_saga

        if self.target is not None:
            return load_saga(self.target).handlers()
        if self.handlers is not None:
            return load_handlers(self.handlers)
        ref = _parse_ref(record.handlers_ref)
        named = _named_code(ref)
        if named is None:
            return {}
        if not self.trust_store:
            raise UsageError(
                f"it was started with {named}, named only by the store; resuming imports "
                "nothing a store names: give the saga TARGET or --handlers, or --trust-store "
                "to import it"
            )
        fail(f"{record.name}: importing {named}, as {self.store} records")
        _with_cwd(ref)
        if isinstance(ref.get("saga"), str):
            return load_saga(ref["saga"]).handlers()
        return load_handlers(ref["handlers"])

    def interceptors_for(self, record: StoredExecution) -> list[Interceptor]:
        """The recorded mock config (data, not code) unless --handlers replaces the bindings."""
        return [] if self.handlers is not None else _interceptors(record)


def _named_code(ref: Mapping[str, Any]) -> str | None:
    """What code a handlers reference names, for messages (None: none)."""
    where = f" (from {ref['cwd']})" if isinstance(ref.get("cwd"), str) else ""
    if isinstance(ref.get("saga"), str):
        return f"the saga {ref['saga']!r}{where}"
    if isinstance(ref.get("handlers"), str):
        return f"the handlers {ref['handlers']!r}{where}"
    return None


def _interceptors(record: StoredExecution) -> list[Interceptor]:
    ref = _parse_ref(record.handlers_ref)
    if not isinstance(ref.get("mockConfig"), str):
        return []
    from engine.mock_config import MockConfigInterceptor

    machine_name = record.state_machine_arn.rsplit(":", 1)[-1]
    # A file the store names is data, but read within the bound all inputs have.
    read_bounded(ref["mockConfig"], MAX_DEFINITION_BYTES, "mock config")
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
    if args.target is not None and args.handlers is not None:
        raise UsageError("give the saga TARGET or --handlers, not both")
    store = open_existing_store(args.store)
    names: Sequence[str] | None = args.name
    binding = Binding(
        target=args.target,
        handlers=args.handlers,
        trust_store=args.trust_store,
        store=str(args.store),
    )
    try:
        if names:
            unknown = [name for name in names if store.find(name) is None]
            if unknown:
                raise UsageError(f"no execution named {unknown[0]!r} in {args.store}")
        report = resume(
            store,
            handlers_for=binding.handlers_for,
            interceptors_for=binding.interceptors_for,
            clock=_clock(args.clock),
            names=names,
            take_over=args.take_over,
        )
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    print_json(_report(report, args.history))
    for name, reason in report.not_resumed:
        fail(f"{name} was not resumed: {reason}")
    if report.unrecorded:
        return EXIT_NOT_RECORDED
    if report.unbound:
        return EXIT_BAD_USAGE
    if report.skipped or any(e.status != "SUCCEEDED" for e in report.executions):
        return EXIT_FAILED
    return EXIT_OK
