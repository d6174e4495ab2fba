"""Misuse caught when a saga is declared or a test is set up, never silently accepted.

A stacked decorator, a fault on a misspelt state, a compensation that can never run.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from saga import Saga, SagaDefinitionError
from saga.cli import main
from saga.compile import saga_warnings
from saga.errors import SagaWarning
from saga.testing import SagaTestEngine, faults
from saga.testing.faults import UnknownFaultState


def _trip() -> tuple[Saga, Any]:
    trip = Saga("Trip")

    @trip.step("Book Flight")
    def book_flight(event: dict[str, Any]) -> str:
        return "flight-1"

    return trip, book_flight


def test_a_compensation_stacked_on_another_step_is_refused() -> None:
    trip, book_flight = _trip()
    with pytest.raises(SagaDefinitionError) as caught:

        @book_flight.compensate("Cancel Flight")
        @trip.step("Book Hotel")
        def book_hotel(event: dict[str, Any]) -> str:
            return "hotel-1"

    assert str(caught.value) == (
        "compensation 'Cancel Flight': the function book_hotel is already the action of step "
        "'Book Hotel' (decorators stacked on one function), so undoing step 'Book Flight' would "
        "run step 'Book Hotel' again; write @book_flight.compensate(\"Cancel Flight\") above a "
        "function of its own"
    )
    assert caught.value.step == "Cancel Flight"


def test_a_forward_step_given_as_a_compensation_is_refused() -> None:
    trip, book_flight = _trip()

    def book_hotel(event: dict[str, Any]) -> str:
        return "hotel-1"

    hotel = trip.step("Book Hotel", book_hotel)
    with pytest.raises(SagaDefinitionError, match=r"^compensation 'Cancel Flight': the function "):
        book_flight.compensate("Cancel Flight", hotel)


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (
            lambda saga, step: saga.step("Again")(step),
            "step 'Again': the function book_flight is already the action of step 'Book Flight' "
            "(decorators stacked on one function), so it would run step 'Book Flight' again; "
            'write @saga.step("Again") above a function of its own',
        ),
        (
            lambda saga, step: saga.on_failure("Notify")(step),
            "failure handler 'Notify': the function book_flight is already the action of step "
            "'Book Flight' (decorators stacked on one function), so it would run step 'Book "
            'Flight\' again; write @saga.on_failure("Notify") above a function of its own',
        ),
        (
            lambda saga, step: saga.parallel("Side").step("Branch")(step),
            "branch step 'Branch': the function book_flight is already the action of step "
            "'Book Flight' (decorators stacked on one function), so it would run step 'Book "
            'Flight\' again; write @group.step("Branch") above a function of its own',
        ),
    ],
    ids=["step", "failure handler", "group step"],
)
def test_any_stacked_decorator_is_refused(declare: Any, message: str) -> None:
    trip, book_flight = _trip()
    with pytest.raises(SagaDefinitionError) as caught:
        declare(trip, book_flight)
    assert str(caught.value) == message


def _two_steps() -> Saga:
    trip, book_flight = _trip()

    @book_flight.compensate("Cancel Flight")
    def cancel_flight(event: dict[str, Any]) -> None:
        return None

    @trip.step("Book Hotel")
    def book_hotel(event: dict[str, Any]) -> str:
        return "hotel-1"

    return trip


MISSPELT = (
    "faults.raises('Book Hotl'): the state machine has no state 'Book Hotl', so the fault "
    "would inject nothing; did you mean 'Book Hotel'? its states are: 'Book Flight', "
    "'Book Hotel', 'Cancel Flight', 'Saga Failed'"
)


def test_a_fault_on_a_misspelt_state_is_refused_by_the_test_engine() -> None:
    trip = _two_steps()
    engine = SagaTestEngine()
    with pytest.raises(UnknownFaultState) as caught:
        engine.run(trip, {}, faults=[faults.raises("Book Hotl", RuntimeError("full"))])
    assert str(caught.value) == MISSPELT
    assert engine.executions == []


def test_a_fault_on_a_misspelt_state_is_refused_by_saga_run() -> None:
    trip = _two_steps()
    with pytest.raises(UnknownFaultState) as caught:
        trip.run({}, interceptors=[faults.raises("Book Hotl", RuntimeError("full"))])
    assert str(caught.value) == MISSPELT


def test_a_fault_with_no_close_name_lists_the_states() -> None:
    trip = _two_steps()
    with pytest.raises(UnknownFaultState) as caught:
        trip.run({}, interceptors=[faults.fails("Zzz", error="E")])
    assert str(caught.value) == (
        "faults.fails('Zzz'): the state machine has no state 'Zzz', so the fault would inject "
        "nothing; its states are: 'Book Flight', 'Book Hotel', 'Cancel Flight', 'Saga Failed'"
    )


def test_a_fault_inside_a_parallel_branch_is_accepted() -> None:
    trip, _ = _trip()
    side = trip.parallel("Side By Side")
    side.step("Book Hotel", lambda event: "hotel")
    side.step("Rent Car", lambda event: "car")
    execution = trip.run({}, interceptors=[faults.fails("Rent Car", error="NoCar")])
    assert (execution.status, execution.error) == ("FAILED", "SagaFailed")
    assert json.loads(execution.cause)["Error"] == "NoCar"


UNREACHABLE = (
    "compensation 'Cancel Hotel' of step 'Book Hotel' can never run: no step after step "
    "'Book Hotel' can fail into the unwind, so it is left out of the machine; set "
    "compensate_self=True on step 'Book Hotel' (for an effect that may land before its error "
    "is seen), or move a step that can fail after it"
)

MODULE = """
from saga import Saga

