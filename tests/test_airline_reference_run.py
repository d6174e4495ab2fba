"""The airline sample's real ProcessBooking definition, run locally in the five scenarios.

The definition is read from the reference material (never copied into the repo); its Lambda
placeholders are bound to the example's Python functions, ``${BookingsDLQ}`` to a moto queue,
and its DynamoDB and SQS tasks run through the engine's built-in integrations against moto.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.airline_booking.__main__ import main
from examples.airline_booking.environment import AirlineEnvironment
from examples.airline_booking.expected import (
    CONFIRMED,
    FAILURE_TAIL,
    FORWARD,
    attempt_errors,
    booking_input,
)
from examples.airline_booking.runner import ScenarioRun, load_reference, run_scenario
from examples.airline_booking.scenarios import SCENARIOS
from examples.airline_booking.trace import retry_delays, steps_of

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "airline"
DEFINITION = REFERENCE / "process_booking.asl.json"

pytestmark = pytest.mark.skipif(
    not DEFINITION.exists(), reason=f"the airline reference definition is not at {DEFINITION}"
)


@pytest.fixture(scope="module")
def env() -> Iterator[AirlineEnvironment]:
    with AirlineEnvironment() as environment:
        yield environment


def _run(env: AirlineEnvironment, scenario: str) -> ScenarioRun:
    machine = load_reference(env, DEFINITION)
    return run_scenario(SCENARIOS[scenario], env, machine, clock="virtual", seed=7)


def _lambda_cause(cause: str) -> tuple[str, str]:
    parsed = json.loads(cause)
    return parsed["errorType"], parsed["errorMessage"]


def _only_booking(run: ScenarioRun) -> dict[str, Any]:
    assert len(run.evidence.bookings) == 1
    return run.evidence.bookings[0]


def _assert_failed_without_error(run: ScenarioRun) -> None:
    # The reference's Fail state has neither Error nor Cause.
    assert (run.execution.status, run.execution.error, run.execution.cause) == (
        "FAILED",
        None,
        None,
    )


def test_happy_path(env: AirlineEnvironment) -> None:
    run = _run(env, "happy-path")
    execution = run.execution
    assert execution.status == "SUCCEEDED"
    assert execution.states == CONFIRMED
    steps = steps_of(execution.history)
    assert [s.name for s in steps] == CONFIRMED
    assert retry_delays(steps) == {}
    assert all(len(step.attempts) == (0 if step.state_type == "Pass" else 1) for step in steps)

    booking = _only_booking(run)
    notification = run.evidence.notifications[-1]
    assert execution.output == {
        **booking_input(run.prepared.scenario.name),
        "bookingId": booking["id"],
        "payment": {
            "receiptUrl": "https://pay.example.com/receipts/ch_happy-path-1",
            "price": 24900,
        },
        "bookingReference": booking["bookingReference"],
        "notificationId": notification["messageId"],
    }
    assert booking["status"] == "CONFIRMED"
    assert run.evidence.seats_after == 41
    assert run.evidence.charge is not None and run.evidence.charge["status"] == "CAPTURED"
    assert notification["status"] == "confirmed"
    assert run.evidence.dead_letters == []


def test_transient_reservation_error_is_retried_with_backoff(env: AirlineEnvironment) -> None:
    run = _run(env, "transient-reservation-error")
    execution = run.execution
    assert execution.status == "SUCCEEDED"
    assert execution.states == CONFIRMED
    steps = steps_of(execution.history)
    assert attempt_errors(steps)["Reserve Booking"] == [
        "BookingReservationException",
        "BookingReservationException",
        None,
    ]
    # IntervalSeconds 1, BackoffRate 2: one second, then two, of virtual time.
    assert retry_delays(steps) == {"Reserve Booking": [1.0, 2.0]}
    booking = _only_booking(run)
    assert booking["status"] == "CONFIRMED"
    assert execution.output["bookingId"] == booking["id"]
    assert run.evidence.seats_after == 41
    assert run.evidence.dead_letters == []


def test_payment_declined_unwinds_to_the_dead_letter_queue(env: AirlineEnvironment) -> None:
    run = _run(env, "payment-declined")
    execution = run.execution
    path = [*FORWARD[:3], "Cancel Booking", "Release Flight Seat", *FAILURE_TAIL]
    assert execution.states == path
    _assert_failed_without_error(run)
    steps = steps_of(execution.history)
    assert [s.name for s in steps] == path
    assert retry_delays(steps) == {}
    assert attempt_errors(steps)["Collect Payment"] == ["PaymentException"]

    booking = _only_booking(run)
    assert booking["status"] == "CANCELLED"
    assert run.evidence.seats_after == 42
    assert run.evidence.charge is not None and run.evidence.charge["status"] == "DECLINED"
    assert run.evidence.notifications[-1]["status"] == "cancelled"
    [message] = run.evidence.dead_letters
    payment_error = message.pop("paymentError")
    assert message == {
        **booking_input(run.prepared.scenario.name),
        "bookingId": booking["id"],
        "notificationId": run.evidence.notifications[-1]["messageId"],
    }
    assert payment_error["Error"] == "PaymentException"
    assert _lambda_cause(payment_error["Cause"]) == (
        "PaymentException",
        "charge ch_payment-declined-1 was declined by the card issuer",
    )


def test_sold_out_flight_goes_straight_to_failure_handling(env: AirlineEnvironment) -> None:
    run = _run(env, "sold-out")
    execution = run.execution
    path = ["Reserve Flight", *FAILURE_TAIL]
    assert execution.states == path
    _assert_failed_without_error(run)
    steps = steps_of(execution.history)
    # The reference's unprefixed ConditionalCheckFailedException retrier never matches
    # (AWS names the error DynamoDB.ConditionalCheckFailedException): one attempt, caught.
    assert attempt_errors(steps)["Reserve Flight"] == ["DynamoDB.ConditionalCheckFailedException"]
    assert retry_delays(steps) == {}

    assert run.evidence.bookings == []
    assert run.evidence.seats_after == 0
    assert run.evidence.charge is not None and run.evidence.charge["status"] == "AUTHORIZED"
    [message] = run.evidence.dead_letters
    flight_error = message.pop("flightError")
    assert message == {
        **booking_input(run.prepared.scenario.name),
        "notificationId": run.evidence.notifications[-1]["messageId"],
    }
    assert flight_error["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "conditional request failed" in flight_error["Cause"].lower()


def test_confirmation_failing_after_payment_refunds_then_cancels(env: AirlineEnvironment) -> None:
    run = _run(env, "confirmation-fails")
    execution = run.execution
    compensations = ["Refund Payment", "Cancel Booking", "Release Flight Seat"]
    path = [*FORWARD, *compensations, *FAILURE_TAIL]
    assert execution.states == path
    _assert_failed_without_error(run)
    steps = steps_of(execution.history)
    assert attempt_errors(steps)["Confirm Booking"] == ["BookingConfirmationException"] * 3
    assert retry_delays(steps) == {"Confirm Booking": [1.0, 2.0]}

    booking = _only_booking(run)
    assert booking["status"] == "CANCELLED"
    assert run.evidence.seats_after == 42
    charge = run.evidence.charge
    assert charge is not None and charge["status"] == "REFUNDED"
    [message] = run.evidence.dead_letters
    booking_error = message.pop("bookingError")
    assert message == {
        **booking_input(run.prepared.scenario.name),
        "bookingId": booking["id"],
        "payment": {
            "receiptUrl": "https://pay.example.com/receipts/ch_confirmation-fails-1",
            "price": 24900,
        },
        "notificationId": run.evidence.notifications[-1]["messageId"],
    }
    assert _lambda_cause(booking_error["Cause"]) == (
        "BookingConfirmationException",
        "Unable to confirm booking: the bookings table is unavailable",
    )


def test_the_command_runs_the_reference_definition() -> None:
    out = io.StringIO()
    code = main(["--definition", str(DEFINITION), "--scenario", "sold-out"], out=out)
    lines = out.getvalue().splitlines()
    assert code == 0
    assert "  +  0.0s  ✗ Reserve Flight" in lines
    assert (
        "               DynamoDB.ConditionalCheckFailedException: The conditional request failed"
        in lines
    )
    assert "  FAILED  (no error name)" in lines
    assert "  (no cause)" in lines
