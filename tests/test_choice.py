"""Choice rules and next-state selection (engine.choice)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.choice import (
    choose_next,
    compare_strings,
    evaluate_rule,
    is_timestamp,
    match_rule,
    parse_timestamp,
    string_matches,
)
from engine.errors import StatesError
from engine.model import ChoiceRule, ChoiceState

CONTEXT = {"Execution": {"Name": "run"}, "State": {"RetryCount": 1}}


def _rule(**fields: Any) -> ChoiceRule:
    return ChoiceRule.model_validate(fields)


def _test(variable_value: Any, operator: str, operand: Any) -> bool:
    rule = _rule(Variable="$.v", **{operator: operand})
    return evaluate_rule(rule, {"v": variable_value}, CONTEXT)


# --- string operators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "operand", "expected"),
    [
        ("abc", "abc", True),
        ("abc", "ABC", False),
        (" ", "     ", False),
        ("\t\n", "\t\r\n", False),
        ("", "", True),
        (1, "1", False),
        (None, "null", False),
        (True, "true", False),
        (["a"], "a", False),
        ("\u00e9", "e\u0301", False),  # composed vs decomposed: no normalisation
    ],
)
def test_string_equals(value: Any, operand: str, expected: bool) -> None:
    assert _test(value, "StringEquals", operand) is expected


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("StringLessThan", "A", "AB", True),
        ("StringLessThan", "AB", "A", False),
        ("StringLessThan", "A", "A", False),
        ("StringLessThan", "B", "a", True),
        ("StringLessThan", "", "a", True),
        ("StringLessThanEquals", "A", "A", True),
        ("StringLessThanEquals", "", "", True),
        ("StringLessThanEquals", "b", "a", False),
        ("StringGreaterThan", "b", "a", True),
        ("StringGreaterThan", "a", "a", False),
        ("StringGreaterThan", "abc", "ab", True),
        ("StringGreaterThanEquals", "", "", True),
        ("StringGreaterThanEquals", "a", "b", False),
        ("StringGreaterThan", 5, "a", False),
        ("StringLessThan", None, "a", False),
        # U+FF5E (BMP) sorts after a surrogate pair in UTF-16 but before it by code point.
        ("StringGreaterThan", "\uff5e", "\U0001f600", True),
        ("StringLessThan", "\U0001f600", "\uff5e", True),
        ("StringLessThan", "\u00e9", "\u00ea", True),
    ],
)
def test_string_ordering(operator: str, value: Any, operand: str, expected: bool) -> None:
    assert _test(value, operator, operand) is expected


@pytest.mark.parametrize(
    ("left", "right", "sign"),
    [
        ("a", "b", -1),
        ("b", "a", 1),
        ("a", "a", 0),
        ("", "a", -1),
        ("\U0001f600", "\uffff", -1),
        ("\ue000", "\U00010000", 1),
    ],
)
def test_compare_strings(left: str, right: str, sign: int) -> None:
    assert compare_strings(left, right) == sign


@given(st.text(), st.text())
def test_compare_strings_is_utf16_order(left: str, right: str) -> None:
    left_units = [
        int.from_bytes(left.encode("utf-16-be")[i : i + 2], "big")
        for i in range(0, len(left.encode("utf-16-be")), 2)
    ]
    right_units = [
        int.from_bytes(right.encode("utf-16-be")[i : i + 2], "big")
        for i in range(0, len(right.encode("utf-16-be")), 2)
    ]
    expected = (left_units > right_units) - (left_units < right_units)
    assert compare_strings(left, right) == expected


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("log-2024.txt", "log-*.txt", True),
        ("log-.txt", "log-*.txt", True),
        ("log-2024.csv", "log-*.txt", False),
        ("abc", "*", True),
        ("", "*", True),
        ("", "", True),
        ("a", "", False),
        ("abc", "abc", True),
        ("abcd", "abc", False),
        ("xabc", "abc", False),
        ("a*b", "a\\*b", True),
        ("axb", "a\\*b", False),
        ("a\\b", "a\\\\b", True),
        ("a?", "a?", True),
        ("ab", "a?", False),
        ("[a]", "[a]", True),
        ("a", "[a]", False),
        ("a.c", "a.c", True),
        ("abc", "a.c", False),
        ("line1\nline2", "line1*", True),
        ("foo bar baz", "*bar*", True),
        ("foo", "**", True),
        ("aXbXc", "a*b*c", True),
    ],
)
def test_string_matches(value: str, pattern: str, expected: bool) -> None:
    assert string_matches(value, pattern) is expected
    assert _test(value, "StringMatches", pattern) is expected


def test_string_matches_open_backslash_is_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        _test("ab", "StringMatches", "a\\b")
    assert info.value.error == "States.Runtime"


def test_string_matches_non_string_is_false() -> None:
    assert _test(12, "StringMatches", "*") is False
    assert _test(None, "StringMatches", "*") is False


# --- numeric operators -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("NumericEquals", 0, 0.0, True),
        ("NumericEquals", 1, 1, True),
        ("NumericEquals", 1.5, 1.5, True),
        ("NumericEquals", -0.0, 0, True),
        ("NumericEquals", 1, 2, False),
        ("NumericEquals", "1", 1, False),
        ("NumericEquals", True, 1, False),
        ("NumericEquals", False, 0, False),
        ("NumericEquals", None, 0, False),
        ("NumericLessThan", 1, 2, True),
        ("NumericLessThan", 2, 2, False),
        ("NumericLessThan", -1.5, -1, True),
        ("NumericLessThanEquals", 2, 2.0, True),
        ("NumericLessThanEquals", 3, 2, False),
        ("NumericGreaterThan", 3, 2, True),
        ("NumericGreaterThan", 2, 2, False),
        ("NumericGreaterThanEquals", 2, 2, True),
        ("NumericGreaterThanEquals", 1.999, 2, False),
        ("NumericGreaterThan", "3", 2, False),
        ("NumericLessThan", [1], 2, False),
        ("NumericEquals", 9007199254740991, 9007199254740991, True),
    ],
)
def test_numeric(operator: str, value: Any, operand: Any, expected: bool) -> None:
    assert _test(value, operator, operand) is expected


# --- boolean -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "operand", "expected"),
    [
        (True, True, True),
        (False, False, True),
        (True, False, False),
        (False, True, False),
        (1, True, False),
        (0, False, False),
        ("", False, False),
        (None, False, False),
        ("true", True, False),
    ],
)
def test_boolean_equals(value: Any, operand: bool, expected: bool) -> None:
    assert _test(value, "BooleanEquals", operand) is expected


# --- timestamps --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-14T01:59:00.123Z", True),
        ("2016-03-14T01:59:00.00Z", True),
        ("2016-03-14T01:59:00.000000Z", True),
        ("2016-03-14T01:59:00.123456789Z", True),
        ("2016-03-14T01:59:00+01:00", True),
        ("2016-03-14T01:59:00-05:30", True),
        ("2016-03-14t01:59:00Z", False),
        ("2016-03-14T01:59:00z", False),
        ("2016-03-14T01:59:00", False),
        ("2016-03-14 01:59:00Z", False),
        ("2016-13-14T01:59:00Z", False),
        ("2016-02-30T01:59:00Z", False),
        ("2016-03-14T25:59:00Z", False),
        ("2016-03-14T01:60:00Z", False),
        ("2016-03-14T01:59:00+0100", False),
        ("2016-03-14T01:59:00+24:00", False),
        ("2016-03-14T01:59:00+05:60", False),
        ("\u0662\u0660\u0661\u0666-03-14T01:59:00Z", False),
        ("2016-03-14", False),
        ("2016-3-14T01:59:00Z", False),
        ("", False),
        (1457920740, False),
        (None, False),
    ],
)
def test_is_timestamp(text: Any, valid: bool) -> None:
    assert is_timestamp(text) is valid
    assert _test(text, "IsTimestamp", True) is valid
    assert _test(text, "IsTimestamp", False) is (not valid)


def test_parse_timestamp_values() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z") == 0
    assert parse_timestamp("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert parse_timestamp("1970-01-01T01:00:00+01:00") == 0
    assert parse_timestamp("1969-12-31T23:59:59.999999999Z") == -1
    assert parse_timestamp("1970-01-01T00:00:00.1234567891Z") == 123_456_789


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T02:59:00+01:00", True),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00.000Z", True),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:01Z", False),
        ("TimestampLessThan", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00.001Z", True),
        ("TimestampLessThan", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", False),
        ("TimestampLessThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampGreaterThan", "2016-03-14T03:00:00+01:00", "2016-03-14T01:59:00Z", True),
        ("TimestampGreaterThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampGreaterThanEquals", "2016-03-13T01:59:00Z", "2016-03-14T01:59:00Z", False),
        ("TimestampEquals", "not a date", "2016-03-14T01:59:00Z", False),
        ("TimestampEquals", 12, "2016-03-14T01:59:00Z", False),
        ("TimestampLessThan", "2016-03-14T01:59:00", "2017-03-14T01:59:00Z", False),
    ],
)
def test_timestamps(operator: str, value: Any, operand: str, expected: bool) -> None:
    assert _test(value, operator, operand) is expected


# --- Is* operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("IsNull", None, True),
        ("IsNull", 0, False),
        ("IsNull", "", False),
        ("IsNumeric", 1, True),
        ("IsNumeric", 1.5, True),
        ("IsNumeric", "1", False),
        ("IsNumeric", True, False),
        ("IsNumeric", None, False),
        ("IsString", "", True),
        ("IsString", "1", True),
        ("IsString", 1, False),
        ("IsString", None, False),
        ("IsBoolean", True, True),
        ("IsBoolean", False, True),
        ("IsBoolean", 0, False),
        ("IsBoolean", "true", False),
    ],
)
def test_type_operators(operator: str, value: Any, expected: bool) -> None:
    assert _test(value, operator, True) is expected
    assert _test(value, operator, False) is (not expected)


@pytest.mark.parametrize(
    ("data", "operand", "expected"),
    [
        ({"v": 1}, True, True),
        ({"v": None}, True, True),
        ({}, True, False),
        ({}, False, True),
        ({"v": None}, False, False),
        ("scalar", True, False),
    ],
)
def test_is_present(data: Any, operand: bool, expected: bool) -> None:
    rule = _rule(Variable="$.v", IsPresent=operand)
    assert evaluate_rule(rule, data, CONTEXT) is expected


def test_is_present_nested_missing_never_throws() -> None:
    rule = _rule(Variable="$.a.b.c", IsPresent=False)
    assert evaluate_rule(rule, {"a": "str"}, CONTEXT) is True


def test_is_present_variables_and_context() -> None:
    assert evaluate_rule(_rule(Variable="$x", IsPresent=True), {}, CONTEXT, {"x": 0}) is True
    assert evaluate_rule(_rule(Variable="$y", IsPresent=True), {}, CONTEXT, {"x": 0}) is False
    assert evaluate_rule(_rule(Variable="$$.Task.Token", IsPresent=True), {}, CONTEXT) is False


# --- Path operands, context and variables ------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "data", "expected"),
    [
        ("StringEqualsPath", {"v": "a", "w": "a"}, True),
        ("StringEqualsPath", {"v": "a", "w": "b"}, False),
        ("StringLessThanPath", {"v": "a", "w": "b"}, True),
        ("StringGreaterThanPath", {"v": "a", "w": "b"}, False),
        ("StringLessThanEqualsPath", {"v": "b", "w": "b"}, True),
        ("StringGreaterThanEqualsPath", {"v": "c", "w": "b"}, True),
        ("NumericEqualsPath", {"v": 1, "w": 1.0}, True),
        ("NumericEqualsPath", {"v": 1, "w": "1"}, False),
        ("NumericLessThanPath", {"v": 1, "w": 2}, True),
        ("NumericGreaterThanPath", {"v": 1, "w": 2}, False),
        ("NumericLessThanEqualsPath", {"v": 2, "w": 2}, True),
        ("NumericGreaterThanEqualsPath", {"v": 3, "w": 2}, True),
        ("BooleanEqualsPath", {"v": True, "w": True}, True),
        ("BooleanEqualsPath", {"v": True, "w": 1}, False),
        (
            "TimestampEqualsPath",
            {"v": "2020-01-01T00:00:00Z", "w": "2020-01-01T01:00:00+01:00"},
            True,
        ),
        ("TimestampLessThanPath", {"v": "2020-01-01T00:00:00Z", "w": "2021-01-01T00:00:00Z"}, True),
        (
            "TimestampGreaterThanPath",
            {"v": "2020-01-01T00:00:00Z", "w": "2021-01-01T00:00:00Z"},
            False,
        ),
        (
            "TimestampLessThanEqualsPath",
            {"v": "2020-01-01T00:00:00Z", "w": "2020-01-01T00:00:00Z"},
            True,
        ),
        (
            "TimestampGreaterThanEqualsPath",
            {"v": "2020-01-01T00:00:00Z", "w": "2019-01-01T00:00:00Z"},
            True,
        ),
        ("TimestampEqualsPath", {"v": "2020-01-01T00:00:00Z", "w": "junk"}, False),
    ],
)
def test_path_operators(operator: str, data: dict[str, Any], expected: bool) -> None:
    rule = _rule(Variable="$.v", **{operator: "$.w"})
    assert evaluate_rule(rule, data, CONTEXT) is expected


def test_path_operand_from_context_and_variables() -> None:
    rule = _rule(Variable="$.n", NumericEqualsPath="$$.State.RetryCount")
    assert evaluate_rule(rule, {"n": 1}, CONTEXT) is True
    rule = _rule(Variable="$limit", NumericGreaterThanPath="$.n")
    assert evaluate_rule(rule, {"n": 1}, CONTEXT, {"limit": 5}) is True
    rule = _rule(Variable="$$.Execution.Name", StringEquals="run")
    assert evaluate_rule(rule, {}, CONTEXT) is True


def test_variable_with_wildcard_gathers_list() -> None:
    rule = _rule(Variable="$.a[*]", IsNull=False)
    assert evaluate_rule(rule, {"a": [1]}, CONTEXT) is True


# --- missing Variable ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "operand"),
    [
        ("StringEquals", "x"),
        ("NumericEquals", 1),
        ("BooleanEquals", True),
        ("TimestampEquals", "2020-01-01T00:00:00Z"),
        ("IsNull", True),
        ("IsNumeric", False),
        ("IsString", True),
        ("IsBoolean", True),
        ("IsTimestamp", False),
        ("StringMatches", "*"),
        ("StringEqualsPath", "$.w"),
    ],
)
def test_missing_variable_is_runtime_error(operator: str, operand: Any) -> None:
    rule = _rule(Variable="$.missing", **{operator: operand})
    with pytest.raises(StatesError) as info:
        evaluate_rule(rule, {"w": "x"}, CONTEXT)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        "Invalid path '$.missing': The choice state's condition path references an invalid value."
    )


def test_missing_path_operand_is_runtime_error() -> None:
    rule = _rule(Variable="$.v", NumericEqualsPath="$.gone")
    with pytest.raises(StatesError) as info:
        evaluate_rule(rule, {"v": 1}, CONTEXT)
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        "Invalid path '$.gone': The choice state's condition path references an invalid value."
    )


def test_missing_variable_reference_is_runtime_error() -> None:
    rule = _rule(Variable="$nope", IsNull=True)
    with pytest.raises(StatesError) as info:
        evaluate_rule(rule, {}, CONTEXT, {})
    assert info.value.error == "States.Runtime"


def test_rule_without_operator_is_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        evaluate_rule(_rule(Variable="$.v"), {"v": 1}, CONTEXT)
    assert info.value.error == "States.Runtime"


# --- And / Or / Not ----------------------------------------------------------------------------


def _and(*rules: dict[str, Any]) -> ChoiceRule:
    return _rule(And=list(rules))


def test_and_or_not() -> None:
    positive = {"Variable": "$.n", "NumericGreaterThan": 0}
    small = {"Variable": "$.n", "NumericLessThan": 10}
    data = {"n": 5}
    assert evaluate_rule(_and(positive, small), data, CONTEXT) is True
    assert evaluate_rule(_and(positive, small), {"n": 50}, CONTEXT) is False
    assert evaluate_rule(_rule(Or=[positive, small]), {"n": 50}, CONTEXT) is True
    assert evaluate_rule(_rule(Or=[positive, small]), {"n": -1}, CONTEXT) is True
    assert (
        evaluate_rule(
            _rule(Or=[{"Variable": "$.n", "NumericEquals": 1}, positive]), {"n": -1}, CONTEXT
        )
        is False
    )
    assert evaluate_rule(_rule(Not=positive), {"n": -1}, CONTEXT) is True
    assert evaluate_rule(_rule(Not=positive), data, CONTEXT) is False
    nested = _rule(Not={"And": [positive, {"Not": small}]})
    assert evaluate_rule(nested, {"n": 50}, CONTEXT) is False
    assert evaluate_rule(nested, {"n": 5}, CONTEXT) is True


def test_and_short_circuits_before_missing_path() -> None:
    rule = _rule(
        And=[
            {"Variable": "$.a", "IsPresent": True},
            {"Variable": "$.a", "StringEquals": "x"},
        ]
    )
    assert evaluate_rule(rule, {}, CONTEXT) is False
    assert evaluate_rule(rule, {"a": "x"}, CONTEXT) is True


def test_or_short_circuits() -> None:
    rule = _rule(
        Or=[
            {"Variable": "$.a", "IsPresent": False},
            {"Variable": "$.a", "StringEquals": "x"},
        ]
    )
    assert evaluate_rule(rule, {}, CONTEXT) is True


# --- choose_next / match_rule ------------------------------------------------------------------


def _state(default: str | None = None) -> ChoiceState:
    body: dict[str, Any] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.kind", "StringEquals": "a", "Next": "A"},
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big", "Assign": {"x": 1}},
            {"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Medium"},
        ],
    }
    if default is not None:
        body["Default"] = default
    return ChoiceState.model_validate(body)


def test_choose_next_first_match_wins() -> None:
    state = _state("Fallback")
    assert choose_next(state, {"kind": "a", "n": 20}, CONTEXT) == "A"
    assert choose_next(state, {"kind": "b", "n": 20}, CONTEXT) == "Big"
    assert choose_next(state, {"kind": "b", "n": 7}, CONTEXT) == "Medium"
    assert choose_next(state, {"kind": "b", "n": 1}, CONTEXT) == "Fallback"


def test_match_rule_returns_rule() -> None:
    state = _state()
    rule = match_rule(state, {"kind": "b", "n": 20}, CONTEXT)
    assert rule is not None and rule.assign == {"x": 1}
    assert match_rule(state, {"kind": "b", "n": 0}, CONTEXT) is None


def test_no_choice_matched() -> None:
    with pytest.raises(StatesError) as info:
        choose_next(_state(), {"kind": "b", "n": 1}, CONTEXT)
    assert info.value.error == "States.NoChoiceMatched"


def test_choose_next_missing_variable_fails_before_default() -> None:
    with pytest.raises(StatesError) as info:
        choose_next(_state("Fallback"), {"n": 1}, CONTEXT)
    assert info.value.error == "States.Runtime"
