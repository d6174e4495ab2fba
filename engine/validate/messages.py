"""Pydantic validation errors as diagnostics: stable codes, JSON-pointer locations, plain messages.

Pydantic reports locations in its own terms (the ``Type`` tag of a state, the member of a
union that failed); this module maps them back onto the document the user wrote.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from engine import model
from engine._pointer import join
from engine.diagnostics import Diagnostic

__all__ = [
    "STATE_CLASSES",
    "describe_annotation",
    "describe_owner",
    "diagnostics_from_validation_error",
    "json_type",
]

STATE_CLASSES: dict[str, type[BaseModel]] = {
    "Pass": model.PassState,
    "Task": model.TaskState,
    "Choice": model.ChoiceState,
    "Wait": model.WaitState,
    "Succeed": model.SucceedState,
    "Fail": model.FailState,
    "Parallel": model.ParallelState,
    "Map": model.MapState,
}
"""Each state class by its ``Type`` value."""

_OTHER_CLASSES: tuple[type[BaseModel], ...] = (
    model.StateMachine,
    model.Branch,
    model.ItemProcessor,
    model.ProcessorConfig,
    model.Retrier,
    model.Catcher,
    model.ChoiceRule,
)

_OWNER_NAMES: dict[type[BaseModel], str] = {
    **{cls: f"a {name} state" for name, cls in STATE_CLASSES.items()},
    model.StateMachine: "the state machine",
    model.Branch: "a Parallel branch",
    model.ItemProcessor: "an item processor",
    model.ProcessorConfig: "a ProcessorConfig",
    model.Retrier: "a retrier",
    model.Catcher: "a catcher",
    model.ChoiceRule: "a Choice rule",
}


def _aliases(cls: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in cls.model_fields.items()]


_STATE_FIELDS = frozenset(a for cls in STATE_CLASSES.values() for a in _aliases(cls))
_ALL_FIELDS = _STATE_FIELDS | frozenset(a for cls in _OTHER_CLASSES for a in _aliases(cls))
_STATE_TYPES = ", ".join(STATE_CLASSES)


def describe_owner(cls: type[BaseModel]) -> str:
    """How a message names an ASL object: ``a Task state``, ``a retrier`` …"""
    return _OWNER_NAMES.get(cls, cls.__name__)


def json_type(value: Any) -> str:
    """The JSON type name of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def _members(annotation: Any) -> tuple[Any, ...]:
    """The non-null members of a union (or the annotation itself), Annotated stripped."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(a for a in get_args(annotation) if a is not type(None))
    return (annotation,)


def describe_annotation(annotation: Any) -> str:
    """What a field expects, in JSON words (``an integer or a string``)."""
    names: list[str] = []
    for member in _members(annotation):
        origin = get_origin(member)
        if member is str:
            name = "a string"
        elif member is bool:
            name = "a boolean"
        elif member is int:
            name = "an integer"
        elif member is float:
            name = "a number"
        elif origin is list:
            name = "an array"
        elif origin is dict or (isinstance(member, type) and issubclass(member, BaseModel)):
            name = "an object"
        elif origin is Literal:
            name = " or ".join(repr(a) for a in get_args(member))
        elif get_origin(member) in (Union, types.UnionType):
            name = describe_annotation(member)
        else:
            name = "a JSON value"
        if name == "a number" and "an integer" in names:
            names.remove("an integer")
        if name not in names:
            names.append(name)
    return " or ".join(names)


def _field(cls: type[BaseModel], alias: object) -> Any:
    for name, info in cls.model_fields.items():
        if (info.alias or name) == alias:
            return info.annotation
    return None


class _Located:
    """Where a pydantic error points: document path, owning model, field annotation."""

    def __init__(self, loc: Sequence[str | int]) -> None:
        self.path: list[str | int] = []
        self.owner: type[BaseModel] = model.StateMachine
        self.annotation: Any = model.StateMachine
        self.at_state = False
        current: Any = model.StateMachine
        for segment in loc:
            self.at_state = False
            members = _members(current) if current is not None else ()
            base = members[0] if len(members) == 1 and isinstance(members[0], type) else None
            origin = get_origin(members[0]) if len(members) == 1 else None
            if base is not None and issubclass(base, BaseModel):
                self.owner = base
                self.path.append(segment)
                current = _field(base, segment)
            elif len(members) > 1 and all(
                isinstance(m, type) and issubclass(m, BaseModel) for m in members
            ):
                # The tagged union of states: this segment is the ``Type`` tag, not in the document.
                current = STATE_CLASSES.get(str(segment))
            elif origin is list:
                self.path.append(segment)
                current = get_args(members[0])[0]
            elif origin is dict:
                self.path.append(segment)
                current = get_args(members[0])[1]
                self.at_state = _is_state_union(current)
            else:
                # A plain union (``int | str``) names the member that failed: not in the document.
                continue
            self.annotation = current

    @property
    def pointer(self) -> str:
        return join("", *self.path)


def _is_state_union(annotation: Any) -> bool:
    members = _members(annotation)
    return len(members) > 1 and all(m in STATE_CLASSES.values() for m in members)


def _value_at(document: Any, path: Iterable[str | int]) -> tuple[bool, Any]:
    node = document
    for segment in path:
        in_object = isinstance(node, dict) and segment in node
        in_array = isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)
        if not (in_object or in_array):
            return False, None
        node = node[segment]
    return True, node


def _extra_field(where: _Located) -> Diagnostic:
    name = str(where.path[-1])
    owner = where.owner
    allowed = ", ".join(_aliases(owner))
    known = _STATE_FIELDS if owner in STATE_CLASSES.values() else _ALL_FIELDS
    if name in known:
        return Diagnostic(
            "FIELD_NOT_ALLOWED",
            where.pointer,
            f"'{name}' is not allowed in {describe_owner(owner)}; expected only: {allowed}",
        )
    return Diagnostic(
        "UNKNOWN_FIELD",
        where.pointer,
        f"unknown field '{name}' in {describe_owner(owner)}; expected only: {allowed}",
    )


def diagnostics_from_validation_error(exc: ValidationError, document: Any) -> list[Diagnostic]:
    """Every pydantic error of loading ``document`` as one diagnostic (union members merged)."""
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors():
        kind = error["type"]
        where = _Located(error["loc"])
        pointer = where.pointer
        if kind == "recursion_depth_exceeded":
            diagnostic = Diagnostic(
                "TOO_DEEP", "", "the definition is nested more deeply than can be loaded"
            )
            pointer = ""
        elif kind == "missing":
            diagnostic = Diagnostic(
                "MISSING_FIELD",
                pointer,
                f"{describe_owner(where.owner)} requires '{where.path[-1]}' "
                f"({describe_annotation(where.annotation)})",
            )
        elif kind == "extra_forbidden":
            diagnostic = _extra_field(where)
        elif kind == "union_tag_not_found":
            pointer = join(pointer, "Type")
            diagnostic = Diagnostic(
                "MISSING_FIELD", pointer, f"a state requires 'Type' (one of {_STATE_TYPES})"
            )
        elif kind == "union_tag_invalid":
            pointer = join(pointer, "Type")
            _, tag = _value_at(document, [*where.path, "Type"])
            shown = json.dumps(tag, default=repr)
            diagnostic = Diagnostic(
                "UNKNOWN_STATE_TYPE",
                pointer,
                f"unknown state Type {shown}; expected one of {_STATE_TYPES}",
            )
        elif error["loc"] and error["loc"][-1] == "[key]":
            diagnostic = Diagnostic("WRONG_TYPE", pointer, "expected object keys to be strings")
        elif kind.endswith("_type") or kind in {"is_instance_of", "literal_error"}:
            found, value = _value_at(document, where.path)
            got = json_type(value) if found else "nothing"
            expected = "a state object" if where.at_state else ""
            if not expected:
                expected = describe_annotation(where.annotation)
            diagnostic = Diagnostic("WRONG_TYPE", pointer, f"expected {expected}, got {got}")
        else:
            diagnostic = Diagnostic("SCHEMA_VIOLATION", pointer, str(error["msg"]))
        key = (diagnostic.code, diagnostic.location)
        if key not in seen:
            seen.add(key)
            out.append(diagnostic)
    return out
