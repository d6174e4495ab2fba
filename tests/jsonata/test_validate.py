"""The validator on JSONata definitions: located diagnostics for what Step Functions refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.diagnostics import DefinitionError
from engine.loader import load
from tests.jsonata.cases import CASES, WORK, machine
from tests.oracles import asl_validator_path, asl_validator_problems


def _diagnostics(definition: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        load(json.dumps(definition))
    except DefinitionError as exc:
        return [(d.code, d.location) for d in exc.diagnostics if d.severity == "error"]
    return []


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_every_state_case_is_valid(case: Any) -> None:
    assert _diagnostics(case.definition) == []


def test_expression_that_does_not_compile() -> None:
    definition = machine(
        {"P": {"Type": "Pass", "Output": {"a": ["ok", "{% $sum(1, %}"]}, "End": True}}
    )
    assert _diagnostics(definition) == [("INVALID_JSONATA", "/States/P/Output/a/1")]
    with pytest.raises(DefinitionError, match="does not compile"):
        load(json.dumps(definition))


@pytest.mark.parametrize(
    ("state", "location"),
    [
        ({"Type": "Pass", "Output": "{% $states.result %}", "End": True}, "/States/S/Output"),
        (
            {"Type": "Task", "Resource": WORK, "Arguments": "{% $states.result %}", "End": True},
            "/States/S/Arguments",
        ),
        (
            {"Type": "Task", "Resource": WORK, "Output": "{% $states.errorOutput %}", "End": True},
            "/States/S/Output",
        ),
        (
            {
                "Type": "Task",
                "Resource": WORK,
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "Output": "{% $states.result %}", "Next": "S"}
                ],
                "End": True,
            },
            "/States/S/Catch/0/Output",
        ),
    ],
)
def test_states_fields_only_where_they_exist(state: dict[str, Any], location: str) -> None:
    assert _diagnostics(machine({"S": state})) == [("INVALID_STATES_REFERENCE", location)]


def test_states_fields_where_they_exist_are_accepted() -> None:
    definition = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": WORK,
                "Output": "{% $states.result %}",
                "Assign": {"r": "{% $states.result %}", "s": "{% '$states.errorOutput' %}"},
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Output": "{% $states.errorOutput %}",
                        "Assign": {"e": "{% $states.errorOutput.Error %}"},
                        "Next": "Done",
                    }
                ],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        }
    )
    assert _diagnostics(definition) == []


def test_condition_must_be_an_expression() -> None:
    definition = machine(
        {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Condition": "$.ok", "Next": "D"},
                    {"Next": "D"},
                ],
                "Default": "D",
            },
            "D": {"Type": "Succeed"},
        }
    )
    assert _diagnostics(definition) == [
        ("INVALID_JSONATA", "/States/C/Choices/0/Condition"),
        ("MISSING_FIELD", "/States/C/Choices/1/Condition"),
    ]  # a boolean literal is accepted, as AWS does: tests/test_aws_recorded_scenarios.py


def test_jsonpath_only_fields_are_refused_in_jsonata_states() -> None:
    definition = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": WORK,
                "Parameters": {"a.$": "$.a"},
                "ResultSelector": {"b.$": "$.b"},
                "ResultPath": "$.r",
                "TimeoutSecondsPath": "$.t",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "D"}],
                "Next": "D",
            },
            "D": {"Type": "Succeed", "OutputPath": "$.x"},
        }
    )
    assert sorted(_diagnostics(definition)) == [
        ("QUERY_LANGUAGE_MISMATCH", "/States/D/OutputPath"),
        ("QUERY_LANGUAGE_MISMATCH", "/States/T/Catch/0/ResultPath"),
        ("QUERY_LANGUAGE_MISMATCH", "/States/T/Parameters"),
        ("QUERY_LANGUAGE_MISMATCH", "/States/T/ResultPath"),
        ("QUERY_LANGUAGE_MISMATCH", "/States/T/ResultSelector"),
        ("QUERY_LANGUAGE_MISMATCH", "/States/T/TimeoutSecondsPath"),
    ]


def test_jsonata_only_fields_are_refused_in_jsonpath_states() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Items": [1],
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
                "Output": {"a": 1},
                "Next": "T",
            },
            "T": {"Type": "Task", "Resource": WORK, "Arguments": {}, "End": True},
        },
    }
    assert sorted(_diagnostics(definition)) == [
        ("QUERY_LANGUAGE_MISMATCH", "/States/M/Items"),
        ("QUERY_LANGUAGE_MISMATCH", "/States/M/Output"),
        ("QUERY_LANGUAGE_MISMATCH", "/States/T/Arguments"),
    ]


def test_nested_scope_may_not_assign_an_enclosing_variable() -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "Assign": {"seen": "{% $states.result %}"},
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {
                        "I": {
                            "Type": "Choice",
                            "Choices": [
                                {"Condition": "{% true %}", "Assign": {"seen": 1}, "Next": "J"}
                            ],
                        },
                        "J": {"Type": "Pass", "Assign": {"mine": 1}, "End": True},
                    },
                },
                "End": True,
            }
        }
    )
    assert _diagnostics(definition) == [
        ("OUTER_SCOPE_ASSIGNMENT", "/States/M/ItemProcessor/States/I/Choices/0/Assign/seen")
    ]


def test_items_must_be_an_array_or_expression() -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "Items": "$.items",
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        }
    )
    assert _diagnostics(definition) == [("INVALID_JSONATA", "/States/M/Items")]


def test_every_state_case_passes_asl_validator() -> None:
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is installed by README's test command (npm, in .tools/)")
    # asl-validator's schema refuses a scalar Output literal that Step Functions runs (recorded).
    checked = [case for case in CASES if not case.id.startswith("pass-output-any-json-value")]
    problems = asl_validator_problems([case.definition for case in checked], command)
    assert {case.id: found for case, found in zip(checked, problems, strict=True) if found} == {}
