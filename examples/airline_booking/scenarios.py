"""The five booking scenarios: how each sets up the world and which faults it injects.

Failures come from the world where that is natural — a sold-out flight has ``seatCapacity``
0, a declined card is a charge the payment provider refuses — and from the framework's fault
injection (:mod:`saga.testing.faults`, engine interceptors around the task call) for failures a
function cannot be made to have on demand: a transient reservation error, a confirmation that
keeps failing. An injected exception reaches the state machine as Lambda would report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.bindings import Interceptor
from examples.airline_booking.functions import payments
from examples.airline_booking.functions.exceptions import (
    BookingConfirmationException,
    BookingReservationException,
)
from saga.testing import faults

if TYPE_CHECKING:
    from examples.airline_booking.environment import AirlineEnvironment

__all__ = [
    "DEFAULT_SCENARIOS",
    "SCENARIOS",
    "PreparedRun",
    "Scenario",
]

CREATED_AT = "2026-01-15T09:30:00+00:00"
"""The booking's ``createdAt`` in every scenario (the execution input is otherwise unique)."""


@dataclass(frozen=True)
class PreparedRun:
    """One scenario made ready: its execution name and input, and what it booked against."""

    scenario: Scenario
    execution_name: str
    input: dict[str, Any]
    flight_id: str
    charge_id: str
    customer_id: str
    seats_before: int


@dataclass(frozen=True)
class Scenario:
    """A booking attempt: the world it starts in and the faults it meets on the way."""

    name: str
    title: str
    story: str
    seat_capacity: int = 42
    charge_status: payments.ChargeStatus = payments.AUTHORIZED
    amount: int = 24900
    faults: tuple[Interceptor, ...] = field(default=())

    def prepare(self, env: AirlineEnvironment, run_id: str = "1") -> PreparedRun:
        """Put the flight and the card authorisation in place; build the execution input."""
        suffix = f"{self.name}-{run_id}"
        flight_id = f"flight-{suffix}"
        charge_id = f"ch_{suffix}"
        customer_id = f"customer-{suffix}"
        execution_name = f"booking-{suffix}"
        env.add_flight(
            flight_id,
            self.seat_capacity,
            flightNumber="1812",
            departureAirportCode="LGW",
            arrivalAirportCode="MAD",
        )
        env.add_charge(charge_id, self.amount, status=self.charge_status)
        return PreparedRun(
            scenario=self,
            execution_name=execution_name,
            input=env.execution_input(
                flight_id=flight_id,
                customer_id=customer_id,
                charge_id=charge_id,
                name=execution_name,
                created_at=CREATED_AT,
            ),
            flight_id=flight_id,
            charge_id=charge_id,
            customer_id=customer_id,
            seats_before=self.seat_capacity,
        )


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="happy-path",
            title="Happy path",
            story="A seat is free and the card is good: the booking is confirmed.",
        ),
        Scenario(
            name="transient-reservation-error",
            title="Transient reservation error",
            story=(
                "Writing the booking fails twice with BookingReservationException; "
                "the retrier backs off 1 s, then 2 s, and the third attempt succeeds."
            ),
            faults=(
                faults.raises(
                    "Reserve Booking",
                    BookingReservationException(
                        "Unable to reserve booking: the bookings table is throttling writes"
                    ),
                    invocations=[1, 2],
                ),
            ),
        ),
        Scenario(
            name="payment-declined",
            title="Payment declined",
            story=(
                "The card issuer declines the charge: the booking is cancelled, the seat "
                "released, the customer told, and the request parked in the dead-letter queue."
            ),
            charge_status=payments.DECLINED,
        ),
        Scenario(
            name="sold-out",
            title="Flight sold out",
            story=(
                "No seat is left (seatCapacity 0), so the conditional update of Reserve Flight "
                "fails: nothing to undo, the customer is told and the request dead-lettered."
            ),
            seat_capacity=0,
        ),
        Scenario(
            name="confirmation-fails",
            title="Confirmation fails after payment",
            story=(
                "Confirming the booking keeps failing after the card was charged: the payment "
                "is refunded, the booking cancelled and the seat released."
            ),
            faults=(
                faults.raises(
                    "Confirm Booking",
                    BookingConfirmationException(
                        "Unable to confirm booking: the bookings table is unavailable"
                    ),
                ),
            ),
        ),
    )
}
"""Every scenario by name, in the order they are shown."""

DEFAULT_SCENARIOS = ("happy-path", "payment-declined")
"""What ``python -m examples.airline_booking`` runs without ``--scenario``."""
