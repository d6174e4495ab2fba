"""Rows of the ASL conformance checklist (asl-semantics.md) pinned against the engine.

Each test here is named after the row it pins; rows already pinned elsewhere are listed with
the file that pins them (``df`` test_engine_dataflow, ``er`` test_engine_errors, ``pm``
test_engine_parallel_map, ``to`` test_engine_timeouts, ``wa`` test_engine_wait, ``va``
test_engine_variables, ``lo`` test_engine_local, ``ch`` test_choice, ``re`` test_retry,
``pa`` test_paths, ``vd`` test_validate_corpus / test_cli_validate).

Verified
- §1: StartAt, state-name length, Next/End, unknown fields (here, vd); TimeoutSeconds (to);
  default input ``{}`` and 256 KiB input limit (lo, here); execution output = terminal output.
- §2: InputPath/OutputPath defaults and ``null`` (df, here), Assign (va).
- §3: Result, Result+Parameters, ``$`` in Assign, 256 KiB output (here, er).
- §4: effective input, ``$`` in Task Assign = raw result (va, df).
- §5: evaluation order, Default, NoChoiceMatched (ch, df); Assign of the matching rule vs the
  top level; output = InputPath then OutputPath; missing Variable / ``...Path`` operand is
  States.Runtime; IsPresent never throws; StringMatches treats only ``*`` as special (here);
  operators, type mismatch, UTF-16 order, timestamps, Is* (ch).
- §6: Seconds/SecondsPath/Timestamp/TimestampPath, negative/non-integer/missing/invalid
  causes, delay too long (wa); fractional seconds and offsets accepted, missing ``Z``,
  ``SecondsPath`` 0, milliseconds truncated, ``$`` in Assign (here).
- §7/§8: Succeed ends only its branch; Fail Error/Cause/ErrorPath/CausePath (intrinsic too),
  missing path causes, no FailStateExited, Fail caught by its Error on a Parallel (here, df).
- §9: branch order, sibling abort, inner error not States.BranchFailed, Retry re-runs all
  branches (pm, here); branch input after InputPath+Parameters, ResultSelector, events (here).
- §10: ItemsPath after InputPath, ItemSelector with ``$$.Map.Item.Index/Value`` and ``$`` =
  Map input, item order, MaxConcurrency 1 order, iteration failure, Retry re-runs all
  iterations, ``$`` in Assign = result array, events with ``length``/``index``/``name``,
  non-array and MaxConcurrencyPath causes (pm, here).
- §11: processing order, nulls, multi-valued paths (``[0,1]``, singleton index, empty filter,
  slice, wildcard), ``.$`` inside arrays and literal ``"$.x"``, path not found in
  Parameters/ResultSelector/InputPath/OutputPath as uncatchable States.Runtime with the exact
  cause and no TaskFailed/StateExited event, ResultPath create/overwrite, ResultPathMatchFailure
  (df, pa, here).
- §12: every context field incl. ``$$.Execution.Id`` ARN, RoleArn, RedriveCount,
  RetryCount (df, er, here); timestamps without a zero fraction; Task.Token only with
  ``.waitForTaskToken`` and new per attempt; Map.Item only in ItemSelector (here).
- §15: defaults (4 invocations, 1/2/4 s), first matching retrier only, exhausted retrier does
  not fall through, counter shared by a retrier's errors, reset on leaving, MaxAttempts 0,
  MaxDelaySeconds, FULL jitter, States.Runtime never retried, TaskFailed matcher (er, re,
  here).
- §16: Error Output shape; catcher ResultPath on the raw input (not InputPath/Parameters);
  caught errors skip ResultSelector/OutputPath even when they would fail; history caught
  (failure event, StateExited, next) vs uncaught (ExecutionFailed with the same error/cause);
  Parallel/Map exit when caught; States.Runtime uncatchable (er, pm, here).
- §17: TimeoutSeconds/Path, heartbeat expiry as States.Timeout, TaskTimedOut, TaskScheduled
  timeout fields only when configured (to, here).
- §18: States.ALL, Runtime, DataLimitExceeded (caught by States.ALL, as observed), Timeout,
  TaskFailed, NoChoiceMatched, ResultPathMatchFailure (er, re, here).
- §21: event records, execution/state/task/Lambda/Parallel/Map events, failed-execution shape,
  25,000-event limit (df, lo, pm, here).
- §22: payload 256 KiB (input, after Parameters, outputs), history, names (lo, er, here).
- §23: each disagreement decided as the checklist says: Parameters path → States.Runtime;
  heartbeat → States.Timeout; inner error instead of BranchFailed; DataLimitExceeded of a task
  result catchable; Task timeout default 99999999; missing Choice Variable → States.Runtime;
  StringMatches only ``*``; States.TaskFailed = everything but States.Timeout; MathRandom end
  exclusive (DG).

Fixed while checking (the tests above pin them)
- Wait ``Timestamp``/``TimestampPath``: a fraction of a second is truncated (DG state-wait).
- Context-object times (``Execution.StartTime``, ``State.EnteredTime``) leave out a zero
  fraction (``...:00Z``), as AWS prints them.

Deliberately not followed / left open
- Inline Map honours ToleratedFailureCount/Percentage (SPEC) although DG says inline fails on
  any iteration failure (§23 last row); existing behaviour, pinned in pm.
- Variable size limits (§22 Variables: 256 KiB per variable/Assign, 10 MiB per execution)
  are not enforced: the error AWS reports is not recorded anywhere we have.
- Unverified details kept as they are: Error Output without a Cause has no ``Cause`` key
  (LS uses ``""``); SecondsPath ``2.0`` is accepted as 2; a ``States.Runtime`` from a Map's
  ItemSelector is preceded by MapStateStarted/MapStateFailed.
- JSONata rows (QueryLanguage, Output, Arguments...), Express, distributed Map and redrive
  are outside these sections' local scope.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

import engine
from engine.clock import VirtualClock
from engine.execution import Execution

FN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def _run(states: dict[str, Any], data: Any = None, **kw: Any) -> Execution:
    definition = {"StartAt": next(iter(states)), "States": states}
    return engine.run(engine.load(definition), data, **kw)


def _types(execution: Execution) -> list[str]:
    return [event.type for event in execution.history]


def _fail(error: str, cause: str = "") -> Any:
    """A handler that always fails with exactly this error name and cause."""

    def handler(event: Any) -> Any:
        raise engine.StatesError(error, cause)

    return handler


def _prefix(state: str, event_id: int) -> str:
    return (
        f"An error occurred while executing the state '{state}' "
        f"(entered at the event id #{event_id}). "
    )


def _runtime(state: str, event_id: int, message: str) -> tuple[str, str]:
    """The (error, cause) of a States.Runtime failure in ``state`` entered at ``event_id``."""
    return "States.Runtime", _prefix(state, event_id) + message


# §3 Pass ------------------------------------------------------------


def test_pass_result_and_parameters_both_present() -> None:
    states = {"P": {"Type": "Pass", "Parameters": {"x.$": "$.a"}, "Result": {"r": 1}, "End": True}}
    assert _run(states, {"a": 5}).output == {"r": 1}


def test_pass_assign_dollar_is_the_result() -> None:
    states = {
        "P": {"Type": "Pass", "Result": {"r": 1}, "Assign": {"v.$": "$.r"}, "Next": "Q"},
        "Q": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": True},
    }
    assert _run(states, {"r": 9}).output == {"v": 1}


# §5 Choice ------------------------------------------------------------


def test_choice_missing_variable_is_runtime() -> None:
    states = {
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "D"}],
            "Default": "D",
        },
        "D": {"Type": "Succeed"},
    }
    ex = _run(states, {"a": 1})
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert ex.cause == _prefix("C", 2) + (
        "Invalid path '$.x': The choice state's condition path references an invalid value."
    )


def test_choice_assign_only_matching_rule_or_top_level_on_default() -> None:
    states = {
        "Init": {"Type": "Pass", "Assign": {"top": 0, "rule": 0}, "Next": "C"},
        "C": {
            "Type": "Choice",
            "Assign": {"top": 1},
            "Choices": [
                {"Variable": "$.go", "BooleanEquals": True, "Assign": {"rule": 2}, "Next": "D"}
            ],
            "Default": "D",
        },
        "D": {
            "Type": "Pass",
            "Parameters": {"vars.$": "States.Array($top, $rule)"},
            "End": True,
        },
    }
    assert _run(states, {"go": True}).output == {"vars": [0, 2]}
    assert _run(states, {"go": False}).output == {"vars": [1, 0]}


def test_choice_path_operator_missing_is_runtime() -> None:
    states = {
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.a", "NumericEqualsPath": "$.b", "Next": "D"}],
            "Default": "D",
        },
        "D": {"Type": "Succeed"},
    }
    ex = _run(states, {"a": 1})
    assert (ex.error, ex.cause) == _runtime(
        "C", 2, "Invalid path '$.b': The choice state's condition path references an invalid value."
    )


def test_choice_is_present_never_throws_and_string_matches_only_star() -> None:
    states = {
        "C": {
            "Type": "Choice",
            "Choices": [
                {"Not": {"Variable": "$.missing", "IsPresent": True}, "Next": "Absent"},
            ],
            "Default": "Present",
        },
        "Absent": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.s", "StringMatches": "a?c*", "Next": "Q"}],
            "Default": "Literal",
        },
        "Q": {"Type": "Pass", "Result": "question-mark-is-wild", "End": True},
        "Literal": {"Type": "Pass", "Result": "question-mark-is-literal", "End": True},
        "Present": {"Type": "Pass", "Result": "present", "End": True},
    }
    assert _run(states, {"s": "abcd"}).output == "question-mark-is-literal"
    assert _run(states, {"s": "a?cd"}).output == "question-mark-is-wild"


def test_choice_output_is_effective_input_then_output_path() -> None:
    states = {
        "C": {
            "Type": "Choice",
            "InputPath": "$.in",
            "OutputPath": "$.keep",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "D"}],
        },
        "D": {"Type": "Succeed"},
    }
    assert _run(states, {"in": {"n": 1, "keep": {"k": True}}}).output == {"k": True}


# §6 Wait ------------------------------------------------------------


def _wait_seconds(ex: Execution) -> float:
    entered = next(e for e in ex.history if e.type == "WaitStateEntered")
    exited = next(e for e in ex.history if e.type == "WaitStateExited")
    return (exited.timestamp - entered.timestamp).total_seconds()


def test_wait_timestamp_fractional_seconds_accepted() -> None:
    for stamp in (
        "2020-01-01T00:00:00.00Z",
        "2020-01-01T00:00:00.000000Z",
        "2020-01-01T01:00:00+01:00",
    ):
        states = {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}}
        ex = _run(states, {"t": stamp})
        assert (ex.status, ex.output) == ("SUCCEEDED", {"t": stamp})


def test_wait_timestamp_missing_z_is_runtime() -> None:
    states = {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}}
    ex = _run(states, {"t": "2020-01-01T00:00:00"})
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert ex.cause == _prefix("W", 2) + (
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
        "date-time format string: $.t == 2020-01-01T00:00:00"
    )


def test_wait_seconds_path_zero_is_valid() -> None:
    ex = _run({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}, {"s": 0})
    assert (ex.status, _wait_seconds(ex)) == ("SUCCEEDED", 0.0)


def test_wait_seconds_waits_in_virtual_time() -> None:
    ex = _run({"W": {"Type": "Wait", "Seconds": 3600, "End": True}}, {"a": 1})
    assert (ex.status, ex.output, _wait_seconds(ex)) == ("SUCCEEDED", {"a": 1}, 3600.0)


def test_wait_assign_dollar_is_effective_input() -> None:
    states = {
        "W": {
            "Type": "Wait",
            "Seconds": 0,
            "InputPath": "$.in",
            "Assign": {"v.$": "$.x"},
            "Next": "P",
        },
        "P": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": True},
    }
    assert _run(states, {"in": {"x": 4}}).output == {"v": 4}


# §7 Succeed / §8 Fail ------------------------------------------------------------


def test_succeed_in_parallel_branch_ends_only_that_branch() -> None:
    states = {
        "Par": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.a"}}},
                {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 2, "End": True}}},
            ],
            "Next": "After",
        },
        "After": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"a": 1})
    assert (ex.status, ex.output, ex.states) == ("SUCCEEDED", [1, 2], ["Par", "After"])


def test_fail_history_has_no_fail_state_exited() -> None:
    ex = _run({"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}, {})
    assert _types(ex) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert ex.history[-1].to_dict()["executionFailedEventDetails"] == {"error": "E", "cause": "C"}


def test_fail_error_path_intrinsic_and_cause_path_missing() -> None:
    states = {"F": {"Type": "Fail", "ErrorPath": "States.Format('E{}', $.n)", "CausePath": "$.c"}}
    ex = _run(states, {"n": 1})
    assert (ex.error, ex.cause) == _runtime(
        "F",
        2,
        "The JSONPath '$.c' specified for the field 'CausePath' could not be found in the "
        "input '{\"n\":1}'",
    )


def test_fail_inside_parallel_is_caught_by_its_error_name() -> None:
    states = {
        "Par": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "c"}}}
            ],
            "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "After"}],
            "End": True,
        },
        "After": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"a": 1})
    assert ex.output == {"a": 1, "err": {"Error": "Boom", "Cause": "c"}}


# §9 Parallel ------------------------------------------------------------


def test_parallel_branches_receive_effective_input_and_result_selector() -> None:
    states = {
        "Par": {
            "Type": "Parallel",
            "InputPath": "$.in",
            "Parameters": {"v.$": "$.v"},
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "B",
                    "States": {"B": {"Type": "Pass", "OutputPath": "$.v", "End": True}},
                },
            ],
            "ResultSelector": {"first.$": "$[0]", "second.$": "$[1]"},
            "ResultPath": "$.out",
            "End": True,
        }
    }
    ex = _run(states, {"in": {"v": 3}, "keep": 1})
    assert ex.output == {"in": {"v": 3}, "keep": 1, "out": {"first": {"v": 3}, "second": 3}}


def test_parallel_history_events() -> None:
    states = {
        "Par": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}],
            "End": True,
        }
    }
    assert _types(_run(states, {})) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
        "PassStateExited",
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]


def test_parallel_retry_repeats_parallel_state_started() -> None:
    calls: list[int] = []

    def flaky(event: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("x")
        return "ok"

    states = {
        "Par": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN, "End": True}}},
                {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}},
            ],
            "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 1}],
            "End": True,
        }
    }
    ex = _run(states, {}, handlers={"f": flaky})
    assert (ex.status, ex.output) == ("SUCCEEDED", ["ok", 1])
    assert _types(ex).count("ParallelStateStarted") == 2
    assert _types(ex).count("ParallelStateEntered") == 1
    assert _types(ex).count("PassStateEntered") == 2


# §10 Map ------------------------------------------------------------


def test_map_items_path_after_input_path_and_item_selector_sees_map_input() -> None:
    states = {
        "M": {
            "Type": "Map",
            "InputPath": "$.in",
            "ItemsPath": "$.items",
            "ItemSelector": {
                "i.$": "$$.Map.Item.Index",
                "v.$": "$$.Map.Item.Value",
                "tag.$": "$.tag",
            },
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    }
    ex = _run(states, {"in": {"items": ["a", "b"], "tag": "t"}})
    assert ex.output == [{"i": 0, "v": "a", "tag": "t"}, {"i": 1, "v": "b", "tag": "t"}]


def test_map_history_events_and_length() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    }
    ex = _run(states, [1, 2])
    assert _types(ex) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        "PassStateEntered",
        "PassStateExited",
        "MapIterationSucceeded",
        "MapIterationStarted",
        "PassStateEntered",
        "PassStateExited",
        "MapIterationSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    started = ex.history[2].to_dict()
    assert started["mapStateStartedEventDetails"] == {"length": 2}
    iteration = ex.history[3].to_dict()
    assert iteration["mapIterationStartedEventDetails"] == {"name": "M", "index": 0}


def test_map_retry_reruns_all_iterations() -> None:
    seen: list[Any] = []

    def handler(event: Any) -> Any:
        seen.append(event)
        if event == 2 and seen.count(2) == 1:
            raise RuntimeError("x")
        return event * 10

    states = {
        "M": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "StartAt": "T",
                "States": {"T": {"Type": "Task", "Resource": FN, "End": True}},
            },
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "End": True,
        }
    }
    ex = _run(states, [1, 2, 3], handlers={"f": handler})
    assert (ex.status, ex.output) == ("SUCCEEDED", [10, 20, 30])
    assert seen == [1, 2, 1, 2, 3]
    assert _types(ex).count("MapStateStarted") == 2


def test_map_assign_dollar_is_the_result_array() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "Assign": {"n.$": "States.ArrayLength($)"},
            "ResultPath": None,
            "Next": "Q",
        },
        "Q": {"Type": "Pass", "Parameters": {"n.$": "$n"}, "End": True},
    }
    assert _run(states, [7, 8, 9]).output == {"n": 3}


def test_map_max_concurrency_path_reads_the_input() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrencyPath": "$.mc",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    }
    assert _run(states, {"items": [1, 2], "mc": 1}).output == [1, 2]


# §11 JSONPath data flow ------------------------------------------------------------


def test_multi_valued_paths_gather_into_array() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {
                "two.$": "$.a[0,1]",
                "one.$": "$.a[0]",
                "none.$": "$.a[?(@ > 100)]",
                "all.$": "$.o.*",
            },
            "End": True,
        }
    }
    ex = _run(states, {"a": [1, 2, 3], "o": {"x": 1, "y": 2}})
    assert ex.output == {"two": [1, 2], "one": 1, "none": [], "all": [1, 2]}


def test_input_path_multi_valued() -> None:
    ex = _run({"P": {"Type": "Pass", "InputPath": "$.a[1:]", "End": True}}, {"a": [1, 2, 3]})
    assert ex.output == [2, 3]


def test_payload_template_dollar_keys_inside_arrays_and_literal_paths() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {"list": [{"x.$": "$.a"}, "$.a", {"deep": {"y.$": "$$.State.Name"}}]},
            "End": True,
        }
    }
    ex = _run(states, {"a": 1})
    assert ex.output == {"list": [{"x": 1}, "$.a", {"deep": {"y": "P"}}]}


def test_result_selector_path_not_found_is_runtime() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "ResultSelector": {"v.$": "$.missing"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
            "End": True,
        },
        "C": {"Type": "Succeed"},
    }
    ex = _run(states, {"a": 1}, handlers={"f": lambda e: {"b": 2}})
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert ex.cause == _prefix("T", 2) + (
        "The JSONPath '$.missing' specified for the field 'v.$' could not be found in the "
        "input '{\"b\":2}'"
    )
    assert "TaskStateExited" not in _types(ex)


_NO_TASK_EVENTS = ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
_NO_STATE_EXITED = [
    "ExecutionStarted",
    "TaskStateEntered",
    "LambdaFunctionScheduled",
    "LambdaFunctionStarted",
    "LambdaFunctionSucceeded",
    "ExecutionFailed",
]


@pytest.mark.parametrize(
    ("field", "catch_error", "events"),
    [
        ("InputPath", "States.Runtime", _NO_TASK_EVENTS),
        ("OutputPath", "States.ALL", _NO_STATE_EXITED),
    ],
    ids=["input_path_no_task_events", "output_path_no_state_exited"],
)
def test_task_path_not_found_is_uncaught_runtime(
    field: str, catch_error: str, events: list[str]
) -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            field: "$.x",
            "Catch": [{"ErrorEquals": [catch_error], "Next": "C"}],
            "End": True,
        },
        "C": {"Type": "Succeed"},
    }
    ex = _run(states, {"a": 1}, handlers={"f": lambda e: e})
    assert (ex.error, ex.cause) == _runtime(
        "T", 2, "Invalid path '$.x' : No results for path: $['x']"
    )
    assert _types(ex) == events


def test_output_path_null_gives_empty_object_on_task() -> None:
    states = {"T": {"Type": "Task", "Resource": FN, "OutputPath": None, "End": True}}
    assert _run(states, {"a": 1}, handlers={"f": lambda e: 5}).output == {}


def test_result_path_overwrites_existing_field() -> None:
    states = {"P": {"Type": "Pass", "Result": 2, "ResultPath": "$.a.b", "End": True}}
    assert _run(states, {"a": {"b": 1, "c": 3}}).output == {"a": {"b": 2, "c": 3}}


# §12 Context object ------------------------------------------------------------


def test_context_object_fields() -> None:
    states = {
        "First": {"Type": "Pass", "Next": "P"},
        "P": {
            "Type": "Pass",
            "Parameters": {
                "id.$": "$$.Execution.Id",
                "input.$": "$$.Execution.Input",
                "name.$": "$$.Execution.Name",
                "role.$": "$$.Execution.RoleArn",
                "redrive.$": "$$.Execution.RedriveCount",
                "sm.$": "$$.StateMachine.Id",
                "smName.$": "$$.StateMachine.Name",
                "state.$": "$$.State.Name",
                "entered.$": "$$.State.EnteredTime",
                "start.$": "$$.Execution.StartTime",
                "stateObject.$": "$$.State",
            },
            "Next": "T",
        },
        "T": {
            "Type": "Task",
            "Resource": "echo",
            "Parameters": {"retry.$": "$$.State.RetryCount"},
            "ResultPath": "$.task",
            "End": True,
        },
    }
    ex = _run(states, {"a": 1}, name="run-1", handlers={"echo": lambda event: event})
    out = ex.output
    # A Task's $$.State has RetryCount, a Pass state's none (as AWS records them).
    assert out["task"] == {"retry": 0}
    assert sorted(out["stateObject"]) == ["EnteredTime", "Name"]
    out["retry"] = out["task"]["retry"]
    sm_name = out["smName"]
    assert out["id"] == f"arn:aws:states:us-east-1:123456789012:execution:{sm_name}:run-1"
    assert out["sm"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{sm_name}"
    assert {k: out[k] for k in ("input", "name", "role", "redrive", "state")} == {
        "input": {"a": 1},
        "name": "run-1",
        "role": "arn:aws:iam::123456789012:role/LocalStepFunctionsRole",
        "redrive": 0,
        "state": "P",
    }
    entered = ex.history[3].to_dict()["timestamp"]
    assert datetime.fromisoformat(out["entered"]) == datetime.fromisoformat(entered)
    assert datetime.fromisoformat(out["start"]) == datetime.fromisoformat(
        ex.history[0].to_dict()["timestamp"]
    )


# §15 Retry ------------------------------------------------------------


def test_retry_defaults_four_invocations_delays_1_2_4() -> None:
    states = {"T": {"Type": "Task", "Resource": FN, "Retry": [{"ErrorEquals": ["E"]}], "End": True}}
    # Handlers' running time stays out of virtual time, so the gaps are exact under any load.
    clock = VirtualClock(work_moves_time=False)
    ex = _run(states, {}, handlers={"f": _fail("E", "c")}, clock=clock)
    assert (ex.status, ex.error) == ("FAILED", "E")
    scheduled = [e.timestamp for e in ex.history if e.type == "LambdaFunctionScheduled"]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(scheduled)]
    assert gaps == [1.0, 2.0, 4.0]
    assert _types(ex).count("TaskStateEntered") == 1


def test_retrier_counter_shared_across_its_errors() -> None:
    errors = iter(["A", "B", "A"])

    def handler(event: Any) -> Any:
        return _fail(next(errors))(event)

    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["A", "B"], "MaxAttempts": 2, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
            "End": True,
        },
        "C": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {}, handlers={"f": handler})
    assert ex.output == {"Error": "A", "Cause": ""}
    assert _types(ex).count("LambdaFunctionScheduled") == 3


# §16 Catch / Error Output ------------------------------------------------------------


def test_caught_error_skips_failing_output_path_and_result_selector() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "ResultSelector": {"x.$": "$.nope"},
            "OutputPath": "$.nope",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "C"}],
            "Next": "C",
        },
        "C": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"a": 1}, handlers={"f": _fail("E", "boom")})
    assert (ex.status, ex.output) == ("SUCCEEDED", {"a": 1, "err": {"Error": "E", "Cause": "boom"}})


def test_catcher_result_path_uses_raw_input_not_parameters() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "InputPath": "$.in",
            "Parameters": {"p.$": "$.v"},
            "Catch": [{"ErrorEquals": ["E"], "ResultPath": "$.err", "Next": "C"}],
            "End": True,
        },
        "C": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"in": {"v": 1}, "other": 2}, handlers={"f": _fail("E")})
    assert ex.output == {"in": {"v": 1}, "other": 2, "err": {"Error": "E", "Cause": ""}}


def test_history_when_caught_vs_uncaught() -> None:
    catching = {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f"},
            "Catch": [{"ErrorEquals": ["E"], "Next": "C"}],
            "End": True,
        },
        "C": {"Type": "Pass", "End": True},
    }
    ex = _run(catching, {}, handlers={"f": _fail("E")})
    assert _types(ex) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    uncaught = {
        "T": {**catching["T"], "Catch": [{"ErrorEquals": ["Other"], "Next": "C"}]},
        "C": catching["C"],
    }
    ex = _run(uncaught, {}, handlers={"f": _fail("E", "why")})
    assert _types(ex) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "ExecutionFailed",
    ]
    failed = ex.history[4].to_dict()["taskFailedEventDetails"]
    final = ex.history[5].to_dict()["executionFailedEventDetails"]
    assert (final["error"], final["cause"]) == (failed["error"], failed["cause"])


# §17 / §21 Task events ------------------------------------------------------------


def test_task_scheduled_has_timeout_only_when_configured() -> None:
    base = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "End": True,
    }
    plain = _run({"T": base}, {}, handlers={"f": lambda e: 1})
    assert plain.history[2].to_dict()["taskScheduledEventDetails"] == {
        "resource": "invoke",
        "resourceType": "lambda",
        "region": "us-east-1",
        "parameters": '{"FunctionName":"f"}',
    }
    timed = _run(
        {"T": {**base, "TimeoutSeconds": 5, "HeartbeatSeconds": 2}}, {}, handlers={"f": lambda e: 1}
    )
    details = timed.history[2].to_dict()["taskScheduledEventDetails"]
    assert (details["timeoutInSeconds"], details["heartbeatInSeconds"]) == (5, 2)


def test_failed_execution_shape_has_no_output() -> None:
    ex = _run({"F": {"Type": "Fail", "Error": "E"}}, {"a": 1}, name="n1")
    d = ex.to_dict()
    assert (d["status"], d["error"], "output" in d, "cause" in d) == ("FAILED", "E", False, False)


# §22 Quotas ------------------------------------------------------------


def test_state_output_over_256_kib_is_data_limit_exceeded() -> None:
    states = {"P": {"Type": "Pass", "Parameters": {"s.$": "$.s"}, "End": True}}
    ex = _run(states, {"s": "x" * 200_000, "t": "y" * 10})
    assert ex.status == "SUCCEEDED"
    big = {"P": {"Type": "Pass", "Result": "x" * 262_144, "End": True}}
    ex = _run(big, {})
    assert (ex.status, ex.error) == ("FAILED", "States.DataLimitExceeded")
    assert ex.cause == (
        "The state/task 'P' returned a result with a size exceeding the maximum number of bytes "
        "service limit."
    )


# §1 Top level / definition errors ------------------------------------------------------------


def test_definition_errors_are_rejected_before_start() -> None:
    cases = [
        ({"StartAt": "B", "States": {"A": {"Type": "Succeed"}}}, "START_AT_NOT_FOUND"),
        ({"StartAt": "A" * 81, "States": {"A" * 81: {"Type": "Succeed"}}}, "STATE_NAME_TOO_LONG"),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A", "End": True}}},
            "NEXT_AND_END",
        ),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Succeed", "ResultPath": "$"}}},
            "FIELD_NOT_ALLOWED",
        ),
    ]
    for definition, code in cases:
        try:
            engine.load(definition)
        except engine.DefinitionError as error:
            assert [d.code for d in error.diagnostics if d.severity == "error"] == [code]
        else:
            raise AssertionError(f"{code} not reported")


def test_execution_input_over_256_kib_is_rejected() -> None:
    machine = engine.load({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    try:
        engine.run(machine, {"s": "x" * 262_144})
    except engine.InvalidExecutionInput as error:
        assert str(error) == "the execution input is 262152 bytes; the limit is 262144"
    else:
        raise AssertionError("oversize input accepted")


# §2 Common fields ------------------------------------------------------------


def test_task_input_path_null_sends_empty_object() -> None:
    states = {"T": {"Type": "Task", "Resource": FN, "InputPath": None, "End": True}}
    assert _run(states, {"a": 1}, handlers={"f": lambda e: {"got": e}}).output == {"got": {}}


# §6 Wait (continued) ------------------------------------------------------------


def test_wait_timestamp_milliseconds_truncated() -> None:
    states = {"W": {"Type": "Wait", "Timestamp": "2024-01-01T01:00:00.900Z", "End": True}}
    ex = _run(states, {}, clock=VirtualClock(datetime(2024, 1, 1, tzinfo=UTC)))
    assert [e.to_dict()["timestamp"] for e in ex.history][1:3] == [
        "2024-01-01T00:00:00.000Z",
        "2024-01-01T01:00:00.000Z",
    ]


# §10 Map (continued) ------------------------------------------------------------


def test_map_items_path_non_array_and_max_concurrency_path_causes() -> None:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    ex = _run({"M": {"Type": "Map", "ItemProcessor": processor, "End": True}}, {"a": 1})
    assert (ex.error, ex.cause) == _runtime("M", 2, 'Reference path "$" must point to array.')
    states = {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.i",
            "MaxConcurrencyPath": "$.mc",
            "ItemProcessor": processor,
            "End": True,
        }
    }
    ex = _run(states, {"i": [1], "mc": "x"})
    assert (ex.error, ex.cause) == _runtime(
        "M",
        2,
        'The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $.mc',
    )


def test_map_iteration_failure_events_carry_index_and_name() -> None:
    states = {
        "M": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "F",
                "States": {"F": {"Type": "Fail", "Error": "X", "Cause": "c"}},
            },
            "End": True,
        }
    }
    ex = _run(states, [1])
    assert (ex.error, ex.cause) == ("X", "c")
    assert _types(ex)[-4:] == [
        "FailStateEntered",
        "MapIterationFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]
    failed = next(e for e in ex.history if e.type == "MapIterationFailed").to_dict()
    assert failed["mapIterationFailedEventDetails"] == {"index": 0, "name": "M"}


def test_parallel_uncaught_branch_failure_events() -> None:
    states = {
        "Par": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X", "Cause": "y"}}}
            ],
            "End": True,
        }
    }
    ex = _run(states, {})
    assert (ex.error, ex.cause) == ("X", "y")
    assert _types(ex) == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "FailStateEntered",
        "ParallelStateFailed",
        "ExecutionFailed",
    ]


def test_parallel_parameters_path_not_found_is_runtime() -> None:
    states = {
        "Par": {
            "Type": "Parallel",
            "Parameters": {"a.$": "$.zz"},
            "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
            "End": True,
        },
        "C": {"Type": "Succeed"},
    }
    ex = _run(states, {})
    assert (ex.error, ex.cause) == _runtime(
        "Par",
        2,
        "The JSONPath '$.zz' specified for the field 'a.$' could not be found in the input '{}'",
    )
    assert _types(ex) == ["ExecutionStarted", "ParallelStateEntered", "ExecutionFailed"]


# §12 Context object (continued) ------------------------------------------------------------


def test_context_timestamps_drop_a_zero_fraction() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {"s.$": "$$.Execution.StartTime", "e.$": "$$.State.EnteredTime"},
            "End": True,
        }
    }
    whole = _run(states, {}, clock=VirtualClock(datetime(2024, 1, 1, tzinfo=UTC)))
    assert whole.output == {"s": "2024-01-01T00:00:00Z", "e": "2024-01-01T00:00:00Z"}
    part = _run(states, {}, clock=VirtualClock(datetime(2024, 1, 1, 0, 0, 0, 120_000, tzinfo=UTC)))
    assert part.output == {"s": "2024-01-01T00:00:00.120Z", "e": "2024-01-01T00:00:00.120Z"}


# §15 / §18 Retry matchers ------------------------------------------------------------


def test_task_failed_matcher_retries_custom_errors() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1}],
            "End": True,
        }
    }
    ex = _run(states, {}, handlers={"f": _fail("Custom", "c")})
    assert ex.error == "Custom"
    assert _types(ex).count("LambdaFunctionFailed") == 2


# §21 Lambda events ------------------------------------------------------------


def test_legacy_lambda_scheduled_event_shape() -> None:
    states = {"T": {"Type": "Task", "Resource": FN, "TimeoutSeconds": 5, "End": True}}
    ex = _run(states, {"a": 1}, handlers={"f": lambda e: 1})
    assert ex.history[2].to_dict()["lambdaFunctionScheduledEventDetails"] == {
        "resource": FN,
        "input": '{"a":1}',
        "inputDetails": {"truncated": False},
        "timeoutInSeconds": 5,
    }
    assert ex.history[4].to_dict()["lambdaFunctionSucceededEventDetails"] == {
        "output": "1",
        "outputDetails": {"truncated": False},
    }


def test_map_caught_failure_still_exits_the_map_state() -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X", "Cause": "y"}}}
    states = {
        "M": {
            "Type": "Map",
            "ItemProcessor": failing,
            "Catch": [{"ErrorEquals": ["X"], "Next": "D"}],
            "End": True,
        },
        "D": {"Type": "Succeed"},
    }
    ex = _run(states, [1])
    assert (ex.status, ex.output) == ("SUCCEEDED", {"Error": "X", "Cause": "y"})
    assert _types(ex) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        "FailStateEntered",
        "MapIterationFailed",
        "MapStateFailed",
        "MapStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]


def test_task_token_only_with_wait_for_task_token_and_new_per_attempt() -> None:
    tokens: list[str] = []

    def handler(event: Any) -> Any:
        tokens.append(event["token"])
        return {}

    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 1,
        "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}],
        "End": True,
    }
    ex = _run({"T": task}, {}, handlers={"f": handler})
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    assert (len(tokens), len(set(tokens))) == (2, 2)
    assert all(1 <= len(token) <= 1024 for token in tokens)
    plain = {**task, "Resource": "arn:aws:states:::lambda:invoke"}
    ex = _run({"T": plain}, {"a": 1}, handlers={"f": handler})
    assert (ex.error, ex.cause) == _runtime(
        "T",
        2,
        "The JSONPath '$$.Task.Token' specified for the field 'token.$' could "
        "not be found in the input '{\"a\":1}'",
    )


def test_map_item_context_only_in_item_selector() -> None:
    inner = {"Type": "Pass", "Parameters": {"i.$": "$$.Map.Item.Index"}, "End": True}
    states = {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": inner}}, "End": True}
    }
    ex = _run(states, [7])
    assert (ex.error, ex.cause) == _runtime(
        "P",
        5,
        "The JSONPath '$$.Map.Item.Index' specified for the field 'i.$' could "
        "not be found in the input '7'",
    )
