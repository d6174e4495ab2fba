"""Loading a definition: JSON text or object, ``${Name}`` substitutions, schema validation."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.diagnostics import DefinitionError, Diagnostic
from engine.model import StateMachine
from engine.validate import diagnostics_from_validation_error, validate_machine
from engine.validate.messages import json_type

__all__ = ["json_error_text", "load", "substitute", "with_substitutions"]

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def substitute(value: Any, substitutions: Mapping[str, str]) -> Any:
    """Replace ``${Name}`` in every string of ``value``; placeholders without a value stay verbatim.

    Iterative, so a deeply nested document cannot exhaust the stack; ``value`` is not modified.
    """

    def replace(text: str) -> str:
        if "${" not in text:
            return text
        return _PLACEHOLDER.sub(lambda m: substitutions.get(m.group(1), m.group(0)), text)

    def copy(node: Any) -> Any:
        if isinstance(node, str):
            return replace(node)
        if isinstance(node, dict):
            return {}
        if isinstance(node, list):
            return [None] * len(node)
        return node

    root = copy(value)
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        if isinstance(source, dict):
            for key, child in source.items():
                target[replace(key)] = copied = copy(child)
                if isinstance(child, dict | list):
                    stack.append((child, copied))
        elif isinstance(source, list):
            for index, child in enumerate(source):
                target[index] = copied = copy(child)
                if isinstance(child, dict | list):
                    stack.append((child, copied))
    return root


def with_substitutions(
    machine: StateMachine, substitutions: Mapping[str, str] | None
) -> StateMachine:
    """``machine`` with its ``${Name}`` placeholders filled; itself when there is none to fill."""
    if not substitutions:
        return machine
    return StateMachine.model_validate(substitute(machine.to_dict(), substitutions))


def load(
    source: str | bytes | Mapping[str, Any] | Path,
    substitutions: Mapping[str, str] | None = None,
    *,
    validate: bool = True,
) -> StateMachine:
    """Build a :class:`StateMachine` from JSON text, a parsed object or a file path.

    Raises :class:`DefinitionError` with every diagnostic when the definition is unusable
    (or, with ``validate=True``, when the validator reports errors).
    """
    document = _parse(source)
    if substitutions:
        document = substitute(document, substitutions)
    if not isinstance(document, dict):
        raise DefinitionError(
            [Diagnostic("INVALID_TYPE", "", f"expected a JSON object, got {json_type(document)}")]
        )
    try:
        machine = StateMachine.model_validate(document, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise DefinitionError(diagnostics_from_validation_error(exc, document)) from None
    except RecursionError:
        raise DefinitionError(
            [Diagnostic("TOO_DEEP", "", "the definition is nested too deeply to load")]
        ) from None
    if validate:
        diagnostics = validate_machine(machine)
        if any(d.severity == "error" for d in diagnostics):
            raise DefinitionError(diagnostics)
    return machine


def _parse(source: str | bytes | Mapping[str, Any] | Path) -> Any:
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, Mapping):
        return dict(source)
    if not isinstance(source, str | bytes | bytearray):
        raise TypeError(
            "definition: expected JSON text, bytes, a mapping or a Path, "
            f"got {type(source).__name__}"
        )
    try:
        if not isinstance(source, str):
            # json.loads would guess UTF-16 or UTF-32 from the first bytes; ASL is UTF-8 text
            source = source.decode("utf-8")
        return json.loads(source, parse_constant=_reject_constant)
    except _NonFiniteNumberError as exc:
        raise DefinitionError(
            [Diagnostic("INVALID_JSON", "", f"not valid JSON: {exc.args[0]} is not a JSON number")]
        ) from None
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [
                Diagnostic(
                    "INVALID_JSON",
                    "",
                    f"not valid JSON: {json_error_text(exc)}",
                )
            ]
        ) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            [
                Diagnostic(
                    "INVALID_JSON",
                    "",
                    f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
                )
            ]
        ) from None
    except RecursionError:
        raise DefinitionError(
            [Diagnostic("TOO_DEEP", "", "the JSON text is nested too deeply to parse")]
        ) from None


def json_error_text(exc: json.JSONDecodeError) -> str:
    """Python's JSON error, its position spelled once: ``Unterminated string at line 1 column 9``.

    (Some of its messages end in "at", which ``str(exc)`` follows with a colon.)
    """
    return f"{exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}"


class _NonFiniteNumberError(ValueError):
    """``NaN``/``Infinity`` in the text: Python's parser accepts them, JSON does not."""


def _reject_constant(text: str) -> Any:
    raise _NonFiniteNumberError(text)
