"""The user code a command runs, how a store records it, and whether a stored definition is its.

``saga run TARGET`` loads a saga, ``saga execute --handlers SPEC`` (and ``serve``, ``test-state``)
a ``HANDLERS`` mapping; the reference each records lets ``saga resume`` bind the same code.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine.store import StoredExecution
from saga.cli._common import UsageError
from saga.cli._targets import describe_error, import_module, import_target
from saga.errors import SagaDefinitionError
from saga.saga import Saga

__all__ = [
    "canonical_definition",
    "handlers_ref",
    "load_handlers",
    "load_saga",
    "same_definition",
    "saga_ref",
]


def load_saga(text: str) -> Saga:
    """The saga ``module:attribute`` names (the current directory is importable)."""
    try:
        value = import_target(
            text, "module:attribute, e.g. shop.orders:saga", passthrough=(SagaDefinitionError,)
        )
    except SagaDefinitionError as exc:
        raise UsageError(f"TARGET {text!r}: {exc}") from None
    if not isinstance(value, Saga):
        raise UsageError(f"TARGET {text!r} is not a Saga (it is {type(value).__name__})")
    return value


def _import_module(spec: str) -> Any:
    path = Path(spec)
    if spec.endswith(".py") or path.is_file():
        if not path.is_file():
            raise UsageError(f"--handlers: no such file: {spec}")
        module_name = f"_saga_handlers_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise UsageError(f"--handlers: cannot load {spec}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        directory = str(path.resolve().parent)
        sys.path.insert(0, directory)
        try:
            module_spec.loader.exec_module(module)
        finally:
            sys.path.remove(directory)
        return module
    return import_module(spec)


def load_handlers(spec: str) -> dict[str, Callable[..., Any]]:
    """The ``HANDLERS`` mapping of a module name or a ``.py`` file; UsageError when unusable.

    Any failure while the module is imported (``SystemExit`` included) is one line.
    """
    try:
        module = _import_module(spec)
    except UsageError as exc:
        message = str(exc)
        raise UsageError(
            message if message.startswith("--handlers") else f"--handlers: {message}"
        ) from None
    except ModuleNotFoundError as exc:
        raise UsageError(f"--handlers: cannot import {spec}: {exc}") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit and any BaseException the module raises
        raise UsageError(f"--handlers: importing {spec} failed: {describe_error(exc)}") from None
    handlers = getattr(module, "HANDLERS", None)
    if not isinstance(handlers, Mapping):
        raise UsageError(f"--handlers: {spec} has no HANDLERS dict (resource or name -> callable)")
    bad = [str(key) for key, value in handlers.items() if not callable(value)]
    if bad:
        raise UsageError(f"--handlers: HANDLERS entries are not callable: {', '.join(bad)}")
    return {str(key): value for key, value in handlers.items()}


def saga_ref(target: str, *, mock_config: str | None = None, test_case: str | None = None) -> str:
    """The reference ``saga run TARGET`` records: the saga, and its mock config if any."""
    ref: dict[str, Any] = {"saga": target, "cwd": os.getcwd()}
    if mock_config is not None:
        ref["mockConfig"] = str(Path(mock_config).resolve())
        ref["testCase"] = test_case
    return json.dumps(ref, sort_keys=True)


def handlers_ref(spec: str) -> str:
    """The reference ``saga execute --handlers SPEC`` records (a file is made absolute)."""
    path = Path(spec)
    module = str(path.resolve()) if spec.endswith(".py") or path.is_file() else spec
    return json.dumps({"handlers": module, "cwd": os.getcwd()}, sort_keys=True)


def canonical_definition(definition: Any) -> str:
    """A definition's JSON with sorted keys and no spaces: equal text for equal definitions."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same_definition(record: StoredExecution, definition: str) -> bool:
    """Whether ``record`` ran the canonical ``definition`` (a stored text not JSON never did)."""
    try:
        return canonical_definition(json.loads(record.definition)) == definition
    except ValueError:
        return False
