"""Loading what a test runs: a saga named ``module:attribute``, or an ASL definition file."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.loader import load
from engine.model import StateMachine
from saga.saga import Saga

__all__ = ["import_target", "load_machine", "load_saga", "resolve_path"]


def import_target(target: str) -> Any:
    """The object ``module:attribute`` names (dotted attributes allowed)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:attribute', got {target!r}")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ValueError(f"{target!r}: {module_name} has no attribute {attribute!r}") from None
    return value


def load_saga(target: str) -> Saga:
    """The :class:`Saga` ``module:attribute`` names."""
    value = import_target(target)
    if not isinstance(value, Saga):
        raise TypeError(f"{target!r} is a {type(value).__name__}, not a Saga")
    return value


def resolve_path(path: str | Path, search: Sequence[Path] = ()) -> Path:
    """``path`` as given when it exists, else the first of ``search``/``path`` that does."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    for directory in search:
        found = directory / candidate
        if found.exists():
            return found
    return candidate


def load_machine(
    path: str | Path,
    substitutions: Mapping[str, str] | None = None,
    *,
    search: Sequence[Path] = (),
) -> StateMachine:
    """A state machine from an ASL file, with ``${Name}`` substitutions applied."""
    return load(resolve_path(path, search), substitutions)
