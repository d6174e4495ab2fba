"""Retry, Catch and the errors AWS treats specially: Runtime, TaskFailed, DataLimitExceeded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.diagnostics import DefinitionError
from engine.errors import StatesError
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.local_engine import run

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FN = "arn:aws:lambda:us-east-1:123456789012:function:work"
SERVICE = "arn:aws:states:::dynamodb:putItem"


class ErrorA(Exception):
    pass


class ErrorB(Exception):
    pass


class ErrorC(Exception):
    pass


class Scripted:
    """A handler that raises the scripted exceptions in turn, then returns ``result``."""

    def __init__(self, *outcomes: BaseException | Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[Any] = []

    def __call__(self, event: Any) -> Any:
        self.calls.append(event)
        outcome = self.outcomes.pop(0) if self.outcomes else {"ok": True}
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def _run(states: dict[str, Any], data: Any = None, **kw: Any) -> Execution:
    definition = {"StartAt": next(iter(states)), "States": states}
    kw.setdefault("clock", VirtualClock(T0))
    kw.setdefault("name", "exec-1")
    return run(definition, data, **kw)


def _of(execution: Execution, event_type: str) -> list[HistoryEvent]:
    return [event for event in execution.history if event.type == event_type]


def _gaps(execution: Execution) -> list[float]:
    """Seconds between each failure and the next scheduling of the task."""
    events = execution.history
    gaps = []
    for index, event in enumerate(events):
        if event.type.endswith("Failed") and event.type.startswith("LambdaFunction"):
            nxt = next(
                (e for e in events[index + 1 :] if e.type == "LambdaFunctionScheduled"), None
            )
            if nxt is not None:
                gaps.append(round(nxt.posix - event.posix, 6))
    return gaps


def test_retry_delays_follow_interval_and_backoff_in_virtual_time() -> None:
    handler = Scripted(ErrorA("1"), ErrorA("2"), ErrorA("3"), {"done": 1})
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["ErrorA"], "IntervalSeconds": 3, "BackoffRate": 1.5}],
            "End": True,
        }
    }
    ex = _run(states, {"in": 1}, handlers={"work": handler})
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"done": 1}
    assert len(handler.calls) == 4
    assert _gaps(ex) == [3.0, 4.5, 6.75]


def test_retry_max_delay_caps_and_hour_long_backoff_is_skipped() -> None:
    handler = Scripted(ErrorA(), ErrorA(), ErrorA(), ErrorA(), "ok")
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 3600,
                    "MaxAttempts": 4,
                    "BackoffRate": 2,
                    "MaxDelaySeconds": 10000,
                }
            ],
            "End": True,
        }
    }
    # Handlers' running time stays out of virtual time, so the total is exact under any load.
    ex = _run(states, handlers={"work": handler}, clock=VirtualClock(T0, work_moves_time=False))
    assert ex.output == "ok"
    assert _gaps(ex) == [3600.0, 7200.0, 10000.0, 10000.0]
    assert ex.stop_date is not None
    assert (ex.stop_date - ex.start_date).total_seconds() == 30800


def test_full_jitter_is_reproducible_with_a_seed() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["ErrorA"], "IntervalSeconds": 10, "JitterStrategy": "FULL"}],
            "End": True,
        }
    }
    first = _run(states, handlers={"work": Scripted(ErrorA(), ErrorA(), "ok")}, seed=7)
    second = _run(states, handlers={"work": Scripted(ErrorA(), ErrorA(), "ok")}, seed=7)
    assert _gaps(first) == _gaps(second)
    assert 0 <= _gaps(first)[0] <= 10
    assert 0 <= _gaps(first)[1] <= 20


def test_only_the_first_matching_retrier_applies_then_catch() -> None:
    # The spec's example: ErrorA, ErrorB, ErrorC, ErrorB → waits 1, 2, 5, then Catch.
    handler = Scripted(ErrorA(), ErrorB(), ErrorC(), ErrorB())
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [
                {"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "MaxAttempts": 2},
                {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5},
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}],
            "End": True,
        },
        "Z": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"x": 1}, handlers={"work": handler})
    assert ex.states == ["T", "Z"]
    assert _gaps(ex) == [1.0, 2.0, 5.0]
    assert ex.output["Error"] == "ErrorB"


def test_exhausted_retrier_does_not_fall_through_to_later_retriers() -> None:
    handler = Scripted(ErrorA(), ErrorA())
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [
                {"ErrorEquals": ["ErrorA"], "MaxAttempts": 1},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5},
            ],
            "End": True,
        }
    }
    ex = _run(states, handlers={"work": handler})
    assert ex.status == "FAILED"
    assert ex.error == "ErrorA"
    assert len(handler.calls) == 2


def test_max_attempts_zero_never_retries() -> None:
    handler = Scripted(ErrorA())
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Retry": [{"ErrorEquals": ["ErrorA"], "MaxAttempts": 0}],
            "End": True,
        }
    }
    ex = _run(states, handlers={"work": handler})
    assert ex.error == "ErrorA"
    assert len(handler.calls) == 1


def test_retry_counters_reset_when_the_state_is_left() -> None:
    handler = Scripted(ErrorA(), "ok", ErrorA(), "ok")
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "ResultPath": None,
            "Retry": [{"ErrorEquals": ["ErrorA"], "MaxAttempts": 1}],
            "Next": "Again",
        },
        "Again": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.round", "NumericEquals": 1, "Next": "Second"}],
            "Default": "Done",
        },
        "Second": {"Type": "Pass", "Result": 2, "ResultPath": "$.round", "Next": "T"},
        "Done": {"Type": "Succeed"},
    }
    ex = _run(states, {"round": 1}, handlers={"work": handler})
    assert ex.status == "SUCCEEDED"
    assert ex.states == ["T", "Again", "Second", "T", "Again", "Done"]
    assert len(handler.calls) == 4


def test_retry_count_in_context_object() -> None:
    handler = Scripted(ErrorA(), ErrorA(), "ok")
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Parameters": {"retry.$": "$$.State.RetryCount"},
            "Retry": [{"ErrorEquals": ["ErrorA"]}],
            "End": True,
        }
    }
    _run(states, handlers={"work": handler})
    assert handler.calls == [{"retry": 0}, {"retry": 1}, {"retry": 2}]


def test_catch_replaces_input_with_error_output_by_default() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "ResultSelector": {"never.$": "$.x"},
            "OutputPath": "$.never",
            "Catch": [{"ErrorEquals": ["ErrorA"], "Next": "Handler"}],
            "End": True,
        },
        "Handler": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"orig": 1}, handlers={SERVICE: Scripted(ErrorA("bad thing"))})
    assert ex.states == ["T", "Handler"]
    assert ex.output == {"Error": "ErrorA", "Cause": "bad thing"}
    failed = _of(ex, "TaskFailed")[0].to_dict()["taskFailedEventDetails"]
    assert failed == {
        "resource": "putItem",
        "resourceType": "dynamodb",
        "error": "ErrorA",
        "cause": "bad thing",
    }
    exited = _of(ex, "TaskStateExited")[0]
    assert exited.details == {"name": "T", "output": {"Error": "ErrorA", "Cause": "bad thing"}}


def test_catch_result_path_applies_to_raw_input() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "InputPath": "$.sub",
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "H"}],
            "End": True,
        },
        "H": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"sub": {"a": 1}, "keep": True}, handlers={SERVICE: Scripted(ErrorA("x"))})
    assert ex.output == {"sub": {"a": 1}, "keep": True, "err": {"Error": "ErrorA", "Cause": "x"}}


def test_catch_result_path_null_keeps_input() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "H"}],
            "End": True,
        },
        "H": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"a": 1}, handlers={SERVICE: Scripted(ErrorA("x"))})
    assert ex.output == {"a": 1}


def test_lambda_error_cause_is_the_lambda_runtime_json() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Parse"}],
            "End": True,
        },
        "Parse": {
            "Type": "Pass",
            "Parameters": {"cause.$": "States.StringToJson($.Cause)"},
            "End": True,
        },
    }
    ex = _run(states, {}, handlers={"work": Scripted(ErrorB("card declined"))})
    cause = ex.output["cause"]
    assert cause["errorType"] == "ErrorB"
    assert cause["errorMessage"] == "card declined"
    assert isinstance(cause["stackTrace"], list)


def test_error_name_attribute_wins() -> None:
    class Named(Exception):
        error_name = "Booking.Failed"

    ex = _run(
        {"T": {"Type": "Task", "Resource": SERVICE, "End": True}},
        {},
        handlers={SERVICE: Scripted(Named("n"))},
    )
    assert ex.error == "Booking.Failed"


def test_task_failed_matcher_does_not_match_timeout() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "Catch": [
                {"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"},
                {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"},
            ],
            "End": True,
        },
        "Failed": {"Type": "Pass", "End": True},
        "TimedOut": {"Type": "Pass", "End": True},
    }

    def times_out(event: Any) -> Any:
        raise StatesError("States.Timeout", "late")

    ex = _run(states, {}, handlers={SERVICE: times_out})
    assert ex.states == ["T", "TimedOut"]
    ex = _run(states, {}, handlers={SERVICE: Scripted(ErrorA())})
    assert ex.states == ["T", "Failed"]


def test_states_runtime_is_neither_retried_nor_caught() -> None:
    handler = Scripted("never")
    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "Parameters": {"v.$": "$.missing"},
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "H"}],
            "End": True,
        },
        "H": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"a": 1}, handlers={SERVICE: handler})
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'T' (entered at the event id #2). "
        "The JSONPath '$.missing' specified for the field 'v.$' could not be found in the "
        "input '{\"a\":1}'"
    )
    assert handler.calls == []
    assert [e.type for e in ex.history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ExecutionFailed",
    ]


def test_uncaught_task_error_fails_execution_right_after_the_failure_event() -> None:
    ex = _run(
        {"T": {"Type": "Task", "Resource": SERVICE, "End": True}},
        {},
        handlers={SERVICE: Scripted(ErrorA("boom"))},
    )
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "ErrorA", "boom")
    assert [e.type for e in ex.history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "ExecutionFailed",
    ]


# -- limits and bad handler output ---------------------------------------------------------------


def test_non_json_result_is_a_catchable_marshal_error_naming_the_type() -> None:
    ex = _run(
        {
            "T": {
                "Type": "Task",
                "Resource": SERVICE,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
                "End": True,
            },
            "H": {"Type": "Pass", "End": True},
        },
        {},
        handlers={SERVICE: lambda event: {"when": {1, 2}}},
    )
    assert ex.status == "SUCCEEDED"
    assert ex.output == {
        "Error": "Runtime.MarshalError",
        "Cause": "Unable to marshal response: Object of type set is not JSON serializable",
    }


def test_oversize_task_result_is_data_limit_exceeded_and_catchable() -> None:
    big = "x" * 262_200
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
            "End": True,
        },
        "H": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {}, handlers={"work": lambda event: big})
    assert ex.states == ["T", "H"]
    assert ex.output == {
        "Error": "States.DataLimitExceeded",
        # AWS names the Lambda function's ARN (the resource), not the state.
        "Cause": f"The state/task '{FN}' returned a result with a size exceeding the maximum "
        "number of bytes service limit.",
    }
    assert _of(ex, "LambdaFunctionFailed")[0].details == {
        "error": "States.DataLimitExceeded",
        "cause": ex.output["Cause"],
    }


def test_oversize_pass_output_fails_the_execution() -> None:
    states = {
        "P": {
            "Type": "Pass",
            "Parameters": {"a.$": "$.s", "b.$": "$.s"},
            "End": True,
        }
    }
    ex = _run(states, {"s": "y" * 140_000})
    assert ex.status == "FAILED"
    assert ex.error == "States.DataLimitExceeded"
    assert ex.cause == (
        "The state/task 'P' returned a result with a size exceeding the maximum number of "
        "bytes service limit."
    )


def test_oversize_task_input_fails_the_execution_before_the_call() -> None:
    handler = Scripted("never")
    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "Parameters": {"a.$": "$.s", "b.$": "$.s"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
            "End": True,
        },
        "H": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"s": "y" * 140_000}, handlers={SERVICE: handler})
    assert ex.status == "FAILED"
    assert ex.error == "States.DataLimitExceeded"
    assert handler.calls == []


def test_result_exactly_at_the_limit_is_accepted() -> None:
    text = "z" * (262_144 - 2)  # JSON adds the two quotes
    ex = _run(
        {"T": {"Type": "Task", "Resource": FN, "End": True}},
        {},
        handlers={"work": lambda event: text},
    )
    assert ex.status == "SUCCEEDED"


def test_task_result_within_limit_but_output_over_it_fails_the_execution() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": FN,
            "ResultPath": "$.copy",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
            "End": True,
        },
        "H": {"Type": "Pass", "End": True},
    }
    ex = _run(states, {"s": "y" * 140_000}, handlers={"work": lambda event: event["s"]})
    assert ex.states == ["T"]
    assert ex.status == "FAILED"
    assert ex.error == "States.DataLimitExceeded"
    assert _of(ex, "LambdaFunctionSucceeded")[0].details == {"output": "y" * 140_000}


def test_unbound_resource_is_an_error_before_the_execution_starts() -> None:
    states = {
        "Start": {"Type": "Pass", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "arn:aws:states:::nothing:here", "End": True},
    }
    with pytest.raises(DefinitionError) as info:
        _run(states, {})
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "UNBOUND_RESOURCE"
    assert diagnostic.location == "/States/Charge/Resource"
    assert "'Charge'" in diagnostic.message
    assert "arn:aws:states:::nothing:here" in diagnostic.message


def test_distributed_map_parquet_reader_without_pyarrow_is_rejected_before_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("engine.distributed.checks.parquet_available", lambda: False)
    states = {
        "M": {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "PARQUET"},
                "Parameters": {"Bucket": "b", "Key": "k.parquet"},
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "I",
                "States": {"I": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    }
    with pytest.raises(DefinitionError) as info:
        _run(states, [])
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "UNSUPPORTED_LOCALLY"
    assert diagnostic.location == "/States/M/ItemReader/ReaderConfig/InputType"
    assert "Parquet decoder" in diagnostic.message
    assert "pip install 'saga-statemachine[parquet]'" in diagnostic.message


def test_unexpected_internal_exception_becomes_a_recorded_failure() -> None:
    async def broken_interceptor(request: Any, call_next: Any) -> Any:
        raise ZeroDivisionError("interceptor bug")

    ex = _run(
        {"T": {"Type": "Task", "Resource": SERVICE, "End": True}},
        {},
        handlers={SERVICE: Scripted("ok")},
        interceptors=[broken_interceptor],
    )
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"
    assert ex.cause == "The local engine failed unexpectedly: ZeroDivisionError: interceptor bug"
    assert ex.history[-1].type == "ExecutionFailed"
    assert ex.stop_date is not None
