"""``saga graph``: a saga or definition drawn as Mermaid, Graphviz DOT or SVG."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asl_export.execution_path import Role
from asl_export.graph import render_graph
from asl_export.svg import render_svg
from saga.cli._common import EXIT_OK, UsageError
from saga.cli.export_cmd import load_target, write_output

__all__ = ["register", "target_roles"]


def target_roles(text: str) -> dict[str, Role] | None:
    """The roles of a saga TARGET's states (None for a definition: they are inferred)."""
    if Path(text).is_file() or text.endswith(".json") or ":" not in text:
        return None
    from saga.cli._targets import import_target
    from saga.roles import state_roles
    from saga.saga import Saga

    value = import_target(text, "module:attribute or a definition file")
    return state_roles(value) if isinstance(value, Saga) else None


def _graph(args: argparse.Namespace) -> int:
    target = load_target(args.target)
    if args.format == "svg":
        history = None
        if args.execution is not None:
            history = _execution_history(args)
        roles = target_roles(args.target)
        text = render_svg(target.machine, history, roles=roles)
    else:
        if args.execution is not None:
            raise UsageError("--execution colours an SVG drawing only: add --format svg")
        text = render_graph(
            target.machine, args.format, compensations=target.compensations, name=target.name
        )
    write_output(text, args.output)
    return EXIT_OK


def _execution_history(args: argparse.Namespace) -> Any:
    from engine.store import StoreError
    from saga.cli.executions_cmd import open_existing_store

    if args.store is None:
        raise UsageError("--execution needs --store PATH (the store it was kept in)")
    store = open_existing_store(args.store)
    try:
        if store.find(args.execution) is None:
            raise UsageError(f"no execution named {args.execution!r} in {args.store}")
        return store.history(args.execution)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()


def register(subparsers: Any) -> None:
    """Add ``saga graph`` to the command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "graph",
        help="draw a saga or definition (Mermaid, DOT or SVG)",
        description="Draw the state machine; catch edges are dotted red, compensation edges "
        "thick orange. --format svg draws it without Graphviz and, with --execution NAME "
        "--store PATH, colours the path that execution took.",
    )
    parser.add_argument("target", metavar="TARGET", help="module:attribute or a definition file")
    parser.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--execution", metavar="NAME", help="colour the path of this stored execution (svg)"
    )
    parser.add_argument("--store", metavar="PATH", help="the SQLite store holding --execution")
    parser.set_defaults(handler=_graph)
