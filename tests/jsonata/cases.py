"""JSONata state machines with the exact outcome Step Functions gives, one per field and state type.

Each case is run by ``test_states.py``; ``test_differential.py`` replays every expression these
runs evaluate through the reference JavaScript implementation. Causes marked AWS below are the
texts Step Functions recorded (LocalStack's snapshot tests, recorded against AWS).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["CASES", "WORK", "Case", "machine"]

WORK = "arn:aws:lambda:us-east-1:123456789012:function:work"
"""A Lambda function the cases bind to Python callables."""


class Case(NamedTuple):
    """A definition, its input, the handlers it needs and its expected outcome."""

    id: str
    definition: dict[str, Any]
    input: Any
    expected: dict[str, Any]
    handler: str | None = None
    """Name of a callable in ``HANDLERS`` bound to ``WORK``."""


def machine(states: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A JSONata machine starting at its first state."""
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states, **top}


def _ok(output: Any) -> dict[str, Any]:
    return {"status": "SUCCEEDED", "output": output}


def _failed(error: str, cause: str | None) -> dict[str, Any]:
    return {"status": "FAILED", "error": error, "cause": cause}


def _prefix(state: str, entered: int) -> str:
    return (
        f"An error occurred while executing the state '{state}' (entered at the event id "
        f"#{entered}). "
    )


def _undefined(state: str, entered: int, expr: str, field: str) -> dict[str, Any]:
    return _failed(
        "States.QueryEvaluationError",
        _prefix(state, entered)
        + f"The JSONata expression '{expr}' specified for the field '{field}' returned nothing "
        "(undefined).",
    )


