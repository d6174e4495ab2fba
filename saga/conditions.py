"""Conditions of conditional steps (``when=``), compiled to ``Choice`` rules.

A condition tests the state data — the saga's input and the results of earlier steps::

    @saga.step("Buy Insurance", when=equals("$.insurance", True))

``equals``, ``greater_than`` and ``less_than`` first test that the path is present (``And``
with ``IsPresent``): a Choice rule reading a missing path fails the execution with
``States.Runtime`` on Step Functions, so a missing field reads as "condition false".
Combine with ``&``, ``|`` and ``~``. In a JSONata saga the same condition is the Choice
rule's ``Condition`` expression (:meth:`Condition.jsonata`), deciding the same on any data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.model import ChoiceRule
from engine.paths import is_valid_path
from saga.errors import SagaDefinitionError
from saga.jsonata_conditions import condition_expression
from saga.jsonata_paths import wrap

__all__ = ["Condition", "equals", "greater_than", "is_present", "less_than"]


@dataclass(frozen=True)
class Condition:
    """A Choice rule without ``Next`` (see :meth:`rule`)."""

    fields: dict[str, Any]

    def rule(self, next_state: str | None = None) -> ChoiceRule:
        """The rule, as a top-level Choice rule when ``next_state`` is given."""
        rule = ChoiceRule.model_validate(self.fields)
        if next_state is not None:
            rule.next = next_state
        return rule

    def jsonata(self) -> str:
        """The condition as a JSONata ``Condition`` (``{% ... %}``) on ``$states.input``."""
        return wrap(condition_expression(self.rule(), "condition"))

    def __and__(self, other: Condition) -> Condition:
        return Condition({"And": [self.fields, _check(other).fields]})

    def __or__(self, other: Condition) -> Condition:
        return Condition({"Or": [self.fields, _check(other).fields]})

    def __invert__(self) -> Condition:
        return Condition({"Not": self.fields})


def _check(other: object) -> Condition:
    if not isinstance(other, Condition):
        raise SagaDefinitionError(
            f"a condition combines with another condition, not {other!r}; use equals(...), "
            "is_present(...), greater_than(...) or less_than(...)"
        )
    return other


def _path(path: object) -> str:
    if not isinstance(path, str) or not is_valid_path(path):
        raise SagaDefinitionError(
            f"condition path {path!r}: use a JSONPath into the state data such as '$.insurance'"
        )
    return path


def is_present(path: str) -> Condition:
    """True when ``path`` exists in the state data (``IsPresent``)."""
    return Condition({"Variable": _path(path), "IsPresent": True})


def _guarded(path: str, test: dict[str, Any]) -> Condition:
    return Condition({"And": [{"Variable": path, "IsPresent": True}, {"Variable": path, **test}]})


def equals(path: str, value: str | bool | int | float) -> Condition:
    """True when ``path`` is present and equals ``value`` (a string, boolean or number)."""
    path = _path(path)
    if isinstance(value, bool):
        return _guarded(path, {"BooleanEquals": value})
    if isinstance(value, str):
        return _guarded(path, {"StringEquals": value})
    if isinstance(value, int | float):
        return _guarded(path, {"NumericEquals": value})
    raise SagaDefinitionError(
        f"equals({path!r}, {value!r}): compare with a string, a boolean or a number"
    )


def _number(name: str, path: str, value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SagaDefinitionError(f"{name}({path!r}, {value!r}): compare with a number")
    return value


def greater_than(path: str, value: int | float) -> Condition:
    """True when ``path`` is present and is a number greater than ``value``."""
    path = _path(path)
    return _guarded(path, {"NumericGreaterThan": _number("greater_than", path, value)})


def less_than(path: str, value: int | float) -> Condition:
    """True when ``path`` is present and is a number less than ``value``."""
    path = _path(path)
    return _guarded(path, {"NumericLessThan": _number("less_than", path, value)})
