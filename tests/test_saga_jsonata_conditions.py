"""Conditions (``saga.conditions``) and Choice rules rendered as JSONata ``Condition``
expressions decide exactly as the JSONPath rules do, on data of every JSON type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.choice import evaluate_rule
from engine.errors import StatesError
from engine.expressions import evaluate_expression
from engine.model import ChoiceRule
from saga.conditions import Condition, equals, greater_than, is_present, less_than
from saga.errors import SagaDefinitionError
from saga.jsonata_conditions import condition_expression
from saga.jsonata_paths import wrap

PATHS = ["$.a", "$.b", "$.n.c"]
TIMESTAMPS = ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5+01:00", "2023-12-31T23:00:00.4Z"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, 2.0, -1.5]),
    st.sampled_from(["", "x", "y", "xy", "5", "true", *TIMESTAMPS, "2024-13-01T00:00:00"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.just("c"), scalars))
data = st.fixed_dictionaries(
    {}, optional={"a": values, "b": values, "n": st.fixed_dictionaries({}, optional={"c": values})}
)
operands = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "5", 2.0, 0.5]))


@st.composite
def conditions(draw: st.DrawFn, depth: int = 2) -> Condition:
    path = draw(st.sampled_from(PATHS))
    kind = draw(st.integers(0, 3 if depth == 0 else 6))
    if kind == 0:
        return is_present(path)
    if kind == 1:
        return equals(path, draw(operands))
    if kind == 2:
        return greater_than(path, draw(st.integers(-3, 3)))
    if kind == 3:
        return less_than(path, draw(st.sampled_from([0.5, 2, -1])))
    first = draw(conditions(depth - 1))
    if kind == 4:
        return ~first
    second = draw(conditions(depth - 1))
    return first & second if kind == 5 else first | second


def _jsonata(expression: str, value: Any, context: Any = None) -> Any:
    states = {"input": value, "context": context or {}}
    return evaluate_expression(expression, "Condition", {"states": states})


@settings(max_examples=400, deadline=None)
@given(condition=conditions(), value=data)
def test_a_condition_decides_the_same_in_jsonata(condition: Condition, value: Any) -> None:
    assert _jsonata(condition.jsonata(), value) is evaluate_rule(condition.rule(), value, {})


ANY_OPERATOR = [
    *[(f"String{c}", "x") for c in ("Equals", "LessThan", "GreaterThanEquals")],
    *[(f"Numeric{c}", 1) for c in ("Equals", "LessThan", "GreaterThan", "LessThanEquals")],
    ("NumericGreaterThanEquals", 0.5),
    ("BooleanEquals", True),
    *[(f"Timestamp{c}", TIMESTAMPS[0]) for c in ("Equals", "LessThan", "GreaterThan")],
    ("StringMatches", "x*"),
    ("StringMatches", "*\\*y"),
    *[(f"Is{t}", flag) for t in ("Null", "String", "Numeric", "Boolean", "Timestamp") for flag in (True, False)],  # noqa: E501
    ("IsPresent", False),
    *[(f"{c}Path", "$.b") for c in ("StringEquals", "NumericLessThan", "TimestampGreaterThan")],
]  # fmt: skip


@pytest.mark.parametrize(("operator", "operand"), ANY_OPERATOR, ids=[o for o, _ in ANY_OPERATOR])
@settings(max_examples=60, deadline=None)
@given(value=data)
def test_every_operator_decides_the_same_on_present_data(
    operator: str, operand: Any, value: Any
) -> None:
    rule = ChoiceRule.model_validate({"Variable": "$.a", operator: operand})
    try:
        expected = evaluate_rule(rule, value, {})
    except StatesError:
        return  # a missing Variable or operand path: States.Runtime (see the module docstring)
    assert _jsonata(wrap(condition_expression(rule, "test")), value) is expected


def test_a_condition_renders_as_one_readable_expression() -> None:
    condition = equals("$.tier", "gold") | ~is_present("$.vip")
    assert condition.jsonata() == (
        '{% (($exists(($states.input).`tier`) and ($type(($states.input).`tier`) = "string" '
        'and ($states.input).`tier` = "gold")) or $not($exists(($states.input).`vip`))) %}'
    )


def test_the_deadline_test_reads_the_entered_time_from_the_context() -> None:
    rule = ChoiceRule.model_validate(
        {"Variable": "$$.State.EnteredTime", "TimestampGreaterThanPath": "$.deadline"}
    )
    expression = wrap(condition_expression(rule, "test"))
    context = {"State": {"EnteredTime": "2024-01-01T00:00:10.000Z"}}
    assert _jsonata(expression, {"deadline": "2024-01-01T00:00:09Z"}, context) is True
    assert _jsonata(expression, {"deadline": "2024-01-01T00:00:11Z"}, context) is False
    assert _jsonata(expression, {"deadline": "soon"}, context) is False


def test_a_rule_without_a_translation_is_refused_with_where() -> None:
    rule = ChoiceRule.model_validate({"Variable": "$.a"})
    with pytest.raises(SagaDefinitionError, match="state 'X', rule 0: the Choice rule"):
        condition_expression(rule, "state 'X', rule 0")
