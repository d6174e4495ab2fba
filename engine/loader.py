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

__all__ = ["load", "substitute"]

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def substitute(value: Any, substitutions: Mapping[str, str]) -> Any:
    """Replace ``${Name}`` in every string of ``value``; placeholders without a value stay verbatim."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        return _PLACEHOLDER.sub(lambda m: substitutions.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {substitute(k, substitutions): substitute(v, substitutions) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, substitutions) for v in value]
    return value


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
            [Diagnostic("INVALID_TYPE", "", f"expected a JSON object, got {_json_type(document)}")]
        )
    try:
        machine = StateMachine.model_validate(document)
    except ValidationError as exc:
        from engine.validate import diagnostics_from_validation_error

        raise DefinitionError(diagnostics_from_validation_error(exc, document)) from None
    except RecursionError:
        raise DefinitionError(
            [Diagnostic("TOO_DEEP", "", "the definition is nested too deeply to load")]
        ) from None
    if validate:
        diagnostics = machine.validate()
        if any(d.severity == "error" for d in diagnostics):
            raise DefinitionError(diagnostics)
    return machine


def _parse(source: str | bytes | Mapping[str, Any] | Path) -> Any:
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, Mapping):
        return dict(source)
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [
                Diagnostic(
                    "INVALID_JSON",
                    "",
                    f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                )
            ]
        ) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError([Diagnostic("INVALID_JSON", "", f"not UTF-8 text: {exc}")]) from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
