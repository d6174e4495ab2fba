"""The sample's named exceptions; Step Functions matches them by class name in Retry and Catch."""

from __future__ import annotations

__all__ = [
    "AirlineFunctionError",
    "BookingCancellationException",
    "BookingConfirmationException",
    "BookingNotificationException",
    "BookingReservationException",
    "PaymentException",
    "RefundException",
]


class AirlineFunctionError(Exception):
    """A function failure with a human message and the underlying details, as the sample raises."""

    default_message = "Airline function failed"

    def __init__(self, message: str | None = None, details: object = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class BookingReservationException(AirlineFunctionError):
    """The booking row could not be written; the state machine retries it."""

    default_message = "Unable to reserve booking"


class BookingConfirmationException(AirlineFunctionError):
    """The booking could not be marked CONFIRMED."""

    default_message = "Unable to confirm booking"


class BookingCancellationException(AirlineFunctionError):
    """The booking could not be marked CANCELLED."""

    default_message = "Unable to cancel booking"


class BookingNotificationException(AirlineFunctionError):
    """The booking notification could not be published."""

    default_message = "Unable to notify booking"


class PaymentException(AirlineFunctionError):
    """The payment provider did not capture the charge."""

    default_message = "Unable to collect payment"


class RefundException(AirlineFunctionError):
    """The payment provider did not refund the charge."""

    default_message = "Unable to refund payment"
