"""A saga whose steps are other sagas (``states.start_execution``), run on the local engine."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from saga import JsonPath, Saga, aws_sdk, run_saga, saga_engine, states
from saga.running import child_arns

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:"


class Declined(Exception):
    pass


def reserve(event: dict[str, Any]) -> dict[str, Any]:
    return {"seat": "12A"}


def charge(event: dict[str, Any]) -> dict[str, Any]:
    if event["amount"] > 100:
        raise Declined(f"{event['amount']} is over the limit")
    return {"charged": event["amount"]}


def release(event: dict[str, Any]) -> dict[str, Any]:
    return {"released": True}


def _sagas() -> tuple[Saga, Saga, Saga]:
    seats = Saga("Seats")
    seats.step("Reserve", reserve)
    payment = Saga("Payment")
    payment.step("Charge", charge)
    trip = Saga("Trip")
    trip.step(
        "Book Seat",
        states.start_execution(state_machine_arn=ARN + "Seats", input=JsonPath("$")),
        result_path="$.seat",
    ).compensate("Release Seat", release, result_path="$.released")
    trip.step(
        "Pay",
        states.start_execution(state_machine_arn=ARN + "Payment", input=JsonPath("$")),
        result_path="$.payment",
    )
    return trip, seats, payment


def test_a_failing_child_saga_unwinds_the_parent() -> None:
    trip, seats, payment = _sagas()
    ok = run_saga(trip, {"amount": 40}, children=[seats, payment], name="trip-ok")
    assert ok.status == "SUCCEEDED"
    # Each child saga's output is its input with its step's result (at $.<step name>).
    assert ok.output["seat"]["Output"] == {"amount": 40, "reserve": {"seat": "12A"}}
    assert ok.output["payment"]["Output"]["charge"] == {"charged": 40}
    failed = run_saga(trip, {"amount": 400}, children=[seats, payment], name="trip-declined")
    assert (failed.status, failed.error) == ("FAILED", "SagaFailed")
    assert failed.states == ["Book Seat", "Pay", "Release Seat", "Saga Failed"]
    # The child's failure is inside the cause: States.TaskFailed with the child's record.
    caught = json.loads(failed.cause or "")
    assert caught["Error"] == "States.TaskFailed"
    child = json.loads(caught["Cause"])
    assert (child["Status"], child["StateMachineArn"]) == ("FAILED", ARN + "Payment")


def test_saga_engine_knows_every_saga_it_is_given() -> None:
    trip, seats, payment = _sagas()

    async def main() -> Any:
        async with saga_engine(trip, seats, payment) as local:
            assert sorted(local.state_machines()) == [ARN + "Payment", ARN + "Seats", ARN + "Trip"]
            return await local.execute(trip.to_state_machine(), {"amount": 5})

    assert anyio.run(main).status == "SUCCEEDED"


def test_aws_sdk_step_checks_service_and_error_prefix() -> None:
    integration = aws_sdk("s3", "getObject", {"Bucket": "b", "Key": "k"})
    assert integration.resource == "arn:aws:states:::aws-sdk:s3:getObject"
    assert integration.error_prefix == "S3"
    with pytest.raises(ValueError, match="has no action 'nope'"):
        aws_sdk("s3", "nope")
    with pytest.raises(ValueError, match="wait and wait_for_task_token"):
        states.start_execution(state_machine_arn="x", wait="sync", wait_for_task_token=True)


def _three_levels() -> tuple[Saga, Saga, Saga]:
    seats = Saga("Seats")
    seats.step("Reserve", reserve)
    flights = Saga("Flights")
    flights.step("Book Outbound", lambda event: {"flight": "LH1"}, result_path="$.flight")
    flights.step("Choose Seats", seats, result_path="$.seats")
    trip = Saga("Trip")
    trip.step("Book Flights", flights, result_path="$.flights")
    return trip, flights, seats


def test_the_arns_of_children_and_grandchildren_are_known_by_their_placeholders() -> None:
    trip, flights, _ = _three_levels()
    assert child_arns(trip) == {
        "FlightsStateMachineArn": ARN + "Flights",
        "SeatsStateMachineArn": ARN + "Seats",
    }
    assert child_arns(flights) == {"SeatsStateMachineArn": ARN + "Seats"}
    assert child_arns(trip, trip.child_sagas()) == child_arns(trip)


def test_a_grandchild_saga_runs_inside_its_parent() -> None:
    trip, _, _ = _three_levels()
    execution = trip.run({"who": "ada"}, name="three-levels")
    assert execution.status == "SUCCEEDED"
    flights = execution.output["flights"]["Output"]
    assert flights["flight"] == {"flight": "LH1"}
    assert flights["seats"]["Output"]["reserve"] == {"seat": "12A"}
