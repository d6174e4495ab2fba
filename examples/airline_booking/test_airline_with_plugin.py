"""The booking saga under the pytest plugin: its fixtures, fault injection and assertions.

The same scenarios as test_airline_saga.py, written the way a user of the plugin writes them:
``saga_engine`` runs the saga on a deterministic virtual clock, ``faults`` injects failures by
state and attempt, and the assertions print the history as a table when they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from examples.airline_booking.environment import AirlineEnvironment
from examples.airline_booking.expected import CONFIRMED, FAILURE_TAIL
from examples.airline_booking.functions import payments
from examples.airline_booking.functions.exceptions import (
    BookingConfirmationException,
    BookingReservationException,
)
from examples.airline_booking.saga import FAILURE_CAUSE, booking
from saga.testing import (
    assert_compensated,
    assert_failed,
    assert_path,
    assert_retried,
    assert_succeeded,
    faults,
)

FLIGHT = "flight-plugin-1"
CHARGE = "ch_plugin-1"


@pytest.fixture
def world() -> Iterator[AirlineEnvironment]:
    """DynamoDB, SNS and SQS from moto, with one flight of 5 seats and an authorised charge."""
    with AirlineEnvironment() as environment:
        environment.add_flight(FLIGHT, 5)
        environment.add_charge(CHARGE, 24900)
        yield environment


def _run(saga_engine: Any, world: AirlineEnvironment, *fault: Any) -> Any:
    payload = world.execution_input(
        flight_id=FLIGHT,
        customer_id="customer-plugin-1",
        charge_id=CHARGE,
        name="booking-plugin-1",
        created_at="2026-01-15T09:30:00+00:00",
    )
    return saga_engine.run(booking, payload, faults=fault, substitutions=world.substitutions())


def test_happy_path(saga_engine: Any, world: AirlineEnvironment) -> None:
    execution = _run(saga_engine, world)
    assert_succeeded(execution)
    assert_path(execution, CONFIRMED)
    assert world.seat_capacity(FLIGHT) == 4
    assert world.dead_letters() == []


def test_reservation_errors_are_retried_after_one_then_two_seconds(
    saga_engine: Any, world: AirlineEnvironment
) -> None:
    execution = _run(
        saga_engine,
        world,
        faults.raises("Reserve Booking", BookingReservationException("busy"), attempts=[1, 2]),
    )
    assert_succeeded(execution)
    assert_retried(execution, "Reserve Booking", times=2, delays=[1.0, 2.0])
    assert world.seat_capacity(FLIGHT) == 4


def test_a_failing_confirmation_refunds_cancels_and_releases(
    saga_engine: Any, world: AirlineEnvironment
) -> None:
    execution = _run(
        saga_engine,
        world,
        faults.raises("Confirm Booking", BookingConfirmationException("conflict")),
    )
    assert_failed(execution, error="BookingFailed", cause=FAILURE_CAUSE)
    assert_retried(execution, "Confirm Booking", times=2, delays=[1.0, 2.0])
    assert_compensated(execution, ["Refund Payment", "Cancel Booking", "Release Flight Seat"])
    assert_path(
        execution,
        [
            "Reserve Flight",
            "Reserve Booking",
            "Collect Payment",
            "Confirm Booking",
            "Refund Payment",
            "Cancel Booking",
            "Release Flight Seat",
            *FAILURE_TAIL,
        ],
    )
    charge = world.charge(CHARGE)
    assert charge is not None and charge["status"] == payments.REFUNDED
    assert world.seat_capacity(FLIGHT) == 5
    [booking_row] = world.bookings_of("booking-plugin-1")
    assert booking_row["status"] == "CANCELLED"
    [letter] = world.dead_letters()
    assert letter["bookingError"]["Error"] == "BookingConfirmationException"


def test_a_throttled_seat_reservation_fails_fast_to_the_failure_handlers(
    saga_engine: Any, world: AirlineEnvironment
) -> None:
    execution = _run(
        saga_engine,
        world,
        faults.fails(
            "Reserve Flight",
            error="DynamoDB.ConditionalCheckFailedException",
            cause="The conditional request failed",
        ),
    )
    assert_failed(execution, error="BookingFailed")
    assert_path(execution, ["Reserve Flight", *FAILURE_TAIL])
    assert_retried(execution, "Reserve Flight", times=0)
    assert world.seat_capacity(FLIGHT) == 5
