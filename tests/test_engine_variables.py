"""Workflow variables (``Assign`` in JSONPath mode): what ``$`` is, when values become visible."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import run

T0 = datetime(2024, 1, 1, tzinfo=UTC)
WORK = "arn:aws:states:::events:putEvents"


def _run(states: dict[str, Any], data: Any = None, **kw: Any) -> Execution:
    kw.setdefault("clock", VirtualClock(T0))
    return run({"StartAt": next(iter(states)), "States": states}, data, **kw)


def test_pass_assign_is_visible_from_the_next_state_only() -> None:
    states = {
        "Set": {
            "Type": "Pass",
            "Result": {"n": 5},
            "Assign": {"count.$": "$.n", "label": "five"},
            "Next": "Use",
        },
        "Use": {
            "Type": "Pass",
            "Parameters": {
                "count.$": "$count",
                "label.$": "$label",
                "sum.$": "States.MathAdd($count, 1)",
            },
            "End": True,
        },
    }
    ex = _run(states, {})
    assert ex.output == {"count": 5, "label": "five", "sum": 6}
    exited = next(e for e in ex.history if e.type == "PassStateExited")
    assert exited.to_dict()["stateExitedEventDetails"] == {
        "name": "Set",
        "output": '{"n":5}',
        "outputDetails": {"truncated": False},
        "assignedVariables": {"count": "5", "label": '"five"'},
        "assignedVariablesDetails": {"truncated": False},
    }


def test_assign_uses_values_as_of_state_entry() -> None:
    states = {
        "First": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Swap"},
        "Swap": {
            "Type": "Pass",
            "Assign": {"x": 2, "old.$": "$x"},
            "Parameters": {"seen.$": "$x"},
            "Next": "Read",
        },
        "Read": {"Type": "Pass", "Parameters": {"x.$": "$x", "old.$": "$old"}, "End": True},
    }
    ex = _run(states, {})
    assert ex.output == {"x": 2, "old": 1}
    swap_exit = [e for e in ex.history if e.type == "PassStateExited"][1]
    assert swap_exit.details is not None
    assert swap_exit.details["output"] == {"seen": 1}


def test_task_assign_sees_the_raw_result_and_choice_reads_variables() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": WORK,
            "ResultSelector": {"ignored": True},
            "Assign": {"status.$": "$.status"},
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$status",
                    "StringEquals": "ok",
                    "Assign": {"route": "good"},
                    "Next": "Good",
                }
            ],
            "Default": "Bad",
            "Assign": {"route": "default"},
        },
        "Good": {"Type": "Pass", "Parameters": {"route.$": "$route"}, "End": True},
        "Bad": {"Type": "Pass", "Parameters": {"route.$": "$route"}, "End": True},
    }
    ok = _run(states, {}, handlers={WORK: lambda event: {"status": "ok"}})
    assert ok.output == {"route": "good"}
    bad = _run(states, {}, handlers={WORK: lambda event: {"status": "no"}})
    assert bad.output == {"route": "default"}


def test_catcher_assign_sees_the_error_output() -> None:
    def fails(event: Any) -> Any:
        raise ValueError("nope")

    states = {
        "T": {
            "Type": "Task",
            "Resource": WORK,
            "Assign": {"never": 1},
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "Assign": {"err.$": "$.Error"}, "Next": "After"}
            ],
            "End": True,
        },
        "After": {"Type": "Pass", "Parameters": {"err.$": "$err"}, "End": True},
    }
    ex = _run(states, {}, handlers={WORK: fails})
    assert ex.output == {"err": "ValueError"}


def test_branches_read_outer_variables_but_keep_their_own() -> None:
    states = {
        "Set": {"Type": "Pass", "Assign": {"outer": "o"}, "Next": "P"},
        "P": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "InnerSet",
                    "States": {
                        "InnerSet": {"Type": "Pass", "Assign": {"inner": "i"}, "Next": "InnerUse"},
                        "InnerUse": {
                            "Type": "Pass",
                            "Parameters": {"outer.$": "$outer", "inner.$": "$inner"},
                            "End": True,
                        },
                    },
                }
            ],
            "Next": "After",
        },
        "After": {"Type": "Pass", "Parameters": {"inner.$": "$inner"}, "End": True},
    }
    ex = _run(states, {})
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    failed_state_input = next(e for e in ex.history if e.type == "ParallelStateExited")
    assert failed_state_input.details is not None
    assert failed_state_input.details["output"] == [{"outer": "o", "inner": "i"}]
