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


def _exited(ex: Execution, name: str) -> dict[str, Any]:
    event = next(
        e for e in ex.history if e.type.endswith("StateExited") and e.details["name"] == name
    )
    return event.to_dict()["stateExitedEventDetails"]


def test_paths_read_entry_values_while_assign_replaces_them() -> None:
    # AWS-recorded: OutputPath and InputPath read the value as of entry, Assign replaces it.
    states = {
        "State0": {
            "Type": "Pass",
            "Result": {"theQuestion": "What is the answer?"},
            "Assign": {"question.$": "$.theQuestion", "answer": 42},
            "Next": "State1",
        },
        "State1": {
            "Type": "Pass",
            "InputPath": "$answer",
            "ResultPath": "$.theAnswer",
            "OutputPath": "$answer",
            "Assign": {"answer": "<omitted>"},
            "End": True,
        },
    }
    ex = _run(states, {})
    assert ex.output == 42
    assert _exited(ex, "State0")["assignedVariables"] == {
        "question": '"What is the answer?"',
        "answer": "42",
    }
    assert _exited(ex, "State1")["assignedVariables"] == {"answer": '"<omitted>"'}


def test_map_iterations_read_outer_variables_which_survive_the_map() -> None:
    # AWS-recorded: every iteration reads $x; the iterations' own variables vanish after.
    states = {
        "State0": {"Type": "Pass", "Assign": {"x": 42, "items": [1, 2, 3]}, "Next": "State1"},
        "State1": {
            "Type": "Map",
            "ItemsPath": "$items",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "StartAt": "Inner",
                "States": {"Inner": {"Type": "Pass", "Assign": {"innerX.$": "$x"}, "End": True}},
            },
            "Next": "State2",
        },
        "State2": {"Type": "Pass", "Assign": {"final.$": "$x"}, "End": True},
    }
    ex = _run(states, {"input_value": "literal"})
    assert ex.output == [1, 2, 3]
    inner = [
        e.to_dict()["stateExitedEventDetails"] for e in ex.history if e.type == "PassStateExited"
    ]
    assert [d["assignedVariables"] for d in inner] == [
        {"items": "[1,2,3]", "x": "42"},
        {"innerX": "42"},
        {"innerX": "42"},
        {"innerX": "42"},
        {"final": "42"},
    ]


def test_parallel_catcher_assigns_in_the_outer_scope() -> None:
    states = {
        "P": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Boom",
                    "States": {"Boom": {"Type": "Fail", "Error": "Broken", "Cause": "branch"}},
                }
            ],
            "Catch": [{"ErrorEquals": ["Broken"], "Assign": {"why.$": "$.Cause"}, "Next": "After"}],
            "End": True,
        },
        "After": {"Type": "Pass", "Parameters": {"why.$": "$why"}, "End": True},
    }
    ex = _run(states, {})
    assert ex.output == {"why": "branch"}


def test_a_branch_may_not_assign_an_outer_variable() -> None:
    from engine.diagnostics import DefinitionError

    states = {
        "Set": {"Type": "Pass", "Assign": {"total": 0}, "Next": "P"},
        "P": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Inner",
                    "States": {"Inner": {"Type": "Pass", "Assign": {"total.$": "$"}, "End": True}},
                }
            ],
            "End": True,
        },
    }
    try:
        _run(states, {})
    except DefinitionError as exc:
        found = [(d.code, d.location) for d in exc.diagnostics]
    else:
        raise AssertionError("the definition was accepted")
    assert found == [("OUTER_SCOPE_ASSIGNMENT", "/States/P/Branches/0/States/Inner/Assign/total.$")]


def test_one_variable_over_256_kib_is_refused() -> None:
    states = {
        "Set": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Assign": {"big": "{% $pad('', 262144, 'x') %}"},  # 262,146 bytes as JSON text
            "End": True,
        },
    }
    ex = _run(states, {})
    assert ex.status == "FAILED"
    assert ex.error == "States.DataLimitExceeded"
    assert ex.cause == (
        "The state 'Set' (entered at the event id #2) assigned 262146 bytes to the variable "
        "'big', over the 262144 limit."
    )


def test_one_assign_over_256_kib_together_is_refused() -> None:
    half = "y" * 140_000
    states = {"Set": {"Type": "Pass", "Assign": {"a.$": "$.t", "b.$": "$.t"}, "End": True}}
    ex = _run(states, {"t": half})
    assert ex.error == "States.DataLimitExceeded"
    assert ex.cause == (
        "The state 'Set' (entered at the event id #2) assigned 280004 bytes in one Assign, over "
        "the 262144 limit."
    )


def test_jsonata_and_jsonpath_states_share_variables_both_ways() -> None:
    states = {
        "Ata": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Assign": {"n": "{% $states.input.n * 2 %}"},
            "Next": "Path",
        },
        "Path": {"Type": "Pass", "Assign": {"m.$": "States.MathAdd($n, 1)"}, "Next": "Ata2"},
        "Ata2": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": "{% [$n, $m] %}",
            "End": True,
        },
    }
    ex = _run(states, {"n": 5})
    assert ex.output == [10, 11]
