"""The definitions the benchmarks run."""

from __future__ import annotations

from typing import Any

__all__ = [
    "chain_machine",
    "transform_chain_machine",
    "map_machine",
    "six_state_machine",
    "task_chain_machine",
    "wait_machine",
]


def six_state_machine() -> dict[str, Any]:
    """Pass → Choice → Wait → Parallel → Map → Succeed, the mix a typical workflow has."""
    return {
        "Comment": "Pass, Choice, Wait, Parallel, Map and Succeed",
        "StartAt": "Prepare",
        "States": {
            "Prepare": {
                "Type": "Pass",
                "Result": {"n": 3, "items": [1, 2, 3]},
                "Next": "Route",
            },
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Pause"}],
                "Default": "Done",
            },
            "Pause": {"Type": "Wait", "Seconds": 0, "Next": "Fan Out"},
            "Fan Out": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                    {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
                ],
                "ResultPath": "$.branches",
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Item",
                    "States": {"Item": {"Type": "Pass", "End": True}},
                },
                "ResultPath": "$.mapped",
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def _chain(length: int, prefix: str, state: dict[str, Any]) -> dict[str, Any]:
    """``length`` copies of ``state`` in a row, named ``<prefix>0``, ``<prefix>1``..."""
    states: dict[str, Any] = {}
    for i in range(length):
        step = {**state, "Next": f"{prefix}{i + 1}"} if i + 1 < length else {**state, "End": True}
        states[f"{prefix}{i}"] = step
    return {"StartAt": f"{prefix}0", "States": states}


def chain_machine(length: int) -> dict[str, Any]:
    """``length`` Pass states in a row."""
    return _chain(length, "S", {"Type": "Pass"})


def task_chain_machine(length: int) -> dict[str, Any]:
    """``length`` Task states in a row, each bound to the ``Work`` handler."""
    return _chain(length, "T", {"Type": "Task", "Resource": "Work"})


_TRANSFORMS: dict[str, dict[str, Any]] = {
    "JSONPath": {
        "Type": "Pass",
        "Parameters": {
            "order.$": "$.order",
            "count.$": "States.MathAdd($.count, 1)",
            "lines.$": "$.lines",
            "last.$": "$.lines[1].sku",
        },
        "Assign": {"seen.$": "$.count"},
    },
    "JSONata": {
        "Type": "Pass",
        "Output": {
            "order": "{% $states.input.order %}",
            "count": "{% $states.input.count + 1 %}",
            "lines": "{% $states.input.lines %}",
            "last": "{% $states.input.lines[1].sku %}",
        },
        "Assign": {"seen": "{% $states.input.count %}"},
    },
}
TRANSFORM_INPUT: dict[str, Any] = {
    "order": "o-1",
    "count": 0,
    "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
    "last": None,
}
"""The input of :func:`transform_chain_machine`."""


def transform_chain_machine(length: int, query_language: str) -> dict[str, Any]:
    """``length`` Pass states reshaping their input and assigning a variable, in either
    query language (the same work written as JSONPath templates or JSONata expressions)."""
    machine = _chain(length, "Transform", _TRANSFORMS[query_language])
    if query_language == "JSONata":
        machine["QueryLanguage"] = "JSONata"
    return machine


def map_machine(max_concurrency: int = 0) -> dict[str, Any]:
    """A Map running one Pass state per item of ``$.items``."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": max_concurrency,
                "ItemProcessor": {
                    "StartAt": "Item",
                    "States": {"Item": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }


def wait_machine(seconds: int) -> dict[str, Any]:
    """One Wait state of ``seconds`` seconds, then the end."""
    return {
        "StartAt": "Hold",
        "States": {"Hold": {"Type": "Wait", "Seconds": seconds, "End": True}},
    }
