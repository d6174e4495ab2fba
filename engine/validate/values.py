"""Checks of single field values, shared by every state: nulls, ranges, paths, templates, Assign."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from engine._pointer import join
from engine.diagnostics import Diagnostic, Severity
from engine.expressions import is_expression
from engine.intrinsics import intrinsic_syntax_error
from engine.names import MAX_NAME_LENGTH
from engine.paths import is_valid_path, is_valid_reference_path, is_valid_result_path
from engine.validate.messages import describe_annotation, json_type

JSONPATH = "JSONPath"
JSONATA = "JSONata"
MAX_SECONDS = 99_999_999
MAX_DELAY_SECONDS = 31_622_400
PATH_HINT = "expected '$', '$.field', '$$.Context' or '$variable' syntax"

_NULLABLE = frozenset({"InputPath", "OutputPath", "ResultPath"})
_NOT_NULL_ANY = frozenset({"Credentials"})
_VARIABLE_NAME = re.compile(r"[^\W\d]\w*")


def set_fields(obj: BaseModel) -> dict[str, Any]:
    """The fields ``obj`` was given, by ASL name (explicit ``null`` included)."""
    fields = type(obj).model_fields
    return {
        fields[name].alias or name: getattr(obj, name)
        for name in obj.model_fields_set
        if name in fields
    }


class ValueChecks:
    """Collects diagnostics; checks one field value at a time (the base of the state checks)."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def _add(self, code: str, location: str, message: str, severity: Severity = "error") -> None:
        self.diagnostics.append(Diagnostic(code, location, message, severity))

    def _query_language(self, value: str | None, location: str, default: str) -> str:
        if value in (JSONPATH, JSONATA):
            return value
        self._add(
            "INVALID_VALUE",
            location,
            f"QueryLanguage is {value!r}; expected 'JSONPath' or 'JSONata'",
        )
        return default

    def _check_nulls(self, obj: BaseModel, location: str) -> None:
        fields = type(obj).model_fields
        for name in obj.model_fields_set:
            info = fields.get(name)
            if info is None or getattr(obj, name) is not None:
                continue
            alias = info.alias or name
            if alias in _NULLABLE or (info.annotation is Any and alias not in _NOT_NULL_ANY):
                continue
            self._add(
                "WRONG_TYPE",
                join(location, alias),
                f"expected {describe_annotation(info.annotation)}, got null",
            )

    def _check_language_fields(
        self,
        fields: Mapping[str, Any],
        location: str,
        language: str,
        jsonpath_only: tuple[str, ...],
        jsonata_only: tuple[str, ...],
    ) -> None:
        wrong = jsonata_only if language == JSONPATH else jsonpath_only
        for key in fields:
            if key in wrong:
                other = JSONATA if language == JSONPATH else JSONPATH
                self._add(
                    "QUERY_LANGUAGE_MISMATCH",
                    join(location, key),
                    f"'{key}' is a {other} field but this object uses {language}; "
                    f"expected only {language} fields (or QueryLanguage '{other}')",
                )

    def _range(self, value: object, location: str, low: float, high: float | None = None) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return
        if value < low or (high is not None and value > high):
            upper = f" and at most {high}" if high is not None else ""
            self._add(
                "OUT_OF_RANGE", location, f"{value} is out of range; expected at least {low}{upper}"
            )

    def _seconds_value(
        self, value: object, location: str, jsonpath: bool, low: int, high: int = MAX_SECONDS
    ) -> None:
        """An integer field that JSONata states may also give as an expression."""
        if isinstance(value, str):
            if jsonpath:
                self._add(
                    "WRONG_TYPE",
                    location,
                    "expected an integer, got string (expressions need QueryLanguage JSONata)",
                )
            elif not is_expression(value):
                self._add(
                    "INVALID_JSONATA",
                    location,
                    f"{value!r} is neither a number nor a JSONata expression '{{% … %}}'",
                )
            return
        self._range(value, location, low, high)

    def _result_path(self, value: object, location: str) -> None:
        if not is_valid_result_path(value):
            self._add(
                "INVALID_REFERENCE_PATH",
                location,
                f"ResultPath {value!r} is not a valid Reference Path; expected '$' or a "
                "single-node path such as '$.result' (no '$$', variables, wildcards or filters)",
            )

    def _reference_path(self, value: object, location: str, key: str) -> None:
        if value is not None and not is_valid_reference_path(value):
            self._add(
                "INVALID_REFERENCE_PATH",
                location,
                f"{key} {value!r} is not a valid Reference Path; expected a single-node "
                "path such as '$.field' (no wildcards or filters)",
            )

    def _dynamic(self, value: object, location: str) -> None:
        """The value of a ``.$`` field: a Path or an intrinsic function call."""
        if not isinstance(value, str):
            self._add(
                "WRONG_TYPE",
                location,
                f"expected a path or intrinsic function string, got {json_type(value)}",
            )
        elif value.startswith("$"):
            if not is_valid_path(value):
                self._add(
                    "INVALID_PATH",
                    location,
                    f"{value!r} is not a valid Path; {PATH_HINT}",
                )
        else:
            problem = intrinsic_syntax_error(value)
            if problem is not None:
                self._add(
                    "INVALID_INTRINSIC",
                    location,
                    f"{value!r} is neither a Path nor a valid intrinsic function call "
                    f"(States.Name(args)): {problem}",
                )

    def _template(self, template: Any, location: str) -> None:
        """A payload template: ``.$`` values checked, duplicate keys after stripping found."""
        stack: list[tuple[Any, str]] = [(template, location)]
        while stack:
            node, where = stack.pop()
            if isinstance(node, dict):
                produced: dict[str, str] = {}
                children: list[tuple[Any, str]] = []
                for key, child in node.items():
                    key_location = join(where, key)
                    if key.endswith(".$"):
                        field = key[:-2]
                        self._dynamic(child, key_location)
                    else:
                        field = key
                        children.append((child, key_location))
                    if field in produced:
                        self._add(
                            "DUPLICATE_TEMPLATE_KEY",
                            key_location,
                            f"'{key}' and '{produced[field]}' both produce field '{field}'; "
                            "expected each field once",
                        )
                    else:
                        produced[field] = key
                stack.extend(reversed(children))
            elif isinstance(node, list):
                stack.extend(reversed([(c, join(where, i)) for i, c in enumerate(node)]))

    def _assign(self, assign: Mapping[str, Any], location: str, jsonpath: bool) -> None:
        for key in assign:
            name = key[:-2] if jsonpath and key.endswith(".$") else key
            too_long = len(name) > MAX_NAME_LENGTH
            if not _VARIABLE_NAME.fullmatch(name) or too_long or name == "states":
                self._add(
                    "INVALID_VARIABLE_NAME",
                    join(location, key),
                    f"'{name}' is not a variable name; expected an identifier of at most "
                    f"{MAX_NAME_LENGTH} characters other than 'states'",
                )
        if jsonpath:
            self._template(assign, location)

    def _exclusive(self, fields: Mapping[str, Any], location: str, *group: str) -> list[str]:
        present = [key for key in group if key in fields]
        for key in present[1:]:
            self._add(
                "MUTUALLY_EXCLUSIVE",
                join(location, key),
                f"'{key}' cannot be used together with '{present[0]}'; "
                f"expected at most one of {', '.join(group)}",
            )
        return present
