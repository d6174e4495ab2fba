"""Invalid definitions, each with the exact diagnostic codes and JSON-pointer locations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.diagnostics import DefinitionError, Diagnostic
from engine.loader import load
from engine.validate import CODES
from tests.strategies import json_values, machines

Doc = dict[str, Any]
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"


def _one(state: Doc, name: str = "Only", **top: Any) -> Doc:
    return {"StartAt": name, "States": {name: state}, **top}


def _task(**fields: Any) -> Doc:
    return {"Type": "Task", "Resource": LAMBDA, "End": True, **fields}


def _choice(*rules: Doc, **fields: Any) -> Doc:
    return {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": list(rules), **fields},
            "E": {"Type": "Succeed"},
        },
    }


def _map(**fields: Any) -> Doc:
    processor = {"StartAt": "Each", "States": {"Each": {"Type": "Succeed"}}}
    return _one({"Type": "Map", "End": True, "ItemProcessor": processor} | fields, "M")


def _branch(states: Doc, start: str) -> Doc:
    return {"StartAt": start, "States": states}


def _retry(*retriers: Doc) -> Doc:
    return _one(_task(Retry=list(retriers)), "Reserve Flight")


LONG_NAME = "N" * 81

# (id, definition, expected [(code, location)] — every diagnostic, errors and warnings)
INVALID: list[tuple[str, Doc, list[tuple[str, str]]]] = [
    # -- transitions ---------------------------------------------------------------------------
    (
        "next-and-end",
        {
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Next": "B", "End": True}, "B": {"Type": "Succeed"}},
        },
        [("NEXT_AND_END", "/States/A/End")],
    ),
    ("neither-next-nor-end", _one({"Type": "Pass"}), [("MISSING_TRANSITION", "/States/Only")]),
    (
        "end-false-without-next",
        _one({"Type": "Wait", "Seconds": 1, "End": False}),
        [("MISSING_TRANSITION", "/States/Only")],
    ),
    (
        "next-null",
        _one({"Type": "Pass", "Next": None}),
        [("WRONG_TYPE", "/States/Only/Next"), ("MISSING_TRANSITION", "/States/Only")],
    ),
    # -- retriers ------------------------------------------------------------------------------
    (
        "backoff-rate-below-one",
        _retry({"ErrorEquals": ["A"]}, {"ErrorEquals": ["B"], "BackoffRate": 0.5}),
        [("OUT_OF_RANGE", "/States/Reserve Flight/Retry/1/BackoffRate")],
    ),
    (
        "negative-max-attempts",
        _retry({"ErrorEquals": ["A"], "MaxAttempts": -1}),
        [("OUT_OF_RANGE", "/States/Reserve Flight/Retry/0/MaxAttempts")],
    ),
    (
        "negative-interval",
        _retry({"ErrorEquals": ["A"], "IntervalSeconds": -1}),
        [("OUT_OF_RANGE", "/States/Reserve Flight/Retry/0/IntervalSeconds")],
    ),
    (
        "interval-too-large",
        _retry({"ErrorEquals": ["A"], "IntervalSeconds": 100_000_000}),
        [("OUT_OF_RANGE", "/States/Reserve Flight/Retry/0/IntervalSeconds")],
    ),
    (
        "max-delay-zero-and-too-large",
        _retry(
            {"ErrorEquals": ["A"], "MaxDelaySeconds": 0},
            {"ErrorEquals": ["B"], "MaxDelaySeconds": 31_622_401},
        ),
        [
            ("OUT_OF_RANGE", "/States/Reserve Flight/Retry/0/MaxDelaySeconds"),
            ("OUT_OF_RANGE", "/States/Reserve Flight/Retry/1/MaxDelaySeconds"),
        ],
    ),
    (
        "unknown-jitter-strategy",
        _retry({"ErrorEquals": ["A"], "JitterStrategy": "PARTIAL"}),
        [("INVALID_VALUE", "/States/Reserve Flight/Retry/0/JitterStrategy")],
    ),
    (
        "reserved-error-name",
        _retry({"ErrorEquals": ["States.Custom", "States.Timeout"]}),
        [("RESERVED_ERROR_NAME", "/States/Reserve Flight/Retry/0/ErrorEquals/0")],
    ),
    (
        "empty-error-equals",
        _retry({"ErrorEquals": []}),
        [("EMPTY_ARRAY", "/States/Reserve Flight/Retry/0/ErrorEquals")],
    ),
    (
        "states-all-not-alone",
        _retry({"ErrorEquals": ["Boom", "States.ALL"]}),
        [("STATES_ALL_NOT_ALONE", "/States/Reserve Flight/Retry/0/ErrorEquals/1")],
    ),
    (
        "states-all-not-last-retrier",
        _retry({"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Boom"]}),
        [("STATES_ALL_NOT_LAST", "/States/Reserve Flight/Retry/0/ErrorEquals/0")],
    ),
    (
        "states-all-not-last-catcher",
        {
            "StartAt": "T",
            "States": {
                "T": _task(
                    Catch=[
                        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "F"},
                        {"ErrorEquals": ["Boom"], "ResultPath": "$.e", "Next": "F"},
                    ]
                ),
                "F": {"Type": "Fail"},
            },
        },
        [("STATES_ALL_NOT_LAST", "/States/T/Catch/0/ErrorEquals/0")],
    ),
    (
        "retrier-error-equals-not-array",
        _retry({"ErrorEquals": "Boom"}),
        [("WRONG_TYPE", "/States/Reserve Flight/Retry/0/ErrorEquals")],
    ),
    # -- timeouts ------------------------------------------------------------------------------
    (
        "timeout-zero",
        _one(_task(TimeoutSeconds=0), "T"),
        [("OUT_OF_RANGE", "/States/T/TimeoutSeconds")],
    ),
    (
        "heartbeat-equals-timeout",
        _one(_task(TimeoutSeconds=10, HeartbeatSeconds=10), "T"),
        [("HEARTBEAT_NOT_BELOW_TIMEOUT", "/States/T/HeartbeatSeconds")],
    ),
    (
        "heartbeat-at-default-timeout",
        _one(_task(HeartbeatSeconds=99_999_999), "T"),
        [("HEARTBEAT_NOT_BELOW_TIMEOUT", "/States/T/HeartbeatSeconds")],
    ),
    (
        "timeout-and-timeout-path",
        _one(_task(TimeoutSeconds=5, TimeoutSecondsPath="$.t"), "T"),
        [("MUTUALLY_EXCLUSIVE", "/States/T/TimeoutSecondsPath")],
    ),
    (
        "timeout-string-in-jsonpath",
        _one(_task(TimeoutSeconds="5"), "T"),
        [("WRONG_TYPE", "/States/T/TimeoutSeconds")],
    ),
    (
        "timeout-path-not-reference",
        _one(_task(TimeoutSecondsPath="$.limits[*]"), "T"),
        [("INVALID_REFERENCE_PATH", "/States/T/TimeoutSecondsPath")],
    ),
    (
        "machine-timeout-zero",
        _one({"Type": "Succeed"}, TimeoutSeconds=0),
        [("OUT_OF_RANGE", "/TimeoutSeconds")],
    ),
    # -- names ---------------------------------------------------------------------------------
    (
        "state-name-too-long",
        _one({"Type": "Succeed"}, LONG_NAME),
        [("STATE_NAME_TOO_LONG", f"/States/{LONG_NAME}")],
    ),
    (
        "duplicate-name-in-branch",
        _one(
            {
                "Type": "Parallel",
                "End": True,
                "Branches": [_branch({"P": {"Type": "Succeed"}}, "P")],
            },
            "P",
        ),
        [("DUPLICATE_STATE_NAME", "/States/P/Branches/0/States/P")],
    ),
    (
        "duplicate-name-across-branches",
        _one(
            {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    _branch({"X": {"Type": "Succeed"}}, "X"),
                    _branch({"X": {"Type": "Succeed"}}, "X"),
                ],
            },
            "P",
        ),
        [("DUPLICATE_STATE_NAME", "/States/P/Branches/1/States/X")],
    ),
    # -- paths, templates, intrinsics ----------------------------------------------------------
    (
        "input-path-without-dollar",
        _one({"Type": "Pass", "End": True, "InputPath": "a.b"}),
        [("INVALID_PATH", "/States/Only/InputPath")],
    ),
    (
        "pointer-escaping-in-location",
        _one({"Type": "Pass", "End": True, "OutputPath": "a.b"}, "a/b~c"),
        [("INVALID_PATH", "/States/a~1b~0c/OutputPath")],
    ),
    (
        "result-path-context",
        _one({"Type": "Pass", "End": True, "ResultPath": "$$.Execution.Id"}),
        [("INVALID_REFERENCE_PATH", "/States/Only/ResultPath")],
    ),
    (
        "result-path-wildcard",
        _one({"Type": "Pass", "End": True, "ResultPath": "$.items[*]"}),
        [("INVALID_REFERENCE_PATH", "/States/Only/ResultPath")],
    ),
    (
        "malformed-intrinsic",
        _one(_task(Parameters={"a": {"b.$": "States.Format('x {}', $.a"}}), "T"),
        [("INVALID_INTRINSIC", "/States/T/Parameters/a/b.$")],
    ),
    (
        "dynamic-value-neither-path-nor-intrinsic",
        _one({"Type": "Pass", "End": True, "Parameters": {"list": [{"x.$": "hello"}]}}),
        [("INVALID_INTRINSIC", "/States/Only/Parameters/list/0/x.$")],
    ),
    (
        "dynamic-value-not-string",
        _one({"Type": "Pass", "End": True, "Parameters": {"x.$": 5}}),
        [("WRONG_TYPE", "/States/Only/Parameters/x.$")],
    ),
    (
        "dynamic-value-bad-path",
        _one(_task(ResultSelector={"x.$": "$..[?"}), "T"),
        [("INVALID_PATH", "/States/T/ResultSelector/x.$")],
    ),
    (
        "duplicate-template-key",
        _one({"Type": "Pass", "End": True, "Parameters": {"a": 1, "a.$": "$.a"}}),
        [("DUPLICATE_TEMPLATE_KEY", "/States/Only/Parameters/a.$")],
    ),
    (
        "fail-error-path-malformed",
        _one({"Type": "Fail", "ErrorPath": "error"}, "F"),
        [("INVALID_INTRINSIC", "/States/F/ErrorPath")],
    ),
    (
        "assign-bad-variable-name",
        _one({"Type": "Pass", "End": True, "Assign": {"1st": 1}}),
        [("INVALID_VARIABLE_NAME", "/States/Only/Assign/1st")],
    ),
    (
        "assign-variable-name-with-newline",
        _one({"Type": "Pass", "End": True, "Assign": {"x\n": 1}}),
        [("INVALID_VARIABLE_NAME", "/States/Only/Assign/x\n")],
    ),
    # -- Choice ----------------------------------------------------------------------------------
    (
        "choice-rule-without-operator",
        _choice({"Variable": "$.x", "Next": "E"}),
        [("CHOICE_RULE_OPERATORS", "/States/C/Choices/0")],
    ),
    (
        "choice-rule-two-operators",
        _choice({"Variable": "$.x", "StringEquals": "a", "IsNull": True, "Next": "E"}),
        [("CHOICE_RULE_OPERATORS", "/States/C/Choices/0")],
    ),
    (
        "choice-rule-combinator-and-operator",
        _choice({"Not": {"Variable": "$.x", "IsNull": True}, "IsNull": True, "Next": "E"}),
        [("CHOICE_RULE_OPERATORS", "/States/C/Choices/0")],
    ),
    (
        "choice-rule-missing-variable",
        _choice({"StringEquals": "a", "Next": "E"}),
        [("MISSING_FIELD", "/States/C/Choices/0/Variable")],
    ),
    (
        "choice-top-rule-missing-next",
        _choice({"Variable": "$.x", "IsNull": True}, Default="E"),
        [("MISSING_FIELD", "/States/C/Choices/0/Next")],
    ),
    (
        "choice-nested-rule-with-next",
        _choice({"And": [{"Variable": "$.x", "IsNull": True, "Next": "E"}], "Next": "E"}),
        [("FIELD_NOT_ALLOWED", "/States/C/Choices/0/And/0/Next")],
    ),
    ("choice-empty-choices", _choice(Default="E"), [("EMPTY_ARRAY", "/States/C/Choices")]),
    (
        "choice-empty-and",
        _choice({"And": [], "Next": "E"}),
        [("EMPTY_ARRAY", "/States/C/Choices/0/And")],
    ),
    (
        "choice-bad-variable-path",
        _choice({"Variable": "x", "IsNull": True, "Next": "E"}),
        [("INVALID_PATH", "/States/C/Choices/0/Variable")],
    ),
    (
        "choice-bad-timestamp",
        _choice({"Variable": "$.t", "TimestampEquals": "2016-03-14 01:59:00", "Next": "E"}),
        [("INVALID_TIMESTAMP", "/States/C/Choices/0/TimestampEquals")],
    ),
    (
        "choice-parameters-not-allowed",
        _choice({"Variable": "$.x", "IsNull": True, "Next": "E"}, Parameters={}),
        [("FIELD_NOT_ALLOWED", "/States/C/Parameters")],
    ),
    (
        "choice-next-not-allowed",
        _choice({"Variable": "$.x", "IsNull": True, "Next": "E"}, Next="E"),
        [("FIELD_NOT_ALLOWED", "/States/C/Next")],
    ),
    # -- Wait, Fail, Map, Parallel ---------------------------------------------------------------
    (
        "wait-seconds-and-seconds-path",
        _one({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}, "W"),
        [("MUTUALLY_EXCLUSIVE", "/States/W/SecondsPath")],
    ),
    (
        "wait-without-duration",
        _one({"Type": "Wait", "End": True}, "W"),
        [("MISSING_FIELD", "/States/W")],
    ),
    (
        "wait-negative-seconds",
        _one({"Type": "Wait", "Seconds": -1, "End": True}, "W"),
        [("OUT_OF_RANGE", "/States/W/Seconds")],
    ),
    (
        "wait-bad-timestamp",
        _one({"Type": "Wait", "Timestamp": "2016-03-14t01:59:00z", "End": True}, "W"),
        [("INVALID_TIMESTAMP", "/States/W/Timestamp")],
    ),
    (
        "wait-timestamp-offset-minutes-out-of-range",
        _one({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00+05:60", "End": True}, "W"),
        [("INVALID_TIMESTAMP", "/States/W/Timestamp")],
    ),
    (
        "fail-error-and-error-path",
        _one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}, "F"),
        [("MUTUALLY_EXCLUSIVE", "/States/F/ErrorPath")],
    ),
    (
        "succeed-with-result-path",
        _one({"Type": "Succeed", "ResultPath": "$.x"}),
        [("FIELD_NOT_ALLOWED", "/States/Only/ResultPath")],
    ),
    (
        "pass-with-catch",
        _one({"Type": "Pass", "End": True, "Catch": []}),
        [("FIELD_NOT_ALLOWED", "/States/Only/Catch")],
    ),
    (
        "map-processor-and-iterator",
        _map(Iterator={"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}),
        [("MUTUALLY_EXCLUSIVE", "/States/M/Iterator")],
    ),
    (
        "map-item-selector-and-parameters",
        _map(ItemSelector={}, Parameters={}),
        [("MUTUALLY_EXCLUSIVE", "/States/M/Parameters")],
    ),
    (
        "map-without-processor",
        _one({"Type": "Map", "End": True}, "M"),
        [("MISSING_FIELD", "/States/M/ItemProcessor")],
    ),
    (
        "map-negative-max-concurrency",
        _map(MaxConcurrency=-1),
        [("OUT_OF_RANGE", "/States/M/MaxConcurrency")],
    ),
    (
        "map-tolerated-percentage-over-100",
        _map(ToleratedFailurePercentage=101),
        [("OUT_OF_RANGE", "/States/M/ToleratedFailurePercentage")],
    ),
    (
        "map-unknown-mode",
        _one(
            {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "FAST"},
                    "StartAt": "Each",
                    "States": {"Each": {"Type": "Succeed"}},
                },
            },
            "M",
        ),
        [("INVALID_VALUE", "/States/M/ItemProcessor/ProcessorConfig/Mode")],
    ),
    (
        "parallel-empty-branches",
        _one({"Type": "Parallel", "End": True, "Branches": []}, "P"),
        [("EMPTY_ARRAY", "/States/P/Branches")],
    ),
    (
        "task-empty-resource",
        _one(_task(Resource=""), "T"),
        [("INVALID_RESOURCE", "/States/T/Resource")],
    ),
    (
        "task-optimised-action-the-service-lacks",
        _one(_task(Resource="arn:aws:states:::dynamodb:query"), "T"),
        [("INVALID_RESOURCE", "/States/T/Resource")],
    ),
    # -- query languages -------------------------------------------------------------------------
    (
        "jsonata-field-in-jsonpath-state",
        _one({"Type": "Pass", "End": True, "Output": {"a": 1}}),
        [("QUERY_LANGUAGE_MISMATCH", "/States/Only/Output")],
    ),
    (
        "jsonpath-field-in-jsonata-machine",
        _one({"Type": "Pass", "End": True, "InputPath": "$.a"}, QueryLanguage="JSONata"),
        [("QUERY_LANGUAGE_MISMATCH", "/States/Only/InputPath")],
    ),
    (
        "jsonpath-state-in-jsonata-machine",
        _one({"Type": "Pass", "End": True, "QueryLanguage": "JSONPath"}, QueryLanguage="JSONata"),
        [("QUERY_LANGUAGE_DOWNGRADE", "/States/Only/QueryLanguage")],
    ),
    (
        "unknown-query-language",
        _one({"Type": "Succeed"}, QueryLanguage="XPath"),
        [("INVALID_VALUE", "/QueryLanguage")],
    ),
    (
        "jsonata-bad-expression",
        _one(_task(TimeoutSeconds="5 seconds"), "T", QueryLanguage="JSONata"),
        [("INVALID_JSONATA", "/States/T/TimeoutSeconds")],
    ),
    (
        "jsonata-rule-missing-condition",
        _choice({"Next": "E"}, QueryLanguage="JSONata"),
        [("MISSING_FIELD", "/States/C/Choices/0/Condition")],
    ),
    # -- graph -----------------------------------------------------------------------------------
    (
        "start-at-missing",
        _one({"Type": "Succeed"}) | {"StartAt": "Nope"},
        [("START_AT_NOT_FOUND", "/StartAt")],
    ),
    (
        "branch-start-at-missing",
        _one(
            {
                "Type": "Parallel",
                "End": True,
                "Branches": [_branch({"X": {"Type": "Succeed"}}, "Y")],
            },
            "P",
        ),
        [("START_AT_NOT_FOUND", "/States/P/Branches/0/StartAt")],
    ),
    (
        "next-target-missing",
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}},
        [("MISSING_TRANSITION_TARGET", "/States/A/Next")],
    ),
    (
        "default-target-missing",
        _choice({"Variable": "$.x", "IsNull": True, "Next": "E"}, Default="Nowhere"),
        [("MISSING_TRANSITION_TARGET", "/States/C/Default")],
    ),
    (
        "catcher-leaves-branch",
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Next": "Done",
                    "Branches": [
                        _branch(
                            {
                                "Inner": _task(
                                    Catch=[
                                        {
                                            "ErrorEquals": ["States.ALL"],
                                            "ResultPath": "$.e",
                                            "Next": "Done",
                                        }
                                    ]
                                )
                            },
                            "Inner",
                        )
                    ],
                },
                "Done": {"Type": "Succeed"},
            },
        },
        [("TRANSITION_OUT_OF_SCOPE", "/States/P/Branches/0/States/Inner/Catch/0/Next")],
    ),
    (
        "next-into-item-processor",
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "Each"},
                "M": {
                    "Type": "Map",
                    "End": True,
                    "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Succeed"}}},
                },
            },
        },
        [("TRANSITION_OUT_OF_SCOPE", "/States/A/Next"), ("UNREACHABLE_STATE", "/States/M")],
    ),
    (
        "unreachable-state",
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}}},
        [("UNREACHABLE_STATE", "/States/Orphan")],
    ),
    (
        "loop-without-exit",
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Wait", "Seconds": 1, "Next": "A"},
            },
        },
        [("NO_TERMINAL_PATH", "/States/A"), ("NO_TERMINAL_PATH", "/States/B")],
    ),
    # -- schema ----------------------------------------------------------------------------------
    (
        "unknown-field",
        _one({"Type": "Pass", "End": True, "Foo": 1}),
        [("UNKNOWN_FIELD", "/States/Only/Foo")],
    ),
    (
        "unknown-state-type",
        _one({"Type": "Sleep", "End": True}, "X"),
        [("UNKNOWN_STATE_TYPE", "/States/X/Type")],
    ),
    ("missing-state-type", _one({"End": True}, "X"), [("MISSING_FIELD", "/States/X/Type")]),
    ("state-not-an-object", _one([], "X"), [("WRONG_TYPE", "/States/X")]),  # type: ignore[arg-type]
    ("end-not-boolean", _one({"Type": "Pass", "End": "yes"}), [("WRONG_TYPE", "/States/Only/End")]),
    (
        "task-missing-resource",
        _one({"Type": "Task", "End": True}, "T"),
        [("MISSING_FIELD", "/States/T/Resource")],
    ),
    ("missing-states", {"StartAt": "A"}, [("MISSING_FIELD", "/States")]),
    (
        "snake-case-keys",
        {"start_at": "A", "States": {"A": {"Type": "Succeed"}}},
        [("UNKNOWN_FIELD", "/start_at"), ("MISSING_FIELD", "/StartAt")],
    ),
    (
        "nested-schema-error-in-branch",
        _one(
            {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    _branch({"Q": {"Type": "Pass", "End": True, "Result": 1, "Bogus": 2}}, "Q")
                ],
            },
            "P",
        ),
        [("UNKNOWN_FIELD", "/States/P/Branches/0/States/Q/Bogus")],
    ),
    (
        "many-problems-at-once",
        {
            "StartAt": "A",
            "States": {
                "A": _task(
                    Next="B",
                    Retry=[
                        {"ErrorEquals": ["States.ALL"], "BackoffRate": 0},
                        {"ErrorEquals": ["X"]},
                    ],
                    InputPath="nope",
                ),
                "B": {"Type": "Succeed"},
            },
        },
        [
            ("NEXT_AND_END", "/States/A/End"),
            ("INVALID_PATH", "/States/A/InputPath"),
            ("STATES_ALL_NOT_LAST", "/States/A/Retry/0/ErrorEquals/0"),
            ("OUT_OF_RANGE", "/States/A/Retry/0/BackoffRate"),
        ],
    ),
]

# Definitions that are valid but carry warnings (likely bugs).
WARNINGS: list[tuple[str, Doc, list[tuple[str, str]]]] = [
    (
        "unprefixed-dynamodb-error",
        _one(
            _task(
                Resource="arn:aws:states:::dynamodb:updateItem",
                Retry=[
                    {
                        "ErrorEquals": [
                            "ConditionalCheckFailedException",
                            "DynamoDB.ThrottlingException",
                        ]
                    }
                ],
            ),
            "T",
        ),
        [("UNPREFIXED_INTEGRATION_ERROR", "/States/T/Retry/0/ErrorEquals/0")],
    ),
    (
        "wrongly-prefixed-sqs-error-in-catch",
        {
            "StartAt": "T",
            "States": {
                "T": _task(
                    Resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    Catch=[
                        {"ErrorEquals": ["Sqs.QueueDoesNotExist"], "ResultPath": "$.e", "Next": "F"}
                    ],
                ),
                "F": {"Type": "Fail"},
            },
        },
        [("UNPREFIXED_INTEGRATION_ERROR", "/States/T/Catch/0/ErrorEquals/0")],
    ),
    (
        "unprefixed-eventbridge-and-stepfunctions-errors",
        {
            "StartAt": "E",
            "States": {
                "E": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::events:putEvents",
                    "Retry": [{"ErrorEquals": ["FailedEntry"]}],
                    "Next": "S",
                },
                "S": _task(
                    Resource="arn:aws:states:::states:startExecution.sync:2",
                    Retry=[{"ErrorEquals": ["ExecutionLimitExceeded"]}],
                ),
            },
        },
        [
            ("UNPREFIXED_INTEGRATION_ERROR", "/States/E/Retry/0/ErrorEquals/0"),
            ("UNPREFIXED_INTEGRATION_ERROR", "/States/S/Retry/0/ErrorEquals/0"),
        ],
    ),
    (
        "catcher-without-result-path",
        {
            "StartAt": "T",
            "States": {
                "T": _task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "F"}]),
                "F": {"Type": "Fail"},
            },
        },
        [("CATCHER_DISCARDS_INPUT", "/States/T/Catch/0")],
    ),
]


def diagnose(document: Doc) -> list[Diagnostic]:
    """Every diagnostic of ``document``: the loader's schema errors, else the validator's."""
    try:
        machine = load(document, validate=False)
    except DefinitionError as exc:
        return exc.diagnostics
    return machine.validate()


def _pairs(diagnostics: list[Diagnostic]) -> list[tuple[str, str]]:
    return sorted((d.code, d.location) for d in diagnostics)


@pytest.mark.parametrize(
    ("document", "expected"), [(d, e) for _, d, e in INVALID], ids=[i for i, _, _ in INVALID]
)
def test_invalid_definition_reports_exact_codes_and_locations(
    document: Doc, expected: list[tuple[str, str]]
) -> None:
    diagnostics = diagnose(document)
    assert _pairs(diagnostics) == sorted(expected)
    assert all(d.message for d in diagnostics)


@pytest.mark.parametrize("document", [d for _, d, _ in INVALID], ids=[i for i, _, _ in INVALID])
def test_load_raises_definition_error_with_every_error(document: Doc) -> None:
    with pytest.raises(DefinitionError) as caught:
        load(document)
    assert _pairs(caught.value.diagnostics) == _pairs(diagnose(document))
    assert caught.value.errors


@pytest.mark.parametrize(
    ("document", "expected"), [(d, e) for _, d, e in WARNINGS], ids=[i for i, _, _ in WARNINGS]
)
def test_warnings_have_exact_codes_and_locations(
    document: Doc, expected: list[tuple[str, str]]
) -> None:
    diagnostics = diagnose(document)
    assert _pairs(diagnostics) == sorted(expected)
    for diagnostic in diagnostics:
        expected_severity = (
            "warning"
            if diagnostic.code in {"UNPREFIXED_INTEGRATION_ERROR", "CATCHER_DISCARDS_INPUT"}
            else "error"
        )
        assert diagnostic.severity == expected_severity


def test_unprefixed_error_message_names_the_prefixed_error() -> None:
    (diagnostic,) = diagnose(WARNINGS[0][1])
    assert "DynamoDB.ConditionalCheckFailedException" in diagnostic.message


def test_corpus_is_large_and_every_code_is_documented() -> None:
    assert len(INVALID) >= 40
    used = {code for _, _, expected in INVALID + WARNINGS for code, _ in expected}
    assert used <= set(CODES)


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ('{"StartAt": "A", ', "INVALID_JSON"),
        (b"\xff\xfe", "INVALID_JSON"),
        (
            '{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": NaN, "End": true}}}',
            "INVALID_JSON",
        ),
        ("[]", "INVALID_TYPE"),
        ('"just a string"', "INVALID_TYPE"),
        ("[" * 100_000 + "]" * 100_000, "TOO_DEEP"),
    ],
    ids=["truncated", "not-utf8", "nan", "array", "string", "deep-json-text"],
)
def test_unusable_input_is_a_definition_error(source: str | bytes, code: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load(source)
    assert [(d.code, d.location) for d in caught.value.diagnostics] == [(code, "")]


def test_nesting_deeper_than_the_parser_allows_is_a_definition_error() -> None:
    inner: Doc = {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}
    for level in range(400):
        inner = {
            "StartAt": f"P{level}",
            "States": {f"P{level}": {"Type": "Parallel", "Branches": [inner], "End": True}},
        }
    with pytest.raises(DefinitionError) as caught:
        load(inner)
    assert [d.code for d in caught.value.diagnostics] == ["TOO_DEEP"]


def test_substitution_of_a_deep_document_does_not_recurse() -> None:
    value: Any = "${Name}"
    for _ in range(5_000):
        value = [value]
    document = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": value, "End": True}}}
    machine = load(document, {"Name": "x"})
    result = machine.states["A"].result  # type: ignore[union-attr]
    depth = 0
    while isinstance(result, list):
        (result,) = result
        depth += 1
    assert (depth, result) == (5_000, "x")


def _locations(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair of ``document``, found iteratively."""
    found: list[tuple[Any, Any]] = []
    stack = [document]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            found.append((node, key))
            if isinstance(node[key], dict | list):
                stack.append(node[key])
    return found


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(machines(max_depth=1), st.data())
def test_mutated_definitions_give_diagnostics_never_tracebacks(
    document: Doc, data: st.DataObject
) -> None:
    for _ in range(data.draw(st.integers(1, 3))):
        locations = _locations(document)
        if not locations:
            break
        container, key = data.draw(st.sampled_from(locations))
        if isinstance(container, dict) and data.draw(st.booleans()):
            del container[key]
        else:
            container[key] = data.draw(json_values(4))
    try:
        machine = load(json.dumps(document), validate=False)
    except DefinitionError as exc:
        assert exc.diagnostics
        assert all(d.location == "" or d.location.startswith("/") for d in exc.diagnostics)
        return
    for diagnostic in machine.validate():
        assert diagnostic.code in CODES
        assert diagnostic.location == "" or diagnostic.location.startswith("/")
