"""The airline sample's real ProcessBooking definition loads, round-trips and validates.

The file is read from the shared reference folder next to the repository (it is not copied into
the project); every test here is skipped, with that reason, when the folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.loader import load, substitute
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems
from tests.test_roundtrip import assert_same_json

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "airline"
DEFINITION = REFERENCE / "process_booking.asl.json"

pytestmark = pytest.mark.skipif(
    not DEFINITION.is_file(),
    reason=f"airline reference definition not found at {DEFINITION} (shared folder absent)",
)

SUBSTITUTIONS = {
    name: f"arn:aws:lambda:eu-west-1:123456789012:function:{name.split('.')[0]}"
    for name in (
        "ReserveBooking.Arn",
        "CancelBooking.Arn",
        "ConfirmBooking.Arn",
        "NotifyBooking.Arn",
        "CollectPaymentFunction",
        "RefundPaymentFunction",
    )
} | {"BookingsDLQ": "https://sqs.eu-west-1.amazonaws.com/123456789012/BookingsDLQ"}

THROTTLING = (
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ThrottlingException",
)
EXPECTED_WARNINGS = [
    *(f"/States/Reserve Flight/Retry/0/ErrorEquals/{i}" for i in range(4)),
    "/States/Reserve Flight/Retry/1/ErrorEquals/0",
    *(f"/States/Release Flight Seat/Retry/0/ErrorEquals/{i}" for i in range(4)),
]


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DEFINITION.read_text(encoding="utf-8"))
    return document


def test_reference_loads_and_round_trips_exactly() -> None:
    document = _document()
    machine = load(DEFINITION.read_text(encoding="utf-8"))
    assert_same_json(machine.to_dict(), document)
    assert load(machine.to_json()) == machine
    assert len(machine.states) == 12
    reserve = machine.to_dict()["States"]["Reserve Flight"]
    assert reserve["ResultPath"] is None
    assert reserve["Retry"][1] == {
        "ErrorEquals": ["ConditionalCheckFailedException"],
        "IntervalSeconds": 0,
        "MaxAttempts": 0,
    }
    assert type(reserve["Retry"][0]["BackoffRate"]) is int


def test_reference_has_no_errors_and_warns_about_unprefixed_dynamodb_errors() -> None:
    diagnostics = load(_document()).validate()
    assert [d for d in diagnostics if d.severity == "error"] == []
    assert [(d.code, d.location, d.severity) for d in diagnostics] == [
        ("UNPREFIXED_INTEGRATION_ERROR", location, "warning") for location in EXPECTED_WARNINGS
    ]
    names = [d.message.split("'")[1] for d in diagnostics]
    assert names == [*THROTTLING, "ConditionalCheckFailedException", *THROTTLING]
    assert "DynamoDB.ConditionalCheckFailedException" in diagnostics[4].message


def test_reference_validates_the_same_with_placeholders_resolved() -> None:
    machine = load(_document(), SUBSTITUTIONS)
    assert (
        machine.to_dict()["States"]["Booking DLQ"]["Parameters"]["QueueUrl"]
        == (SUBSTITUTIONS["BookingsDLQ"])
    )
    assert [d.location for d in machine.validate()] == EXPECTED_WARNINGS


def test_independent_validators_accept_the_resolved_reference() -> None:
    resolved = substitute(_document(), SUBSTITUTIONS)
    # statelint's complaints about the integer BackoffRate and IntervalSeconds 0 are ones AWS
    # does not make; tests.oracles filters exactly those.
    assert statelint_problems([resolved]) == [[]]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator not installed")
    assert asl_validator_problems([resolved], command) == [[]]
