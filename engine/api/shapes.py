"""Request validation against the Step Functions service model that ships with botocore.

Field names, types, required members, lengths, ranges and enums come from botocore's
``stepfunctions`` model, so a request is checked exactly as its shape says; violations are
reported as AWS's ``ValidationException`` messages
(``1 validation error detected: Value … at '…' failed to satisfy constraint: …``).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from engine.api.errors import ApiError

__all__ = ["operation_names", "validate_request"]


_NUMBERS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "integer": (int, "an integer"),
    "long": (int, "an integer"),
    "float": ((int, float), "a number"),
    "double": ((int, float), "a number"),
}
"""Numeric shapes of the API model: the Python types each accepts, and how AWS names them."""


@functools.cache
def _service_model() -> Any:
    try:
        import botocore.session
    except ImportError as exc:  # pragma: no cover - botocore comes with the 'aws' extra
        raise RuntimeError(
            "the Step Functions API server needs botocore: pip install 'saga-statemachine[aws]'"
        ) from exc
    return botocore.session.get_session().get_service_model("stepfunctions")


def operation_names() -> frozenset[str]:
    """Every operation the Step Functions API defines."""
    return frozenset(_service_model().operation_names)


_ENUM_ORDERS: dict[str, tuple[str, ...]] = {
    "ExecutionStatus": (
        "SUCCEEDED",
        "TIMED_OUT",
        "PENDING_REDRIVE",
        "ABORTED",
        "FAILED",
        "RUNNING",
    ),
}
"""Enums whose values AWS lists in an order of its own in the enum message (as recorded)."""


def _java(value: Any, shape: Any) -> str:
    """``value`` as AWS writes it in a message: ``Shape(member=value, ...)``, ``[...]``."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = ", ".join(
            f"{member}={_java(value[member], member_shape)}"
            for member, member_shape in shape.members.items()
            if value.get(member) is not None
        )
        return f"{shape.name}({members})"
    if shape.type_name == "list" and isinstance(value, list):
        return "[" + ", ".join(_java(item, shape.member) for item in value) + "]"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _show(value: Any, shape: Any = None) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"'{value}'"
    if shape is not None and shape.type_name in ("list", "structure"):
        return f"'{_java(value, shape)}'"
    return f"'{json.dumps(value)}'"


def _check(shape: Any, value: Any, where: str, problems: list[str]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                "Member must be an object"
            )
            return
        for member in shape.required_members:
            if value.get(member) is None:
                path = f"{where}.{member}" if where else member
                problems.append(
                    f"Value null at '{path}' failed to satisfy constraint: Member must not be null"
                )
        for member, member_shape in shape.members.items():
            if member in value and value[member] is not None:
                path = f"{where}.{member}" if where else member
                _check(member_shape, value[member], path, problems)
        return
    if kind == "string":
        if not isinstance(value, str):
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                "Member must be a string"
            )
            return
        if "min" in meta and len(value) < meta["min"]:
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and len(value) > meta["max"]:
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {meta['max']}"
            )
        if shape.enum and value not in shape.enum:
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                "Member must satisfy enum value set: "
                f"[{', '.join(_ENUM_ORDERS.get(shape.name, shape.enum))}]"
            )
        return
    if kind in _NUMBERS:
        accepted, what = _NUMBERS[kind]
        if isinstance(value, bool) or not isinstance(value, accepted):
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                f"Member must be {what}"
            )
            return
        if "min" in meta and value < meta["min"]:
            problems.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            problems.append(
                f"Value '{value}' at '{where}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                "Member must be a boolean"
            )
        return
    if kind == "list":
        if not isinstance(value, list):
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                "Member must be a list"
            )
            return
        if "min" in meta and len(value) < meta["min"]:
            problems.append(
                f"Value {_show(value, shape)} at '{where}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and len(value) > meta["max"]:
            problems.append(
                f"Value {_show(value, shape)} at '{where}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {meta['max']}"
            )
        for index, item in enumerate(value):
            _check(shape.member, item, f"{where}.{index + 1}.member", problems)
        return
    if kind == "map":
        if not isinstance(value, dict):
            problems.append(
                f"Value {_show(value)} at '{where}' failed to satisfy constraint: "
                "Member must be a map"
            )
            return
        for key, item in value.items():
            _check(shape.value, item, f"{where}.{key}", problems)


def validate_request(operation: str, params: Any) -> None:
    """Raise ``ValidationException`` when ``params`` break the operation's input shape."""
    shape = _service_model().operation_model(operation).input_shape
    if shape is None:
        return
    problems: list[str] = []
    _check(shape, params, "", problems)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ApiError.validation(f"{count} validation {noun} detected: " + "; ".join(problems))
