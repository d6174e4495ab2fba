"""Refund Payment (compensation): refund the captured charge; returns ``{"refundId"}``."""

from __future__ import annotations

from typing import Any

from examples.airline_booking.functions import payments
from examples.airline_booking.functions.exceptions import RefundException

__all__ = ["lambda_handler", "refund_payment"]


def refund_payment(charge_id: str) -> dict[str, str]:
    """Refund the charge with the provider; anything but a captured charge is a RefundException."""
    try:
        refunded = payments.refund(charge_id)
    except payments.ProviderError as err:
        raise RefundException(str(err), details=err.charge) from err
    return {"refundId": refunded["refundId"]}


def lambda_handler(event: Any, context: object = None) -> dict[str, str]:
    """Refund the payment for ``chargeId``."""
    charge_id = event.get("chargeId") if isinstance(event, dict) else None
    if not charge_id:
        raise ValueError("Invalid Charge ID")
    return refund_payment(charge_id)
