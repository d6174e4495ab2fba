"""The definitions the benchmarks run."""

from __future__ import annotations

from typing import Any

__all__ = ["chain_machine", "map_machine", "six_state_machine", "wait_machine"]


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


def chain_machine(length: int) -> dict[str, Any]:
    """``length`` Pass states in a row."""
    states: dict[str, Any] = {}
    for i in range(length):
        state: dict[str, Any] = {"Type": "Pass"}
        if i + 1 < length:
            state["Next"] = f"S{i + 1}"
        else:
            state["End"] = True
        states[f"S{i}"] = state
    return {"StartAt": "S0", "States": states}


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
