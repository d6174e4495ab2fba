"""Durable resume of the saga shapes killed mid-unwind: the resumed execution ends as the
uninterrupted one did, and only the work in flight at the crash is done again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from engine.clock import VirtualClock
from engine.durable import resume
from engine.execution import Execution
from engine.loader import with_substitutions
from engine.local_engine import run
from engine.store import MemoryStore
from engine.store.base import Transition
from saga import Saga
from saga.running import child_arns
from saga.testing.callbacks import answers
from tests.test_saga_branches import build as build_branches
from tests.test_saga_callbacks import build as build_callbacks
from tests.test_saga_conditions import build as build_conditions
from tests.test_saga_deadline import ANSWERS as DEADLINE_ANSWERS
from tests.test_saga_deadline import build as build_deadline
from tests.test_saga_for_each import build as build_for_each
from tests.test_saga_nested import build as build_nested

T0 = datetime(2024, 1, 1, tzinfo=UTC)
NAME = "crash-1"


def _full(saga: Saga, data: object, store: MemoryStore) -> Execution:
    machine = saga.to_state_machine()
    return run(
        machine, data, handlers=saga.handlers(), name=NAME, clock=VirtualClock(T0), store=store
    )


def _cut(source: MemoryStore, k: int) -> MemoryStore:
    """A store holding ``NAME`` with its first ``k`` events, as a crash would leave it."""
    target = MemoryStore()
    record = dataclasses.replace(
        source.get(NAME), status="RUNNING", output=None, error=None, cause=None, stop_posix=None
    )
    target.start(record, "crashed")
    target.release(NAME, "crashed")
    recorded = source.transitions(NAME)
    for event in source.history(NAME)[:k]:
        following = recorded.get(event.id, ...)
        target.append(NAME, event, None if following is ... else Transition(following))
    return target


def _resume(store: MemoryStore, saga: Saga) -> Execution:
    report = resume(store, handlers_for=lambda record: saga.handlers(), clock=VirtualClock(T0))
    (execution,) = report.executions
    return execution


def _same_end(resumed: Execution, full: Execution) -> None:
    assert (resumed.status, resumed.output, resumed.error, resumed.cause, resumed.states) == (
        full.status,
        full.output,
        full.error,
        full.cause,
        full.states,
    )


def test_for_each_killed_inside_its_undo_map_undoes_every_item_again_then_goes_on() -> None:
    calls: list[str] = []
    saga = build_for_each(calls, fail=("Reserve Seat", "cy"))
    source = MemoryStore()
    full = _full(saga, {"passengers": ["ann", "bob", "cy"]}, source)
    events = source.history(NAME)
    # killed right after the first compensation of the undo Map (Cancel Meal ann) exits
    first_undo = next(
        e.id for e in events if e.type == "TaskStateExited" and e.state_name == "Cancel Meal"
    )
    calls.clear()
    resumed = _resume(_cut(source, first_undo), saga)
    _same_end(resumed, full)
    # A Map in progress runs again as a whole (like a Parallel): every item is undone again.
    assert calls == [
        "Cancel Meal ann",
        "Release Seat ann",
        "Cancel Meal bob",
        "Release Seat bob",
        "Cancel Flight -",
    ]


def test_for_each_killed_after_its_undo_map_only_finishes_the_unwind() -> None:
    calls: list[str] = []
    saga = build_for_each(calls, fail=("Take Payment", "-"))
    source = MemoryStore()
    full = _full(saga, {"passengers": ["ann"]}, source)
    events = source.history(NAME)
    undo_done = next(
        e.id for e in events if e.type == "MapStateExited" and e.state_name == "Undo Reserve Seats"
    )
    calls.clear()
    resumed = _resume(_cut(source, undo_done), saga)
    _same_end(resumed, full)
    assert calls == ["Cancel Flight -"]


def test_branches_killed_mid_unwind_finish_the_unwind_without_redoing_it() -> None:
    calls: list[str] = []
    saga = build_branches(calls, fail="Take Payment")
    source = MemoryStore()
    full = _full(saga, {}, source)
    events = source.history(NAME)
    # killed right after the first undo of the group (the car's insurance) exits
    cut = next(
        e.id
        for e in events
        if e.type == "TaskStateExited" and e.state_name == "Cancel Car Insurance"
    )
    calls.clear()
    resumed = _resume(_cut(source, cut), saga)
    _same_end(resumed, full)
    assert calls == ["Return Car", "Drop Breakfast", "Cancel Hotel", "Cancel Flight"]


@pytest.mark.parametrize(
    ("kind", "state", "again"),
    [
        # killed right after the Choice that skips the GPS's undo (the car branch failed first)
        ("ChoiceStateExited", "Add GPS (if done)", ["Cancel Car Insurance", "Return Car"]),
        ("TaskStateExited", "Return Car", []),
    ],
)
def test_a_failed_group_killed_mid_unwind_undoes_only_what_its_branches_did(
    kind: str, state: str, again: list[str]
) -> None:
    calls: list[str] = []
    saga = build_branches(calls, fail="Insure Car", gps=True)
    source = MemoryStore()
    full = _full(saga, {}, source)
    assert [c for c in calls if c.startswith(("Cancel", "Return", "Drop", "Remove"))] == [
        "Cancel Car Insurance",
        "Return Car",
        "Drop Breakfast",
        "Cancel Hotel",
        "Cancel Flight",
    ]
    events = source.history(NAME)
    cut = next(e.id for e in events if e.type == kind and e.state_name == state)
    calls.clear()
    resumed = _resume(_cut(source, cut), saga)
    _same_end(resumed, full)
    assert calls == [*again, "Drop Breakfast", "Cancel Hotel", "Cancel Flight"]


def test_conditional_steps_killed_mid_unwind_skip_what_was_skipped() -> None:
    calls: list[str] = []
    saga = build_conditions(calls, fail="Take Payment")
    source = MemoryStore()
    full = _full(saga, {"insurance": True, "points": 1}, source)
    events = source.history(NAME)
    # killed right after the Choice that skips the upgrade's undo (it never ran)
    cut = next(
        e.id
        for e in events
        if e.type == "ChoiceStateExited" and e.state_name == "Downgrade (if ran)"
    )
    calls.clear()
    resumed = _resume(_cut(source, cut), saga)
    _same_end(resumed, full)
    assert calls == ["Refund Insurance", "Cancel Flight"]


def test_a_rejected_callback_killed_before_its_undo_finishes_the_unwind() -> None:
    calls: list[str] = []
    saga = build_callbacks(calls)
    rejection = answers("Fraud Review", error="Fraud.Rejected", after=60)
    source = MemoryStore()
    machine = saga.to_state_machine()
    full = run(
        machine,
        {},
        handlers=saga.handlers(),
        name=NAME,
        clock=VirtualClock(T0),
        store=source,
        interceptors=[rejection],
    )
    events = source.history(NAME)
    # killed once the review failed, as the unwind starts
    cut = next(e.id for e in events if e.type == "TaskStateEntered" and e.state_name == "Unbook")
    calls.clear()
    resumed = _resume(_cut(source, cut), saga)
    _same_end(resumed, full)
    assert calls == ["Unbook"]


def test_a_passed_deadline_killed_mid_unwind_finishes_the_unwind() -> None:
    calls: list[str] = []
    saga = build_deadline(calls)
    source = MemoryStore()
    full = run(
        saga.to_state_machine(),
        {"deadline": "2024-01-01T00:02:30Z"},
        handlers=saga.handlers(),
        name=NAME,
        clock=VirtualClock(T0),
        store=source,
        interceptors=DEADLINE_ANSWERS,
    )
    events = source.history(NAME)
    # killed right after the first undo (Release Seats) exits
    cut = next(
        e.id for e in events if e.type == "TaskStateExited" and e.state_name == "Release Seats"
    )
    calls.clear()
    resumed = _resume(_cut(source, cut), saga)
    _same_end(resumed, full)
    assert calls == ["Release Fare", "Tell Customer"]


def test_a_failed_child_killed_during_the_parents_unwind_finishes_it() -> None:
    calls: list[str] = []
    trip, flights = build_nested(calls)
    source = MemoryStore()
    machine = with_substitutions(trip.to_state_machine(), child_arns(trip))
    full = run(
        machine,
        {"fail": "Confirm Flights"},
        handlers={**trip.handlers(), **flights.handlers()},
        name=NAME,
        clock=VirtualClock(T0),
        store=source,
        state_machine_name="Trip",
        state_machines={"Flights": flights.to_state_machine()},
    )
    events = source.history(NAME)
    # killed as the parent's unwind starts, the child having failed and unwound itself
    cut = next(
        e.id for e in events if e.type == "TaskStateEntered" and e.state_name == "Cancel Hotel"
    )
    calls.clear()
    resumed = _resume(_cut(source, cut), trip)
    _same_end(resumed, full)
    assert calls == ["Cancel Hotel"]
