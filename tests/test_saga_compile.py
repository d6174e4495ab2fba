"""Compiled ASL of every step option, policy and the saga-level settings (exact values)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.errors import error_name_of
from saga.integrations import DYNAMODB_THROTTLING_ERRORS, dynamodb, events, sns, sqs
from saga.policies import Retry, error_name
from saga.saga import ORIGINAL_ERROR, Saga
from saga.steps import LambdaInvoke
from saga.templates import JsonPath


class ReservationError(Exception):
    """A plain exception: its ASL name is its class name."""


class NamedError(Exception):
    """An exception with an explicit ASL name."""

    error_name = "Booking.Named"


def act(event: Any) -> Any:
    return event


def one_step(**options: Any) -> dict[str, Any]:
    saga = Saga("S")
    saga.step("A", act, **options)
    state: dict[str, Any] = saga.to_state_machine().to_dict()["States"]["A"]
    return state


def test_minimal_step_defaults() -> None:
    saga = Saga("S")
    saga.step("Reserve Booking", act)
    assert saga.to_state_machine().to_dict() == {
        "StartAt": "Reserve Booking",
        "States": {
            "Reserve Booking": {
                "Type": "Task",
                "Resource": "${ReserveBooking}",
                "ResultPath": "$.reserveBooking",
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Saga Failed"}
                ],
                "End": True,
            },
            "Saga Failed": {
                "Type": "Fail",
                "Error": "SagaFailed",
                "CausePath": "States.JsonToString($.error)",
            },
        },
    }
    assert saga.handlers() == {"ReserveBooking": act}


def test_retry_all_options() -> None:
    state = one_step(
        retry=[
            Retry(
                ReservationError,
                NamedError,
                "Custom.Error",
                interval=3,
                backoff_rate=1.5,
                max_retries=4,
                max_delay=60,
                jitter="FULL",
                comment="transient",
            ),
        ]
    )
    assert state["Retry"] == [
        {
            "ErrorEquals": ["ReservationError", "Booking.Named", "Custom.Error"],
            "IntervalSeconds": 3,
            "MaxAttempts": 4,
            "BackoffRate": 1.5,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL",
            "Comment": "transient",
        }
    ]


def test_retry_writes_only_given_options() -> None:
    assert one_step(retry=[Retry("E")])["Retry"] == [{"ErrorEquals": ["E"]}]
    assert one_step(retry=[Retry("E", interval=0, max_retries=0)])["Retry"] == [
        {"ErrorEquals": ["E"], "IntervalSeconds": 0, "MaxAttempts": 0}
    ]


def test_backoff_rate_is_a_float_unless_exact() -> None:
    [retrier] = one_step(retry=[Retry("E", backoff_rate=2)])["Retry"]
    assert retrier["BackoffRate"] == 2.0 and type(retrier["BackoffRate"]) is float
    [exact] = one_step(retry=[Retry("E", backoff_rate=2, exact_backoff_rate=True)])["Retry"]
    assert exact["BackoffRate"] == 2 and type(exact["BackoffRate"]) is int


@pytest.mark.parametrize(("jitter", "written"), [(True, "FULL"), (False, "NONE"), ("NONE", "NONE")])
def test_jitter_spellings(jitter: Any, written: str) -> None:
    assert one_step(retry=[Retry("E", jitter=jitter)])["Retry"][0]["JitterStrategy"] == written


def test_retriers_keep_their_order_and_catch_all_last() -> None:
    state = one_step(retry=[Retry("A", max_retries=1), Retry("States.ALL", max_retries=2)])
    assert state["Retry"] == [
        {"ErrorEquals": ["A"], "MaxAttempts": 1},
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2},
    ]


def test_error_name_rules() -> None:
    assert error_name(ReservationError) == "ReservationError"
    assert error_name(NamedError) == "Booking.Named"
    assert error_name("States.Timeout") == "States.Timeout"
    for cls in (ReservationError, NamedError, ValueError):  # the engine's rule for instances
        assert error_name(cls) == error_name_of(cls("x"))


def test_timeout_and_heartbeat() -> None:
    state = one_step(timeout=30, heartbeat=10)
    assert (state["TimeoutSeconds"], state["HeartbeatSeconds"]) == (30, 10)


def test_data_flow_options() -> None:
    state = one_step(
        input_path="$.order",
        parameters={
            "id": JsonPath("$.id"),
            "fixed": 1,
            "raw.$": "$.raw",
            "list": [{"x": JsonPath("$$.Execution.Name")}],
        },
        result_selector={"total": JsonPath("$.sum")},
        result_path="$.result",
        error_path="$.failure",
        comment="books it",
    )
    assert state == {
        "Type": "Task",
        "Resource": "${A}",
        "Comment": "books it",
        "InputPath": "$.order",
        "Parameters": {
            "id.$": "$.id",
            "fixed": 1,
            "raw.$": "$.raw",
            "list": [{"x.$": "$$.Execution.Name"}],
        },
        "ResultSelector": {"total.$": "$.sum"},
        "ResultPath": "$.result",
        "Catch": [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Saga Failed"}
        ],
        "End": True,
    }


def test_null_paths_are_written_as_null() -> None:
    saga = Saga("S", failure_error="Failed", failure_cause="dropped")
    saga.step("A", act, input_path=None, result_path=None, error_path=None)
    state = saga.to_state_machine().to_dict()["States"]["A"]
    assert state["InputPath"] is None and state["ResultPath"] is None
    assert state["Catch"][0]["ResultPath"] is None


def test_resources_for_python_actions() -> None:
    assert one_step(resource="${Reserve.Arn}")["Resource"] == "${Reserve.Arn}"
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:reserve:live"
    assert one_step(resource=arn)["Resource"] == arn


def test_lambda_invoke_wraps_payload_and_unwraps_the_result() -> None:
    saga = Saga("S")
    saga.step(
        "A",
        act,
        resource=LambdaInvoke("reserve-fn"),
        result_path="$.a",
        result_selector={"id.$": "$.bookingId"},
    )
    states = saga.to_state_machine().to_dict()["States"]
    assert states["A"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "reserve-fn", "Payload.$": "$"},
        "ResultPath": "$.a",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Saga Failed"}],
        "Next": "A (unwrap Payload)",
    }
    assert states["A (unwrap Payload)"] == {
        "Type": "Pass",
        "InputPath": "$.a.Payload",
        "Parameters": {"id.$": "$.bookingId"},
        "ResultPath": "$.a",
        "End": True,
    }
    assert saga.handlers() == {"reserve-fn": act}


def test_lambda_invoke_with_parameters_and_no_result() -> None:
    saga = Saga("S")
    saga.step(
        "A", act, resource=LambdaInvoke("fn"), parameters={"id": JsonPath("$.id")}, result_path=None
    )
    states = saga.to_state_machine().to_dict()["States"]
    assert states["A"]["Parameters"] == {"FunctionName": "fn", "Payload": {"id.$": "$.id"}}
    assert "A (unwrap Payload)" not in states and states["A"]["End"] is True


def test_integrations_parameters() -> None:
    key = {"id": {"S": JsonPath("$.id")}}
    cases = [
        (
            dynamodb.get_item(table_name="T", key=key, consistent_read=True),
            "arn:aws:states:::dynamodb:getItem",
            {"TableName": "T", "Key": {"id": {"S.$": "$.id"}}, "ConsistentRead": True},
        ),
        (
            dynamodb.put_item(
                table_name=JsonPath("$.t"),
                item={"id": {"S": "1"}},
                condition_expression="attribute_not_exists(id)",
            ),
            "arn:aws:states:::dynamodb:putItem",
            {
                "TableName.$": "$.t",
                "Item": {"id": {"S": "1"}},
                "ConditionExpression": "attribute_not_exists(id)",
            },
        ),
        (
            dynamodb.delete_item(table_name="T", key=key),
            "arn:aws:states:::dynamodb:deleteItem",
            {"TableName": "T", "Key": {"id": {"S.$": "$.id"}}},
        ),
        (
            dynamodb.update_item(
                table_name="T",
                key=key,
                update_expression="SET a = :a",
                expression_attribute_values={":a": {"N": "1"}},
                return_values="ALL_NEW",
            ),
            "arn:aws:states:::dynamodb:updateItem",
            {
                "TableName": "T",
                "Key": {"id": {"S.$": "$.id"}},
                "UpdateExpression": "SET a = :a",
                "ExpressionAttributeValues": {":a": {"N": "1"}},
                "ReturnValues": "ALL_NEW",
            },
        ),
        (
            sqs.send_message(queue_url="${Queue}", message_body=JsonPath("$")),
            "arn:aws:states:::sqs:sendMessage",
            {"QueueUrl": "${Queue}", "MessageBody.$": "$"},
        ),
        (
            sqs.send_message(
                queue_url="q",
                message_body={"token": JsonPath("$$.Task.Token")},
                wait_for_task_token=True,
            ),
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        ),
        (
            sns.publish(topic_arn="${Topic}", message=JsonPath("$.text"), subject="Booking"),
            "arn:aws:states:::sns:publish",
            {"TopicArn": "${Topic}", "Message.$": "$.text", "Subject": "Booking"},
        ),
        (
            events.put_events(
                entries=[
                    events.entry(
                        detail={"id": JsonPath("$.id")},
                        detail_type="Booked",
                        source="airline",
                        event_bus_name="bus",
                    )
                ]
            ),
            "arn:aws:states:::events:putEvents",
            {
                "Entries": [
                    {
                        "Detail": {"id.$": "$.id"},
                        "DetailType": "Booked",
                        "Source": "airline",
                        "EventBusName": "bus",
                    }
                ]
            },
        ),
    ]
    for integration, resource, parameters in cases:
        saga = Saga("S")
        saga.step("A", integration)
        state = saga.to_state_machine().to_dict()["States"]["A"]
        assert (state["Resource"], state["Parameters"]) == (resource, parameters)
        assert saga.handlers() == {}


def test_dynamodb_error_names_are_prefixed() -> None:
    state = one_step(retry=[Retry(*DYNAMODB_THROTTLING_ERRORS, max_retries=2)])
    assert state["Retry"][0]["ErrorEquals"] == [
        "DynamoDB.ProvisionedThroughputExceededException",
        "DynamoDB.RequestLimitExceeded",
        "DynamoDB.ServiceUnavailable",
        "DynamoDB.ThrottlingException",
    ]


def test_catch_routing_options() -> None:
    saga = Saga("S")
    a = saga.step("A", act)
    a.compensate("Undo A", act)
    saga.step(
        "B", act, compensate_on=[ReservationError, "States.Timeout"], fail_fast_on=[ValueError]
    )
    saga.step("C", act, compensate_on=[])
    states = saga.to_state_machine().to_dict()["States"]
    assert states["B"]["Catch"] == [
        {"ErrorEquals": ["ValueError"], "ResultPath": "$", "Next": "Saga Failed Fast"},
        {
            "ErrorEquals": ["ReservationError", "States.Timeout"],
            "ResultPath": "$.error",
            "Next": "Undo A",
        },
    ]
    assert "Catch" not in states["C"]
    assert states["Saga Failed Fast"] == {
        "Type": "Fail",
        "ErrorPath": "$.Error",
        "CausePath": "States.JsonToString($)",
    }


def test_original_error_is_read_from_the_error_path() -> None:
    saga = Saga("S", failure_error=ORIGINAL_ERROR, failure_cause="compensated")
    saga.step("A", act, compensate_on=[ReservationError, NamedError])
    assert saga.to_state_machine().to_dict()["States"]["Saga Failed"] == {
        "Type": "Fail",
        "Cause": "compensated",
        "ErrorPath": "$.error.Error",
    }


def test_saga_level_settings() -> None:
    saga = Saga(
        "S",
        comment="books",
        timeout=3600,
        success_state="Done",
        failure_state="Failed",
        failure_error="BookingFailed",
        failure_cause="see history",
    )
    saga.step("A", act)
    machine = saga.to_state_machine().to_dict()
    assert machine["Comment"] == "books" and machine["TimeoutSeconds"] == 3600
    assert machine["States"]["A"]["Next"] == "Done"
    assert machine["States"]["Done"] == {"Type": "Pass", "End": True}
    assert machine["States"]["Failed"] == {
        "Type": "Fail",
        "Error": "BookingFailed",
        "Cause": "see history",
    }


def test_failure_state_with_static_error_reads_the_cause() -> None:
    saga = Saga("S", failure_error="BookingFailed")
    saga.step("A", act)
    assert saga.to_state_machine().to_dict()["States"]["Saga Failed"] == {
        "Type": "Fail",
        "Error": "BookingFailed",
        "CausePath": "States.JsonToString($.error)",
    }


def test_saga_error_path_moves_the_failure_path() -> None:
    saga = Saga("S", error_path="$.failure")
    saga.step("A", act)
    states = saga.to_state_machine().to_dict()["States"]
    assert states["A"]["Catch"][0]["ResultPath"] == "$.failure"
    assert states["Saga Failed"] == {
        "Type": "Fail",
        "Error": "SagaFailed",
        "CausePath": "States.JsonToString($.failure)",
    }


def test_parallel_group() -> None:
    saga = Saga("S")
    saga.step("Start", act)
    group = saga.parallel(
        "Book Travel",
        retry=[Retry("States.ALL", max_retries=1)],
        result_selector={"flight.$": "$[0]", "hotel.$": "$[1]"},
    )
    flight = group.step("Book Flight", act, timeout=5)
    flight.compensate("Cancel Flight", act)
    hotel = group.step("Book Hotel", act, resource=LambdaInvoke("hotel"))
    hotel.compensate("Cancel Hotel", act)
    machine = saga.to_state_machine().to_dict()
    assert machine["States"]["Book Travel"] == {
        "Type": "Parallel",
        "Branches": [
            {
                "StartAt": "Book Flight",
                "States": {
                    "Book Flight": {
                        "Type": "Task",
                        "Resource": "${BookFlight}",
                        "TimeoutSeconds": 5,
                        "End": True,
                    }
                },
            },
            {
                "StartAt": "Book Hotel",
                "States": {
                    "Book Hotel": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "hotel", "Payload.$": "$"},
                        "Next": "Book Hotel (unwrap Payload)",
                    },
                    "Book Hotel (unwrap Payload)": {
                        "Type": "Pass",
                        "InputPath": "$.Payload",
                        "ResultPath": "$",
                        "End": True,
                    },
                },
            },
        ],
        "ResultSelector": {"flight.$": "$[0]", "hotel.$": "$[1]"},
        "ResultPath": "$.bookTravel",
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Cancel Hotel"}],
        "End": True,
    }
    assert machine["States"]["Cancel Hotel"]["Next"] == "Cancel Flight"
    assert machine["States"]["Cancel Flight"]["Next"] == "Saga Failed"
    assert set(saga.handlers()) == {"Start", "BookFlight", "hotel", "CancelFlight", "CancelHotel"}


def test_compensation_and_handler_defaults() -> None:
    saga = Saga("S")
    saga.step("A", act).compensate("Undo A", act)
    saga.step("B", act)
    saga.on_failure("Notify", act)
    saga.on_failure(
        "Dead Letter",
        sqs.send_message(queue_url="q", message_body=JsonPath("$")),
        continue_on_error=False,
    )
    states = saga.to_state_machine().to_dict()["States"]
    assert states["Undo A"] == {
        "Type": "Task",
        "Resource": "${UndoA}",
        "ResultPath": None,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.undoAError", "Next": "Notify"}],
        "Next": "Notify",
    }
    assert states["Notify"] == {
        "Type": "Task",
        "Resource": "${Notify}",
        "ResultPath": "$.notify",
        "Catch": [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.notifyError", "Next": "Dead Letter"}
        ],
        "Next": "Dead Letter",
    }
    assert states["Dead Letter"] == {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "q", "MessageBody.$": "$"},
        "ResultPath": "$.deadLetter",
        "Next": "Saga Failed",
    }


def test_shared_function_and_resource_is_one_handler() -> None:
    saga = Saga("S")
    notify = saga.step("Notify Confirmed", act, resource="${Notify.Arn}", compensate_on=[])
    saga.on_failure("Notify Failed", notify)
    machine = saga.to_state_machine().to_dict()
    assert machine["States"]["Notify Confirmed"]["Resource"] == "${Notify.Arn}"
    assert "Notify Failed" not in machine["States"]  # no catcher leads to the unwind chain
    assert saga.handlers() == {"Notify.Arn": act}


def test_decorated_functions_stay_callable() -> None:
    saga = Saga("S")

    @saga.step("Reserve")
    def reserve(event: dict[str, int]) -> int:
        return event["n"] + 1

    assert reserve({"n": 1}) == 2
    assert reserve.name == "Reserve" and reserve.handler_key == "Reserve"


# -- the airline ProcessBooking machine --------------------------------------------------------

REFERENCE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "reference"
    / "airline"
    / "process_booking.asl.json"
)
"""The sample's ProcessBooking definition as published (its bugs included), read in place."""


