"""Cancel Booking (compensation): mark the booking CANCELLED."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from examples.airline_booking.functions import _aws
from examples.airline_booking.functions.exceptions import BookingCancellationException

__all__ = ["cancel_booking", "lambda_handler"]


def cancel_booking(booking_id: str) -> bool:
    """Set ``status`` to CANCELLED on an existing booking (conditional on its id)."""
    try:
        _aws.table(_aws.booking_table_name()).update_item(
            Key={"id": booking_id},
            ConditionExpression="id = :idVal",
            UpdateExpression="SET #STATUS = :cancelled",
            ExpressionAttributeNames={"#STATUS": "status"},
            ExpressionAttributeValues={":idVal": booking_id, ":cancelled": "CANCELLED"},
        )
    except ClientError as err:
        raise BookingCancellationException(details=str(err)) from err
    return True


def lambda_handler(event: Any, context: object = None) -> bool:
    """Cancel the booking named by ``bookingId``.

    Without one (Reserve Booking itself failed) this is a ``ValueError``, which the state
    machine does not retry: its Catch moves the unwind on to Release Flight Seat.
    """
    booking_id = event.get("bookingId") if isinstance(event, dict) else None
    if not booking_id:
        raise ValueError("Invalid booking ID")
    return cancel_booking(booking_id)
