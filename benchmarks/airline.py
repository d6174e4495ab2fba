"""The airline booking saga with no-op handlers: what is measured is the engine, not AWS.

Every Task is bound through ``handlers``: the Lambda placeholders to Python callables returning
fixed values (or raising the sample's exceptions), and the DynamoDB/SQS integration resources
to no-op callables keyed by the resource ARN, which the engine looks up before its built-in
integrations, so no AWS call is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from engine.bindings import Handler
from engine.model import StateMachine
from examples.airline_booking.expected import CONFIRMED, FAILURE_TAIL, FORWARD
from examples.airline_booking.functions.exceptions import (
    BookingCancellationException,
    BookingReservationException,
    PaymentException,
)
from examples.airline_booking.saga import FAILURE_ERROR, booking

__all__ = ["AirlineCase", "airline_case"]

_UPDATE_ITEM: Final = "arn:aws:states:::dynamodb:updateItem"
_SEND_MESSAGE: Final = "arn:aws:states:::sqs:sendMessage"

HAPPY_PATH: Final = CONFIRMED
DECLINED_PATH: Final = [*FORWARD[:3], "Cancel Booking", "Release Flight Seat", *FAILURE_TAIL]


@dataclass(frozen=True)
class AirlineCase:
    """One path through the saga: the machine, its handlers, inputs and the expected ending."""

    machine: StateMachine
    handlers: dict[str, Handler]
    status: str
    error: str | None
    states: list[str]

    def input(self, name: str) -> dict[str, Any]:
        """The execution input of booking ``name`` (unique per execution)."""
        return {
            "outboundFlightId": "flight-1812",
            "customerId": "customer-1",
            "chargeId": "ch_1",
            "bookingTable": "Airline-Bookings",
            "flightTable": "Airline-Flights",
            "name": name,
            "createdAt": "2026-01-15T09:30:00+00:00",
        }


class _FailsFirstTry:
    """Raises ``exception`` on the first call for each booking, then returns ``value``.

    Each booking's first try fails, so its retrier backs off (in virtual time) and retries.
    """

    def __init__(self, exception: type[Exception], value: Any) -> None:
        self.exception = exception
        self.value = value
        self.seen: set[str] = set()

    def __call__(self, event: dict[str, Any]) -> Any:
        name = str(event["name"])
        if name not in self.seen:
            self.seen.add(name)
            raise self.exception()
        return self.value


def _returns(value: Any) -> Callable[[Any], Any]:
    def handler(event: Any) -> Any:
        return value

    return handler


def _declined(event: Any) -> Any:
    raise PaymentException("Your card was declined")


def _handlers(declined: bool) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {
        _UPDATE_ITEM: _returns({}),
        _SEND_MESSAGE: _returns({"MD5OfMessageBody": "0" * 32, "MessageId": "message-1"}),
        "ReserveBooking.Arn": _returns("booking-1"),
        "CollectPaymentFunction": _returns({"receiptUrl": "https://pay/r/1", "price": 24900}),
        "ConfirmBooking.Arn": _returns("reference-1"),
        "NotifyBooking.Arn": _returns("notification-1"),
        "RefundPaymentFunction": _returns({"refundId": "refund-1"}),
        "CancelBooking.Arn": _returns(True),
    }
    if declined:
        handlers["ReserveBooking.Arn"] = _FailsFirstTry(BookingReservationException, "booking-1")
        handlers["CollectPaymentFunction"] = _declined
        handlers["CancelBooking.Arn"] = _FailsFirstTry(BookingCancellationException, True)
    return handlers


def airline_case(declined: bool) -> AirlineCase:
    """The happy path, or the payment-declined path with a retry of Reserve and Cancel Booking."""
    machine = booking.to_state_machine()
    if declined:
        return AirlineCase(machine, _handlers(True), "FAILED", FAILURE_ERROR, DECLINED_PATH)
    return AirlineCase(machine, _handlers(False), "SUCCEEDED", None, HAPPY_PATH)