class BookingReservationException(Exception):
    """Raised by the reserve function."""


class BookingCancellationException(Exception):
    """Raised by the cancel function."""


class BookingConfirmationException(Exception):
    """Raised by the confirm function."""


class BookingNotificationException(Exception):
    """Raised by the notify function."""


def airline() -> Saga:
    """ProcessBooking declared with the saga API (the airline example's shape)."""
    throttling = Retry(*DYNAMODB_THROTTLING_ERRORS, interval=1, backoff_rate=2, max_retries=2)

    def retry(error: type[Exception]) -> list[Retry]:
        return [Retry(error, interval=1, backoff_rate=2, max_retries=2)]

    key = {"id": {"S": JsonPath("$.outboundFlightId")}}
    booking = Saga(
        "ProcessBooking",
        success_state="Booking Confirmed",
        failure_state="Booking Failed",
        failure_error="BookingFailed",
        failure_cause="The booking could not be completed",
    )
    booking.step(
        "Reserve Flight",
        dynamodb.update_item(
            table_name=JsonPath("$.flightTable"),
            key=key,
            update_expression="SET seatCapacity = seatCapacity - :dec",
            expression_attribute_values={":dec": {"N": "1"}, ":noSeat": {"N": "0"}},
            condition_expression="seatCapacity > :noSeat",
        ),
        timeout=5,
        retry=[
            throttling,
            Retry("DynamoDB.ConditionalCheckFailedException", interval=0, max_retries=0),
        ],
        result_path=None,
        error_path="$.flightError",
    ).compensate(
        "Release Flight Seat",
        dynamodb.update_item(
            table_name=JsonPath("$.flightTable"),
            key=key,
            update_expression="SET seatCapacity = seatCapacity +:inc",
            expression_attribute_values={":inc": {"N": "1"}},
        ),
        timeout=5,
        retry=[throttling],
        error_path="$.flightError",
    )
    booking.step(
        "Reserve Booking",
        act,
        resource="${ReserveBooking.Arn}",
        timeout=5,
        retry=retry(BookingReservationException),
        result_path="$.bookingId",
        error_path="$.bookingError",
        compensate_self=True,
    ).compensate(
        "Cancel Booking",
        act,
        resource="${CancelBooking.Arn}",
        retry=retry(BookingCancellationException),
        error_path="$.bookingError",
    )
    booking.step(
        "Collect Payment",
        act,
        resource="${CollectPaymentFunction}",
        result_path="$.payment",
        error_path="$.paymentError",
    ).compensate(
        "Refund Payment", act, resource="${RefundPaymentFunction}", error_path="$.paymentError"
    )
    booking.step(
        "Confirm Booking",
        act,
        resource="${ConfirmBooking.Arn}",
        retry=retry(BookingConfirmationException),
        result_path="$.bookingReference",
        error_path="$.bookingError",
    )
    notify = booking.step(
        "Notify Booking Confirmed",
        act,
        resource="${NotifyBooking.Arn}",
        retry=retry(BookingNotificationException),
        result_path="$.notificationId",
        compensate_on=[],
    )
    booking.on_failure(
        "Notify Booking Failed",
        notify,
        retry=retry(BookingNotificationException),
        result_path="$.notificationId",
        error_path="$.notificationError",
    )
    booking.on_failure(
        "Booking DLQ",
        sqs.send_message(queue_url="${BookingsDLQ}", message_body=JsonPath("$")),
        result_path="$.deadLetterQueue",
        continue_on_error=False,
    )
    return booking


def test_airline_machine_equals_the_reference_with_its_bugs_fixed() -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"the airline sample's reference definition is not at {REFERENCE}")
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    states = reference["States"]
    for name in ("Reserve Flight", "Release Flight Seat"):  # fix 1: DynamoDB.* error names
        for retrier in states[name]["Retry"]:
            retrier["ErrorEquals"] = [
                e if e.startswith("DynamoDB.") else f"DynamoDB.{e}" for e in retrier["ErrorEquals"]
            ]
    states["Notify Booking Failed"]["Catch"][0]["ResultPath"] = "$.notificationError"  # fix 2
    states["Booking Failed"].update(  # fix 3
        Error="BookingFailed", Cause="The booking could not be completed"
    )
    booking = airline()
    assert booking.to_state_machine().to_dict() == reference
    assert booking.handlers() == {
        "ReserveBooking.Arn": act,
        "CancelBooking.Arn": act,
        "CollectPaymentFunction": act,
        "RefundPaymentFunction": act,
        "ConfirmBooking.Arn": act,
        "NotifyBooking.Arn": act,
    }
