"""Step Functions quotas the local engine enforces, and the payload size check."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any, Final

from engine.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError

__all__ = [
    "DEFAULT_TASK_TIMEOUT_SECONDS",
    "FatalError",
    "InvalidExecutionInput",
    "MAX_HISTORY_EVENTS",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "check_payload_size",
    "data_limit_error",
    "json_copy",
    "nested_deeper_than",
    "payload_size",
    "to_json_text",
]


class InvalidExecutionInput(ValueError):
    """The execution input is not JSON data or exceeds 262,144 bytes."""


class FatalError(StatesError):
    """An error that ends the execution at once: no Retry, no Catch, not stopped by branches.

    ``States.Runtime`` (with AWS's cause prefix naming the state), a post-Parameters input or a
    state output over the payload quota, the history quota.
    """


MAX_PAYLOAD_BYTES: Final = 262_144
"""256 KiB, UTF-8: execution input, state input/output, task input/result."""

MAX_JSON_DEPTH: Final = 512
"""Nesting levels (objects and arrays within each other) the engine accepts in JSON data.

Deeper data is refused up front with a typed error rather than exhausting Python's stack.
"""

MAX_HISTORY_EVENTS: Final = 25_000
"""Events per Standard execution; reaching it fails the execution."""

DEFAULT_TASK_TIMEOUT_SECONDS: Final = 99_999_999
"""AWS's Task ``TimeoutSeconds`` when none is given."""


_compact_encoder: Final = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_compact_encode: Final = _compact_encoder.encode
"""``json.dumps`` with these options, without building an encoder on every call."""

_c_make_encoder: Final[Any] = getattr(json.encoder, "c_make_encoder", None)
_scan_once: Final[Callable[[str, int], tuple[Any, int]]] = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""``json.loads`` without its whitespace checks, for text :func:`to_json_text` wrote."""


def to_json_text(value: Any) -> str:
    """Compact JSON text of a value; ``TypeError``/``ValueError`` when it is not JSON data."""
    if _c_make_encoder is None or isinstance(value, str):
        return _compact_encode(value)
    # What ``_compact_encode`` runs, without its two Python-level calls: the C encoder with a
    # fresh circular-reference memo (so circular data still raises the same ValueError).
    encode = _c_make_encoder(
        {}, _compact_encoder.default, encode_basestring, None, ":", ",", False, False, False
    )
    return "".join(encode(value, 0))


_JSON_SCALARS: Final = frozenset({bool, int, float, str})


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def payload_size(value: Any) -> int:
    """Bytes of the value's compact UTF-8 JSON text."""
    return _utf8_size(to_json_text(value))


def nested_deeper_than(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether objects and arrays in ``value`` nest more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend(
            (child, depth + 1) for child in children if isinstance(child, dict | list | tuple)
        )
    return False


def json_copy(value: Any) -> tuple[Any, int]:
    """A JSON-clean copy of a value (scalars as they are) and its payload size in bytes.

    Raises ``TypeError``/``ValueError`` when the value is not JSON data.
    """
    text = to_json_text(value)
    if value is None or type(value) in _JSON_SCALARS:
        return value, _utf8_size(text)
    return _scan_once(text, 0)[0], _utf8_size(text)


def data_limit_error(state_name: str) -> StatesError:
    """The ``States.DataLimitExceeded`` error for a state's oversize result."""
    return StatesError(
        DATA_LIMIT_EXCEEDED,
        f"The state/task '{state_name}' returned a result with a size exceeding the maximum "
        "number of bytes service limit.",
    )


def check_payload_size(value: Any, state_name: str) -> None:
    """Raise ``States.DataLimitExceeded`` for a payload over 262,144 bytes.

    Numbers, short strings and empty containers cannot reach the limit and are not serialised.
    """
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, str):
        if len(value) * 6 + 2 <= MAX_PAYLOAD_BYTES:  # ``\u0000`` is the longest escape
            return
    elif isinstance(value, dict | list) and len(value) == 0:
        return
    try:
        size = payload_size(value)
    except (TypeError, ValueError) as exc:
        raise StatesError(
            RUNTIME, f"The state '{state_name}' produced a value that is not JSON: {exc}"
        ) from None
    if size > MAX_PAYLOAD_BYTES:
        raise data_limit_error(state_name)
