"""Validator checks of a distributed Map's ``ItemReader``, ``ItemBatcher`` and ``ResultWriter``.

Their payload is ``Parameters`` in JSONPath and ``Arguments`` in JSONata, their ``…Path`` number
fields are JSONPath only, and in JSONata their number fields may be ``{% … %}`` expressions and
every expression must compile (used by :mod:`engine.validate.checker`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine._pointer import join
from engine.diagnostics import Diagnostic
from engine.expressions import is_expression
from engine.validate.jsonata import expression_diagnostics

__all__ = ["distributed_field_diagnostics"]

_JSONATA: Final = "JSONata"
_JSONPATH: Final = "JSONPath"
_NUMBERS: Final = {
    "ItemReader/ReaderConfig": ("MaxItems",),
    "ItemBatcher": ("MaxItemsPerBatch", "MaxInputBytesPerBatch"),
}


def _mismatch(key: str, location: str, jsonpath: bool) -> Diagnostic:
    language, other = (_JSONPATH, _JSONATA) if jsonpath else (_JSONATA, _JSONPATH)
    return Diagnostic(
        "QUERY_LANGUAGE_MISMATCH",
        join(location, key),
        f"'{key}' is a {other} field but this object uses {language}; expected only "
        f"{language} fields (or QueryLanguage '{other}')",
    )


def _number(value: Any, location: str, jsonpath: bool) -> list[Diagnostic]:
    if not isinstance(value, str):
        return []
    if jsonpath:
        why = "expected an integer, got string (expressions need QueryLanguage JSONata)"
        return [Diagnostic("WRONG_TYPE", location, why)]
    if not is_expression(value):
        why = f"{value!r} is neither a number nor a JSONata expression '{{% … %}}'"
        return [Diagnostic("INVALID_JSONATA", location, why)]
    return expression_diagnostics(value, location)


def _spec(state_fields: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    value: Any = state_fields
    for key in path.split("/"):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else None


def distributed_field_diagnostics(
    fields: Mapping[str, Any], location: str, jsonpath: bool
) -> list[Diagnostic]:
    """Problems of a Map's reader, batcher and writer fields in its query language."""
    found: list[Diagnostic] = []
    for key in ("ItemReader", "ResultWriter"):
        spec = _spec(fields, key)
        if spec is None:
            continue
        where = join(location, key)
        wrong = "Arguments" if jsonpath else "Parameters"
        if wrong in spec:
            found.append(_mismatch(wrong, where, jsonpath))
        if not jsonpath and spec.get("Arguments") is not None:
            found += expression_diagnostics(spec["Arguments"], join(where, "Arguments"))
    for path, names in _NUMBERS.items():
        spec = _spec(fields, path)
        if spec is None:
            continue
        where = join(location, *path.split("/"))
        for name in names:
            if not jsonpath and f"{name}Path" in spec:
                found.append(_mismatch(f"{name}Path", where, jsonpath))
            found += _number(spec.get(name), join(where, name), jsonpath)
    batch_input = (_spec(fields, "ItemBatcher") or {}).get("BatchInput")
    if not jsonpath and batch_input is not None:
        where = join(location, "ItemBatcher", "BatchInput")
        found += expression_diagnostics(batch_input, where)
    return found
