"""What starting an execution takes, checked: the machine, its input and the execution's name.

Also the definition text each execution keeps (rendered once per model, cached across engines).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from engine.limits import (
    MAX_JSON_DEPTH,
    MAX_PAYLOAD_BYTES,
    InvalidExecutionInput,
    json_copy,
    nested_deeper_than,
)
from engine.loader import load
from engine.model import StateMachine
from engine.names import is_valid_name

__all__ = [
    "MachineSource",
    "as_machine",
    "check_execution_name",
    "clean_input",
    "definition_text",
]

_DEFINITIONS_CACHE_SIZE: Final = 256

MachineSource = StateMachine | Mapping[str, Any] | str | bytes | Path
"""A model, a parsed definition, JSON text or a definition file."""


_definitions: dict[int, tuple[StateMachine, str]] = {}
_definitions_lock = threading.Lock()


def definition_text(machine: StateMachine) -> str:
    """A model's ASL JSON text, cached across engines so one-call runs render it once.

    Keyed by the model object (kept alive by the entry, so its id stays its own); a model is
    not changed once loaded.
    """
    cached = _definitions.get(id(machine))
    if cached is not None and cached[0] is machine:
        return cached[1]
    text = json.dumps(machine.to_dict(), separators=(",", ":"), ensure_ascii=False)
    with _definitions_lock:
        if len(_definitions) >= _DEFINITIONS_CACHE_SIZE:
            _definitions.clear()
        _definitions[id(machine)] = (machine, text)
    return text


def as_machine(source: MachineSource) -> StateMachine:
    if isinstance(source, StateMachine):
        return source
    if isinstance(source, str) and not source.lstrip().startswith(("{", "[")):
        return load(Path(source))
    return load(source)


def clean_input(value: Any) -> Any:
    if value is None or (type(value) is dict and not value):
        return {}
    if nested_deeper_than(value):
        raise InvalidExecutionInput(
            f"the execution input nests objects and arrays more than {MAX_JSON_DEPTH} levels deep"
        )
    try:
        data, size = json_copy(value)
    except RecursionError:
        raise InvalidExecutionInput("the execution input is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise InvalidExecutionInput(f"the execution input is not JSON data: {exc}") from None
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidExecutionInput(
            f"the execution input is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}"
        )
    return data


def check_execution_name(name: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"execution name: expected a string, got {type(name).__name__}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"invalid execution name {name!r}: not valid Unicode text (a lone surrogate)"
        ) from None
    if not is_valid_name(name):
        raise ValueError(
            f"invalid execution name {name!r}: 1-80 characters, no whitespace, brackets, "
            "wildcards or special characters"
        )
