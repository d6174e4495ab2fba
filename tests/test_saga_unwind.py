"""Every compensation's fate is in the result, and a failure reads as the step that failed.

The trip-booking saga: Book Flight, then Book Hotel and Rent Car side by side, then Charge
Card (compensating itself); every step compensated; Cancel Hotel fails when the hotel system
is down.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine
from examples.trip.trip import book_hotel, trip
from saga.cli import main
from saga.compile import compile_with_handlers
from saga.outcome import Failure, SagaExecution, UnwindStep, explain
from saga.testing import SagaAssertionError, SagaTestEngine, assert_compensated, history_table

ROOT = Path(__file__).resolve().parent.parent
DECLINED_HOTEL_DOWN = {"declineCard": True, "hotelDown": True, "amount": 250}
HOTEL_DOWN_MESSAGE = "the hotel system is down: booking hotel-1 is still held"


def _lambda_cause(cause: str | None) -> dict[str, Any]:
    assert cause is not None
    parsed: dict[str, Any] = json.loads(cause)
    return parsed


def test_the_unwind_record_of_the_trip_with_a_failing_compensation() -> None:
    execution = trip.run(DECLINED_HOTEL_DOWN, name="trip-1")
    assert isinstance(execution, SagaExecution)
    assert (execution.status, execution.error) == ("FAILED", "SagaFailed")
    unwind = [step.to_dict() for step in execution.unwind]
    cancel_hotel = unwind[2]
    assert _lambda_cause(cancel_hotel.pop("cause"))["errorMessage"] == HOTEL_DOWN_MESSAGE
    assert unwind == [
        {
            "state": "Refund Card",
            "role": "compensation",
            "compensates": "Charge Card",
            "status": "SUCCEEDED",
        },
        {
            "state": "Return Car",
            "role": "compensation",
            "compensates": "Rent Car",
            "status": "SUCCEEDED",
        },
        {
            "state": "Cancel Hotel",
            "role": "compensation",
            "compensates": "Book Hotel",
            "status": "FAILED",
            "error": "HotelSystemDown",
            "message": HOTEL_DOWN_MESSAGE,
        },
        {
            "state": "Cancel Flight",
            "role": "compensation",
            "compensates": "Book Flight",
            "status": "SUCCEEDED",
        },
        {"state": "Notify Customer", "role": "failure handler", "status": "SUCCEEDED"},
    ]
    assert [step.state for step in execution.failed_compensations] == ["Cancel Hotel"]


def test_a_failed_compensation_makes_the_result_differ_from_a_clean_unwind() -> None:
    clean = trip.run({"declineCard": True, "amount": 250}, name="trip-1")
    broken = trip.run(DECLINED_HOTEL_DOWN, name="trip-1")
    assert clean.states == broken.states
    assert clean.failed_compensations == []
    assert clean.to_dict()["unwind"] != broken.to_dict()["unwind"]
    assert [s["status"] for s in broken.to_dict()["unwind"]] == [
        "SUCCEEDED",
        "SUCCEEDED",
        "FAILED",
        "SUCCEEDED",
        "SUCCEEDED",
    ]


def test_the_raw_cause_is_kept_byte_for_byte_and_the_failure_is_decoded() -> None:
    execution = trip.run(DECLINED_HOTEL_DOWN, name="trip-1")
    machine, handlers = compile_with_handlers(trip)
    raw = engine.run(machine, DECLINED_HOTEL_DOWN, handlers=handlers, name="trip-1")
    assert (execution.error, execution.cause) == (raw.error, raw.cause)
    outer = json.loads(execution.cause or "")
    assert outer["Error"] == "CardDeclined"
    assert json.loads(outer["Cause"])["errorMessage"] == "card declined for 250"
    assert execution.failure == Failure(
        error="CardDeclined", message="card declined for 250", step="Charge Card"
    )
    assert str(execution.failure) == "'Charge Card' failed: CardDeclined: card declined for 250"


def test_a_failing_branch_step_is_named_as_the_failed_step() -> None:
    execution = trip.run({"noCar": True}, name="trip-2")
    assert execution.failure == Failure(
        error="NoCarLeft", message="no car left at the airport", step="Rent Car"
    )
    assert [step.state for step in execution.unwind] == [
        "Return Car",
        "Cancel Hotel",
        "Cancel Flight",
        "Notify Customer",
    ]


def test_a_failing_failure_handler_is_in_the_unwind() -> None:
    execution = SagaTestEngine().run(
        trip,
        {"declineCard": True},
        handlers={"NotifyCustomer": _mail_down},
    )
    handler = execution.unwind[-1]
    assert (handler.state, handler.role, handler.status, handler.error, handler.message) == (
        "Notify Customer",
        "failure handler",
        "FAILED",
        "MailDown",
        "no mail server",
    )
    assert execution.failed_compensations == []


class MailDown(Exception):
    pass


def _mail_down(event: Any) -> None:
    raise MailDown("no mail server")


def test_a_succeeded_saga_has_no_unwind_and_no_failure() -> None:
    execution = trip.run({"amount": 20}, name="trip-ok")
    assert (execution.status, execution.unwind, execution.failure) == ("SUCCEEDED", [], None)
    assert "unwind" not in execution.to_dict() and "failure" not in execution.to_dict()


def test_assert_compensated_asserts_which_compensations_failed() -> None:
    execution = SagaTestEngine(name_prefix="trip").run(trip, DECLINED_HOTEL_DOWN)
    order = ["Refund Card", "Return Car", "Cancel Hotel", "Cancel Flight"]
    assert_compensated(execution, order, saga=trip, failed=["Cancel Hotel"])
    assert_compensated(execution, order, saga=trip, failed=[book_hotel])
    with pytest.raises(SagaAssertionError) as caught:
        assert_compensated(execution, order, saga=trip)
    assert str(caught.value).split("\n\n")[0] == (
        "the compensations that failed differ\n"
        "  expected to fail: (none)\n"
        '  failed:           "Cancel Hotel"\n'
        f'  "Cancel Hotel" failed with HotelSystemDown: {HOTEL_DOWN_MESSAGE}'
    )


def test_assert_compensated_by_names_on_a_plain_execution() -> None:
    machine, handlers = compile_with_handlers(trip)
    raw = engine.run(machine, DECLINED_HOTEL_DOWN, handlers=handlers, name="trip-1")
    assert not isinstance(raw, SagaExecution)
    assert_compensated(raw, ["Cancel Hotel", "Cancel Flight"], failed=["Cancel Hotel"])
    with pytest.raises(SagaAssertionError, match="the compensations that failed differ"):
        assert_compensated(raw, ["Cancel Hotel", "Cancel Flight"])


def test_the_history_table_marks_the_unwind() -> None:
    execution = SagaTestEngine(name_prefix="trip").run(trip, DECLINED_HOTEL_DOWN)
    lines = history_table(execution).splitlines()
    assert lines[0] == (
        "  execution 'trip-1': FAILED (SagaFailed ← 'Charge Card' failed: CardDeclined: card "
        "declined for 250)"
    )
    assert lines[-6:] == [
        "  unwind (✗ failed, ↺ compensation, • failure handler):",
        "    ↺ Refund Card      SUCCEEDED  compensation of 'Charge Card'",
        "    ↺ Return Car       SUCCEEDED  compensation of 'Rent Car'",
        f"    ✗ Cancel Hotel     FAILED     compensation of 'Book Hotel' — HotelSystemDown: "
        f"{HOTEL_DOWN_MESSAGE}",
        "    ↺ Cancel Flight    SUCCEEDED  compensation of 'Book Flight'",
        "    • Notify Customer  SUCCEEDED  failure handler",
    ]
    failed_rows = [line for line in lines if "LambdaFunctionFailed" in line]
    assert [row[45:60].strip() for row in failed_rows] == ["Charge Card", "✗ Cancel Hotel"]


def test_saga_run_prints_the_unwind_and_the_decoded_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code = main(
        [
            "run",
            "examples.trip.trip:trip",
            "--input",
            json.dumps(DECLINED_HOTEL_DOWN),
            "--name",
            "trip-1",
        ]
    )
    printed = json.loads(capsys.readouterr().out)
    assert code == 1
    direct = trip.run(DECLINED_HOTEL_DOWN, name="trip-1")
    assert printed == direct.to_dict()
    assert list(printed) == [
        "status",
        "error",
        "cause",
        "failure",
        "name",
        "states",
        "unwind",
    ]
    assert printed["failure"] == {
        "step": "Charge Card",
        "error": "CardDeclined",
        "message": "card declined for 250",
    }
    assert printed["unwind"][2]["status"] == "FAILED"


def test_saga_execute_decodes_a_plain_definition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "flow.asl.json"
    definition.write_text(
        json.dumps(
            {
                "StartAt": "Charge",
                "States": {
                    "Charge": {
                        "Type": "Task",
                        "Resource": "${Charge}",
                        "Catch": [
                            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "Undo"}
                        ],
                        "End": True,
                    },
                    "Undo": {"Type": "Task", "Resource": "${Undo}", "Next": "Failed"},
                    "Failed": {"Type": "Fail", "Error": "Rolled", "CausePath": "$.e.Cause"},
                },
            }
        ),
        encoding="utf-8",
    )
    handlers = tmp_path / "flow_handlers.py"
    handlers.write_text(
        "class Declined(Exception):\n    pass\n\n\n"
        "def charge(event):\n    raise Declined('no funds')\n\n\n"
        "HANDLERS = {'Charge': charge, 'Undo': lambda event: None}\n",
        encoding="utf-8",
    )
    code = main(["execute", str(definition), "--handlers", str(handlers), "--name", "f-1"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 1
    assert printed["failure"] == {"step": "Charge", "error": "Declined", "message": "no funds"}
    assert printed["unwind"] == [{"state": "Undo", "status": "SUCCEEDED"}]


def test_explain_keeps_every_field_of_the_execution() -> None:
    machine, handlers = compile_with_handlers(trip)
    raw = engine.run(machine, DECLINED_HOTEL_DOWN, handlers=handlers, name="trip-1")
    explained = explain(raw, saga=trip)
    for field in ("name", "status", "error", "cause", "states", "history", "seed", "input"):
        assert getattr(explained, field) == getattr(raw, field)
    assert isinstance(explained.unwind[0], UnwindStep)
