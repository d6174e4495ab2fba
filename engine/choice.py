"""Choice state rules: every comparison operator, And/Or/Not, and picking the next state.

Comparisons follow AWS: a value of the wrong type makes a comparison false (no error), strings
compare by UTF-16 code units like Java's ``compareTo``, numbers numerically (``0 == 0.0``),
booleans only as JSON booleans, timestamps as instants. A ``Variable`` (or ``...Path`` operand)
that selects nothing fails with ``States.Runtime``, except under ``IsPresent``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Final

from engine.errors import NO_CHOICE_MATCHED, RUNTIME, StatesError
from engine.model import CHOICE_OPERATORS, ChoiceRule, ChoiceState
from engine.paths import evaluate_path, path_exists

__all__ = [
    "choose_next",
    "compare_strings",
    "evaluate_rule",
    "is_timestamp",
    "match_rule",
    "parse_timestamp",
    "string_matches",
]

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})",
    re.ASCII,  # ASCII digits only: "٢٠١٦-…" is no timestamp
)
_NANOS_PER_SECOND: Final = 1_000_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: object) -> int | None:
    """An RFC 3339 timestamp (``T``, ``Z`` or offset) as epoch nanoseconds, or ``None``."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone == "Z":
        offset = timedelta(0)
    else:
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            return None
        offset = timedelta(hours=zone_hours, minutes=zone_minutes)
        if zone[0] == "-":
            offset = -offset
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None
    delta = moment - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return seconds * _NANOS_PER_SECOND + nanos


def is_timestamp(value: object) -> bool:
    """Whether ``value`` is a string in the timestamp profile Choice and Wait accept."""
    return parse_timestamp(value) is not None


def compare_strings(left: str, right: str) -> int:
    """Negative, zero or positive as Java's ``String.compareTo`` (UTF-16 code units)."""
    if not (left.isascii() and right.isascii()):
        left_units, right_units = left.encode("utf-16-be"), right.encode("utf-16-be")
        return (left_units > right_units) - (left_units < right_units)
    return (left > right) - (left < right)


@lru_cache(maxsize=1024)
def _matches_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a StringMatches pattern: ``*`` any run, ``\\*`` literal star, ``\\\\`` backslash."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 < len(pattern) and pattern[i + 1] in "*\\":
                parts.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            raise StatesError(
                RUNTIME,
                f"Invalid StringMatches pattern '{pattern}': a backslash must escape '*' or '\\'",
            )
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def string_matches(value: str, pattern: str) -> bool:
    """Whether ``value`` matches a StringMatches pattern in full (only ``*`` is a wildcard)."""
    return _matches_pattern(pattern).fullmatch(value) is not None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strings(compare: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, operand: Any) -> bool:
        if not (isinstance(value, str) and isinstance(operand, str)):
            return False
        return compare(compare_strings(value, operand))

    return test


def _numbers(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, operand: Any) -> bool:
        return _is_number(value) and _is_number(operand) and compare(value, operand)

    return test