trip = Saga("Trip")


@trip.step("Book Flight")
def book_flight(event):
    return "flight-1"


@book_flight.compensate("Cancel Flight")
def cancel_flight(event):
    return None


@trip.step("Book Hotel")
def book_hotel(event):
    return "hotel-1"


@book_hotel.compensate("Cancel Hotel")
def cancel_hotel(event):
    return None
"""


def _last_compensated() -> Saga:
    trip = _two_steps()
    hotel = next(step for step in trip.forward_steps if step.name == "Book Hotel")
    hotel.compensate("Cancel Hotel", lambda event: None)
    return trip


def test_an_unreachable_compensation_warns_at_compile_time() -> None:
    trip = _last_compensated()
    with pytest.warns(SagaWarning) as record:
        machine = trip.to_state_machine()
    assert [str(w.message) for w in record] == [UNREACHABLE]
    assert "Cancel Hotel" not in machine.states
    assert [(w.code, w.step) for w in saga_warnings(trip)] == [
        ("UNREACHABLE_COMPENSATION", "Cancel Hotel")
    ]


def test_an_unreachable_compensation_is_logged_through_structlog() -> None:
    trip = _last_compensated()
    try:
        with capture_logs() as logs, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trip.to_state_machine()
    finally:
        structlog.reset_defaults()  # capture_logs leaves structlog marked as configured
    assert logs == [
        {
            "event": "saga.unreachable_state",
            "log_level": "warning",
            "saga": "Trip",
            "state": "Cancel Hotel",
            "code": "UNREACHABLE_COMPENSATION",
            "message": UNREACHABLE,
        }
    ]


def test_compensate_self_or_a_later_step_silences_the_warning() -> None:
    trip = _last_compensated()
    trip.step("Pay", lambda event: "paid")
    assert saga_warnings(trip) == []


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "trip_unreachable.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("trip_unreachable", None)


def test_saga_validate_reports_the_unreachable_compensation(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "trip_unreachable:trip"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"trip_unreachable:trip: warning: /: UNREACHABLE_COMPENSATION: {UNREACHABLE}",
        "trip_unreachable:trip: valid (0 error(s), 1 warning(s))",
    ]
    assert captured.err == ""


def test_saga_export_warns_on_stderr(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "trip_unreachable:trip"]) == 0
    captured = capsys.readouterr()
    assert '"Cancel Flight"' in captured.out and '"Cancel Hotel"' not in captured.out
    assert captured.err == f"saga: warning: {UNREACHABLE}\n"
