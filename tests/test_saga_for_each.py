"""For-each groups: steps run per item of a list (a Map), each item's completed steps undone in
reverse when an item or a later step fails, then the saga's own unwind."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import engine
from saga import Saga, SagaDefinitionError
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems

PASSENGERS = ["ann", "bob", "cy"]
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


class SeatTaken(Exception):
    """A seat that cannot be reserved."""


def build(calls: list[str], fail: tuple[str, str] | None = None) -> Saga:
    """Flight, then per passenger seat + meal, then payment; ``fail`` = (step, passenger)."""
    saga = Saga("GroupBooking", success_state="Booked")

    def act(step: str) -> Any:
        def action(event: dict[str, Any]) -> Any:
            who = event.get("item", "-")
            calls.append(f"{step} {who}")
            if fail is not None and fail == (step, who):
                raise SeatTaken(f"{step} failed for {who}")
            return f"{step}:{who}"

        return action

    flight = saga.step("Book Flight", act("Book Flight"))
    flight.compensate("Cancel Flight", act("Cancel Flight"))
    seats = saga.for_each("Reserve Seats", items_path="$.passengers", max_concurrency=1)
    seat = seats.step("Reserve Seat", act("Reserve Seat"))
    seat.compensate("Release Seat", act("Release Seat"))
    seats.step("Check In", act("Check In"))  # no compensation
    meal = seats.step("Order Meal", act("Order Meal"))
    meal.compensate("Cancel Meal", act("Cancel Meal"))
    saga.step("Take Payment", act("Take Payment"))
    return saga


def forward(passengers: list[str]) -> list[str]:
    out = ["Book Flight -"]
    for who in passengers:
        out += [f"Reserve Seat {who}", f"Check In {who}", f"Order Meal {who}"]
    return out


def test_happy_path_runs_every_step_per_item_and_records_it() -> None:
    calls: list[str] = []
    execution = build(calls).run({"passengers": PASSENGERS})
    assert execution.status == "SUCCEEDED"
    assert calls == [*forward(PASSENGERS), "Take Payment -"]
    records = execution.output["reserveSeats"]
    assert records["failed"] == []
    assert records["items"][1] == {
        "item": "bob",
        "index": 1,
        "reserveSeat": "Reserve Seat:bob",
        "checkIn": "Check In:bob",
        "orderMeal": "Order Meal:bob",
    }
    assert execution.unwind == []


STEPS = ["Reserve Seat", "Check In", "Order Meal"]
UNDO = {"Reserve Seat": "Release Seat", "Order Meal": "Cancel Meal"}


def _expected_after_item_failure(step: str, who: str) -> list[str]:
    """What runs when ``step`` fails for ``who``: that item stops, the others run to the end;
    then each item's completed steps are undone in reverse (items in list order)."""
    out = ["Book Flight -"]
    completed: dict[str, list[str]] = {}
    for other in PASSENGERS:
        tried = STEPS[: STEPS.index(step) + 1] if other == who else STEPS
        out += [f"{name} {other}" for name in tried]
        completed[other] = tried[:-1] if other == who else tried
    for other in PASSENGERS:
        out += [f"{UNDO[name]} {other}" for name in reversed(completed[other]) if name in UNDO]
    return [*out, "Cancel Flight -"]


@pytest.mark.parametrize("who", PASSENGERS)
@pytest.mark.parametrize("step", ["Reserve Seat", "Check In", "Order Meal"])
def test_an_item_failing_at_any_step_undoes_every_item_then_the_saga(step: str, who: str) -> None:
    calls: list[str] = []
    execution = build(calls, fail=(step, who)).run({"passengers": PASSENGERS})
    assert execution.status == "FAILED"
    assert execution.error == "SagaFailed"
    assert json.loads(execution.cause or "")["Error"] == "SeatTaken"
    assert calls == _expected_after_item_failure(step, who)
    assert [u.state for u in execution.unwind] == [
        c.rsplit(" ", 1)[0] for c in calls[len(calls) - len(execution.unwind) :]
    ]
    assert all(u.status == "SUCCEEDED" for u in execution.unwind)
    assert execution.failure is not None and execution.failure.step == step


def test_exact_order_when_the_last_passenger_seat_fails() -> None:
    calls: list[str] = []
    execution = build(calls, fail=("Reserve Seat", "cy")).run({"passengers": PASSENGERS})
    # the unwind record names the item each compensation undid
    assert [(u.state, u.item) for u in execution.unwind] == [
        ("Cancel Meal", 0),
        ("Release Seat", 0),
        ("Cancel Meal", 1),
        ("Release Seat", 1),
        ("Cancel Flight", None),
    ]
    assert execution.unwind[0].to_dict()["item"] == 0
    assert calls[len(forward(["ann", "bob"])) + 1 :] == [
        "Cancel Meal ann",
        "Release Seat ann",
        "Cancel Meal bob",
        "Release Seat bob",
        "Cancel Flight -",
    ]


