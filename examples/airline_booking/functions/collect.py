"""Collect Payment: capture the pre-authorised charge; returns ``{"receiptUrl", "price"}``.

The real sample posts the charge id to a Stripe capture API; here the payment provider is a
DynamoDB table of charges (see :mod:`~examples.airline_booking.functions.payments`).
"""

from __future__ import annotations

from typing import Any

from examples.airline_booking.functions import payments
from examples.airline_booking.functions.exceptions import PaymentException

__all__ = ["collect_payment", "lambda_handler"]


def collect_payment(charge_id: str) -> dict[str, Any]:
    """Capture the charge with the provider; a declined or unknown charge is a PaymentException."""
    try:
        captured = payments.capture(charge_id)
    except payments.ProviderError as err:
        raise PaymentException(str(err), details=err.charge) from err
    return {"receiptUrl": captured["receiptUrl"], "price": captured["amount"]}


def lambda_handler(event: Any, context: object = None) -> dict[str, Any]:
    """Collect the payment for ``chargeId``."""
    charge_id = event.get("chargeId") if isinstance(event, dict) else None
    if not charge_id:
        raise ValueError("Invalid Charge ID")
    return collect_payment(charge_id)
