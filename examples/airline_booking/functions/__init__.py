"""The airline sample's Lambda functions in plain Python, keyed by the definition's placeholders.

``HANDLERS`` binds each ``${...}`` Lambda placeholder of ProcessBooking to its handler, so the
same mapping serves ``engine.run(..., handlers=HANDLERS)`` and ``saga execute --handlers``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from examples.airline_booking.functions import cancel, collect, confirm, notify, refund, reserve
from examples.airline_booking.functions.exceptions import (
    BookingCancellationException,
    BookingConfirmationException,
    BookingNotificationException,
    BookingReservationException,
    PaymentException,
    RefundException,
)

__all__ = [
    "HANDLERS",
    "BookingCancellationException",
    "BookingConfirmationException",
    "BookingNotificationException",
    "BookingReservationException",
    "PaymentException",
    "RefundException",
]

HANDLERS: dict[str, Callable[..., Any]] = {
    "ReserveBooking": reserve.lambda_handler,
    "CancelBooking": cancel.lambda_handler,
    "ConfirmBooking": confirm.lambda_handler,
    "NotifyBooking": notify.lambda_handler,
    "CollectPaymentFunction": collect.lambda_handler,
    "RefundPaymentFunction": refund.lambda_handler,
}
"""Handlers by placeholder name: ``${ReserveBooking.Arn}`` binds to ``ReserveBooking``."""