def test_a_later_step_failing_undoes_every_item() -> None:
    calls: list[str] = []
    execution = build(calls, fail=("Take Payment", "-")).run({"passengers": ["ann", "bob"]})
    assert execution.status == "FAILED"
    assert calls == [
        *forward(["ann", "bob"]),
        "Take Payment -",
        "Cancel Meal ann",
        "Release Seat ann",
        "Cancel Meal bob",
        "Release Seat bob",
        "Cancel Flight -",
    ]


def test_the_first_step_failing_undoes_nothing() -> None:
    calls: list[str] = []
    execution = build(calls, fail=("Book Flight", "-")).run({"passengers": PASSENGERS})
    assert (execution.status, calls) == ("FAILED", ["Book Flight -"])


def test_an_empty_list_runs_no_item_and_undoes_none() -> None:
    calls: list[str] = []
    execution = build(calls, fail=("Take Payment", "-")).run({"passengers": []})
    assert calls == ["Book Flight -", "Take Payment -", "Cancel Flight -"]
    assert execution.status == "FAILED"


def test_items_path_not_a_list_is_a_runtime_error_no_catcher_takes() -> None:
    # As on AWS, States.ALL does not catch States.Runtime: the execution fails at once.
    calls: list[str] = []
    execution = build(calls).run({"passengers": "ann"})
    assert calls == ["Book Flight -"]
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.states == ["Book Flight", "Reserve Seats"]


def test_item_fields_reach_every_item() -> None:
    seen: list[Any] = []
    saga = Saga("Fields")
    group = saga.for_each(
        "Legs", items_path="$.legs", item_fields={"booking": engine_path("$.booking")}
    )
    group.step("Book Leg", lambda event: seen.append(event) or "ok")
    assert saga.run({"legs": ["a", "b"], "booking": "B-1"}).status == "SUCCEEDED"
    assert seen == [
        {"item": "a", "index": 0, "booking": "B-1"},
        {"item": "b", "index": 1, "booking": "B-1"},
    ]


def engine_path(path: str) -> Any:
    from saga.templates import JsonPath

    return JsonPath(path)


def _substituted(saga: Saga) -> dict[str, Any]:
    text = saga.to_json()
    names = [key for key in saga.handlers()]
    return engine.substitute(json.loads(text), {name: ARN + name for name in names})  # type: ignore[no-any-return]


def test_export_passes_both_validators_and_runs_the_same() -> None:
    calls: list[str] = []
    saga = build(calls, fail=("Order Meal", "bob"))
    document = _substituted(saga)
    assert statelint_problems([document]) == [[]]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is not installed (npm install --prefix .tools asl-validator)")
    assert asl_validator_problems([document], command) == [[]]
    direct = saga.run({"passengers": PASSENGERS}, name="x", seed=1)
    direct_calls = list(calls)
    calls.clear()
    loaded = engine.load(saga.to_json())
    exported = engine.run(
        loaded, {"passengers": PASSENGERS}, handlers=saga.handlers(), name="x", seed=1
    )
    assert calls == direct_calls
    assert (exported.status, exported.output, exported.error, exported.cause, exported.states) == (
        direct.status,
        direct.output,
        direct.error,
        direct.cause,
        direct.states,
    )


def test_the_compiled_map_reads_items_and_limits_concurrency() -> None:
    states = json.loads(build([]).to_json())["States"]
    forward_map, undo_map = states["Reserve Seats"], states["Undo Reserve Seats"]
    assert (forward_map["ItemsPath"], forward_map["MaxConcurrency"]) == ("$.passengers", 1)
    assert forward_map["ResultSelector"] == {"items.$": "$", "failed.$": "$[*].error"}
    assert (undo_map["ItemsPath"], undo_map["ResultPath"]) == ("$.reserveSeats.items", None)
    assert undo_map["ItemProcessor"]["StartAt"] == "Order Meal (if done)"
    assert states["Take Payment"]["Catch"][0]["Next"] == "Undo Reserve Seats"


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda s: s.for_each("G", items_path="$.x"), "has no steps"),
        (lambda s: s.for_each("G", items_path="x"), "items_path is 'x'"),
        (lambda s: s.for_each("G", max_concurrency=-1), "max_concurrency is -1"),
        (lambda s: s.for_each("G", result_path=None), "result_path is None"),
        (lambda s: s.for_each("G", retry=[]), "unknown option 'retry'"),
        (lambda s: s.for_each("G", item_fields={"item": 1}), "'item'"),
        (
            lambda s: s.for_each("G").step("S", lambda e: e, result_path=None),
            "result_path=None would leave no record",
        ),
        (
            lambda s: s.for_each("G").step("S", lambda e: e, result_path="$.index"),
            "is where each item holds its index",
        ),
        (
            lambda s: (s.step("G (any failed?)", lambda e: e), s.for_each("G").step("S", print)),
            "adds a state named 'G (any failed?)'",
        ),
    ],
)
def test_misdeclared_groups_are_refused_with_the_fix(declare: Any, message: str) -> None:
    saga = Saga("Bad")
    with pytest.raises(SagaDefinitionError, match=re.escape(message)):
        declare(saga)
        saga.to_state_machine()
