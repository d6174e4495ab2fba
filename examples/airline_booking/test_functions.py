"""The sample's functions against moto: their results, rows, messages and named exceptions."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from engine.history import HistoryEvent
from examples.airline_booking.environment import AirlineEnvironment
from examples.airline_booking.functions import (
    HANDLERS,
    BookingCancellationException,
    BookingConfirmationException,
    PaymentException,
    RefundException,
    _aws,
)
from examples.airline_booking.scenarios import SCENARIOS
from examples.airline_booking.trace import error_message, retry_delays, steps_of

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _request(env: AirlineEnvironment, suffix: str, **extra: Any) -> dict[str, Any]:
    env.add_flight(f"flight-{suffix}", 5)
    env.add_charge(f"ch_{suffix}", 12345)
    event = env.execution_input(
        flight_id=f"flight-{suffix}",
        customer_id=f"customer-{suffix}",
        charge_id=f"ch_{suffix}",
        name=f"execution-{suffix}",
        created_at="2026-01-15T09:30:00+00:00",
    )
    event.update(extra)
    return event


@pytest.mark.parametrize(
    ("handler", "event", "message"),
    [
        ("ReserveBooking", {"customerId": "c", "chargeId": "ch"}, "Invalid booking request"),
        ("ReserveBooking", "not an object", "Invalid booking request"),
        ("ConfirmBooking", {}, "Invalid booking ID"),
        ("CancelBooking", {"bookingId": ""}, "Invalid booking ID"),
        ("NotifyBooking", {"payment": {}}, "Invalid customer and price"),
        ("CollectPaymentFunction", {"customerId": "c"}, "Invalid Charge ID"),
        ("RefundPaymentFunction", {}, "Invalid Charge ID"),
    ],
)
def test_bad_input_is_a_value_error(
    env: AirlineEnvironment, handler: str, event: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        HANDLERS[handler](event, None)


def test_happy_sequence_writes_the_rows_the_sample_writes(env: AirlineEnvironment) -> None:
    event = _request(env, "seq")
    booking_id = HANDLERS["ReserveBooking"](event, None)
    assert isinstance(booking_id, str) and UUID.match(booking_id)
    assert env.booking(booking_id) == {
        "id": booking_id,
        "stateExecutionId": "execution-seq",
        "__typename": "Booking",
        "bookingOutboundFlightId": "flight-seq",
        "checkedIn": False,
        "customer": "customer-seq",
        "paymentToken": "ch_seq",
        "status": "UNCONFIRMED",
        "createdAt": "2026-01-15T09:30:00+00:00",
    }
    event["bookingId"] = booking_id

    payment = HANDLERS["CollectPaymentFunction"](event, None)
    assert payment == {"receiptUrl": "https://pay.example.com/receipts/ch_seq", "price": 12345}
    charge = env.charge("ch_seq")
    assert charge is not None and charge["status"] == "CAPTURED"
    event["payment"] = payment

    reference = HANDLERS["ConfirmBooking"](event, None)
    assert isinstance(reference, str) and len(reference) == 6
    row = env.booking(booking_id)
    assert row is not None
    assert (row["status"], row["bookingReference"]) == ("CONFIRMED", reference)
    event["bookingReference"] = reference

    message_id = HANDLERS["NotifyBooking"](event, None)
    published = [n for n in env.notifications() if n["messageId"] == message_id]
    assert published == [
        {
            "subject": f"Booking confirmation for {reference}",
            "status": "confirmed",
            "message": {
                "customerId": "customer-seq",
                "price": 12345,
                "bookingReference": reference,
            },
            "messageId": message_id,
        }
    ]


def test_compensations_undo_the_booking_and_the_charge(env: AirlineEnvironment) -> None:
    event = _request(env, "undo")
    event["bookingId"] = HANDLERS["ReserveBooking"](event, None)
    HANDLERS["CollectPaymentFunction"](event, None)

    refund = HANDLERS["RefundPaymentFunction"](event, None)
    charge = env.charge("ch_undo")
    assert charge is not None
    assert (charge["status"], charge["refundId"]) == ("REFUNDED", refund["refundId"])
    assert re.fullmatch(r"re_[0-9a-f]{16}", refund["refundId"])

    assert HANDLERS["CancelBooking"](event, None) is True
    row = env.booking(event["bookingId"])
    assert row is not None and row["status"] == "CANCELLED"

    message_id = HANDLERS["NotifyBooking"]({"customerId": "customer-undo"}, None)
    published = [n for n in env.notifications() if n["messageId"] == message_id]
    assert [(n["subject"], n["status"]) for n in published] == [
        ("Booking could not be completed", "cancelled")
    ]


def test_provider_refusals_are_named_exceptions(env: AirlineEnvironment) -> None:
    env.add_charge("ch_declined", 500, status="DECLINED")
    env.add_charge("ch_uncaptured", 500)
    refusals = [
        (
            "CollectPaymentFunction",
            "ch_declined",
            "charge ch_declined was declined by the card issuer",
        ),
        (
            "CollectPaymentFunction",
            "ch_nobody",
            "charge ch_nobody is unknown to the payment provider",
        ),
        (
            "RefundPaymentFunction",
            "ch_uncaptured",
            "charge ch_uncaptured cannot be refunded: it is AUTHORIZED",
        ),
    ]
    for handler, charge_id, message in refusals:
        with pytest.raises((PaymentException, RefundException)) as raised:
            HANDLERS[handler]({"chargeId": charge_id}, None)
        expected = PaymentException if handler == "CollectPaymentFunction" else RefundException
        assert (type(raised.value), str(raised.value)) == (expected, message)
    charge = env.charge("ch_uncaptured")
    assert charge is not None and charge["status"] == "AUTHORIZED"


def test_booking_updates_of_an_unknown_booking_fail_with_the_named_exception(
    env: AirlineEnvironment,
) -> None:
    with pytest.raises(BookingConfirmationException) as confirmed:
        HANDLERS["ConfirmBooking"]({"bookingId": "no-such-booking"}, None)
    assert "ConditionalCheckFailedException" in str(confirmed.value.details)
    with pytest.raises(BookingCancellationException) as cancelled:
        HANDLERS["CancelBooking"]({"bookingId": "no-such-booking"}, None)
    assert str(cancelled.value) == "Unable to cancel booking"


def test_environment_reads_seat_capacity_and_dead_letters(env: AirlineEnvironment) -> None:
    env.add_flight("flight-evidence", 3)
    assert env.seat_capacity("flight-evidence") == 3
    assert env.seat_capacity("flight-none") is None
    assert env.substitutions() == {"BookingsDLQ": env.dead_letter_queue_url}
    sqs = _aws.client("sqs")
    sqs.send_message(QueueUrl=env.dead_letter_queue_url, MessageBody=json.dumps({"name": "x"}))
    assert env.dead_letters()[-1] == {"name": "x"}


def test_scenarios_are_the_five_of_the_issue() -> None:
    assert list(SCENARIOS) == [
        "happy-path",
        "transient-reservation-error",
        "payment-declined",
        "sold-out",
        "confirmation-fails",
    ]
    assert SCENARIOS["sold-out"].seat_capacity == 0
    assert SCENARIOS["payment-declined"].charge_status == "DECLINED"


def _event(
    event_id: int, kind: str, at: float, details: dict[str, Any] | None = None
) -> HistoryEvent:
    return HistoryEvent(event_id, kind, at, event_id - 1, details)


def test_steps_of_reads_attempts_backoffs_and_the_failure() -> None:
    lambda_cause = json.dumps({"errorMessage": "busy", "errorType": "E", "stackTrace": []})
    history = [
        _event(1, "ExecutionStarted", 0.0, {"input": {}}),
        _event(2, "TaskStateEntered", 0.0, {"name": "Reserve Booking", "input": {}}),
        _event(3, "LambdaFunctionScheduled", 0.0, {"resource": "r"}),
        _event(4, "LambdaFunctionStarted", 0.0),
        _event(5, "LambdaFunctionFailed", 0.25, {"error": "E", "cause": lambda_cause}),
        _event(6, "LambdaFunctionScheduled", 1.25, {"resource": "r"}),
        _event(7, "LambdaFunctionStarted", 1.25),
        _event(8, "LambdaFunctionSucceeded", 1.5, {"output": "id"}),
        _event(9, "TaskStateExited", 1.5, {"name": "Reserve Booking", "output": {"b": "id"}}),
        _event(10, "FailStateEntered", 1.5, {"name": "Booking Failed", "input": {}}),
        _event(11, "ExecutionFailed", 1.5, {}),
    ]
    steps = steps_of(history)
    assert [(s.name, s.state_type, s.next_state) for s in steps] == [
        ("Reserve Booking", "Task", "Booking Failed"),
        ("Booking Failed", "Fail", None),
    ]
    first, second = steps[0].attempts
    assert (first.error, error_message(first.cause), first.backoff) == ("E", "busy", None)
    assert (second.error, second.output, second.backoff) == (None, "id", 1.0)
    assert retry_delays(steps) == {"Reserve Booking": [1.0]}
    assert steps[1].failed and (steps[1].execution_error, steps[1].execution_cause) == (None, None)
