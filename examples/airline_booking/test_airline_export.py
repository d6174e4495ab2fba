"""The exported ProcessBooking: committed, up to date, and the sample's except for its fixes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from asl_export.render import render
from engine.loader import load
from examples.airline_booking.deployment import stack
from examples.airline_booking.expected import ALL_STATES
from examples.airline_booking.saga import FAILURE_CAUSE, FAILURE_ERROR, booking

COMMITTED = Path(__file__).with_name("process_booking.asl.json")
REFERENCE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "reference"
    / "airline"
    / "process_booking.asl.json"
)
EXPORT_COMMAND = (
    "saga export examples.airline_booking.saga:booking "
    "-o examples/airline_booking/process_booking.asl.json"
)
DYNAMODB_STATES = ("Reserve Flight", "Release Flight Seat")

needs_reference = pytest.mark.skipif(
    not REFERENCE.exists(), reason=f"the airline reference definition is not at {REFERENCE}"
)


def _differences(left: Any, right: Any, pointer: str = "") -> list[str]:
    """JSON pointers where two parsed documents differ (numbers compared by value)."""
    if isinstance(left, dict) and isinstance(right, dict):
        out: list[str] = []
        for key in sorted(left.keys() | right.keys()):
            where = f"{pointer}/{key}"
            if key not in left or key not in right:
                out.append(where)
            else:
                out += _differences(left[key], right[key], where)
        return out
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        out = []
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            out += _differences(a, b, f"{pointer}/{index}")
        return out
    same = left == right and isinstance(left, bool) == isinstance(right, bool)
    return [] if same else [pointer]


def _with_documented_fixes(reference: dict[str, Any]) -> dict[str, Any]:
    """The reference with the three fixes README.md lists applied."""
    fixed = copy.deepcopy(reference)
    states = fixed["States"]
    for name in DYNAMODB_STATES:
        for retrier in states[name]["Retry"]:
            retrier["ErrorEquals"] = [f"DynamoDB.{e}" for e in retrier["ErrorEquals"]]
    states["Notify Booking Failed"]["Catch"][0]["ResultPath"] = "$.notificationError"
    states["Booking Failed"].update({"Error": FAILURE_ERROR, "Cause": FAILURE_CAUSE})
    return fixed


def test_committed_export_is_up_to_date() -> None:
    assert COMMITTED.exists(), f"missing; run: {EXPORT_COMMAND}"
    assert COMMITTED.read_text(encoding="utf-8") == render(booking.to_state_machine()), (
        f"process_booking.asl.json is stale; run: {EXPORT_COMMAND}"
    )


def test_committed_export_loads_and_validates() -> None:
    machine = load(COMMITTED, {"BookingsDLQ": "https://sqs.us-east-1.amazonaws.com/1/q"})
    assert machine.start_at == "Reserve Flight"
    assert len(machine.states) == 12


@needs_reference
def test_export_differs_from_the_reference_only_where_documented() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    exported = json.loads(COMMITTED.read_text(encoding="utf-8"))
    throttling = [f"/States/{s}/Retry/0/ErrorEquals/{i}" for s in DYNAMODB_STATES for i in range(4)]
    assert _differences(reference, exported) == sorted(
        [
            "/States/Booking Failed/Cause",
            "/States/Booking Failed/Error",
            "/States/Notify Booking Failed/Catch/0/ResultPath",
            "/States/Reserve Flight/Retry/1/ErrorEquals/0",
            *throttling,
        ]
    )
    assert exported == _with_documented_fixes(reference)


@needs_reference
def test_export_keeps_the_reference_states_resources_and_routing() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["States"]
    exported = json.loads(COMMITTED.read_text(encoding="utf-8"))["States"]
    assert list(exported) == ALL_STATES
    assert sorted(exported) == sorted(reference)
    for name, state in reference.items():
        ours = exported[name]
        routing = ("Type", "Resource", "Next", "End", "TimeoutSeconds", "ResultPath")
        assert {k: ours.get(k) for k in routing} == {k: state.get(k) for k in routing}, name
        assert [c["Next"] for c in ours.get("Catch", [])] == [
            c["Next"] for c in state.get("Catch", [])
        ], name


def test_deployment_stack_gives_each_function_its_sample_settings_and_policy() -> None:
    specs = {spec.placeholder: spec for spec in stack.function_specs()}
    assert {p: (s.handler, s.timeout, s.memory, dict(s.environment)) for p, s in specs.items()} == {
        "ReserveBooking.Arn": (
            "examples.airline_booking.functions.reserve:lambda_handler",
            5,
            512,
            {"BOOKING_TABLE_NAME": "Airline-Bookings"},
        ),
        "CollectPaymentFunction": (
            "examples.airline_booking.functions.collect:lambda_handler",
            10,
            512,
            {"PAYMENT_TABLE_NAME": "Airline-Payments"},
        ),
        "ConfirmBooking.Arn": (
            "examples.airline_booking.functions.confirm:lambda_handler",
            5,
            512,
            {"BOOKING_TABLE_NAME": "Airline-Bookings"},
        ),
        "NotifyBooking.Arn": (
            "examples.airline_booking.functions.notify:lambda_handler",
            5,
            256,
            {},
        ),
        "RefundPaymentFunction": (
            "examples.airline_booking.functions.refund:lambda_handler",
            10,
            512,
            {"PAYMENT_TABLE_NAME": "Airline-Payments"},
        ),
        "CancelBooking.Arn": (
            "examples.airline_booking.functions.cancel:lambda_handler",
            5,
            512,
            {"BOOKING_TABLE_NAME": "Airline-Bookings"},
        ),
    }
    [publish] = specs["NotifyBooking.Arn"].policy_statements
    assert publish == {
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": {
            "Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:"
            "Airline-BookingTopic"
        },
    }
    [put] = specs["ReserveBooking.Arn"].policy_statements
    assert put["Action"] == ["dynamodb:PutItem"]
    assert stack.compensation_states() == [
        "Release Flight Seat",
        "Cancel Booking",
        "Refund Payment",
    ]
    assert stack.to_state_machine() == booking.to_state_machine()
