"""Choice rules as JSONata ``Condition`` expressions that decide as the JSONPath rules do.

A JSONPath comparison is false when the value has the wrong type (``NumericGreaterThan`` on a
string, ``StringEquals`` on a number) where a JSONata comparison would raise, so each test
first checks the type with ``$type``; ``and``/``or`` stop at the first decisive operand, so the
comparison after a failed type test never runs. Timestamps compare with ``$toMillis`` (to the
millisecond) after a test that the text is an RFC 3339 timestamp, the profile Choice accepts.
``IsPresent`` is ``$exists``. ``StringMatches`` becomes an anchored regular expression.

One difference stays: a JSONPath rule whose ``Variable`` is missing fails the execution with
``States.Runtime``, where the JSONata test is false; the conditions of :mod:`saga.conditions`
always test presence first (``IsPresent``), so they decide the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from engine.model import ChoiceRule
from saga.errors import SagaDefinitionError
from saga.jsonata_paths import INPUT, literal, path_expression

__all__ = ["condition_expression"]

_TIMESTAMP: Final = r"/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/"
_COMPARISONS: Final = {
    "Equals": "=",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_TYPES: Final = {"String": "string", "Numeric": "number", "Boolean": "boolean"}
_KINDS: Final = (*_TYPES, "Timestamp")


def _is_type(kind: str, value: str) -> str:
    if kind == "Timestamp":
        return f'($type({value}) = "string" and $contains({value}, {_TIMESTAMP}))'
    return f'$type({value}) = "{_TYPES[kind]}"'


def _compare(kind: str, symbol: str, value: str, operand: str, *, read: bool) -> str:
    """``value`` compared with ``operand`` (a literal, or a path expression when ``read``)."""
    left, right = value, operand
    if kind == "Timestamp":
        left, right = f"$toMillis({value})", f"$toMillis({operand})"
    guards = [_is_type(kind, value)] + ([_is_type(kind, operand)] if read else [])
    return "(" + " and ".join([*guards, f"{left} {symbol} {right}"]) + ")"


def _matches(pattern: str) -> str:
    """``StringMatches``'s pattern (``*`` any text, ``\\*`` a star) as a JSONata regex."""
    out = []
    for piece in re.findall(r"\\\\|\\\*|\*|.", pattern, flags=re.DOTALL):
        if piece == "*":
            out.append(".*")
        elif piece in ("\\*", "\\\\"):
            out.append(re.escape(piece[1]))
        else:
            out.append(re.escape(piece).replace("/", "\\/"))
    return "/^" + "".join(out) + "$/"


def _type_test(operator: str, operand: Any, value: str) -> str | None:
    """``IsPresent``, ``IsNull``, ``IsString``, ``IsNumeric``, ``IsBoolean``, ``IsTimestamp``."""
    if operator == "IsPresent":
        test = f"$exists({value})"
    elif operator == "IsNull":
        test = f'($type({value}) = "null")'
    elif operator.startswith("Is") and operator[2:] in _KINDS:
        test = f"({_is_type(operator[2:], value)})"
    else:
        return None
    return test if operand else f"$not({test})"


def _comparison(operator: str, operand: Any, value: str, path: Callable[[str], str]) -> str | None:
    """``<Kind><Comparison>`` and ``<Kind><Comparison>Path`` (``BooleanEquals`` the only boolean
    one), and ``StringMatches``."""
    if operator == "StringMatches":
        return f'($type({value}) = "string" and $contains({value}, {_matches(operand)}))'
    kind = next((k for k in _KINDS if operator.startswith(k)), None)
    if kind is None:
        return None
    name = operator[len(kind) :]
    read = name.endswith("Path")
    name = name.removesuffix("Path")
    symbol = _COMPARISONS.get(name)
    if symbol is None or (kind == "Boolean" and name != "Equals"):
        return None
    against = path(operand) if read else literal(operand)
    return _compare(kind, symbol, value, against, read=read)


def condition_expression(rule: ChoiceRule, where: str, data: str = INPUT) -> str:
    """The JSONata expression deciding ``rule`` (its ``Next`` aside) on ``data``."""

    def path(text: str) -> str:
        return path_expression(text, data, where)

    if rule.and_ is not None:
        return "(" + " and ".join(condition_expression(r, where, data) for r in rule.and_) + ")"
    if rule.or_ is not None:
        return "(" + " or ".join(condition_expression(r, where, data) for r in rule.or_) + ")"
    if rule.not_ is not None:
        return f"$not({condition_expression(rule.not_, where, data)})"
    operators = rule.operators()
    if rule.variable is None or len(operators) != 1:
        raise SagaDefinitionError(
            f"{where}: the Choice rule {rule.to_dict()!r} needs a Variable and one comparison "
            "(or And/Or/Not) to become a JSONata Condition"
        )
    ((operator, operand),) = operators.items()
    value = path(rule.variable)
    test = _type_test(operator, operand, value) or _comparison(operator, operand, value, path)
    if test is None:
        raise SagaDefinitionError(
            f"{where}: the Choice operator {operator} has no JSONata translation here"
        )
    return test
