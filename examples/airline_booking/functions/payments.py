"""A small payment provider standing in for Stripe: charges kept in a DynamoDB table.

A charge is created pre-authorised (``AUTHORIZED``, like the sample's Stripe pre-auth token)
or ``DECLINED``; capturing moves it to ``CAPTURED``, refunding to ``REFUNDED``. Each move is a
conditional update, so a declined, unknown or already-moved charge is refused.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from botocore.exceptions import ClientError

from examples.airline_booking.functions import _aws

__all__ = [
    "AUTHORIZED",
    "CAPTURED",
    "DECLINED",
    "REFUNDED",
    "ChargeStatus",
    "ProviderError",
    "authorize",
    "capture",
    "get_charge",
    "refund",
]

ChargeStatus = Literal["AUTHORIZED", "DECLINED", "CAPTURED", "REFUNDED"]
AUTHORIZED: ChargeStatus = "AUTHORIZED"
DECLINED: ChargeStatus = "DECLINED"
CAPTURED: ChargeStatus = "CAPTURED"
REFUNDED: ChargeStatus = "REFUNDED"


class ProviderError(Exception):
    """The provider refused an operation; ``charge`` is the charge as it stands (if any)."""

    def __init__(self, message: str, charge: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.charge = charge


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB numbers come back as Decimal; give plain ints (amounts are in minor units)."""
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in item.items()}


def authorize(
    charge_id: str, amount: int, *, currency: str = "EUR", status: ChargeStatus = AUTHORIZED
) -> dict[str, Any]:
    """Record a charge as the customer's card authorisation left it (the booking's chargeId)."""
    item: dict[str, Any] = {
        "id": charge_id,
        "amount": amount,
        "currency": currency,
        "status": status,
        "receiptUrl": f"https://pay.example.com/receipts/{charge_id}",
        "createdAt": _now(),
    }
    _aws.table(_aws.payment_table_name()).put_item(Item=item)
    return item


def get_charge(charge_id: str) -> dict[str, Any] | None:
    """The charge row, or None when the provider has never seen this charge id."""
    response = _aws.table(_aws.payment_table_name()).get_item(
        Key={"id": charge_id}, ConsistentRead=True
    )
    item = response.get("Item")
    return _plain(item) if item else None


def _move(
    charge_id: str, from_status: ChargeStatus, to_status: ChargeStatus, extra: dict[str, Any]
) -> dict[str, Any]:
    sets = ", ".join(f"#{key} = :{key}" for key in ("status", *extra))
    values = {f":{key}": value for key, value in {"status": to_status, **extra}.items()}
    try:
        response = _aws.table(_aws.payment_table_name()).update_item(
            Key={"id": charge_id},
            ConditionExpression="#status = :expected",
            UpdateExpression=f"SET {sets}",
            ExpressionAttributeNames={f"#{key}": key for key in ("status", *extra)},
            ExpressionAttributeValues={**values, ":expected": from_status},
            ReturnValues="ALL_NEW",
        )
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code != "ConditionalCheckFailedException":
            raise ProviderError(f"payment provider unavailable: {err}") from err
        charge = get_charge(charge_id)
        raise ProviderError(_refusal(charge_id, charge, to_status), charge) from err
    return _plain(response["Attributes"])


def _refusal(charge_id: str, charge: dict[str, Any] | None, wanted: ChargeStatus) -> str:
    if charge is None:
        return f"charge {charge_id} is unknown to the payment provider"
    if charge["status"] == DECLINED:
        return f"charge {charge_id} was declined by the card issuer"
    action = "captured" if wanted == CAPTURED else "refunded"
    return f"charge {charge_id} cannot be {action}: it is {charge['status']}"


def capture(charge_id: str) -> dict[str, Any]:
    """Capture an authorised charge; returns the charge after the move."""
    return _move(charge_id, AUTHORIZED, CAPTURED, {"capturedAt": _now()})


def refund(charge_id: str) -> dict[str, Any]:
    """Refund a captured charge; returns the charge after the move, with its ``refundId``."""
    extra = {"refundId": f"re_{secrets.token_hex(8)}", "refundedAt": _now()}
    return _move(charge_id, CAPTURED, REFUNDED, extra)
