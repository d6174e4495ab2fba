"""``saga graph``: a saga or definition drawn as Mermaid or Graphviz DOT."""

from __future__ import annotations

import argparse
from typing import Any

from asl_export.graph import render_graph
from saga.cli._common import EXIT_OK
from saga.cli.export_cmd import load_target, write_output

__all__ = ["register"]


def _graph(args: argparse.Namespace) -> int:
    target = load_target(args.target)
    text = render_graph(
        target.machine, args.format, compensations=target.compensations, name=target.name
    )
    write_output(text, args.output)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``saga graph`` to the command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "graph",
        help="draw a saga or definition (Mermaid or DOT)",
        description="Draw the state machine; catch edges are dotted red, compensation edges "
        "thick orange.",
    )
    parser.add_argument("target", metavar="TARGET", help="module:attribute or a definition file")
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.set_defaults(handler=_graph)
