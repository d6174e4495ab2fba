"""Reserve Booking: write an UNCONFIRMED booking row; returns the booking id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from examples.airline_booking.functions import _aws
from examples.airline_booking.functions.exceptions import BookingReservationException

__all__ = ["lambda_handler", "reserve_booking"]

_REQUIRED = ("outboundFlightId", "customerId", "chargeId")


def reserve_booking(event: dict[str, Any]) -> str:
    """Put the booking row and return its id; a DynamoDB failure is retryable."""
    booking_id = str(uuid.uuid4())
    item = {
        "id": booking_id,
        "stateExecutionId": event.get("name"),
        "__typename": "Booking",
        "bookingOutboundFlightId": event["outboundFlightId"],
        "checkedIn": False,
        "customer": event["customerId"],
        "paymentToken": event["chargeId"],
        "status": "UNCONFIRMED",
        "createdAt": event.get("createdAt") or datetime.now(UTC).isoformat(),
    }
    try:
        _aws.table(_aws.booking_table_name()).put_item(Item=item)
    except ClientError as err:
        raise BookingReservationException(details=str(err)) from err
    return booking_id


def lambda_handler(event: Any, context: object = None) -> str:
    """Validate the booking request, then reserve it."""
    if not isinstance(event, dict) or not all(event.get(key) for key in _REQUIRED):
        raise ValueError("Invalid booking request")
    return reserve_booking(event)
