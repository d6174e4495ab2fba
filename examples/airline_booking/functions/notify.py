"""Notify Booking: publish the booking's outcome to the booking topic; returns the MessageId."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from examples.airline_booking.functions import _aws
from examples.airline_booking.functions.exceptions import BookingNotificationException

__all__ = ["lambda_handler", "notify_booking"]


def notify_booking(customer_id: str | None, price: Any, booking_reference: str | None) -> str:
    """Publish a confirmation (a reference is known) or a cancellation notice to SNS."""
    status = "confirmed" if booking_reference else "cancelled"
    subject = (
        f"Booking confirmation for {booking_reference}"
        if booking_reference
        else "Booking could not be completed"
    )
    message = {"customerId": customer_id, "price": price, "bookingReference": booking_reference}
    try:
        response = _aws.client("sns").publish(
            TopicArn=_aws.booking_topic_arn(),
            Message=json.dumps(message),
            Subject=subject,
            MessageAttributes={"Booking.Status": {"DataType": "String", "StringValue": status}},
        )
    except ClientError as err:
        raise BookingNotificationException(details=str(err)) from err
    return str(response["MessageId"])


def lambda_handler(event: Any, context: object = None) -> str:
    """Notify the customer; needs at least ``customerId`` or ``payment.price``."""
    if not isinstance(event, dict):
        raise ValueError("Invalid customer and price")
    customer_id = event.get("customerId")
    payment = event.get("payment")
    price = payment.get("price") if isinstance(payment, dict) else None
    if not customer_id and price is None:
        raise ValueError("Invalid customer and price")
    return notify_booking(customer_id, price, event.get("bookingReference"))
