"""Reserve stock, charge the card, ship — and undo what was done when a step fails."""

from typing import Any

from saga import Retry, Saga


class OutOfStock(Exception):
    pass


class PaymentDeclined(Exception):
    pass


orders = Saga("PlaceOrder", comment="Reserve stock, charge the card, ship")


@orders.step(
    "Reserve Stock", retry=[Retry(OutOfStock, interval=2, backoff_rate=2.0, max_retries=3)]
)
def reserve_stock(order: dict[str, Any]) -> str:
    return f"reservation-{order['id']}"


@reserve_stock.compensate("Release Stock")
def release_stock(order: dict[str, Any]) -> None:
    print("released", order["reserveStock"])


@orders.step("Charge Card", timeout=10, result_path="$.charge")
def charge_card(order: dict[str, Any]) -> dict[str, Any]:
    if order["amount"] > 100:
        raise PaymentDeclined(f"card declined for {order['amount']}")
    return {"charged": order["amount"]}


@charge_card.compensate("Refund Card")
def refund_card(order: dict[str, Any]) -> None:
    print("refunded", order["id"])


@orders.step("Ship Order", result_path="$.shipment")
def ship_order(order: dict[str, Any]) -> str:
    return "shipment-1"
