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


def _test(operator: str, operand: Any, value: str, path: Callable[[str], str]) -> str:
    if operator == "IsPresent":
        return f"$exists({value})" if operand else f"$not($exists({value}))"
    if operator == "IsNull":
        test = f'$type({value}) = "null"'
        return f"({test})" if operand else f"$not({test})"
    if operator == "StringMatches":
        return f'($type({value}) = "string" and $contains({value}, {_matches(operand)}))'
    for kind in ("String", "Numeric", "Boolean", "Timestamp"):
        if operator == f"Is{kind}":
            test = _is_type(kind, value)
            return f"({test})" if operand else f"$not({test})"
        if not operator.startswith(kind):
            continue
        name = operator[len(kind) :]
        read = name.endswith("Path")
        if read:
            name = name[: -len("Path")]
        against = path(operand) if read else literal(operand)
        symbol = _COMPARISONS.get(name)
        if symbol is not None and (kind != "Boolean" or name == "Equals"):
            return _compare(kind, symbol, value, against, read=read)
    raise ValueError(operator)


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
    try:
        return _test(operator, operand, path(rule.variable), path)
    except ValueError:
        raise SagaDefinitionError(
            f"{where}: the Choice operator {operator} has no JSONata translation here"
        ) from None
