"""Schema and graph checks of a definition (placeholder until the full validator lands)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from engine.diagnostics import Diagnostic
from engine.model import StateMachine

__all__ = ["diagnostics_from_validation_error", "validate_machine"]


def validate_machine(machine: StateMachine) -> list[Diagnostic]:
    """Every diagnostic of ``machine``."""
    return []


def diagnostics_from_validation_error(exc: ValidationError, document: Any) -> list[Diagnostic]:
    """Pydantic's errors as diagnostics with JSON-pointer locations."""
    out = []
    for err in exc.errors():
        loc = "/" + "/".join(str(p) for p in err["loc"])
        out.append(Diagnostic("SCHEMA", loc, err["msg"]))
    return out
