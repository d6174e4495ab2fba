"""Importing the code a command names: a ``module:attribute`` TARGET, a ``--handlers`` module.

Whatever goes wrong while the module is imported — an ``ImportError``, a ``SyntaxError``, any
exception its top level raises, ``sys.exit()`` — becomes one :class:`UsageError` line naming
the module and the error, so the command exits 2 with a message instead of a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from saga.cli._common import UsageError

__all__ = ["describe_error", "guarded_import", "import_module", "import_target"]

_T = TypeVar("_T")


def describe_error(exc: BaseException) -> str:
    """An exception in one line: its class and message (file and line for a SyntaxError)."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    if isinstance(exc, SyntaxError):
        where = f" ({exc.filename}, line {exc.lineno})" if exc.filename else ""
        return f"SyntaxError: {exc.msg}{where}"
    try:
        text = " ".join(str(exc).split())
    except Exception:  # an exception whose str() raises
        text = "<its message could not be read>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def guarded_import(what: str, load: Callable[[], _T]) -> _T:
    """Run ``load`` (an import); any failure at import is a UsageError starting with ``what``."""
    try:
        return load()
    except UsageError:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit and any BaseException the module raises
        raise UsageError(f"{what}: importing it failed: {describe_error(exc)}") from None


def import_module(name: str) -> ModuleType:
    """Import module ``name`` with the current directory importable (as ``python -m`` has it)."""
    if not name or name.startswith(".") or "\x00" in name:
        raise UsageError(f"{name!r} is not an absolute module name (e.g. shop.orders)")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(name)


def import_target(text: str, expected: str, passthrough: tuple[type[Exception], ...] = ()) -> Any:
    """The object ``module:attribute`` names; UsageError (saying ``expected``) when it cannot.

    ``passthrough`` errors raised at import (a saga's own definition errors) are let out as
    they are, for the caller to word.
    """
    module_name, _, attribute = text.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"TARGET {text!r}: expected {expected}")
    if module_name.startswith("."):
        raise UsageError(
            f"TARGET {text!r}: {module_name!r} is a relative module name; give it in full "
            "(e.g. shop.orders:saga)"
        )
    try:
        value: Any = import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"TARGET {text!r}: cannot import {module_name!r}: {exc}") from None
    except UsageError as exc:
        raise UsageError(f"TARGET {text!r}: {exc}") from None
    except passthrough:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit and any BaseException the module raises
        raise UsageError(
            f"TARGET {text!r}: importing {module_name!r} failed: {describe_error(exc)}"
        ) from None
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise UsageError(
                f"TARGET {text!r}: {module_name} has no attribute {attribute!r}"
            ) from None
        except Exception as exc:
            raise UsageError(
                f"TARGET {text!r}: reading {attribute!r} failed: {describe_error(exc)}"
            ) from None
    return value
