"""engine.lambda_runtime: the Lambda Python runtime's rules, and that it needs only the stdlib."""

from __future__ import annotations

import ast
import datetime
import decimal
import json
import sys
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

import engine
from engine import lambda_runtime
from engine.lambda_runtime import LambdaContext, invoke, marshal
from tests.strategies import json_values

Point = namedtuple("Point", "x y")
FN = "arn:aws:lambda:us-east-1:123456789012:function:work"


def test_the_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(lambda_runtime.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= set(sys.stdlib_module_names)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"price": decimal.Decimal("12.50")}, '{"price": 12.50}'),
        (decimal.Decimal("NaN"), "NaN"),
        (Point(1, 2), '{"x": 1, "y": 2}'),
        ((1, [2, (3,)]), "[1, [2, [3]]]"),
        ({"raw": b"caf\xc3\xa9"}, '{"raw": "caf\\u00e9"}'),
        (
            {2: "a", None: "b", True: "c", 1.5: "d"},
            '{"2": "a", "null": "b", "true": "c", "1.5": "d"}',
        ),
        (float("inf"), "Infinity"),
    ],
)
def test_results_are_marshalled_as_the_runtime_encoder_does(value: Any, text: str) -> None:
    assert marshal(value) == text


def _written_out(value: Any) -> str:
    """The runtime's rules applied by hand (what :func:`marshal` does with data not plain)."""
    out: list[str] = []
    lambda_runtime._encode(value, out, set())
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(json_values(max_leaves=12))
def test_plain_data_is_written_as_the_runtime_rules_write_it(value: Any) -> None:
    assert marshal(value) == _written_out(value)


class _Text(str):
    def __str__(self) -> str:
        return "not the content"


_DEEP: Any = 0
for _ in range(70):
    _DEEP = [_DEEP]


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ({"nested": [1, {"point": Point(3, 4)}]}, False),  # a named tuple deep inside: an object
        ({"ids": (1, 2)}, False),
        ({"amount": decimal.Decimal("1.10"), "n": 1}, False),
        ({"name": _Text("seat"), "k": True}, False),
        ({1: "int key"}, False),
        (_DEEP, False),  # deeper than the C encoder is given
        ({"nan": float("nan"), "list": [float("-inf")]}, True),
        ({"surrogate": "\udcff", "snow": "\u2603", "big": 10**30}, True),
    ],
)
def test_what_the_c_encoder_is_given_is_written_as_the_runtime_rules_write_it(
    value: Any, plain: bool
) -> None:
    assert lambda_runtime._plain(value) is plain
    assert marshal(value) == _written_out(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (datetime.date(2026, 1, 1), "Object of type date is not JSON serializable"),
        ({"ids": {1}}, "Object of type set is not JSON serializable"),
        ({(1, 2): "x"}, "keys must be str, int, float, bool or None, not tuple"),
        (
            {"raw": b"\xff"},
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
    ],
)
def test_unmarshallable_results_are_marshal_errors(value: Any, message: str) -> None:
    outcome = invoke(lambda event: value, {}, LambdaContext("F", "rid"), request_id="rid")
    assert outcome.error() == "Runtime.MarshalError"
    assert json.loads(outcome.payload) == {
        "errorMessage": f"Unable to marshal response: {message}",
        "errorType": "Runtime.MarshalError",
        "requestId": "rid",
        "stackTrace": [],
    }


def test_a_circular_result_is_a_marshal_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    outcome = invoke(lambda event: loop, {}, LambdaContext("F", "rid"), request_id="rid")
    assert outcome.error_message() == "Unable to marshal response: Circular reference detected"


def test_an_exception_becomes_the_runtime_error_document() -> None:
    def step(event: Any) -> Any:
        raise KeyError("seat")

    outcome = invoke(step, {}, LambdaContext("F", "rid"), request_id="r-1")
    document = json.loads(outcome.payload)
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (document["errorMessage"], document["errorType"]) == ("'seat'", "KeyError")
    assert document["requestId"] == "r-1"
    assert len(document["stackTrace"]) == 1
    assert document["stackTrace"][0].endswith('in step\n    raise KeyError("seat")\n')
    assert outcome.cause() == outcome.payload  # spaced separators, as the runtime writes


def test_an_error_name_and_a_cause_are_bounded() -> None:
    name = "E" * 300
    error = type(name, (Exception,), {})
    outcome = invoke(
        lambda event: (_ for _ in ()).throw(error("m" * 40_000)), {}, None, request_id=""
    )
    assert outcome.error() == "E" * 256
    assert len(outcome.cause()) == 32_768


def test_the_context_counts_down_to_the_timeout() -> None:
    context = LambdaContext("Reserve", "rid", 2.0)
    assert 1_000 < context.get_remaining_time_in_millis() <= 2_000
    assert (context.function_version, context.memory_limit_in_mb) == ("$LATEST", "128")
    assert context.log_group_name == "/aws/lambda/Reserve"
    assert context.identity.cognito_identity_id is None
    assert context.client_context is None


def test_raw_asl_tasks_get_the_same_contract() -> None:
    definition = {
        "StartAt": "Legacy",
        "States": {
            "Legacy": {
                "Type": "Task",
                "Resource": FN,
                "Catch": [
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.legacy",
                        "Next": "Invoke",
                    }
                ],
                "Next": "Invoke",
            },
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "work", "Payload.$": "$"},
                "Catch": [
                    {
                        "ErrorEquals": ["Runtime.MarshalError"],
                        "ResultPath": "$.invoke",
                        "Next": "Done",
                    }
                ],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }

    def work(event: Any) -> Any:
        return {"at": datetime.datetime(2026, 1, 1)}

    execution = engine.run(engine.load(definition), {}, handlers={"work": work})
    assert execution.status == "SUCCEEDED"
    for key in ("legacy", "invoke"):
        error = execution.output[key]
        assert error["Error"] == "Runtime.MarshalError"
        assert json.loads(error["Cause"])["errorMessage"] == (
            "Unable to marshal response: Object of type datetime is not JSON serializable"
        )
