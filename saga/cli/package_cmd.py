"""``saga package TARGET -o DIR``: a directory that deploys as it is (``sam build``, then deploy).

``DIR/template.yaml`` is the SAM template; ``DIR/src`` holds the steps' code, their Lambda
handler and ``requirements.txt``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from asl_export.package import write_package
from asl_export.render import ExportError
from saga.cli._common import EXIT_OK, UsageError
from saga.cli.export_cmd import load_target, read_substitutions

__all__ = ["register"]


def _package(args: argparse.Namespace) -> int:
    target = load_target(args.target)
    if not target.functions:
        raise UsageError(
            f"TARGET {args.target!r} has no Python steps to package; "
            "use 'saga export --format sam' for its template"
        )
    directory = Path(args.output)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"-o: {directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        package = write_package(
            target.machine,
            name=args.name or target.name,
            functions=target.functions,
            directory=directory,
            values=read_substitutions(args.substitutions),
        )
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"-o: cannot write {directory}: {exc.strerror or exc}") from None
    summary = {
        "template": str(package.template),
        "code": str(package.code),
        "functions": [spec.resource_id for spec in target.functions],
        "modules": list(package.modules),
        "requirements": list(package.requirements),
    }
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``saga package`` to the command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "package",
        help="write a directory that deploys as it is: SAM template, code, requirements",
        description="Write DIR/template.yaml (SAM) and DIR/src: the packages the steps live "
        "in, the packages they import from this project, the functions' handler (standard "
        "library only) and requirements.txt pinned to the installed versions. Then "
        "'sam build --template DIR/template.yaml' and 'sam deploy --guided'.",
    )
    parser.add_argument("target", metavar="TARGET", help="a saga or deployment, module:attribute")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="the directory")
    parser.add_argument("--name", help="state machine name (default: the target's)")
    parser.add_argument(
        "--substitutions",
        metavar="FILE",
        help="JSON object of placeholder values the template should fill in itself",
    )
    parser.set_defaults(handler=_package)
