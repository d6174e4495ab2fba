"""``variableReferences`` of DescribeStateMachine: the variables each JSONPath state reads.

AWS lists, by state name (nested states included), the variables (``$name``) a state reads
through its paths (``InputPath``, ``SecondsPath``, ``MaxConcurrencyPath``, ... and a Choice
rule's ``Variable`` and ``…Path`` operands) and through the ``.$`` fields of its payload
templates and ``Assign`` (a path or an intrinsic function's arguments). A plain string such as
``"$bucket"`` in a field without ``.$`` is a constant, not a reference; states written in
JSONata are not listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = ["variable_references"]

_PATH_FIELDS = (
    "InputPath",
    "OutputPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
)
_TEMPLATE_FIELDS = ("Parameters", "ItemSelector", "ResultSelector", "Assign")
_VARIABLE = re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)")
"""``$name`` not preceded by a name character or ``$`` (so ``$$.Map`` and ``$.a`` are not)."""
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
"""A quoted literal of an intrinsic function, whose text is never a reference."""


def _in_path(path: Any) -> Iterator[str]:
    if isinstance(path, str) and path.startswith(("$", "States.")):
        yield from _VARIABLE.findall(_QUOTED.sub("", path))


def _in_template(template: Any) -> Iterator[str]:
    if isinstance(template, dict):
        for key, value in template.items():
            if isinstance(key, str) and key.endswith(".$"):
                yield from _in_path(value)
            else:
                yield from _in_template(value)
    elif isinstance(template, list):
        for item in template:
            yield from _in_template(item)


def _in_choice_rule(rule: Any) -> Iterator[str]:
    if not isinstance(rule, dict):
        return
    for key, value in rule.items():
        if key == "Variable" or (key.endswith("Path") and key != "IsPresentPath"):
            yield from _in_path(value)
        elif key in ("And", "Or") and isinstance(value, list):
            for inner in value:
                yield from _in_choice_rule(inner)
        elif key == "Not":
            yield from _in_choice_rule(value)
        elif key == "Assign":
            yield from _in_template(value)


def _in_state(state: dict[str, Any]) -> Iterator[str]:
    for field in _PATH_FIELDS:
        yield from _in_path(state.get(field))
    for field in _TEMPLATE_FIELDS:
        yield from _in_template(state.get(field))
    for rule in state.get("Choices") or []:
        yield from _in_choice_rule(rule)
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict):
            yield from _in_template(catcher.get("Assign"))
    reader = state.get("ItemReader")
    if isinstance(reader, dict):
        config = reader.get("ReaderConfig")
        if isinstance(config, dict):
            yield from _in_path(config.get("MaxItemsPath"))
        yield from _in_template(reader.get("Parameters"))
    batcher = state.get("ItemBatcher")
    if isinstance(batcher, dict):
        yield from _in_path(batcher.get("MaxItemsPerBatchPath"))
        yield from _in_path(batcher.get("MaxInputBytesPerBatchPath"))
        yield from _in_template(batcher.get("BatchInput"))
    writer = state.get("ResultWriter")
    if isinstance(writer, dict):
        yield from _in_template(writer.get("Parameters"))


def _collect(machine: Any, language: str, found: dict[str, list[str]]) -> None:
    if not isinstance(machine, dict) or not isinstance(machine.get("States"), dict):
        return
    language = machine.get("QueryLanguage", language)
    for name, state in machine["States"].items():
        if not isinstance(state, dict):
            continue
        if state.get("QueryLanguage", language) != "JSONata":
            names = found.setdefault(name, [])
            names.extend(n for n in dict.fromkeys(_in_state(state)) if n not in names)
            if not names:
                del found[name]
        for branch in state.get("Branches") or []:
            _collect(branch, language, found)
        _collect(state.get("ItemProcessor") or state.get("Iterator"), language, found)


def variable_references(document: Any) -> dict[str, list[str]]:
    """The variables each JSONPath state of ``document`` (a parsed definition) reads, by name."""
    found: dict[str, list[str]] = {}
    if isinstance(document, dict):
        _collect(document, "JSONPath", found)
    return found
