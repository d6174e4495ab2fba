"""Helpers shared by the subcommands: exit codes, messages, JSON input and output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "EXIT_BAD_USAGE",
    "EXIT_FAILED",
    "EXIT_OK",
    "UsageError",
    "fail",
    "print_json",
    "read_json_arg",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_USAGE = 2


class UsageError(Exception):
    """Bad usage or unusable input: reported in one line on stderr, exit code 2."""


def fail(message: str, *, code: int = EXIT_BAD_USAGE) -> int:
    """Print ``saga: message`` on stderr and return ``code``."""
    print(f"saga: {message}", file=sys.stderr)
    return code


def print_json(value: Any) -> None:
    """Print one JSON object on stdout."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


def read_json_arg(text: str, what: str = "--input") -> Any:
    """Parse a ``JSON`` or ``@FILE`` argument."""
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{what}: cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{what}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
