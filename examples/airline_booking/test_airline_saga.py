"""The ProcessBooking saga run locally in the five scenarios, and the command that shows them.

Each scenario asserts the exact state path, the retries with their virtual-time backoffs, the
rows left in the tables and the dead-letter message.
"""

from __future__ import annotations

import io
import json
import re
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
from examples.airline_booking.runner import ScenarioRun, run_scenario
from examples.airline_booking.saga import FAILURE_CAUSE, booking, build_machine
from examples.airline_booking.scenarios import SCENARIOS
from examples.airline_booking.style import Style
from examples.airline_booking.trace import retry_delays, steps_of

STATE_LINE = re.compile(r"^  \+ *\d+\.\ds  \S (.+?)(?: {2,}.*)?$")


def _run(env: AirlineEnvironment, scenario: str) -> ScenarioRun:
    machine = build_machine(env.substitutions())
    return run_scenario(
        SCENARIOS[scenario], env, machine, handlers=booking.handlers(), clock="virtual", seed=3
    )


def _payment(scenario: str) -> dict[str, Any]:
    return {"receiptUrl": f"https://pay.example.com/receipts/ch_{scenario}-1", "price": 24900}


def _lambda_error(error: dict[str, Any]) -> tuple[str, str, str]:
    cause = json.loads(error["Cause"])
    return error["Error"], cause["errorType"], cause["errorMessage"]


def _assert_booking_failed(run: ScenarioRun) -> None:
    execution = run.execution
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "BookingFailed",
        FAILURE_CAUSE,
    )


def _booking_row(run: ScenarioRun, status: str) -> dict[str, Any]:
    [row] = run.evidence.bookings
    assert row["status"] == status
    assert (row["bookingOutboundFlightId"], row["paymentToken"]) == (
        run.prepared.flight_id,
        run.prepared.charge_id,
    )
    return row


def test_happy_path_confirms_the_booking(env: AirlineEnvironment) -> None:
    run = _run(env, "happy-path")
    execution = run.execution
    assert (execution.status, execution.states) == ("SUCCEEDED", CONFIRMED)
    steps = steps_of(execution.history)
    assert retry_delays(steps) == {}
    assert attempt_errors(steps) == {
        "Reserve Flight": [None],
        "Reserve Booking": [None],
        "Collect Payment": [None],
        "Confirm Booking": [None],
        "Notify Booking Confirmed": [None],
        "Booking Confirmed": [],
    }
    row = _booking_row(run, "CONFIRMED")
    [notification] = run.evidence.notifications
    assert execution.output == {
        **booking_input("happy-path"),
        "bookingId": row["id"],
        "payment": _payment("happy-path"),
        "bookingReference": row["bookingReference"],
        "notificationId": notification["messageId"],
    }
    assert run.evidence.seats_after == 41
    charge = run.evidence.charge
    assert charge is not None and (charge["status"], charge["amount"]) == ("CAPTURED", 24900)
    assert (notification["status"], notification["subject"]) == (
        "confirmed",
        f"Booking confirmation for {row['bookingReference']}",
    )
    assert run.evidence.dead_letters == []


def test_transient_reservation_error_retries_after_one_then_two_seconds(
    env: AirlineEnvironment,
) -> None:
    run = _run(env, "transient-reservation-error")
    execution = run.execution
    assert (execution.status, execution.states) == ("SUCCEEDED", CONFIRMED)
    steps = steps_of(execution.history)
    assert attempt_errors(steps)["Reserve Booking"] == [
        "BookingReservationException",
        "BookingReservationException",
        None,
    ]
    assert retry_delays(steps) == {"Reserve Booking": [1.0, 2.0]}
    row = _booking_row(run, "CONFIRMED")
    assert execution.output["bookingId"] == row["id"]
    assert run.evidence.seats_after == 41
    assert run.evidence.dead_letters == []


def test_payment_declined_cancels_releases_notifies_and_dead_letters(
    env: AirlineEnvironment,
) -> None:
    run = _run(env, "payment-declined")
    execution = run.execution
    assert execution.states == [
        "Reserve Flight",
        "Reserve Booking",
        "Collect Payment",
        "Cancel Booking",
        "Release Flight Seat",
        *FAILURE_TAIL,
    ]
    _assert_booking_failed(run)
    steps = steps_of(execution.history)
    assert retry_delays(steps) == {}
    assert attempt_errors(steps)["Collect Payment"] == ["PaymentException"]

    row = _booking_row(run, "CANCELLED")
    assert run.evidence.seats_after == 42
    charge = run.evidence.charge
    assert charge is not None and charge["status"] == "DECLINED"
    [notification] = run.evidence.notifications
    assert (notification["status"], notification["subject"]) == (
        "cancelled",
        "Booking could not be completed",
    )
    [message] = run.evidence.dead_letters
    error = message.pop("paymentError")
    assert message == {
        **booking_input("payment-declined"),
        "bookingId": row["id"],
        "notificationId": notification["messageId"],
    }
    assert _lambda_error(error) == (
        "PaymentException",
        "PaymentException",
        "charge ch_payment-declined-1 was declined by the card issuer",
    )


