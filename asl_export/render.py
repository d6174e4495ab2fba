"""Deterministic ASL JSON: conventional key order, two-space indent, one trailing newline.

The same model renders to the same bytes on every run and Python version, so exported
definitions diff cleanly and golden files stay stable. Placeholders (``${Name}``) are kept,
or resolved for an account, region and stage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from engine.model import (
    CHOICE_OPERATORS,
    Branch,
    Catcher,
    ChoiceRule,
    ItemProcessor,
    ProcessorConfig,
    Retrier,
    StateMachine,
)

__all__ = [
    "ExportError",
    "UnresolvedPlaceholderError",
    "ordered_definition",
    "placeholders",
    "render",
    "render_json",
    "resolve",
    "walk_states",
]

PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
"""A ``${Name}`` placeholder, as DefinitionSubstitutions and the engine's loader read it."""

PSEUDO_PARAMETERS = ("AWS::AccountId", "AWS::Region", "AWS::Partition", "Stage")
"""Names a substitution value may itself use; filled in from the account, region and stage."""

_MACHINE_ORDER = ("Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage")
_BRANCH_ORDER = ("Comment", "QueryLanguage", "ProcessorConfig", "StartAt", "States")
_PROCESSOR_CONFIG_ORDER = ("Mode", "ExecutionType")
_STATE_ORDER = (
    "Type",
    "Comment",
    "QueryLanguage",
    "Resource",
    "Credentials",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "InputPath",
    "Items",
    "ItemsPath",
    "ItemReader",
    "ItemSelector",
    "ItemBatcher",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "Label",
    "ItemProcessor",
    "Iterator",
    "Branches",
    "Parameters",
    "Arguments",
    "Result",
    "Choices",
    "Default",
    "ResultSelector",
    "ResultPath",
    "ResultWriter",
    "OutputPath",
    "Output",
    "Assign",
    "Error",
    "ErrorPath",
    "Cause",
    "CausePath",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Retry",
    "Catch",
    "Next",
    "End",
)
_RETRIER_ORDER = (
    "Comment",
    "ErrorEquals",
    "IntervalSeconds",
    "BackoffRate",
    "MaxAttempts",
    "MaxDelaySeconds",
    "JitterStrategy",
)
_CATCHER_ORDER = ("Comment", "ErrorEquals", "ResultPath", "Output", "Assign", "Next")
_RULE_ORDER = (
    "Comment",
    "Condition",
    "Variable",
    "And",
    "Or",
    "Not",
    *CHOICE_OPERATORS,
    "Output",
    "Assign",
    "Next",
)
_TRAILING = ("Next", "End")


class ExportError(ValueError):
    """A definition or template that cannot be exported; the message names the state and the fix."""


class UnresolvedPlaceholderError(ExportError):
    """A ``${Name}`` placeholder with no value while resolving."""

    def __init__(self, state: str | None, placeholder: str, hint: str = "") -> None:
        self.state = state
        self.placeholder = placeholder
        where = f"state {state!r}" if state is not None else "the definition"
        fix = hint or f"add a value for {placeholder!r} to the substitutions"
        super().__init__(f"{where}: placeholder ${{{placeholder}}} has no value; {fix}")


def _key_order(model: BaseModel) -> tuple[str, ...]:
    if isinstance(model, StateMachine):
        return _MACHINE_ORDER
    if isinstance(model, Branch | ItemProcessor):
        return _BRANCH_ORDER
    if isinstance(model, ProcessorConfig):
        return _PROCESSOR_CONFIG_ORDER
    if isinstance(model, Retrier):
        return _RETRIER_ORDER
    if isinstance(model, Catcher):
        return _CATCHER_ORDER
    if isinstance(model, ChoiceRule):
        return _RULE_ORDER
    return _STATE_ORDER


