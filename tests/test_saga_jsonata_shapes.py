"""Every saga shape in JSONata mode: a for-each group, a parallel group with a branch of two
steps, a conditional step, a callback step, a child saga and a deadline, in one saga. The
happy path and a failure at every position run the same Python calls, in the same order, as
the JSONPath compilation, and end the same (status, output, error, cause, states entered)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import VirtualClock
from saga import LambdaInvoke, Saga
from saga.conditions import equals
from saga.outcome import SagaExecution
from saga.testing import callbacks, faults
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems
from tests.test_saga_equivalence import _outcome, _substitute

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PASSENGERS = ["ann", "bob"]
JSONPATH_FIELDS = {
    "Parameters", "InputPath", "ResultPath", "ResultSelector", "OutputPath", "ItemsPath",
    "Variable", "ErrorPath", "CausePath", "Iterator",
}  # fmt: skip


class Boom(Exception):
    """The failure a test plants at one position."""


def build(query_language: str, calls: list[str], fail: str | None = None) -> Saga:
    """Flight; per passenger seat + meal; car (rent, insure) beside hotel; the VIP lounge only
    when ``$.vip``; an approval by callback; payment by a child saga. ``fail`` names the call
    that raises (``"Reserve Seat bob"``, ``"Charge"`` …)."""

    def act(name: str) -> Any:
        def action(event: Any) -> Any:
            who = event.get("item") if isinstance(event, dict) else None
            call = name if who is None else f"{name} {who}"
            calls.append(call)
            if call == fail:
                raise Boom(call)
            return call

        return action

    saga = Saga(
        "Trip",
        query_language=query_language,
        success_state="Done",
        deadline_path="$.deadline",
    )
    saga.step("Book Flight", act("Book Flight")).compensate("Cancel Flight", act("Cancel Flight"))
    seats = saga.for_each("Seats", items_path="$.passengers", max_concurrency=1)
    seats.step("Reserve Seat", act("Reserve Seat")).compensate("Release Seat", act("Release Seat"))
    seats.step("Order Meal", act("Order Meal")).compensate("Cancel Meal", act("Cancel Meal"))
    extras = saga.parallel("Extras", fail_fast_on=["Trip.Fatal"])
    car, hotel = extras.branch("Car"), extras.branch("Hotel")
    car.step("Rent Car", act("Rent Car")).compensate("Return Car", act("Return Car"))
    car.step("Insure Car", act("Insure Car")).compensate(
        "Cancel Insurance", act("Cancel Insurance")
    )
    hotel.step("Book Hotel", act("Book Hotel")).compensate("Cancel Hotel", act("Cancel Hotel"))
    saga.step("Lounge", act("Lounge"), when=equals("$.vip", True)).compensate(
        "Cancel Lounge", act("Cancel Lounge")
    )
    saga.step(
        "Approve",
        act("Approve"),
        resource=LambdaInvoke("approve", wait_for_task_token=True),
        timeout=3600,
        heartbeat=600,
    )
    payment = Saga("Payment", query_language=query_language)
    payment.step("Charge", act("Charge"))
    saga.step("Pay", payment).compensate("Refund", act("Refund"))
    saga.step("Send Tickets", act("Send Tickets"))
    saga.on_failure("Notify", act("Notify"))
    return saga


def run(
    query_language: str,
    data: dict[str, Any],
    fail: str | None = None,
    answer: dict[str, Any] | None = None,
    extra: list[Any] | None = None,
) -> tuple[SagaExecution, list[str]]:
    calls: list[str] = []
    reply = {"after": 100, **(answer if answer is not None else {"output": {"approved": True}})}
    execution = build(query_language, calls, fail).run(
        data,
        seed=7,
        name="trip-1",
        clock=VirtualClock(T0),
        interceptors=[callbacks.answers("Approve", **reply), *(extra or [])],
    )
    return execution, calls


FORWARD = [
    "Book Flight",
    "Reserve Seat ann",
    "Order Meal ann",
    "Reserve Seat bob",
    "Order Meal bob",
    "Rent Car",
    "Book Hotel",  # the branches take turns, one step each
    "Insure Car",
    "Lounge",
    "Approve",
    "Charge",
    "Send Tickets",
]
SEATS_UNDONE = ["Cancel Meal ann", "Release Seat ann", "Cancel Meal bob", "Release Seat bob"]
EXTRAS_UNDONE = ["Cancel Hotel", "Cancel Insurance", "Return Car"]
DATA = {"passengers": PASSENGERS, "vip": True}


def _same_as_jsonpath(data: dict[str, Any], **kwargs: Any) -> tuple[SagaExecution, list[str]]:
    jsonata, jsonata_calls = run("JSONata", data, **kwargs)
    jsonpath, jsonpath_calls = run("JSONPath", data, **kwargs)
    assert _outcome(jsonata) == _outcome(jsonpath)
    assert jsonata_calls == jsonpath_calls
    return jsonata, jsonata_calls


@pytest.mark.parametrize("vip", [True, False])
def test_happy_path_runs_every_shape_like_jsonpath(vip: bool) -> None:
    execution, calls = _same_as_jsonpath({**DATA, "vip": vip})
    assert execution.status == "SUCCEEDED"
    assert calls == [c for c in FORWARD if vip or c != "Lounge"]
    output = execution.output
    assert output["seats"]["failed"] == []
    assert [item["orderMeal"] for item in output["seats"]["items"]] == [
        "Order Meal ann",
        "Order Meal bob",
    ]
    assert output["extras"] == {
        "car": {"rentCar": "Rent Car", "insureCar": "Insure Car"},
        "hotel": {"bookHotel": "Book Hotel"},
    }
    assert output["approve"] == {"approved": True}
    assert output["pay"]["Output"]["charge"] == "Charge"
    assert ("lounge" in output) is vip


BOB = ["Reserve Seat bob", "Order Meal bob"]
# (failing call, the calls after it in order); the unwind always ends with Notify. When an item
# fails, the other items still run to their end; then each item's completed steps are undone
# in reverse, items in list order.
FAILURES = [
    ("Book Flight", []),
    ("Reserve Seat ann", [*BOB, "Cancel Meal bob", "Release Seat bob", "Cancel Flight"]),
    (
        "Order Meal ann",
        [*BOB, "Release Seat ann", "Cancel Meal bob", "Release Seat bob", "Cancel Flight"],
    ),
    ("Reserve Seat bob", ["Cancel Meal ann", "Release Seat ann", "Cancel Flight"]),
    (
        "Order Meal bob",
        ["Cancel Meal ann", "Release Seat ann", "Release Seat bob", "Cancel Flight"],
    ),
    ("Lounge", [*EXTRAS_UNDONE, *SEATS_UNDONE, "Cancel Flight"]),
    ("Charge", ["Cancel Lounge", *EXTRAS_UNDONE, *SEATS_UNDONE, "Cancel Flight"]),
    ("Send Tickets", ["Refund", "Cancel Lounge", *EXTRAS_UNDONE, *SEATS_UNDONE, "Cancel Flight"]),
]


@pytest.mark.parametrize(("fail", "after"), FAILURES, ids=[f for f, _ in FAILURES])
def test_a_failure_at_each_position_compensates_in_order(fail: str, after: list[str]) -> None:
    execution, calls = _same_as_jsonpath(DATA, fail=fail)
    assert calls == [*FORWARD[: FORWARD.index(fail) + 1], *after, "Notify"]
    assert (execution.status, execution.error) == ("FAILED", "SagaFailed")
    cause = json.loads(execution.cause or "")
    if fail == "Charge":  # the child saga failed: the parent sees States.TaskFailed
        assert cause["Error"] == "States.TaskFailed"
        assert json.loads(cause["Cause"])["Status"] == "FAILED"
    else:
        assert cause == {"Error": "Boom", "Cause": cause["Cause"]}
        assert json.loads(cause["Cause"])["errorMessage"] == fail


@pytest.mark.parametrize("fail", ["Rent Car", "Insure Car", "Book Hotel"])
def test_a_failed_branch_step_unwinds_like_jsonpath(fail: str) -> None:
    # which sibling steps ran (and are undone) is the parallel group's own rule; here the two
    # languages must agree, and the unwind must go on to the seats and the flight
    execution, calls = _same_as_jsonpath(DATA, fail=fail)
    assert calls[:5] == FORWARD[:5]
    assert calls[-6:] == [*SEATS_UNDONE, "Cancel Flight", "Notify"]
    assert (execution.status, execution.error) == ("FAILED", "SagaFailed")


@pytest.mark.parametrize("fail", ["Rent Car", "Insure Car", "Book Hotel"])
def test_a_fail_fast_error_in_a_branch_skips_the_unwind_like_jsonpath(fail: str) -> None:
    fatal = faults.fails(fail, error="Trip.Fatal", cause="no way on")
    execution, calls = _same_as_jsonpath(DATA, extra=[fatal])
    assert (execution.status, execution.error) == ("FAILED", "Trip.Fatal")
    assert execution.cause == '{"Error":"Trip.Fatal","Cause":"no way on"}'
    assert execution.states[-1] == "Saga Failed Fast"
    assert calls[:5] == FORWARD[:5]
    assert not set(calls) & {*SEATS_UNDONE, "Cancel Flight", "Notify", "Lounge"}


def test_a_skipped_conditional_step_is_not_compensated() -> None:
    _, calls = _same_as_jsonpath({**DATA, "vip": False}, fail="Charge")
    assert calls == [
        *[c for c in FORWARD[:-1] if c != "Lounge"],
        *EXTRAS_UNDONE,
        *SEATS_UNDONE,
        "Cancel Flight",
        "Notify",
    ]


def test_a_rejected_callback_unwinds() -> None:
    answer = {"error": "Trip.Rejected", "cause": "over budget"}
    execution, calls = _same_as_jsonpath(DATA, answer=answer)
    assert calls == [
        *FORWARD[: FORWARD.index("Approve") + 1],
        "Cancel Lounge",
        *EXTRAS_UNDONE,
        *SEATS_UNDONE,
        "Cancel Flight",
        "Notify",
    ]
    assert json.loads(execution.cause or "") == {"Error": "Trip.Rejected", "Cause": "over budget"}


def test_a_silent_callback_times_out_after_its_heartbeat_and_unwinds() -> None:
    execution, calls = _same_as_jsonpath(DATA, answer={"output": None, "after": 5000})
    assert calls == [
        *FORWARD[: FORWARD.index("Approve") + 1],
        "Cancel Lounge",
        *EXTRAS_UNDONE,
        *SEATS_UNDONE,
        "Cancel Flight",
        "Notify",
    ]
    assert json.loads(execution.cause or "")["Error"] == "States.Timeout"


@pytest.mark.parametrize(
    ("deadline", "ran"),
    [("2023-12-31T00:00:00Z", []), ("2024-01-01T00:00:50Z", FORWARD[:-2])],
    ids=["passed before the start", "passed while waiting for the approval"],
)
def test_a_passed_deadline_unwinds_what_ran(deadline: str, ran: list[str]) -> None:
    execution, calls = _same_as_jsonpath({**DATA, "deadline": deadline})
    undone = ["Cancel Lounge", *EXTRAS_UNDONE, *SEATS_UNDONE, "Cancel Flight"] if ran else []
    assert calls == [*ran, *undone, "Notify"]
    assert json.loads(execution.cause or "")["Error"] == "Saga.DeadlinePassed"


def test_a_deadline_ahead_lets_the_saga_finish() -> None:
    execution, _ = _same_as_jsonpath({**DATA, "deadline": "2024-01-01T01:00:00Z"})
    assert execution.status == "SUCCEEDED"


def _fields(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _fields(v)}
    if isinstance(value, list):
        return {k for v in value for k in _fields(v)}
    return set()


def _definitions() -> list[Any]:
    saga = build("JSONata", [])
    children = saga.child_sagas()
    arn = "arn:aws:lambda:us-east-1:123456789012:function:"
    return [json.loads(_substitute(s.to_json(), arn)) for s in [saga, *children]]


def test_every_shape_compiles_to_plain_jsonata() -> None:
    definitions = _definitions()
    assert [d["QueryLanguage"] for d in definitions] == ["JSONata", "JSONata"]
    assert not _fields(definitions) & JSONPATH_FIELDS
    states = definitions[0]["States"]
    assert states["Lounge (when)"]["Choices"][0]["Condition"] == (
        '{% ($exists(($states.input).`vip`) and ($type(($states.input).`vip`) = "boolean" '
        "and ($states.input).`vip` = true)) %}"
    )
    assert states["Seats"]["Items"] == "{% ($states.input).`passengers` %}"
    assert states["Seats"]["ItemSelector"]["item"] == "{% $states.context.`Map`.`Item`.`Value` %}"
    assert states["Seats"]["Output"] == (
        '{% $merge([$states.input, {"seats": {"items": ($states.result), '
        '"failed": [($states.result).`error`]}}]) %}'
    )
    approve = states["Approve"]
    assert approve["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert approve["Arguments"]["Payload"]["taskToken"] == "{% $states.context.`Task`.`Token` %}"
    assert (approve["HeartbeatSeconds"], approve["TimeoutSeconds"]) == (600, 3600)
    assert states["Pay"]["Resource"] == "arn:aws:states:::states:startExecution.sync:2"


def test_every_shape_passes_statelint_and_asl_validator() -> None:
    definitions = _definitions()
    assert statelint_problems(definitions) == [[], []]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is installed by README's test command (npm, in .tools/)")
    assert asl_validator_problems(definitions, command) == [[], []]
