"""Domain assertions and the history table: what passes, what fails, and what the message says."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.execution import Execution
from saga.policies import Retry
from saga.saga import Saga
from saga.testing import (
    SagaAssertionError,
    assert_compensated,
    assert_failed,
    assert_path,
    assert_retried,
    assert_succeeded,
    assert_timed_out,
    compensations_run,
    faults,
    history_table,
    retry_delays,
    state_visits,
)
from saga.testing.harness import SagaTestEngine
from saga.testing.history_table import format_elapsed


class SeatsGone(Exception):
    pass


class Declined(Exception):
    pass


def _trip() -> Saga:
    trip = Saga("Trip", failure_error="TripFailed", failure_cause="the trip was rolled back")

    @trip.step("Reserve Seat", retry=[Retry(SeatsGone, interval=1, backoff_rate=2, max_retries=3)])
    def reserve(event: dict[str, Any]) -> str:
        return "seat-1"

    @reserve.compensate("Release Seat")
    def release(event: dict[str, Any]) -> None:
        return None

    @trip.step("Charge", timeout=10)
    def charge(event: dict[str, Any]) -> str:
        return "charge-1"

    @charge.compensate("Refund")
    def refund(event: dict[str, Any]) -> None:
        return None

    @trip.step("Send Ticket")
    def send(event: dict[str, Any]) -> str:
        return "ticket-1"

    return trip


TRIP = _trip()


def _run(*plan: Any, saga: Saga = TRIP, seed: int | None = 0) -> Execution:
    return SagaTestEngine(name_prefix="trip", seed=seed).run(saga, {"id": 7}, faults=plan)


def _message(excinfo: pytest.ExceptionInfo[SagaAssertionError]) -> str:
    return str(excinfo.value)


# -- path ---------------------------------------------------------------------------------


def test_assert_path_passes_on_the_exact_path() -> None:
    assert_path(_run(), ["Reserve Seat", "Charge", "Send Ticket"])


def test_assert_path_names_the_first_difference() -> None:
    execution = _run(faults.raises("Send Ticket", Declined("no")))
    with pytest.raises(SagaAssertionError) as caught:
        assert_path(execution, ["Reserve Seat", "Charge", "Send Ticket"])
    head = _message(caught).split("\n\n")[0]
    assert head == (
        "the execution took another path (after step 3: it went on into 'Refund')\n"
        '  expected: "Reserve Seat" → "Charge" → "Send Ticket"\n'
        '  actual:   "Reserve Seat" → "Charge" → "Send Ticket" → "Refund" → "Release Seat"'
        ' → "Saga Failed"'
    )


@pytest.mark.parametrize(
    ("expected", "where"),
    [
        (["Reserve Seat", "Refund"], "at step 2: entered 'Charge', expected 'Refund'"),
        (
            ["Reserve Seat", "Charge", "Send Ticket", "Done"],
            "after step 3: it stopped before 'Done'",
        ),
    ],
)
def test_assert_path_difference_kinds(expected: list[str], where: str) -> None:
    with pytest.raises(SagaAssertionError, match=re.escape(where)):
        assert_path(_run(), expected)


# -- retries ------------------------------------------------------------------------------


def test_assert_retried_with_exact_backoff() -> None:
    execution = _run(faults.raises("Reserve Seat", SeatsGone("gone"), attempts=[1, 2, 3]))
    assert_retried(execution, "Reserve Seat", times=3, delays=[1.0, 2.0, 4.0])
    assert retry_delays(execution, "Reserve Seat") == [1.0, 2.0, 4.0]
    assert_retried(execution, "Charge", times=0, delays=[])


def test_assert_retried_failure_message() -> None:
    execution = _run(faults.raises("Reserve Seat", SeatsGone("gone"), attempts=[1, 2]))
    with pytest.raises(SagaAssertionError) as caught:
        assert_retried(execution, "Reserve Seat", times=3, delays=[1.0, 2.0, 4.0])
    assert _message(caught).split("\n\n")[0] == (
        "'Reserve Seat' was retried 2 times, expected 3 times\n"
        "retry delays of 'Reserve Seat' were [1 s, 2 s], expected [1 s, 2 s, 4 s]"
        " (± 0.001 s each)\n"
        "errors of its attempts: SeatsGone, SeatsGone"
    )


def test_assert_retried_on_a_state_that_never_ran() -> None:
    with pytest.raises(SagaAssertionError, match="'Nowhere' never ran, so it was not retried"):
        assert_retried(_run(), "Nowhere", times=0)


def test_jittered_delays_repeat_with_the_seed_and_stay_in_bounds() -> None:
    saga = Saga("Jitter")

    @saga.step(
        "Flaky", retry=[Retry(SeatsGone, interval=2, backoff_rate=3, max_retries=3, jitter="FULL")]
    )
    def flaky(event: Any) -> str:
        return "ok"

    plan = faults.raises("Flaky", SeatsGone("x"), attempts=[1, 2, 3])
    first = retry_delays(_run(plan, saga=saga, seed=11), "Flaky")
    again = retry_delays(_run(plan, saga=saga, seed=11), "Flaky")
    other = retry_delays(_run(plan, saga=saga, seed=12), "Flaky")
    assert first == again
    assert first != other
    assert all(0.0 <= d <= cap for d, cap in zip(first, [2.0, 6.0, 18.0], strict=True))
    assert_retried(_run(plan, saga=saga, seed=11), "Flaky", times=3, delays=first)


def test_state_visits_of_a_parallel_state_and_its_branch_retries() -> None:
    branch_b = {"B": {"Type": "Task", "Resource": "${B}", "TimeoutSeconds": 3, "End": True}}
    machine = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 5}],
                "Branches": [
                    {
                        "StartAt": "A",
                        "States": {
                            "A": {
                                "Type": "Task",
                                "Resource": "${A}",
                                "Retry": [{"ErrorEquals": ["Slow"], "IntervalSeconds": 2}],
                                "End": True,
                            }
                        },
                    },
                    {"StartAt": "B", "States": branch_b},
                ],
                "End": True,
            }
        },
    }
    execution = SagaTestEngine().run(
        machine,
        {},
        handlers={"A": lambda e: "a", "B": lambda e: "b"},
        faults=[
            faults.hangs("B", invocations=[1]),
            faults.fails("A", error="Slow", invocations=[1]),
        ],
    )
    assert_succeeded(execution, output=["a", "b"])
    assert_retried(execution, "Both", times=1, delays=[5.0])
    assert [v.retries for v in state_visits(execution, "A")] == [1, 0]
    assert [v.retries for v in state_visits(execution, "B")] == [0, 0]
    assert retry_delays(execution, "A") == [2.0]
    assert [a.error for v in state_visits(execution, "B") for a in v.attempts] == [
        "States.Timeout",
        None,
    ]


# -- compensations ------------------------------------------------------------------------


def test_assert_compensated_by_names_steps_and_saga() -> None:
    execution = _run(faults.raises("Send Ticket", Declined("no")))
    assert_compensated(execution, ["Refund", "Release Seat"])
    assert_compensated(execution, ["Refund", "Release Seat"], saga=TRIP)
    charge, reserve = TRIP.forward_steps[1], TRIP.forward_steps[0]
    assert_compensated(execution, [charge, reserve])
    assert compensations_run(execution, TRIP) == ["Refund", "Release Seat"]
    assert_compensated(_run(), [], saga=TRIP)


def test_assert_compensated_failure_shows_both_orders() -> None:
    execution = _run(faults.raises("Send Ticket", Declined("no")))
    with pytest.raises(SagaAssertionError) as caught:
        assert_compensated(execution, ["Release Seat", "Refund"], saga=TRIP)
    assert _message(caught).split("\n\n")[0] == (
        "the compensations differ\n"
        '  expected: "Release Seat" → "Refund"\n'
        '  ran:      "Refund" → "Release Seat"'
    )


def test_assert_compensated_with_the_saga_catches_an_unexpected_one() -> None:
    execution = _run(faults.raises("Send Ticket", Declined("no")))
    with pytest.raises(SagaAssertionError, match='ran:      "Refund" → "Release Seat"'):
        assert_compensated(execution, ["Refund"], saga=TRIP)
    assert_compensated(execution, ["Refund"])  # names alone check only those


def test_assert_compensated_rejects_names_that_are_not_compensations() -> None:
    with pytest.raises(SagaAssertionError, match="'Charge' is not a compensation of saga 'Trip'"):
        assert_compensated(_run(), ["Charge"], saga=TRIP)


# -- outcome ------------------------------------------------------------------------------


def test_assert_succeeded_and_output() -> None:
    execution = _run()
    assert_succeeded(
        execution,
        output={"id": 7, "reserveSeat": "seat-1", "charge": "charge-1", "sendTicket": "ticket-1"},
    )
    with pytest.raises(SagaAssertionError) as caught:
        assert_succeeded(execution, output={"id": 7})
    assert _message(caught).split("\n\n")[0] == (
        "the output differs\n"
        '  expected: {"id": 7}\n'
        '  actual:   {"charge": "charge-1", "id": 7, "reserveSeat": "seat-1",'
        ' "sendTicket": "ticket-1"}'
    )


def test_assert_succeeded_on_a_failed_execution() -> None:
    execution = _run(faults.raises("Charge", Declined("no")))
    with pytest.raises(SagaAssertionError) as caught:
        assert_succeeded(execution)
    assert _message(caught).split("\n\n")[0] == (
        "execution 'trip-1' ended FAILED with TripFailed ('Charge' failed: Declined: no), "
        "expected SUCCEEDED"
    )


def test_assert_failed_error_and_cause_forms() -> None:
    machine = {"StartAt": "X", "States": {"X": {"Type": "Task", "Resource": "${X}", "End": True}}}

    def declined(event: Any) -> Any:
        raise Declined("card declined")

    execution = SagaTestEngine().run(machine, {}, handlers={"X": declined})
    assert_failed(execution, error="Declined", cause="card declined")  # Lambda errorMessage
    assert_failed(execution, cause=re.compile(r'"errorType": "Declined"'))
    assert_failed(execution, cause=execution.cause)
    with pytest.raises(SagaAssertionError) as caught:
        assert_failed(execution, error="Other", cause="something else")
    head = _message(caught).split("\n\n")[0]
    assert head.startswith(
        "execution 'execution-1' ended FAILED differently\n"
        "  error: 'Declined', expected 'Other'\n"
        '  cause: \'{"errorMessage": "card declined"'
    )
    assert head.endswith(
        "  expected 'something else'\n  original failure: 'X' failed: Declined: card declined"
    )
    with pytest.raises(
        SagaAssertionError,
        match=r"ended FAILED with Declined \('X' failed: Declined: card declined\), expected "
        "TIMED_OUT",
    ):
        assert_timed_out(execution)


def test_assert_timed_out_on_the_machine_timeout() -> None:
    machine = {
        "StartAt": "X",
        "TimeoutSeconds": 60,
        "States": {"X": {"Type": "Task", "Resource": "${X}", "End": True}},
    }
    execution = SagaTestEngine().run(machine, {}, faults=[faults.hangs("X")])
    assert_timed_out(execution, error="States.Timeout")
    with pytest.raises(SagaAssertionError, match=re.escape("ended TIMED_OUT with States.Timeout")):
        assert_failed(execution)


# -- the table ----------------------------------------------------------------------------


def test_history_table_exact_rendering() -> None:
    execution = _run(faults.raises("Reserve Seat", SeatsGone("gone"), attempts=[1]))
    lines = history_table(execution).splitlines()
    assert lines[:9] == [
        "  execution 'trip-1': SUCCEEDED",
        "  id  elapsed       event                    state         detail",
        "  --  ------------  -----------------------  ------------  "
        "----------------------------------------------------------------",
        '   1  +0:00:00.000  ExecutionStarted                       input {"id":7}',
        '   2  +0:00:00.000  TaskStateEntered         Reserve Seat  input {"id":7}',
        "   3  +0:00:00.000  LambdaFunctionScheduled  Reserve Seat  ${ReserveSeat}",
        "   4  +0:00:00.000  LambdaFunctionStarted    Reserve Seat",
        "   5  +0:00:00.000  LambdaFunctionFailed     Reserve Seat  SeatsGone: gone",
        "   6  +0:00:01.000  LambdaFunctionScheduled  Reserve Seat  ${ReserveSeat}",
    ]
    assert lines[-1] == (
        "  20  +0:00:01.000  ExecutionSucceeded                     "
        'output {"id":7,"reserveSeat":"seat-1","charge":"charge-1","send…'
    )
    assert "Charge        ${Charge}, timeout 10s" in history_table(execution)


def test_history_table_title_shows_the_error() -> None:
    execution = _run(faults.fails("Charge", error="Card.Declined", cause="insufficient funds"))
    assert history_table(execution).splitlines()[0] == (
        "  execution 'trip-1': FAILED (TripFailed ← 'Charge' failed: Card.Declined: insufficient "
        "funds)"
    )
    assert "Card.Declined: insufficient funds" in history_table(execution)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "+0:00:00.000"), (1.5, "+0:00:01.500"), (3725.25, "+1:02:05.250"), (-1, "+0:00:00.000")],
)
def test_format_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_assertion_error_is_an_assertion_error_with_the_execution() -> None:
    execution = _run()
    with pytest.raises(AssertionError) as caught:
        assert_failed(execution)
    assert isinstance(caught.value, SagaAssertionError)
    assert caught.value.execution is execution
    assert "history of the execution:\n  execution 'trip-1': SUCCEEDED" in str(caught.value)