def _ordered(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _ordered_model(value)
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    if isinstance(value, dict):
        return {key: _ordered(item) for key, item in value.items()}
    return value


def _ordered_model(model: BaseModel) -> dict[str, Any]:
    fields = type(model).model_fields
    present: dict[str, Any] = {}
    for name in model.model_fields_set:
        alias = fields[name].alias or name
        present[alias] = _ordered(getattr(model, name))
    order = _key_order(model)
    rank = {key: index for index, key in enumerate(order)}
    known = sorted((k for k in present if k in rank and k not in _TRAILING), key=rank.__getitem__)
    unknown = sorted(k for k in present if k not in rank)
    trailing = [k for k in _TRAILING if k in present and k in rank]
    return {key: present[key] for key in (*known, *unknown, *trailing)}


def ordered_definition(machine: StateMachine) -> dict[str, Any]:
    """The definition as a JSON object with every key in its conventional place.

    Object keys of user data (Parameters, Result, ...) and the order of States keep the
    model's order; arrays (Retry, Catch, Choices, Branches) keep theirs, which is meaning.
    """
    return _ordered_model(machine)


def render_json(document: Any) -> str:
    """JSON text as every exported file is written: two-space indent, UTF-8, trailing newline."""
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise ExportError(f"the definition holds a value JSON cannot represent: {exc}") from None
    return text + "\n"


def render(machine: StateMachine) -> str:
    """The definition as deterministic ASL JSON text (placeholders kept)."""
    return render_json(ordered_definition(machine))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def walk_states(states: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (name, state) of a definition's ``States``, nested Parallel and Map states too."""
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", ()):
            yield from walk_states(branch["States"])
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from walk_states(state[key]["States"])


def _own_fields(state: Mapping[str, Any]) -> dict[str, Any]:
    nested = ("Branches", "ItemProcessor", "Iterator")
    return {key: value for key, value in state.items() if key not in nested}


def placeholders(machine: StateMachine) -> dict[str, tuple[str, ...]]:
    """Every ``${Name}`` in the definition, with the states using it, in first-use order."""
    document = ordered_definition(machine)
    found: dict[str, list[str]] = {}
    for state_name, state in walk_states(document["States"]):
        for text in _strings(_own_fields(state)):
            for match in PLACEHOLDER.finditer(text):
                users = found.setdefault(match.group(1), [])
                if state_name not in users:
                    users.append(state_name)
    return {name: tuple(users) for name, users in found.items()}


def _expand_pseudo(placeholder: str, value: str, pseudo: Mapping[str, str | None]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in pseudo:
            raise ExportError(
                f"the value of ${{{placeholder}}} uses ${{{name}}}; a substitution value may use "
                f"only {', '.join('${' + p + '}' for p in PSEUDO_PARAMETERS)}"
            )
        given = pseudo[name]
        if given is None:
            option = {"AWS::AccountId": "account id", "AWS::Region": "region", "Stage": "stage"}
            raise ExportError(
                f"the value of ${{{placeholder}}} uses ${{{name}}}; give the "
                f"{option.get(name, name)} to resolve it"
            )
        return given

    return PLACEHOLDER.sub(replace, value)


def resolve(
    machine: StateMachine,
    values: Mapping[str, str],
    *,
    account_id: str | None = None,
    region: str | None = None,
    stage: str | None = None,
    partition: str = "aws",
) -> StateMachine:
    """The machine with every placeholder replaced by its value for one account, region and stage.

    A value may use ``${AWS::AccountId}``, ``${AWS::Region}``, ``${AWS::Partition}`` and
    ``${Stage}``; the definition may use them directly too. A placeholder without a value
    raises :class:`UnresolvedPlaceholderError` naming the first state that uses it.
    """
    pseudo: dict[str, str | None] = {
        "AWS::AccountId": account_id,
        "AWS::Region": region,
        "AWS::Partition": partition,
        "Stage": stage,
    }
    used = placeholders(machine)
    given = {name: f"${{{name}}}" for name, value in pseudo.items() if value is not None}
    given.update(values)
    missing = [name for name in used if name not in given]
    if missing:
        raise UnresolvedPlaceholderError(used[missing[0]][0], missing[0])
    concrete = {name: _expand_pseudo(name, given[name], pseudo) for name in used}
    document = ordered_definition(machine)
    resolved = _substitute(document, concrete)
    return StateMachine.model_validate(resolved)


def _substitute(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {_substitute(k, values): _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(item, values) for item in value]
    return value
