"""The group-trip saga: every shape at work, the exact unwind of each failure, its exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine
from asl_export.render import render
from examples.group_trip.group_trip import trip
from saga.outcome import SagaExecution
from saga.testing import callbacks
from saga.testing.harness import SagaTestEngine
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems

HERE = Path(__file__).parent
EXPORT_COMMAND = (
    "saga export examples.group_trip.group_trip:trip -o examples/group_trip/group_trip.asl.json"
)
SAM_COMMAND = (
    "saga export examples.group_trip.group_trip:trip --format sam "
    "-o examples/group_trip/template.yaml"
)
APPROVED = callbacks.answers("Fraud Review", output={"approved": True}, after=1800)
PARTY = [{"name": "ann"}, {"name": "bob"}, {"name": "cy"}]


def _trip(**flags: Any) -> dict[str, Any]:
    return {"tripId": "t-1", "passengers": PARTY, "insurance": True, "amount": 900, **flags}


def _run(data: dict[str, Any], answer: Any = APPROVED) -> SagaExecution:
    return SagaTestEngine().run(trip, data, faults=[answer])


def _undone(execution: SagaExecution) -> list[str]:
    """Each compensation and handler entered, in order, with the passenger it undid."""
    names = {u.state for u in execution.unwind}
    out: list[str] = []
    for event in execution.history:
        if event.type != "TaskStateEntered" or event.state_name not in names:
            continue
        data = (event.details or {})["input"]
        item = (json.loads(data) if isinstance(data, str) else data).get("item")
        out.append(f"{event.state_name} ({item['name']})" if item else str(event.state_name))
    return out


def test_the_whole_party_is_booked() -> None:
    execution = _run(_trip())
    assert execution.status == "SUCCEEDED"
    output = execution.output
    assert [r["reserveSeat"] for r in output["reserveSeats"]["items"]] == [
        "t-1-seat-1A",
        "t-1-seat-2A",
        "t-1-seat-3A",
    ]
    assert output["hotelAndCar"] == {
        "hotel": {"bookHotel": "hotel-3-guests", "addBreakfast": "breakfast-included"},
        "car": {"rentCar": "car-7", "addChildSeat": "child-seat"},
    }
    assert output["buyInsurance"] == "policy-t-1"
    assert output["fraudReview"] == {"approved": True}
    assert execution.states[-1] == "Trip Booked"


def test_the_last_passengers_seat_failing_unwinds_every_passenger_then_the_flight() -> None:
    party = [*PARTY[:2], {"name": "cy", "noSeat": True}]
    execution = _run(_trip(passengers=party))
    assert execution.status == "FAILED"
    assert execution.failure is not None
    assert (execution.failure.step, execution.failure.error) == ("Reserve Seat", "SeatUnavailable")
    assert execution.failure.message == "no seat left for cy"
    assert _undone(execution) == [
        "Cancel Meal (ann)",
        "Release Seat (ann)",
        "Cancel Meal (bob)",
        "Release Seat (bob)",
        "Cancel Flight",
        "Notify Travellers",
    ]
    assert "Book Hotel" not in execution.states and "Hotel And Car" not in execution.states


def test_no_car_unwinds_what_each_branch_did_then_the_seats() -> None:
    execution = _run(_trip(noCar=True))
    # the car branch stopped at Rent Car (undone, as its call may have landed) before Add
    # Child Seat; the hotel branch ran to its end: both its steps are undone
    assert "Add Child Seat" not in execution.states
    assert _undone(execution) == [
        "Return Car",
        "Remove Breakfast",
        "Cancel Hotel",
        "Cancel Meal (ann)",
        "Release Seat (ann)",
        "Cancel Meal (bob)",
        "Release Seat (bob)",
        "Cancel Meal (cy)",
        "Release Seat (cy)",
        "Cancel Flight",
        "Notify Travellers",
    ]


@pytest.mark.parametrize("insurance", [True, False])
def test_insurance_is_refunded_only_when_it_was_bought(insurance: bool) -> None:
    execution = _run(_trip(insurance=insurance, declineCard=True))
    assert execution.status == "FAILED"
    undone = _undone(execution)
    assert ("Refund Insurance" in undone) is insurance
    assert undone[: 2 if insurance else 1] == (
        ["Refund Insurance", "Remove Child Seat"] if insurance else ["Remove Child Seat"]
    )


def test_a_rejected_review_unwinds_everything() -> None:
    rejected = callbacks.answers("Fraud Review", error="Fraud.Rejected", cause="stolen card")
    execution = _run(_trip(), rejected)
    assert execution.failure is not None
    assert (execution.failure.error, execution.failure.message) == (
        "Fraud.Rejected",
        "stolen card",
    )
    assert _undone(execution)[0] == "Refund Insurance"
    assert _undone(execution)[-2:] == ["Cancel Flight", "Notify Travellers"]


def test_a_review_nobody_answers_times_out_after_a_day_and_unwinds() -> None:
    late = callbacks.answers(
        "Fraud Review", output={"approved": True}, after=90000, heartbeats=range(0, 90000, 3000)
    )
    execution = _run(_trip(), late)
    assert execution.failure is not None and execution.failure.error == "States.Timeout"
    assert len(_undone(execution)) == 13


def test_a_fare_hold_expiring_during_the_review_unwinds_before_the_card_is_charged() -> None:
    # The test clock starts at 2024-01-01T00:00:00Z; the review is answered after 30 minutes.
    execution = _run(_trip(holdExpires="2024-01-01T00:20:00Z"))
    assert execution.failure is not None
    assert execution.failure.error == "Saga.DeadlinePassed"
    assert "Charge Card" not in execution.states
    passed = execution.states.index("Charge Card (deadline passed)")
    assert execution.states[passed - 1 : passed + 2] == [
        "Charge Card (deadline?)",
        "Charge Card (deadline passed)",
        "Refund Insurance (if ran)",
    ]
    assert _undone(execution) == [
        "Refund Insurance",
        "Remove Child Seat",
        "Return Car",
        "Remove Breakfast",
        "Cancel Hotel",
        "Cancel Meal (ann)",
        "Release Seat (ann)",
        "Cancel Meal (bob)",
        "Release Seat (bob)",
        "Cancel Meal (cy)",
        "Release Seat (cy)",
        "Cancel Flight",
        "Notify Travellers",
    ]


def test_committed_exports_are_up_to_date() -> None:
    asl = HERE / "group_trip.asl.json"
    assert asl.read_text(encoding="utf-8") == render(trip.to_state_machine()), (
        f"group_trip.asl.json is stale; run: {EXPORT_COMMAND}"
    )
    template = (HERE / "template.yaml").read_text(encoding="utf-8")
    assert "FraudReview:" in template and "Type: AWS::Serverless::StateMachine" in template, (
        f"template.yaml is stale; run: {SAM_COMMAND}"
    )


def test_the_export_passes_both_validators_and_runs_the_same() -> None:
    text = (HERE / "group_trip.asl.json").read_text(encoding="utf-8")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:"
    document = engine.substitute(json.loads(text), {k: arn + k for k in trip.handlers()})
    assert statelint_problems([document]) == [[]]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is not installed")
    assert asl_validator_problems([document], command) == [[]]
    data = _trip(passengers=[PARTY[0], {"name": "bob", "noSeat": True}])
    direct = SagaTestEngine().run(trip, data, faults=[APPROVED], name="g-1")
    exported = SagaTestEngine().run(
        engine.load(text), data, faults=[APPROVED], name="g-1", handlers=trip.handlers()
    )
    assert (exported.status, exported.output, exported.cause, exported.states) == (
        direct.status,
        direct.output,
        direct.cause,
        direct.states,
    )