def test_sold_out_flight_is_not_retried_and_leaves_nothing_to_undo(
    env: AirlineEnvironment,
) -> None:
    run = _run(env, "sold-out")
    execution = run.execution
    assert execution.states == ["Reserve Flight", *FAILURE_TAIL]
    _assert_booking_failed(run)
    steps = steps_of(execution.history)
    # The fixed retrier names DynamoDB.ConditionalCheckFailedException with MaxAttempts 0.
    assert attempt_errors(steps)["Reserve Flight"] == ["DynamoDB.ConditionalCheckFailedException"]
    assert retry_delays(steps) == {}

    assert run.evidence.bookings == []
    assert run.evidence.seats_after == 0
    charge = run.evidence.charge
    assert charge is not None and charge["status"] == "AUTHORIZED"
    [notification] = run.evidence.notifications
    [message] = run.evidence.dead_letters
    error = message.pop("flightError")
    assert message == {**booking_input("sold-out"), "notificationId": notification["messageId"]}
    assert error["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert error["Cause"].startswith("The conditional request failed")


def test_confirmation_failing_after_payment_refunds_cancels_and_releases(
    env: AirlineEnvironment,
) -> None:
    run = _run(env, "confirmation-fails")
    execution = run.execution
    assert execution.states == [
        *FORWARD,
        "Refund Payment",
        "Cancel Booking",
        "Release Flight Seat",
        *FAILURE_TAIL,
    ]
    _assert_booking_failed(run)
    steps = steps_of(execution.history)
    assert attempt_errors(steps)["Confirm Booking"] == ["BookingConfirmationException"] * 3
    assert retry_delays(steps) == {"Confirm Booking": [1.0, 2.0]}

    row = _booking_row(run, "CANCELLED")
    assert "bookingReference" not in row
    assert run.evidence.seats_after == 42
    charge = run.evidence.charge
    assert charge is not None and charge["status"] == "REFUNDED"
    assert charge["refundId"].startswith("re_")
    [notification] = run.evidence.notifications
    assert notification["status"] == "cancelled"
    [message] = run.evidence.dead_letters
    error = message.pop("bookingError")
    assert message == {
        **booking_input("confirmation-fails"),
        "bookingId": row["id"],
        "payment": _payment("confirmation-fails"),
        "notificationId": notification["messageId"],
    }
    assert _lambda_error(error) == (
        "BookingConfirmationException",
        "BookingConfirmationException",
        "Unable to confirm booking: the bookings table is unavailable",
    )


def test_the_command_prints_path_result_and_evidence_in_plain_text() -> None:
    out = io.StringIO()
    assert main(["--scenario", "payment-declined"], out=out) == 0
    text = out.getvalue()
    assert "\x1b[" not in text
    lines = text.splitlines()
    path = lines[lines.index("Path") + 1 : lines.index("Result") - 1]
    visited = [m.group(1) for line in path if (m := STATE_LINE.match(line))]
    assert visited == [
        "Reserve Flight",
        "Reserve Booking",
        "Collect Payment",
        "Cancel Booking",
        "Release Flight Seat",
        *FAILURE_TAIL,
    ]
    assert (
        "               PaymentException: charge ch_payment-declined-1 was declined by the "
        "card issuer" in lines
    )
    assert "               ↳ caught → Cancel Booking (error kept at $.paymentError)" in lines
    assert any(line.startswith("  +  ") and "↺ Cancel Booking" in line for line in lines)
    assert "  FAILED  BookingFailed" in lines
    evidence = lines[lines.index("Evidence") + 1 :]
    assert evidence[:4] == [
        "  ✓ flight flight-payment-declined-1: seatCapacity 42 → 42 (seat capacity restored)",
        evidence[1],
        "  ✓ charge ch_payment-declined-1: DECLINED by the card issuer, nothing to refund",
        '  ✓ customer notified: "Booking could not be completed" (Booking.Status cancelled)',
    ]
    assert evidence[1].startswith("  ✓ booking ") and evidence[1].endswith(": CANCELLED")
    assert evidence[4] == (
        "  ✓ dead-letter queue: 1 message for booking-payment-declined-1 — paymentError "
        "PaymentException (charge ch_payment-declined-1 was declined by the card issuer)"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_colours_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coloured = _Terminal()
    assert main(["--scenario", "sold-out"], out=coloured) == 0
    assert "\x1b[31m✗\x1b[0m" in coloured.getvalue()
    assert Style.for_stream(_Terminal()).enabled
    assert not Style.for_stream(io.StringIO()).enabled
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style.for_stream(_Terminal()).enabled