def _timestamps(compare: Callable[[int, int], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, operand: Any) -> bool:
        left, right = parse_timestamp(value), parse_timestamp(operand)
        return left is not None and right is not None and compare(left, right)

    return test


def _boolean_equals(value: Any, operand: Any) -> bool:
    return isinstance(value, bool) and isinstance(operand, bool) and value is operand


def _string_matches(value: Any, operand: Any) -> bool:
    return isinstance(value, str) and isinstance(operand, str) and string_matches(value, operand)


def _type_test(check: Callable[[Any], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, operand: Any) -> bool:
        return check(value) is bool(operand)

    return test


_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "StringEquals": _strings(lambda c: c == 0),
    "StringLessThan": _strings(lambda c: c < 0),
    "StringGreaterThan": _strings(lambda c: c > 0),
    "StringLessThanEquals": _strings(lambda c: c <= 0),
    "StringGreaterThanEquals": _strings(lambda c: c >= 0),
    "StringMatches": _string_matches,
    "NumericEquals": _numbers(lambda a, b: a == b),
    "NumericLessThan": _numbers(lambda a, b: a < b),
    "NumericGreaterThan": _numbers(lambda a, b: a > b),
    "NumericLessThanEquals": _numbers(lambda a, b: a <= b),
    "NumericGreaterThanEquals": _numbers(lambda a, b: a >= b),
    "BooleanEquals": _boolean_equals,
    "TimestampEquals": _timestamps(lambda a, b: a == b),
    "TimestampLessThan": _timestamps(lambda a, b: a < b),
    "TimestampGreaterThan": _timestamps(lambda a, b: a > b),
    "TimestampLessThanEquals": _timestamps(lambda a, b: a <= b),
    "TimestampGreaterThanEquals": _timestamps(lambda a, b: a >= b),
    "IsNull": _type_test(lambda v: v is None),
    "IsNumeric": _type_test(_is_number),
    "IsString": _type_test(lambda v: isinstance(v, str)),
    "IsBoolean": _type_test(lambda v: isinstance(v, bool)),
    "IsTimestamp": _type_test(is_timestamp),
}

# Python field name -> (ASL operator name, comparison name, operand is a path)
_OPERATORS: Final[dict[str, tuple[str, str, bool]]] = {}
for _name, _info in ChoiceRule.model_fields.items():
    _alias = _info.alias
    if _alias is None or _alias not in CHOICE_OPERATORS:
        continue
    _is_path = _alias.endswith("Path")
    _OPERATORS[_name] = (_alias, _alias[: -len("Path")] if _is_path else _alias, _is_path)
_OPERATOR_FIELDS: Final = frozenset(_OPERATORS)


def _invalid_path(path: str) -> StatesError:
    return StatesError(
        RUNTIME,
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )


def _resolve(path: str, data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
    """The value of a Variable or ``...Path`` operand; ``States.Runtime`` if it selects nothing."""
    try:
        return evaluate_path(path, data, context, variables)
    except (StatesError, ValueError):
        raise _invalid_path(path) from None


def _data_test(
    rule: ChoiceRule, data: Any, context: Any, variables: Mapping[str, Any] | None
) -> bool:
    """Evaluate a rule with ``Variable`` and exactly one comparison operator."""
    fields = rule.model_fields_set & _OPERATOR_FIELDS
    if len(fields) != 1 or rule.variable is None:
        raise StatesError(
            RUNTIME,
            "A Choice rule needs a Variable and exactly one comparison operator, "
            f"got {sorted(_OPERATORS[f][0] for f in fields)}",
        )
    (field,) = fields
    alias, comparison, is_path = _OPERATORS[field]
    operand = getattr(rule, field)
    if alias == "IsPresent":
        return path_exists(rule.variable, data, context, variables) is bool(operand)
    value = _resolve(rule.variable, data, context, variables)
    if is_path:
        operand = _resolve(operand, data, context, variables)
    return _COMPARISONS[comparison](value, operand)


def evaluate_rule(
    rule: ChoiceRule, data: Any, context: Any, variables: Mapping[str, Any] | None = None
) -> bool:
    """Whether a Choice rule (boolean combination or data test) holds for the state input."""
    if rule.and_ is not None:
        return all(evaluate_rule(inner, data, context, variables) for inner in rule.and_)
    if rule.or_ is not None:
        return any(evaluate_rule(inner, data, context, variables) for inner in rule.or_)
    if rule.not_ is not None:
        return not evaluate_rule(rule.not_, data, context, variables)
    return _data_test(rule, data, context, variables)


def match_rule(
    state: ChoiceState, data: Any, context: Any, variables: Mapping[str, Any] | None = None
) -> ChoiceRule | None:
    """The first top-level rule that holds, or ``None`` (its ``Assign`` applies when it matches)."""
    for rule in state.choices:
        if evaluate_rule(rule, data, context, variables):
            return rule
    return None


def choose_next(
    state: ChoiceState, data: Any, context: Any, variables: Mapping[str, Any] | None = None
) -> str:
    """The next state: the first matching rule's ``Next``, else ``Default``.

    Raises ``States.NoChoiceMatched`` when nothing matches and there is no ``Default``.
    """
    rule = match_rule(state, data, context, variables)
    if rule is not None and rule.next is not None:
        return rule.next
    if rule is None and state.default is not None:
        return state.default
    if rule is not None:
        raise StatesError(RUNTIME, "The matching Choice rule has no Next")
    # AWS's exact cause text is unrecorded; the error name is what Retry/Catch and callers see.
    raise StatesError(NO_CHOICE_MATCHED, "No Choice rule matched and there is no Default")
