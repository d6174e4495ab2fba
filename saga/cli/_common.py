"""Helpers shared by the subcommands: exit codes, messages, bounded input reading, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from engine.limits import MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, nested_deeper_than
from engine.loader import json_error_text

__all__ = [
    "EXIT_BAD_USAGE",
    "EXIT_FAILED",
    "EXIT_NOT_RECORDED",
    "EXIT_OK",
    "MAX_DEFINITION_BYTES",
    "MAX_INPUT_BYTES",
    "UsageError",
    "fail",
    "one_line",
    "parse_json_text",
    "print_json",
    "read_bounded",
    "read_json_arg",
    "read_text_file",
    "write_stdout",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_USAGE = 2
EXIT_NOT_RECORDED = 3
"""The store could not record an event: the execution is left RUNNING there, resumable."""

MAX_INPUT_BYTES: Final = MAX_PAYLOAD_BYTES
"""An execution input, as Step Functions takes it: 256 KiB of UTF-8 JSON."""

MAX_DEFINITION_BYTES: Final = 1_048_576
"""A definition, a substitutions or mock config file: 1 MiB (Step Functions' definition quota)."""


class UsageError(Exception):
    """Bad usage or unusable input: reported in one line on stderr, exit code 2."""


def one_line(text: str) -> str:
    """``text`` with control characters, line breaks and lone surrogates escaped (one line)."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def fail(message: str, *, code: int = EXIT_BAD_USAGE) -> int:
    """Print ``saga: message`` on stderr, as one line, and return ``code``."""
    print(f"saga: {one_line(message)}", file=sys.stderr)
    return code


def print_json(value: Any) -> None:
    """Print one JSON object on stdout (a lone surrogate as a ``\\uXXXX`` escape)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, indent=2)
    write_stdout(text + "\n")


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush it; UsageError when stdout cannot take it (a full
    disk). A reader that went away (BrokenPipeError) is left to the caller."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UsageError(f"cannot write to stdout: {exc.strerror or exc}") from None


def read_bounded(path: str | Path, limit: int, what: str = "") -> bytes:
    """At most ``limit`` bytes of the file (a device or pipe too); UsageError beyond.

    ``what`` (an option name) starts the message when given.
    """
    prefix = f"{what}: " if what else ""
    try:
        with Path(path).open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{prefix}cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # an embedded NUL, a name the OS cannot take
        raise UsageError(f"{prefix}cannot read {path!r}: {exc}") from None
    if len(data) > limit:
        raise UsageError(f"{prefix}{path} is larger than the limit of {limit:,} bytes")
    return data


def _decode(data: bytes, where: str, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = f"{what}: " if what else ""
        raise UsageError(
            f"{prefix}{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None


def read_text_file(path: str | Path, what: str, limit: int = MAX_DEFINITION_BYTES) -> str:
    """A UTF-8 text file of at most ``limit`` bytes; UsageError naming ``what`` otherwise."""
    return _decode(read_bounded(Path(path), limit, what), str(path), what)


def parse_json_text(text: str, what: str, where: str | None = None) -> Any:
    """JSON data from text: UsageError for invalid JSON or nesting deeper than the limit."""
    source = f"{where} is not valid JSON" if where else "not valid JSON"
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what}: {source}: {json_error_text(exc)}") from None
    except _NotJSON as exc:
        raise UsageError(f"{what}: {source}: {exc.args[0]} is not a JSON number") from None
    except RecursionError:
        value = None
        deep = True
    else:
        deep = nested_deeper_than(value)
    if deep:
        raise UsageError(f"{what}: objects and arrays nest more than {MAX_JSON_DEPTH} levels deep")
    return value


class _NotJSON(ValueError):
    """``NaN``/``Infinity``: Python's parser takes them, JSON does not."""


def _reject_constant(text: str) -> Any:
    raise _NotJSON(text)


def read_json_arg(text: str, what: str = "--input", limit: int = MAX_INPUT_BYTES) -> Any:
    """Parse a ``JSON`` or ``@FILE`` argument: at most ``limit`` bytes of UTF-8 JSON."""
    if text.startswith("@"):
        path = Path(text[1:])
        return parse_json_text(
            _decode(read_bounded(path, limit, what), str(path), what), what, str(path)
        )
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise UsageError(f"{what}: not UTF-8 text") from None
    if size > limit:
        raise UsageError(f"{what}: {size:,} bytes is larger than the limit of {limit:,} bytes")
    return parse_json_text(text, what)
