"""The object a ``module:attribute`` TARGET names (the current directory is importable)."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

from saga.cli._common import UsageError

__all__ = ["import_module", "import_target"]


def import_module(name: str) -> ModuleType:
    """Import module ``name`` with the current directory importable (as ``python -m`` has it)."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(name)


def import_target(text: str, expected: str) -> Any:
    """The object ``module:attribute`` names; UsageError (saying ``expected``) when it cannot."""
    module_name, _, attribute = text.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"TARGET {text!r}: expected {expected}")
    try:
        value: Any = import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"TARGET {text!r}: cannot import {module_name!r}: {exc}") from None
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise UsageError(
                f"TARGET {text!r}: {module_name} has no attribute {attribute!r}"
            ) from None
    return value
