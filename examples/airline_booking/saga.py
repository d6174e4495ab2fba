"""ProcessBooking, the airline sample's booking saga, declared with ``saga``.

Forward: Reserve Flight (a conditional DynamoDB decrement) → Reserve Booking → Collect Payment →
Confirm Booking → Notify Booking Confirmed → Booking Confirmed. A failure unwinds through the
compensations of what was done — Refund Payment, Cancel Booking, Release Flight Seat — then
tells the customer (Notify Booking Failed), parks the request in the dead-letter queue (Booking
DLQ) and fails (Booking Failed). Resources, retriers, catchers, timeouts and result paths are
the sample's, with its three bugs fixed (see README.md, "Differences from the sample").

Export it with ``saga export examples.airline_booking.saga:booking``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from engine.loader import load
from engine.model import StateMachine
from examples.airline_booking.functions import cancel, collect, confirm, notify, refund, reserve
from examples.airline_booking.functions.exceptions import (
    BookingCancellationException,
    BookingConfirmationException,
    BookingNotificationException,
    BookingReservationException,
)
from saga.integrations import DYNAMODB_THROTTLING_ERRORS, dynamodb, sqs
from saga.policies import ErrorSpec, Retry
from saga.saga import Saga
from saga.templates import JsonPath

__all__ = ["FAILURE_CAUSE", "FAILURE_ERROR", "booking", "build_machine"]

FAILURE_ERROR: Final = "BookingFailed"
FAILURE_CAUSE: Final = (
    "The booking could not be completed: what was done has been undone, the customer notified "
    "and the request sent to the bookings dead-letter queue"
)

_THROTTLING = Retry(*DYNAMODB_THROTTLING_ERRORS, interval=1, backoff_rate=2, max_retries=2)
_FLIGHT_KEY = {"id": {"S": JsonPath("$.outboundFlightId")}}


def _retry(error: ErrorSpec) -> list[Retry]:
    """The sample's retrier for a function's own exception: 1 s, then 2 s; two retries."""
    return [Retry(error, interval=1, backoff_rate=2, max_retries=2)]


booking = Saga(
    "ProcessBooking",
    success_state="Booking Confirmed",
    failure_state="Booking Failed",
    failure_error=FAILURE_ERROR,
    failure_cause=FAILURE_CAUSE,
)
"""The ProcessBooking saga."""

reserve_flight = booking.step(
    "Reserve Flight",
    dynamodb.update_item(
        table_name=JsonPath("$.flightTable"),
        key=_FLIGHT_KEY,
        update_expression="SET seatCapacity = seatCapacity - :dec",
        expression_attribute_values={":dec": {"N": "1"}, ":noSeat": {"N": "0"}},
        condition_expression="seatCapacity > :noSeat",
    ),
    timeout=5,
    retry=[
        _THROTTLING,
        # Sold out: never retried (the sample spells it without the prefix, so it never matched).
        Retry("DynamoDB.ConditionalCheckFailedException", interval=0, max_retries=0),
    ],
    result_path=None,
    error_path="$.flightError",
)
reserve_flight.compensate(
    "Release Flight Seat",
    dynamodb.update_item(
        table_name=JsonPath("$.flightTable"),
        key=_FLIGHT_KEY,
        update_expression="SET seatCapacity = seatCapacity +:inc",
        expression_attribute_values={":inc": {"N": "1"}},
    ),
    timeout=5,
    retry=[_THROTTLING],
    error_path="$.flightError",
)

reserve_booking = booking.step(
    "Reserve Booking",
    reserve.lambda_handler,
    resource="${ReserveBooking.Arn}",
    timeout=5,
    retry=_retry(BookingReservationException),
    result_path="$.bookingId",
    error_path="$.bookingError",
    # The booking row may have been written before the error was seen: cancel it too.
    compensate_self=True,
)
reserve_booking.compensate(
    "Cancel Booking",
    cancel.lambda_handler,
    resource="${CancelBooking.Arn}",
    retry=_retry(BookingCancellationException),
    error_path="$.bookingError",
)

collect_payment = booking.step(
    "Collect Payment",
    collect.lambda_handler,
    resource="${CollectPaymentFunction}",
    result_path="$.payment",
    error_path="$.paymentError",
)
collect_payment.compensate(
    "Refund Payment",
    refund.lambda_handler,
    resource="${RefundPaymentFunction}",
    error_path="$.paymentError",
)

confirm_booking = booking.step(
    "Confirm Booking",
    confirm.lambda_handler,
    resource="${ConfirmBooking.Arn}",
    retry=_retry(BookingConfirmationException),
    result_path="$.bookingReference",
    error_path="$.bookingError",
)

notify_booking = booking.step(
    "Notify Booking Confirmed",
    notify.lambda_handler,
    resource="${NotifyBooking.Arn}",
    retry=_retry(BookingNotificationException),
    result_path="$.notificationId",
    # As in the sample: once confirmed there is nothing to undo; a failure fails the execution.
    compensate_on=[],
)

booking.on_failure(
    "Notify Booking Failed",
    notify_booking,
    retry=_retry(BookingNotificationException),
    result_path="$.notificationId",
    error_path="$.notificationError",
)
booking.on_failure(
    "Booking DLQ",
    sqs.send_message(queue_url="${BookingsDLQ}", message_body=JsonPath("$")),
    result_path="$.deadLetterQueue",
    continue_on_error=False,
)


def build_machine(substitutions: Mapping[str, str]) -> StateMachine:
    """The compiled saga with deployment values filled in (e.g. ``BookingsDLQ`` → a queue URL).

    The Lambda placeholders are best left as they are: :meth:`Saga.handlers` binds them.
    """
    return load(booking.to_state_machine().to_dict(), substitutions)
