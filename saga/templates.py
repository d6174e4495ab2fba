"""Payload templates: values taken from the state's input at run time (``.$`` keys).

A template is a plain JSON value in which any value may be a :class:`JsonPath`; compiling it
turns ``{"TableName": JsonPath("$.table")}`` into ``{"TableName.$": "$.table"}``. Keys that
already end in ``.$`` are kept as written, so templates copied from an ASL file work as-is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from engine.paths import is_valid_path

__all__ = ["JsonPath", "Template", "compile_template", "template_problems"]


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A value read from the state input (``$.x``), the context object (``$$.x``) or an
    intrinsic function (``States.Format('{}', $.x)``) when the state runs."""

    expression: str

    def __str__(self) -> str:
        return self.expression


Template: TypeAlias = Any
"""A JSON value (dict, list, str, number, bool, None) whose values may be :class:`JsonPath`."""


def compile_template(template: Template) -> Any:
    """The ASL form of ``template``: every :class:`JsonPath` value becomes a ``.$`` key."""
    if isinstance(template, Mapping):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if isinstance(value, JsonPath):
                out[f"{key}.$"] = value.expression
            else:
                out[str(key)] = compile_template(value)
        return out
    if isinstance(template, list | tuple):
        return [compile_template(item) for item in template]
    if isinstance(template, JsonPath):
        raise TypeError("a JsonPath must be the value of an object key")
    return template


def template_problems(template: Template, where: str) -> list[str]:
    """What is wrong with ``template`` (bad paths, a bare JsonPath, non-JSON values)."""
    problems: list[str] = []
    _check(template, where, problems)
    return problems


def _check_dynamic(expression: object, where: str, problems: list[str]) -> None:
    if not isinstance(expression, str):
        problems.append(f"{where} must be a path or intrinsic function string")
        return
    if expression.startswith("States."):
        return  # intrinsic functions are checked by the engine's validator
    if not is_valid_path(expression):
        problems.append(f"{where} is {expression!r}, which is not a valid JSONPath (e.g. '$.name')")


def _check(value: Any, where: str, problems: list[str]) -> None:
    if isinstance(value, JsonPath):
        problems.append(f"{where} is a bare JsonPath; use it as the value of an object key")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{where} has a non-string key {key!r}")
                continue
            child = f"{where}.{key}"
            if isinstance(item, JsonPath):
                _check_dynamic(item.expression, child, problems)
            elif key.endswith(".$"):
                _check_dynamic(item, child, problems)
            else:
                _check(item, child, problems)
        return
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]", problems)
        return
    if value is None or isinstance(value, str | bool | int | float):
        return
    problems.append(f"{where} holds {type(value).__name__}, which is not a JSON value")
