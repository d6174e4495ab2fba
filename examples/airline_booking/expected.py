"""What the airline tests expect of every ProcessBooking run: state paths, inputs, retries.

Shared by the saga's tests and the reference definition's, which must behave alike.
"""

from __future__ import annotations

from typing import Any

from examples.airline_booking.scenarios import CREATED_AT
from examples.airline_booking.trace import Step

__all__ = [
    "ALL_STATES",
    "COMPENSATIONS",
    "CONFIRMED",
    "FAILURE_TAIL",
    "FORWARD",
    "attempt_errors",
    "booking_input",
]

FORWARD = ["Reserve Flight", "Reserve Booking", "Collect Payment", "Confirm Booking"]
CONFIRMED = [*FORWARD, "Notify Booking Confirmed", "Booking Confirmed"]
FAILURE_TAIL = ["Notify Booking Failed", "Booking DLQ", "Booking Failed"]
COMPENSATIONS = ["Refund Payment", "Cancel Booking", "Release Flight Seat"]
ALL_STATES = [*CONFIRMED, *COMPENSATIONS, *FAILURE_TAIL]
"""Every top-level state of ProcessBooking, in the order of its definition."""


def attempt_errors(steps: list[Step]) -> dict[str, list[str | None]]:
    """Each step's attempts as their error names (``None`` for the one that succeeded)."""
    return {step.name: [attempt.error for attempt in step.attempts] for step in steps}


def booking_input(scenario: str) -> dict[str, Any]:
    """The execution input the runner gives the first booking of ``scenario``."""
    suffix = f"{scenario}-1"
    return {
        "outboundFlightId": f"flight-{suffix}",
        "customerId": f"customer-{suffix}",
        "chargeId": f"ch_{suffix}",
        "bookingTable": "Airline-Bookings",
        "flightTable": "Airline-Flights",
        "name": f"booking-{suffix}",
        "createdAt": CREATED_AT,
    }
