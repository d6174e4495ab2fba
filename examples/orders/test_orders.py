"""The README's example tests for the order saga, using the pytest plugin's fixtures."""

import json
from typing import Any

from examples.orders.orders import OutOfStock, orders, reserve_stock
from saga.testing import (
    assert_compensated,
    assert_failed,
    assert_path,
    assert_retried,
    assert_succeeded,
    faults,
)


def test_order_goes_through(saga_engine: Any) -> None:
    execution = saga_engine.run(orders, {"id": 1, "amount": 20})
    assert_succeeded(execution)
    assert_path(execution, ["Reserve Stock", "Charge Card", "Ship Order"])


def test_out_of_stock_is_retried_with_backoff(saga_engine: Any) -> None:
    execution = saga_engine.run(
        orders,
        {"id": 1, "amount": 20},
        faults=[faults.raises("Reserve Stock", OutOfStock("none left"), attempts=[1, 2])],
    )
    assert_succeeded(execution)
    assert_retried(execution, "Reserve Stock", times=2, delays=[2.0, 4.0])


def test_a_declined_card_releases_the_stock(saga_engine: Any) -> None:
    execution = saga_engine.run(orders, {"id": 7, "amount": 250})
    assert_path(execution, ["Reserve Stock", "Charge Card", "Release Stock", "Saga Failed"])
    assert_failed(execution, error="SagaFailed")
    assert json.loads(execution.cause)["Error"] == "PaymentDeclined"


def test_a_failed_shipment_is_rolled_back(saga_engine: Any) -> None:
    execution = saga_engine.run(
        orders,
        {"id": 1, "amount": 20},
        faults=[faults.fails("Ship Order", error="Carrier.Unavailable", cause="no pickup slot")],
    )
    assert_failed(execution, error="SagaFailed")
    assert_compensated(execution, ["Refund Card", "Release Stock"], saga=orders)


def test_a_hanging_payment_times_out_in_virtual_time(saga_engine: Any) -> None:
    execution = saga_engine.run(
        orders, {"id": 1, "amount": 20}, faults=[faults.hangs("Charge Card")]
    )
    assert_path(execution, ["Reserve Stock", "Charge Card", "Release Stock", "Saga Failed"])
    assert_compensated(execution, [reserve_stock])  # a step stands for its compensation
