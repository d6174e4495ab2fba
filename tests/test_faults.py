"""Fault injection by state and attempt: Python steps, integrations, raw ASL tasks, mock configs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.bindings import TaskRequest
from engine.errors import StatesError
from saga.policies import Retry
from saga.saga import Saga
from saga.testing import faults
from saga.testing.clock import TestClock
from saga.testing.harness import SagaTestEngine


class BookingReservationException(Exception):
    pass


class CodedError(Exception):
    error_name = "Booking.Full"


def _booking() -> Saga:
    booking = Saga("Booking", failure_error="BookingFailed", failure_cause="rolled back")

    @booking.step(
        "Reserve Booking",
        retry=[Retry(BookingReservationException, interval=1, backoff_rate=2, max_retries=2)],
        timeout=5,
    )
    def reserve(event: dict[str, Any]) -> str:
        return "booking-1"

    @reserve.compensate("Cancel Booking")
    def cancel(event: dict[str, Any]) -> None:
        return None

    @booking.step("Collect Payment", timeout=30)
    def collect(event: dict[str, Any]) -> str:
        return "payment-1"

    return booking


def _engine() -> SagaTestEngine:
    return SagaTestEngine(name_prefix="faults")


def _task_events(execution: engine.Execution) -> list[tuple[str, float, dict[str, Any]]]:
    start = execution.start_posix
    return [
        (e.type, round(e.posix - start, 3), dict(e.details or {}))
        for e in execution.history
        if e.type.startswith(("LambdaFunction", "Task"))
        and not e.type.endswith(("Entered", "Exited"))
    ]


DYNAMO_MACHINE: dict[str, Any] = {
    "StartAt": "Reserve Flight",
    "States": {
        "Reserve Flight": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {"TableName": "flights", "Key": {"id": {"S": "f1"}}},
            "Retry": [
                {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "MaxAttempts": 0}
            ],
            "End": True,
        }
    },
}


def test_raises_on_first_two_attempts_then_calls_through() -> None:
    execution = _engine().run(
        _booking(),
        {},
        faults=[
            faults.raises("Reserve Booking", BookingReservationException("x"), attempts=[1, 2])
        ],
    )
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"reserveBooking": "booking-1", "collectPayment": "payment-1"}
    failed = [
        (kind, at, details["error"])
        for kind, at, details in _task_events(execution)
        if kind.endswith("Failed")
    ]
    assert failed == [
        ("LambdaFunctionFailed", 0.0, "BookingReservationException"),
        ("LambdaFunctionFailed", 1.0, "BookingReservationException"),
    ]


def test_raised_exception_is_reported_like_a_handler_raising_it() -> None:
    booking = _booking()
    injected = _engine().run(
        booking, {}, faults=[faults.raises("Reserve Booking", CodedError("no seats"))]
    )

    def raising(event: Any) -> Any:
        raise CodedError("no seats")

    real = _engine().run(booking, {}, handlers={"ReserveBooking": raising})
    injected_failures = [d for k, _, d in _task_events(injected) if k.endswith("Failed")]
    real_failures = [d for k, _, d in _task_events(real) if k.endswith("Failed")]
    assert [d["error"] for d in injected_failures] == ["Booking.Full"]
    assert [d["error"] for d in real_failures] == ["Booking.Full"]
    injected_cause = json.loads(injected_failures[0]["cause"])
    real_cause = json.loads(real_failures[0]["cause"])
    assert injected_cause == {
        "errorMessage": "no seats",
        "errorType": "Booking.Full",
        "requestId": real_cause["requestId"],
        "stackTrace": [],
    }
    assert {k: real_cause[k] for k in ("errorMessage", "errorType")} == {
        "errorMessage": "no seats",
        "errorType": "Booking.Full",
    }
    assert injected.states == real.states == ["Reserve Booking", "Saga Failed"]


def test_raises_accepts_an_exception_class() -> None:
    execution = _engine().run(
        _booking(), {}, faults=[faults.raises("Collect Payment", BookingReservationException)]
    )
    failures = [d for k, _, d in _task_events(execution) if k.endswith("Failed")]
    assert [(d["error"], json.loads(d["cause"])["errorMessage"]) for d in failures] == [
        ("BookingReservationException", "")
    ]


def test_raises_on_a_non_lambda_task_reports_the_message_as_cause() -> None:
    execution = _engine().run(
        DYNAMO_MACHINE, {}, faults=[faults.raises("Reserve Flight", CodedError("taken"))]
    )
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "Booking.Full",
        "taken",
    )


def test_fails_on_an_integration_without_any_aws() -> None:
    execution = _engine().run(
        DYNAMO_MACHINE,
        {},
        faults=[
            faults.fails(
                "Reserve Flight",
                error="DynamoDB.ConditionalCheckFailedException",
                cause="The conditional request failed",
            )
        ],
    )
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "DynamoDB.ConditionalCheckFailedException",
        "The conditional request failed",
    )
    assert [(k, d.get("resourceType"), d.get("error")) for k, _, d in _task_events(execution)] == [
        ("TaskScheduled", "dynamodb", None),
        ("TaskStarted", "dynamodb", None),
        ("TaskFailed", "dynamodb", "DynamoDB.ConditionalCheckFailedException"),
    ]


def test_fails_on_a_raw_asl_lambda_task_with_retry() -> None:
    machine = {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
                "Retry": [
                    {"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 3}
                ],
                "End": True,
            }
        },
    }
    execution = _engine().run(
        machine,
        {"n": 1},
        handlers={"work": lambda event: {"done": event["n"]}},
        faults=[faults.fails("Work", error="Lambda.TooManyRequestsException", attempts=1)],
    )
    assert (execution.status, execution.output) == ("SUCCEEDED", {"done": 1})
    assert [(k, at) for k, at, _ in _task_events(execution)] == [
        ("LambdaFunctionScheduled", 0.0),
        ("LambdaFunctionStarted", 0.0),
        ("LambdaFunctionFailed", 0.0),
        ("LambdaFunctionScheduled", 3.0),
        ("LambdaFunctionStarted", 3.0),
        ("LambdaFunctionSucceeded", 3.0),
    ]


def test_returns_answers_an_unbound_resource() -> None:
    machine = {
        "StartAt": "Lookup",
        "States": {
            "Lookup": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "t", "Key": {"id": {"S": "1"}}},
                "ResultSelector": {"seats.$": "$.Item.seats.N"},
                "End": True,
            }
        },
    }
    execution = _engine().run(
        machine, {}, faults=[faults.returns("Lookup", {"Item": {"seats": {"N": "3"}}})]
    )
    assert (execution.status, execution.output) == ("SUCCEEDED", {"seats": "3"})


def test_returns_on_some_attempts_only_needs_a_binding() -> None:
    machine = {"StartAt": "X", "States": {"X": {"Type": "Task", "Resource": "${X}", "End": True}}}
    with pytest.raises(engine.DefinitionError, match="nothing is bound to resource"):
        _engine().run(machine, {}, faults=[faults.returns("X", 1, attempts=[1])])


def test_hangs_until_the_timeout_fires_in_virtual_time() -> None:
    execution = _engine().run(_booking(), {}, faults=[faults.hangs("Collect Payment")])
    assert execution.states == [
        "Reserve Booking",
        "Collect Payment",
        "Cancel Booking",
        "Saga Failed",
    ]
    timed_out = [(k, at) for k, at, _ in _task_events(execution) if k.endswith("TimedOut")]
    assert timed_out == [("LambdaFunctionTimedOut", 30.0)]


def test_hangs_then_retry_succeeds() -> None:
    booking = Saga("Hang")

    @booking.step("Slow", timeout=5, retry=[Retry("States.Timeout", interval=2, max_retries=1)])
    def slow(event: Any) -> str:
        return "ok"

    execution = _engine().run(booking, {}, faults=[faults.hangs("Slow", attempts=[1])])
    assert execution.status == "SUCCEEDED"
    assert [(k, at) for k, at, _ in _task_events(execution)] == [
        ("LambdaFunctionScheduled", 0.0),
        ("LambdaFunctionStarted", 0.0),
        ("LambdaFunctionTimedOut", 5.0),
        ("LambdaFunctionScheduled", 7.0),
        ("LambdaFunctionStarted", 7.0),
        ("LambdaFunctionSucceeded", 7.0),
    ]


def test_hang_without_timeout_fails_after_the_given_seconds() -> None:
    machine = {"StartAt": "X", "States": {"X": {"Type": "Task", "Resource": "${X}", "End": True}}}
    execution = _engine().run(machine, {}, faults=[faults.hangs("X", seconds=600)])
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert round(execution.history[-1].posix - execution.start_posix, 3) == 600.0


def test_hang_on_the_engine_directly_waits_on_the_executions_clock() -> None:
    machine = {
        "StartAt": "X",
        "States": {"X": {"Type": "Task", "Resource": "${X}", "TimeoutSeconds": 9, "End": True}},
    }
    execution = engine.run(machine, {}, interceptors=[faults.hangs("X")])
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    # The default VirtualClock lets the handler's few real microseconds show.
    assert 9.0 <= execution.history[-1].posix - execution.start_posix < 10.0
    clock = TestClock()
    bound = engine.run(machine, {}, clock=clock, interceptors=[faults.hangs("X", clock=clock)])
    assert (bound.status, bound.error) == ("FAILED", "States.Timeout")
    assert round(bound.history[-1].posix - bound.start_posix, 3) == 9.0


def test_hang_called_without_any_clock_names_what_it_needs() -> None:
    import anyio

    fault = faults.hangs("X")
    request = TaskRequest(state_name="X", resource="${X}", payload={})

    async def unreachable(request: TaskRequest) -> Any:
        raise AssertionError("called through")

    with pytest.raises(StatesError) as caught:
        anyio.run(fault, request, unreachable)
    assert caught.value.error == "States.Runtime"
    assert "needs the engine's clock" in (caught.value.cause or "")


def test_hang_on_a_plain_virtual_clock_advances_it() -> None:
    machine = {
        "StartAt": "X",
        "States": {"X": {"Type": "Task", "Resource": "${X}", "TimeoutSeconds": 4, "End": True}},
    }
    clock = engine.VirtualClock()
    execution = engine.run(machine, {}, clock=clock, interceptors=[faults.hangs("X", clock=clock)])
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert 4.0 <= execution.history[-1].posix - execution.start_posix < 5.0


def test_fault_in_a_parallel_branch() -> None:
    machine = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "A",
                        "States": {"A": {"Type": "Task", "Resource": "${A}", "End": True}},
                    },
                    {
                        "StartAt": "B",
                        "States": {"B": {"Type": "Task", "Resource": "${B}", "End": True}},
                    },
                ],
                "End": True,
            }
        },
    }
    execution = _engine().run(
        machine,
        {},
        handlers={"A": lambda e: "a", "B": lambda e: "b"},
        faults=[faults.fails("B", error="Custom.Error", cause="b broke")],
    )
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "Custom.Error",
        "b broke",
    )


MOCK_CONFIG: dict[str, Any] = {
    "StateMachines": {
        "Booking": {
            "TestCases": {
                "ReserveRetried": {"Reserve Booking": "ThrottledThenBooked"},
            }
        }
    },
    "MockedResponses": {
        "ThrottledThenBooked": {
            "0": {"Throw": {"Error": "BookingReservationException", "Cause": "busy"}},
            "1": {"Return": "booking-mocked"},
        }
    },
}


def test_mock_config_file_and_test_case(tmp_path: Path) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(MOCK_CONFIG), encoding="utf-8")
    harness = SagaTestEngine(search_paths=[tmp_path])
    execution = harness.run(
        _booking(), {}, mock_config="MockConfigFile.json", test_case="ReserveRetried"
    )
    assert (execution.status, execution.output) == (
        "SUCCEEDED",
        {"reserveBooking": "booking-mocked", "collectPayment": "payment-1"},
    )
    interceptor = faults.mock_config(path, "ReserveRetried")
    assert (interceptor.state_machine, interceptor.test_case) == ("Booking", "ReserveRetried")


def test_mock_config_needs_the_state_machine_when_ambiguous() -> None:
    config = {
        **MOCK_CONFIG,
        "StateMachines": {**MOCK_CONFIG["StateMachines"], "Other": {"TestCases": {}}},
    }
    with pytest.raises(ValueError, match=r"name the state machine .*Booking, Other"):
        faults.mock_config(config, "ReserveRetried")
    picked = faults.mock_config(config, "ReserveRetried", state_machine="Booking")
    assert picked.states == {"Reserve Booking": "ThrottledThenBooked"}


def test_faults_and_mock_config_together() -> None:
    execution = SagaTestEngine().run(
        _booking(),
        {},
        faults=[faults.raises("Collect Payment", BookingReservationException("declined"))],
        mock_config=MOCK_CONFIG,
        test_case="ReserveRetried",
    )
    assert execution.states == [
        "Reserve Booking",
        "Collect Payment",
        "Cancel Booking",
        "Saga Failed",
    ]


@pytest.mark.parametrize("attempts", [[0], [], [1, -2], 0])
def test_attempts_count_from_one(attempts: Any) -> None:
    with pytest.raises(ValueError, match="attempts are counted from 1"):
        faults.fails("X", error="E", attempts=attempts)


def test_fault_matching_and_repr() -> None:
    fault = faults.returns("X", {"a": 1}, attempts=[2, 3])
    first = TaskRequest(state_name="X", resource="${X}", payload={}, attempt=0)
    second = TaskRequest(state_name="X", resource="${X}", payload={}, attempt=1)
    other = TaskRequest(state_name="Y", resource="${Y}", payload={}, attempt=1)
    assert [fault.applies(r) for r in (first, second, other)] == [False, True, False]
    assert (fault.mocks_state("X"), faults.returns("X", 1).mocks_state("X")) == (False, True)
    assert repr(fault) == "<Returns 'X' on attempts [2, 3]>"
    assert repr(faults.hangs("Y")) == "<Hangs 'Y' on every attempt>"


def test_returns_gives_a_fresh_copy_and_rejects_non_json() -> None:
    value = {"items": [1]}
    fault = faults.returns("X", value)
    request = TaskRequest(state_name="X", resource="${X}", payload={})

    async def unreachable(request: TaskRequest) -> Any:
        raise AssertionError("called through")

    import anyio

    result = anyio.run(fault, request, unreachable)
    assert result == value and result is not value
    with pytest.raises(TypeError):
        faults.returns("X", {1, 2})


def test_fails_raises_states_error_directly() -> None:
    import anyio

    fault = faults.fails("X", error="E.Name", cause="why")
    request = TaskRequest(state_name="X", resource="${X}", payload={})

    async def unreachable(request: TaskRequest) -> Any:
        raise AssertionError("called through")

    with pytest.raises(StatesError) as caught:
        anyio.run(fault, request, unreachable)
    assert (caught.value.error, caught.value.cause) == ("E.Name", "why")


@pytest.mark.parametrize(
    "result",
    [float("nan"), float("inf"), {"price": float("-inf")}],
    ids=["nan", "infinity", "nested-minus-infinity"],
)
def test_a_step_returning_nan_or_infinity_fails_the_saga_uncaught_as_readme_says(
    result: Any,
) -> None:
    undone: list[str] = []
    saga = Saga("NotJsonResult")
    saga.step("Book", lambda event: "b-1").compensate(
        "Unbook", lambda event: undone.append("unbook")
    )
    saga.step("Price", lambda event: result)
    execution = saga.run({}, name="nan-1")
    assert (execution.status, execution.error, execution.states) == (
        "FAILED",
        "States.Runtime",
        ["Book", "Price"],
    )
    assert execution.cause == (
        "An error occurred while executing the state 'Price' (entered at the event id #7). "
        "The task result is not JSON-serialisable: Out of range float values are not JSON "
        "compliant"
    )
    assert undone == [] and execution.unwind == []
