"""Confirm Booking: mark the booking CONFIRMED with a fresh reference; returns the reference."""

from __future__ import annotations

import secrets
from typing import Any

from botocore.exceptions import ClientError

from examples.airline_booking.functions import _aws
from examples.airline_booking.functions.exceptions import BookingConfirmationException

__all__ = ["confirm_booking", "lambda_handler"]


def confirm_booking(booking_id: str) -> str:
    """Set ``status`` and ``bookingReference`` on an existing booking (conditional on its id)."""
    reference = secrets.token_urlsafe(4)
    try:
        _aws.table(_aws.booking_table_name()).update_item(
            Key={"id": booking_id},
            ConditionExpression="id = :idVal",
            UpdateExpression="SET bookingReference = :br, #STATUS = :confirmed",
            ExpressionAttributeNames={"#STATUS": "status"},
            ExpressionAttributeValues={
                ":br": reference,
                ":idVal": booking_id,
                ":confirmed": "CONFIRMED",
            },
        )
    except ClientError as err:
        raise BookingConfirmationException(details=str(err)) from err
    return reference


def lambda_handler(event: Any, context: object = None) -> str:
    """Confirm the booking named by ``bookingId``."""
    booking_id = event.get("bookingId") if isinstance(event, dict) else None
    if not booking_id:
        raise ValueError("Invalid booking ID")
    return confirm_booking(booking_id)