_LITERALS: list[Any] = [None, 0, 0.1, True, "string", [], "$nosuchvar", "$.no.such.path"]
ORDER = {"id": "o-1", "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}], "total": 12.5}

CASES: list[Case] = [
    # -- Pass -------------------------------------------------------------------------------
    Case(
        "pass-default-output-is-input",
        machine({"P": {"Type": "Pass", "End": True}}),
        ORDER,
        _ok(ORDER),
    ),
    Case(
        "pass-output-template",
        machine(
            {
                "P": {
                    "Type": "Pass",
                    "Output": {
                        "order": "{% $states.input.id %}",
                        "skus": "{% $states.input.items.sku %}",
                        "units": "{% $sum($states.input.items.qty) %}",
                        "fixed": [1, "two", None, True],
                        "state": "{% $states.context.State.Name %}",
                    },
                    "End": True,
                }
            }
        ),
        ORDER,
        _ok(
            {
                "order": "o-1",
                "skus": ["A", "B"],
                "units": 3,
                "fixed": [1, "two", None, True],
                "state": "P",
            }
        ),
    ),
    Case(
        "pass-output-single-expression",
        machine({"P": {"Type": "Pass", "Output": "{% $states.input.total * 2 %}", "End": True}}),
        ORDER,
        _ok(25),
    ),
    Case(
        # AWS: strings that are not exactly '{% … %}' and JSONPath syntax are plain literals.
        "pass-literals-stay-literal",
        machine(
            {
                "P": {
                    "Type": "Pass",
                    "Output": {
                        "spaced": " {% 1 + 1 %} ",
                        "path.$": "$.id",
                        "intrinsic": "States.Format('{}', 1)",
                        "context": "$$.Execution.Id",
                    },
                    "End": True,
                }
            }
        ),
        ORDER,
        _ok(
            {
                "spaced": " {% 1 + 1 %} ",
                "path.$": "$.id",
                "intrinsic": "States.Format('{}', 1)",
                "context": "$$.Execution.Id",
            }
        ),
    ),
    *[
        # AWS-recorded: Output may be any JSON value; strings that are not expressions and
        # JSONPath-looking strings are literals.
        Case(
            f"pass-output-any-json-value-{index}",
            machine({"State0": {"Type": "Pass", "Output": value, "End": True}}),
            {"input_value": "stringliteral"},
            _ok(expected),
        )
        for index, (value, expected) in enumerate(
            [
                (None, None),
                (0, 0),
                (0.1, 0.1),
                (True, True),
                ("string literal", "string literal"),
                ([], []),
                (
                    [*_LITERALS, "{% $states.input %}", {"key": "{% true %}"}],
                    [*_LITERALS, {"input_value": "stringliteral"}, {"key": True}],
                ),
            ]
        )
    ],
    Case(
        "pass-assign-then-read-next-state",
        machine(
            {
                "Set": {
                    "Type": "Pass",
                    "Assign": {"orderId": "{% $states.input.id %}", "count": 0},
                    "Output": "{% $exists($orderId) %}",
                    "Next": "Read",
                },
                "Read": {
                    "Type": "Pass",
                    "Output": {
                        "orderId": "{% $orderId %}",
                        "count": "{% $count + 1 %}",
                        "before": "{% $states.input %}",
                    },
                    "End": True,
                },
            }
        ),
        ORDER,
        _ok({"orderId": "o-1", "count": 1, "before": False}),
    ),
    Case(
        # AWS: Assign and Output see the variables as of state entry.
        "assign-and-output-see-entry-values",
        machine(
            {
                "One": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Two"},
                "Two": {
                    "Type": "Pass",
                    "Assign": {"x": "{% $x + 1 %}", "old": "{% $x %}"},
                    "Output": {"x": "{% $x %}"},
                    "Next": "Three",
                },
                "Three": {
                    "Type": "Pass",
                    "Output": {"x": "{% $x %}", "old": "{% $old %}", "in": "{% $states.input %}"},
                    "End": True,
                },
            }
        ),
        {},
        _ok({"x": 2, "old": 1, "in": {"x": 1}}),
    ),
    Case(
        "pass-output-undefined-fails",  # AWS cause
        machine({"State0": {"Type": "Pass", "Output": "{% $doesNotExist %}", "End": True}}),
        {},
        _undefined("State0", 2, "$doesNotExist", "Output"),
    ),
    Case(
        "pass-output-field-undefined-fails",  # AWS cause
        machine(
            {"State0": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": True}}
        ),
        {},
        _undefined("State0", 2, "$doesNotExist", "Output/result"),
    ),
    Case(
        "pass-assign-undefined-fails",  # AWS cause
        machine(
            {"State0": {"Type": "Pass", "Assign": {"result": "{% $doesNotExist %}"}, "End": True}}
        ),
        {},
        _undefined("State0", 2, "$doesNotExist", "Assign/result"),
    ),
    Case(
        "expression-error-names-code",
        machine(
            {"P": {"Type": "Pass", "Output": {"n": "{% $states.input.id + 1 %}"}, "End": True}}
        ),
        ORDER,
        _failed(
            "States.QueryEvaluationError",
            _prefix("P", 2)
            + "The JSONata expression '$states.input.id + 1' specified for the field 'Output/n' "
            'threw an error during evaluation. T2001: The left side of the "+" operator must '
            "evaluate to a number",
        ),
    ),
    # -- Task -------------------------------------------------------------------------------
    Case(
        "task-arguments-and-output",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Arguments": {"items": "{% $states.input.items %}", "currency": "EUR"},
                    "Output": {
                        "units": "{% $states.result.units %}",
                        "order": "{% $states.input.id %}",
                    },
                    "End": True,
                }
            }
        ),
        ORDER,
        _ok({"units": 3, "order": "o-1"}),
        handler="count_units",
    ),
    Case(
        "task-default-input-and-output",
        machine({"T": {"Type": "Task", "Resource": WORK, "End": True}}),
        {"items": [{"qty": 4}]},
        _ok({"units": 4, "currency": None}),
        handler="count_units",
    ),
    Case(
        "task-arguments-single-expression",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Arguments": "{% {'items': [{'qty': 5}, {'qty': 6}]} %}",
                    "End": True,
                }
            }
        ),
        {},
        _ok({"units": 11, "currency": None}),
        handler="count_units",
    ),
    Case(
        "task-assign-reads-result",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Assign": {"units": "{% $states.result.units %}"},
                    "Output": "{% $states.input.id %}",
                    "Next": "Use",
                },
                "Use": {
                    "Type": "Pass",
                    "Output": {"units": "{% $units %}", "in": "{% $states.input %}"},
                    "End": True,
                },
            }
        ),
        ORDER,
        _ok({"units": 3, "in": "o-1"}),
        handler="count_units",
    ),
    Case(
        "task-arguments-field-undefined-fails",  # AWS cause and location
        machine(
            {
                "State0": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Arguments": {"FunctionName": "{% $doesNotExist %}"},
                    "End": True,
                }
            }
        ),
        {},
        _undefined("State0", 2, "$doesNotExist", "Arguments/FunctionName"),
        handler="count_units",
    ),
    Case(
        "task-timeout-expression",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": WORK,
                    "TimeoutSeconds": "{% $states.input.limit %}",
                    "Catch": [
                        {
                            "ErrorEquals": ["States.Timeout"],
                            "Output": {
                                "timedOut": "{% $states.errorOutput.Error %}",
                                "limit": "{% $states.input.limit %}",
                            },
                            "Next": "Done",
                        }
                    ],
                    "End": True,
                },
                "Done": {"Type": "Succeed"},
            }
        ),
        {"limit": 2},
        _ok({"timedOut": "States.Timeout", "limit": 2}),
        handler="sleeps",
    ),
    Case(
        "task-timeout-expression-wrong-type",
        machine(
            {"T": {"Type": "Task", "Resource": WORK, "TimeoutSeconds": "{% 'soon' %}", "End": True}}
        ),
        {},
        _failed(
            "States.QueryEvaluationError",
            _prefix("T", 2)
            + "The JSONata expression ''soon'' specified for the field 'TimeoutSeconds' returned "
            "an unexpected result type. Expected 'integer', but was 'string' for value: \"soon\"",
        ),
        handler="count_units",
    ),
    Case(
        "catch-output-and-assign",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Catch": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "Assign": {"failure": "{% $states.errorOutput.Error %}"},
                            "Output": {
                                "input": "{% $states.input %}",
                                "cause": "{% $parse($states.errorOutput.Cause).errorMessage %}",
                            },
                            "Next": "After",
                        }
                    ],
                    "End": True,
                },
                "After": {
                    "Type": "Pass",
                    "Output": {"failure": "{% $failure %}", "got": "{% $states.input %}"},
                    "End": True,
                },
            }
        ),
        {"n": 1},
        _ok({"failure": "ValueError", "got": {"input": {"n": 1}, "cause": "no stock"}}),
        handler="fails",
    ),
    Case(
        "catch-default-output-is-error-output",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "After"}],
                    "End": True,
                },
                "After": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": True},
            }
        ),
        {},
        _ok("ValueError"),
        handler="fails",
    ),
    Case(
        "query-evaluation-error-is-caught",
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": WORK,
                    "Output": "{% $states.result.missing %}",
                    "Catch": [
                        {
                            "ErrorEquals": ["States.QueryEvaluationError"],
                            "Output": "{% $states.errorOutput.Error %}",
                            "Next": "Done",
                        }
                    ],
                    "End": True,
                },
                "Done": {"Type": "Succeed"},
            }
        ),
        {"items": []},
        _ok("States.QueryEvaluationError"),
        handler="count_units",
    ),
    # -- Choice -----------------------------------------------------------------------------
    Case(
        "choice-condition-and-rule-output",
        machine(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {"Condition": "{% $states.input.total > 100 %}", "Next": "Big"},
                        {
                            "Condition": "{% $states.input.total > 10 %}",
                            "Assign": {"size": "medium"},
                            "Output": {"total": "{% $states.input.total %}"},
                            "Next": "Medium",
                        },
                    ],
                    "Default": "Big",
                    "Assign": {"size": "default"},
                },
                "Big": {"Type": "Pass", "Output": {"size": "big"}, "End": True},
                "Medium": {
                    "Type": "Pass",
                    "Output": {"size": "{% $size %}", "in": "{% $states.input %}"},
                    "End": True,
                },
            }
        ),
        ORDER,
        _ok({"size": "medium", "in": {"total": 12.5}}),
    ),
    Case(
        "choice-default-assign-and-output",
        machine(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Condition": "{% $states.input.total > 100 %}",
                            "Assign": {"size": "big"},
                            "Next": "Out",
                        }
                    ],
                    "Default": "Out",
                    "Assign": {"size": "small"},
                    "Output": "{% $states.input.id %}",
                },
                "Out": {
                    "Type": "Pass",
                    "Output": "{% [$size, $states.input] %}",
                    "End": True,
                },
            }
        ),
        ORDER,
        _ok(["small", "o-1"]),
    ),
    Case(
        "choice-literal-condition",
        machine(
            {
                "C": {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "Yes"}]},
                "Yes": {"Type": "Succeed"},
            }
        ),
        {"a": 1},
        _ok({"a": 1}),
    ),
    Case(
        "choice-no-match-without-default",
        machine(
            {
                "C": {"Type": "Choice", "Choices": [{"Condition": "{% false %}", "Next": "Yes"}]},
                "Yes": {"Type": "Succeed"},
            }
        ),
        {},
        _failed("States.NoChoiceMatched", "No Choice rule matched and there is no Default"),
    ),
    Case(
        "choice-condition-not-boolean",
        machine(
            {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Condition": "{% $states.input.total %}", "Next": "Yes"}],
                    "Default": "Yes",
                },
                "Yes": {"Type": "Succeed"},
            }
        ),
        ORDER,
        _failed(
            "States.QueryEvaluationError",
            _prefix("C", 2)
            + "The JSONata expression '$states.input.total' specified for the field 'Condition' "
            "returned an unexpected result type. Expected 'boolean', but was 'number' for value: "
            "12.5",
        ),
    ),
    # -- Wait -------------------------------------------------------------------------------
    Case(
        "wait-seconds-expression-output-assign",
        machine(
            {
                "W": {
                    "Type": "Wait",
                    "Seconds": "{% $states.input.delay * 60 %}",
                    "Assign": {"waited": "{% $states.input.delay * 60 %}"},
                    "Output": {"entered": "{% $states.context.State.EnteredTime %}"},
                    "Next": "After",
                },
                "After": {
                    "Type": "Pass",
                    "Output": {
                        "waited": "{% $waited %}",
                        "now": "{% $states.context.State.EnteredTime %}",
                        "before": "{% $states.input.entered %}",
                    },
                    "End": True,
                },
            }
        ),
        {"delay": 2},
        _ok({"waited": 120, "now": "2024-01-01T00:02:00Z", "before": "2024-01-01T00:00:00Z"}),
    ),
    Case(
        "wait-timestamp-expression",
        machine(
            {
                "W": {"Type": "Wait", "Timestamp": "{% $states.input.at %}", "Next": "After"},
                "After": {
                    "Type": "Pass",
                    "Output": "{% $states.context.State.EnteredTime %}",
                    "End": True,
                },
            }
        ),
        {"at": "2024-01-01T01:00:00Z"},
        _ok("2024-01-01T01:00:00Z"),
    ),
    Case(
        "wait-timestamp-invalid",  # AWS cause
        machine(
            {"WaitState": {"Type": "Wait", "Timestamp": "{% $states.input.at %}", "End": True}}
        ),
        {"at": "2016-12-05 21:29:29Z"},
        _failed(
            "States.QueryEvaluationError",
            _prefix("WaitState", 2)
            + "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            "format string: 2016-12-05 21:29:29Z",
        ),
    ),
    Case(
        "wait-seconds-negative",
        machine({"W": {"Type": "Wait", "Seconds": "{% -1 %}", "End": True}}),
        {},
        _failed(
            "States.QueryEvaluationError",
            _prefix("W", 2)
            + "The JSONata expression '-1' specified for the field 'Seconds' returned an "
            "unexpected result type. Expected 'integer', but was 'number' for value: -1",
        ),
    ),
    # -- Succeed and Fail -------------------------------------------------------------------
    Case(
        "succeed-output",
        machine({"S": {"Type": "Succeed", "Output": {"done": "{% $states.input.id %}"}}}),
        ORDER,
        _ok({"done": "o-1"}),
    ),
    Case(
        "fail-error-and-cause-expressions",
        machine(
            {
                "F": {
                    "Type": "Fail",
                    "Error": "{% 'Order.' & $states.input.reason %}",
                    "Cause": "{% 'order ' & $states.input.id & ' refused' %}",
                }
            }
        ),
        {"id": "o-9", "reason": "Refused"},
        _failed("Order.Refused", "order o-9 refused"),
    ),
    Case(
        "fail-error-not-a-string",
        machine({"F": {"Type": "Fail", "Error": "{% $states.input.code %}", "Cause": "c"}}),
        {"code": 7},
        _failed(
            "States.QueryEvaluationError",
            _prefix("F", 2)
            + "The JSONata expression '$states.input.code' specified for the field 'Error' "
            "returned an unexpected result type. Expected 'string', but was 'number' for value: 7",
        ),
    ),
    # -- Parallel ---------------------------------------------------------------------------
    Case(
        "parallel-arguments-output-assign",
        machine(
            {
                "Set": {"Type": "Pass", "Assign": {"rate": 2}, "Next": "P"},
                "P": {
                    "Type": "Parallel",
                    "Arguments": {"n": "{% $states.input.n %}"},
                    "Branches": [
                        {
                            "StartAt": "Double",
                            "States": {
                                "Double": {
                                    "Type": "Pass",
                                    "Output": "{% $states.input.n * $rate %}",
                                    "End": True,
                                }
                            },
                        },
                        {"StartAt": "Same", "States": {"Same": {"Type": "Pass", "End": True}}},
                    ],
                    "Assign": {"first": "{% $states.result[0] %}"},
                    "Output": {"results": "{% $states.result %}", "input": "{% $states.input %}"},
                    "Next": "After",
                },
                "After": {
                    "Type": "Pass",
                    "Output": {"first": "{% $first %}", "results": "{% $states.input.results %}"},
                    "End": True,
                },
            }
        ),
        {"n": 21},
        _ok({"first": 42, "results": [42, {"n": 21}]}),
    ),
    Case(
        "parallel-default-output-is-results",
        machine(
            {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {"A": {"Type": "Pass", "Output": "{% 1 %}", "End": True}},
                        },
                        {
                            "StartAt": "B",
                            "States": {
                                "B": {"Type": "Pass", "Output": "{% $states.input %}", "End": True}
                            },
                        },
                    ],
                    "End": True,
                }
            }
        ),
        "x",
        _ok([1, "x"]),
    ),
    Case(
        "parallel-branch-failure-caught",
        machine(
            {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "F",
                            "States": {
                                "F": {
                                    "Type": "Fail",
                                    "Error": "Boom",
                                    "Cause": "{% 'in ' & $states.context.State.Name %}",
                                }
                            },
                        }
                    ],
                    "Catch": [
                        {
                            "ErrorEquals": ["Boom"],
                            "Output": "{% $states.errorOutput %}",
                            "Next": "Done",
                        }
                    ],
                    "End": True,
                },
                "Done": {"Type": "Succeed"},
            }
        ),
        {},
        _ok({"Error": "Boom", "Cause": "in F"}),
    ),
    # -- Map --------------------------------------------------------------------------------
    Case(
        "map-items-and-item-selector",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "Items": "{% $states.input.items %}",
                    "ItemSelector": {
                        "index": "{% $states.context.Map.Item.Index %}",
                        "sku": "{% $states.context.Map.Item.Value.sku %}",
                        "order": "{% $states.input.id %}",
                    },
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            }
        ),
        ORDER,
        _ok([{"index": 0, "sku": "A", "order": "o-1"}, {"index": 1, "sku": "B", "order": "o-1"}]),
    ),
    Case(
        "map-default-items-is-input",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {
                            "I": {"Type": "Pass", "Output": "{% $states.input * 10 %}", "End": True}
                        },
                    },
                    "Output": {"sum": "{% $sum($states.result) %}", "all": "{% $states.result %}"},
                    "End": True,
                }
            }
        ),
        [1, 2, 3],
        _ok({"sum": 60, "all": [10, 20, 30]}),
    ),
    Case(
        "map-literal-items-and-concurrency-expression",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "Items": [3, 1, 2],
                    "MaxConcurrency": "{% $states.input.workers %}",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            }
        ),
        {"workers": 1},
        _ok([3, 1, 2]),
    ),
    Case(
        "map-empty-items",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "Items": "{% [] %}",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            }
        ),
        {},
        _ok([]),
    ),
    Case(
        "map-input-not-array",  # AWS cause (no field named)
        machine(
            {
                "MapIterateState": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            }
        ),
        {"foo": "bar"},
        _failed(
            "States.QueryEvaluationError",
            _prefix("MapIterateState", 2)
            + 'Map state input must be an array but was: {"foo":"bar"}',
        ),
    ),
    Case(
        "map-items-not-array",  # AWS cause
        machine(
            {
                "MapIterateState": {
                    "Type": "Map",
                    "Items": "{% 1 %}",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            }
        ),
        {},
        _failed(
            "States.QueryEvaluationError",
            _prefix("MapIterateState", 2)
            + "The JSONata expression '1' specified for the field 'Items' returned an unexpected "
            "result type. Expected 'array', but was 'number' for value: 1",
        ),
    ),
    Case(
        "map-tolerated-failures-expression",
        machine(
            {
                "M": {
                    "Type": "Map",
                    "Items": [1, 0, 2],
                    "ToleratedFailureCount": "{% $states.input.tolerate %}",
                    "ItemProcessor": {
                        "StartAt": "Check",
                        "States": {
                            "Check": {
                                "Type": "Choice",
                                "Choices": [
                                    {"Condition": "{% $states.input = 0 %}", "Next": "Bad"}
                                ],
                                "Default": "Good",
                            },
                            "Bad": {"Type": "Fail", "Error": "Zero", "Cause": "zero item"},
                            "Good": {"Type": "Pass", "End": True},
                        },
                    },
                    "End": True,
                }
            }
        ),
        {"tolerate": 1},
        _ok([1, {"Error": "Zero", "Cause": "zero item"}, 2]),
    ),
    # -- Mixed query languages ----------------------------------------------------------------
    Case(
        "jsonata-state-in-jsonpath-machine-shares-variables",
        {
            "StartAt": "Path",
            "States": {
                "Path": {"Type": "Pass", "Assign": {"who.$": "$.name"}, "Next": "Ata"},
                "Ata": {
                    "Type": "Pass",
                    "QueryLanguage": "JSONata",
                    "Output": {"greeting": "{% 'hello ' & $who %}"},
                    "Assign": {"loud": "{% $uppercase($who) %}"},
                    "Next": "Back",
                },
                "Back": {
                    "Type": "Pass",
                    "Parameters": {"greeting.$": "$.greeting", "loud.$": "$loud"},
                    "End": True,
                },
            },
        },
        {"name": "ada"},
        _ok({"greeting": "hello ada", "loud": "ADA"}),
    ),
    Case(
        "jsonata-state-in-a-jsonpath-branch",
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {
                                "A": {
                                    "Type": "Pass",
                                    "QueryLanguage": "JSONata",
                                    "Output": "{% $states.input.v + 1 %}",
                                    "End": True,
                                }
                            },
                        }
                    ],
                    "End": True,
                }
            },
        },
        {"v": 1},
        _ok([2]),
    ),
    # -- Step Functions' own functions ---------------------------------------------------------
    Case(
        "functions-partition-range-hash-parse",
        machine(
            {
                "P": {
                    "Type": "Pass",
                    "Output": {
                        "partition": "{% $partition([1, 2, 3, 4, 5], 2) %}",
                        "range": "{% $range(0, 10, 3) %}",
                        "single": "{% $range(1, 9, 9) %}",
                        "hash": "{% $hash('hello', 'SHA-256') %}",
                        "md5": "{% $hash('hello', 'MD5') %}",
                        "parsed": "{% $parse($states.input.json) %}",
                    },
                    "End": True,
                }
            }
        ),
        {"json": '{"a": [1, 2.5, "x"], "b": null}'},
        _ok(
            {
                "partition": [[1, 2], [3, 4], [5]],
                "range": [0, 3, 6, 9],
                "single": 1,
                "hash": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
                "md5": "5d41402abc4b2a76b9719d911017c592",
                "parsed": {"a": [1, 2.5, "x"], "b": None},
            }
        ),
    ),
]
