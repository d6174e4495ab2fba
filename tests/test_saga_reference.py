"""Sagas against an independent reference model of their semantics, property-based.

Random sagas (steps with retriers, compensations, ``compensate_on``, ``fail_fast_on``,
``compensate_self``, parallel groups with their own retriers, failure handlers) run under
random fault plans (which call of which step fails with which error, or hangs past its
timeout) three ways: through :mod:`tests.saga_reference_model` (which reads the declaration
and never touches the compiler or the engine), compiled and run on the engine, and exported
to JSON, loaded back and run. All three must agree on the status, the output, the error and
cause, the states entered in order (steps, groups, compensations, handlers, the final state),
how many times each step was called, and the delay before each retry.

A group's steps run concurrently, so only its one step that may fail counts its calls and
returns a value that depends on them; the others return their name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import engine
from engine.bindings import TaskRequest
from engine.execution import Execution
from saga.policies import Retry
from saga.saga import ORIGINAL_ERROR, Saga
from saga.testing import faults, retry_delays
from saga.testing.clock import TestClock
from tests.saga_reference_model import Fault, Outcome, run_reference

MAX_EXAMPLES = 300
SEED = 11
INPUT = {"orderId": "o-1", "amount": 5}
DELAY_TOLERANCE = 1e-6
"""Seconds a measured delay may differ from the model's: the test clock keeps handlers' running
time out of virtual time, so delays are exact up to the µs rounding of ``retry_delays``."""


class ErrA(Exception):
    """Named by its class name."""


class ErrB(Exception):
    """Named by its ``error_name``."""

    error_name = "Custom.ErrB"


RETRY_ERRORS: list[Any] = [ErrA, "Custom.ErrB", "States.Timeout", "States.TaskFailed", ValueError]
HANG = "hang"
ERRORS = ("ErrA", "Custom.ErrB", "ValueError")


@dataclass
class RetrySpec:
    errors: tuple[Any, ...]
    interval: int | None
    backoff: float | None
    max_retries: int | None
    max_delay: int | None
    jitter: str | None

    def build(self) -> Retry:
        return Retry(
            *self.errors,
            interval=self.interval,
            backoff_rate=self.backoff,
            max_retries=self.max_retries,
            max_delay=self.max_delay,
            jitter=self.jitter,  # type: ignore[arg-type]
        )


@dataclass
class TaskSpec:
    name: str
    plan: list[str] = field(default_factory=list)
    retry: list[RetrySpec] = field(default_factory=list)
    discard_result: bool = False
    constant: bool = False

    @property
    def timeout(self) -> int | None:
        return 5 if HANG in self.plan else None


@dataclass
class StepSpec:
    task: TaskSpec
    compensation: TaskSpec | None = None
    compensate_self: bool = False
    compensate_on: str = "default"
    fail_fast: bool = False


@dataclass
class GroupSpec:
    name: str
    steps: list[StepSpec]
    retry: list[RetrySpec]
    compensate_self: bool
    compensate_on: str
    fail_fast: bool


@dataclass
class SagaSpec:
    units: list[StepSpec | GroupSpec]
    handlers: list[tuple[TaskSpec, bool]]
    success: bool
    static_failure: bool
    original_error: bool = False
    """``failure_error=ORIGINAL_ERROR``: every unit then compensates on custom errors only."""

    def tasks(self) -> list[TaskSpec]:
        out: list[TaskSpec] = []
        for unit in self.units:
            steps = unit.steps if isinstance(unit, GroupSpec) else [unit]
            for step in steps:
                out.append(step.task)
                if step.compensation is not None:
                    out.append(step.compensation)
        return out + [task for task, _ in self.handlers]


# -- strategies --------------------------------------------------------------------------------

outcomes = st.sampled_from(["ok", "ErrA", "ErrA", "Custom.ErrB", "ValueError", HANG])
plans = st.lists(outcomes, max_size=6)
compensate_on_choices = st.sampled_from(["default", "default", "ErrA", "TaskFailed", "none"])
_retrier_options = st.tuples(
    st.sampled_from([None, 0, 1, 2, 3]),
    st.sampled_from([None, 1.0, 1.5, 2.0, 3.0]),
    st.sampled_from([None, 0, 1, 2, 3]),
    st.sampled_from([None, 1, 5]),
    st.sampled_from([None, None, "FULL", "NONE"]),
)


@st.composite
def retriers(draw: st.DrawFn) -> list[RetrySpec]:
    names = draw(st.permutations(range(len(RETRY_ERRORS))))[: draw(st.integers(0, 3))]
    groups: list[tuple[Any, ...]] = []
    for index in names:
        if groups and draw(st.booleans()):
            groups[-1] += (RETRY_ERRORS[index],)
        else:
            groups.append((RETRY_ERRORS[index],))
    if draw(st.booleans()):
        groups.append(("States.ALL",))
    return [RetrySpec(errors, *draw(_retrier_options)) for errors in groups]


@st.composite
def tasks(draw: st.DrawFn, name: str, *, faulty: bool = True, discard: bool = False) -> TaskSpec:
    return TaskSpec(
        name=name,
        plan=draw(plans) if faulty else [],
        retry=draw(retriers()),
        discard_result=discard and draw(st.booleans()),
        constant=not faulty,
    )


@st.composite
def steps(draw: st.DrawFn, name: str, *, faulty: bool = True, in_group: bool = False) -> StepSpec:
    task = draw(tasks(name, faulty=faulty, discard=not in_group))
    compensation = draw(tasks(f"Undo {name}")) if draw(st.integers(0, 3)) > 0 else None
    if in_group:
        return StepSpec(task, compensation)
    return StepSpec(
        task,
        compensation,
        compensate_self=compensation is not None and draw(st.booleans()),
        compensate_on=draw(compensate_on_choices),
        fail_fast=draw(st.booleans()),
    )


@st.composite
def sagas(draw: st.DrawFn) -> SagaSpec:
    total = draw(st.integers(1, 7))
    units: list[StepSpec | GroupSpec] = []
    index = 0
    while index < total:
        size = draw(st.integers(1, min(3, total - index)))
        if size >= 2 and draw(st.booleans()):
            faulty = draw(st.integers(0, size - 1))
            members = [
                draw(steps(f"S{index + k + 1}", faulty=k == faulty, in_group=True))
                for k in range(size)
            ]
            units.append(
                GroupSpec(
                    f"G{len(units) + 1}",
                    members,
                    draw(retriers()),
                    draw(st.booleans()),
                    draw(compensate_on_choices),
                    draw(st.booleans()),
                )
            )
            index += size
        else:
            units.append(draw(steps(f"S{index + 1}")))
            index += 1
    handlers = [
        (draw(tasks(f"H{k + 1}")), draw(st.booleans())) for k in range(draw(st.integers(0, 2)))
    ]
    spec = SagaSpec(units, handlers, draw(st.booleans()), draw(st.booleans()))
    if draw(st.integers(0, 3)) == 0:
        spec.original_error = True
        for unit in spec.units:
            unit.compensate_on = draw(st.sampled_from(["ErrA", "ErrA", "none"]))
    # Let the first units succeed more often, so that later failures have something to undo.
    last = len(spec.units) - 1
    prefix = last if draw(st.booleans()) else draw(st.integers(0, last))
    for unit in spec.units[:prefix]:
        for step in unit.steps if isinstance(unit, GroupSpec) else [unit]:
            step.task.plan = [o for o in step.task.plan if o == "ok"]
    return spec


# -- building and running ----------------------------------------------------------------------


def _action(task: TaskSpec, counts: dict[str, int]) -> Callable[[Any], Any]:
    """The step's Python action: its result tells which call it was and what it was given."""

    def action(event: Any) -> Any:
        counts[task.name] = call = counts.get(task.name, 0) + 1
        if task.constant:
            return task.name
        return {
            "from": task.name,
            "call": call,
            "fields": sorted(event) if isinstance(event, dict) else None,
        }

    return action


def _options(task: TaskSpec) -> dict[str, Any]:
    options: dict[str, Any] = {"retry": [r.build() for r in task.retry]}
    if task.timeout is not None:
        options["timeout"] = task.timeout
    if task.discard_result:
        options["result_path"] = None
    return options


def _catch(spec: StepSpec | GroupSpec) -> dict[str, Any]:
    options: dict[str, Any] = {}
    choice: dict[str, list[Any]] = {"ErrA": [ErrA], "TaskFailed": ["States.TaskFailed"], "none": []}
    if spec.compensate_on in choice:
        options["compensate_on"] = choice[spec.compensate_on]
    if spec.fail_fast:
        options["fail_fast_on"] = [ValueError]
    return options


def build(spec: SagaSpec) -> Saga:
    """The saga ``spec`` describes, with fresh call counters."""
    counts: dict[str, int] = {}
    saga = Saga(
        "Reference",
        success_state="Done" if spec.success else None,
        failure_error=(
            ORIGINAL_ERROR
            if spec.original_error
            else "Compensated"
            if spec.static_failure
            else "SagaFailed"
        ),
        failure_cause="compensated" if spec.static_failure else None,
    )

    def add(where: Any, step: StepSpec, extra: dict[str, Any]) -> None:
        added = where.step(
            step.task.name, _action(step.task, counts), **_options(step.task), **extra
        )
        if step.compensation is not None:
            comp = step.compensation
            added.compensate(comp.name, _action(comp, counts), **_options(comp))

    for unit in spec.units:
        if isinstance(unit, GroupSpec):
            has_compensation = any(m.compensation is not None for m in unit.steps)
            group = saga.parallel(
                unit.name,
                retry=[r.build() for r in unit.retry],
                compensate_self=unit.compensate_self and has_compensation,
                **_catch(unit),
            )
            for member in unit.steps:
                add(group, member, {})
        else:
            extra = _catch(unit)
            if unit.compensate_self:
                extra["compensate_self"] = True
            add(saga, unit, extra)
    for task, keep_going in spec.handlers:
        saga.on_failure(
            task.name, _action(task, counts), continue_on_error=keep_going, **_options(task)
        )
    return saga


def _cause(task: TaskSpec, call: int) -> str:
    return f"{task.name} call {call}"


def model_faults(spec: SagaSpec) -> dict[str, dict[int, Fault]]:
    out: dict[str, dict[int, Fault]] = {}
    for task in spec.tasks():
        for call, what in enumerate(task.plan, start=1):
            if what == HANG:
                out.setdefault(task.name, {})[call] = Fault("States.Timeout", None)
            elif what != "ok":
                out.setdefault(task.name, {})[call] = Fault(what, _cause(task, call))
    return out


class _Calls:
    """Counts every invocation of each state (outermost interceptor, so faults count too)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def __call__(self, request: TaskRequest, call_next: Any) -> Any:
        self.counts[request.state_name] = self.counts.get(request.state_name, 0) + 1
        return await call_next(request)


def engine_faults(spec: SagaSpec, states: set[str]) -> list[Any]:
    """The fault plan as interceptors, for the states the machine has (a compensation that can
    never run is left out of it, and the model never runs it either)."""
    out: list[Any] = []
    for task in spec.tasks():
        if task.name not in states:
            continue
        for call, what in enumerate(task.plan, start=1):
            if what == HANG:
                out.append(faults.hangs(task.name, invocations=[call]))
            elif what != "ok":
                out.append(
                    faults.fails(
                        task.name, error=what, cause=_cause(task, call), invocations=[call]
                    )
                )
    return out


def _observed(spec: SagaSpec, saga: Saga, execution: Execution, calls: _Calls) -> Outcome:
    counted = [t.name for t in spec.tasks() if not t.constant]
    delays: dict[str, list[tuple[float, float]]] = {}
    for name in [*counted, *(u.name for u in spec.units if isinstance(u, GroupSpec))]:
        measured = retry_delays(execution, name)
        if measured:
            delays[name] = [(d, d) for d in measured]
    return Outcome(
        status=execution.status,
        output=execution.output,
        error=execution.error,
        cause=execution.cause,
        states=list(execution.states),
        invocations={n: calls.counts[n] for n in counted if n in calls.counts},
        delays=delays,
    )


def _state_names(saga: Saga) -> set[str]:
    machine = saga.to_state_machine()
    names = set(machine.states)
    for state in machine.states.values():
        names |= {name for branch in getattr(state, "branches", []) for name in branch.states}
    return names


def run_engine(spec: SagaSpec, *, exported: bool) -> Outcome:
    saga = build(spec)
    calls = _Calls()
    interceptors = [calls, *engine_faults(spec, _state_names(saga))]
    if exported:
        loaded = engine.load(saga.to_state_machine().to_json())
        execution = engine.run(
            loaded,
            INPUT,
            handlers=saga.handlers(),
            seed=SEED,
            interceptors=interceptors,
            clock=TestClock(),
        )
    else:
        execution = saga.run(INPUT, seed=SEED, interceptors=interceptors, clock=TestClock())
    return _observed(spec, saga, execution, calls)


def run_model(spec: SagaSpec) -> Outcome:
    outcome = run_reference(build(spec), INPUT, model_faults(spec))
    constant = {t.name for t in spec.tasks() if t.constant}
    outcome.invocations = {n: c for n, c in outcome.invocations.items() if n not in constant}
    return outcome


def assert_agrees(model: Outcome, observed: Outcome, where: str) -> None:
    """``observed`` is what ``model`` says, each retry's delay within the model's bounds."""
    for what in ("status", "error", "cause", "states", "invocations", "output"):
        expected, got = getattr(model, what), getattr(observed, what)
        assert got == expected, f"{where}: {what} differs\n  model: {expected!r}\n  ran:   {got!r}"
    assert set(observed.delays) == set(model.delays), (
        f"{where}: retried states differ\n  model: {sorted(model.delays)}\n"
        f"  ran:   {sorted(observed.delays)}"
    )
    for name, bounds in model.delays.items():
        got = [low for low, _ in observed.delays[name]]
        ok = len(got) == len(bounds) and all(
            low - DELAY_TOLERANCE <= d <= high + DELAY_TOLERANCE
            for d, (low, high) in zip(got, bounds, strict=True)
        )
        assert ok, f"{where}: retry delays of {name!r} differ\n  model: {bounds}\n  ran:   {got}"


@pytest.mark.filterwarnings("ignore::saga.errors.SagaWarning")  # unreachable compensations
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=sagas())
def test_compiled_sagas_behave_as_the_reference_model(spec: SagaSpec) -> None:
    model = run_model(spec)
    direct = run_engine(spec, exported=False)
    assert_agrees(model, direct, "compiled saga on the engine")
    exported = run_engine(spec, exported=True)
    assert_agrees(model, exported, "exported, loaded and run on the engine")
    event(f"status {model.status}, error {model.error}")
    event(f"retries: {sum(len(d) for d in model.delays.values())}")
    event(f"compensations run: {sum(s.startswith('Undo') for s in model.states)}")


# -- the model itself, on sagas whose outcome is worked out by hand ------------------------------


def _orders(jitter: str | None = None) -> Saga:
    saga = Saga("Orders")
    counts: dict[str, int] = {}

    def act(name: str) -> Callable[[Any], Any]:
        def action(event: Any) -> Any:
            counts[name] = counts.get(name, 0) + 1
            return f"{name}-{counts[name]}"

        return action

    retry = Retry(ErrA, interval=2, backoff_rate=3.0, max_delay=10, jitter=jitter)  # type: ignore[arg-type]
    reserve = saga.step("Reserve", act("Reserve"), retry=[retry])
    reserve.compensate("Release", act("Release"))
    charge = saga.step("Charge", act("Charge"))
    charge.compensate("Refund", act("Refund"))
    saga.step("Ship", act("Ship"))
    saga.on_failure("Notify", act("Notify"))
    return saga


def test_the_model_unwinds_in_reverse_after_backing_off() -> None:
    plan = {
        "Reserve": {1: Fault("ErrA", "a"), 2: Fault("ErrA", "b"), 3: Fault("ErrA", "c")},
        "Ship": {1: Fault("Carrier.Down", "no slot")},
    }
    outcome = run_reference(_orders(), {"id": 1}, plan)
    assert outcome.states == [
        *("Reserve", "Charge", "Ship", "Refund", "Release", "Notify", "Saga Failed")
    ]
    assert outcome.delays == {"Reserve": [(2.0, 2.0), (6.0, 6.0), (10.0, 10.0)]}
    assert outcome.invocations == {
        "Reserve": 4,
        "Charge": 1,
        "Ship": 1,
        "Refund": 1,
        "Release": 1,
        "Notify": 1,
    }
    assert (outcome.status, outcome.error) == ("FAILED", "SagaFailed")
    assert json.loads(outcome.cause or "") == {"Error": "Carrier.Down", "Cause": "no slot"}


def test_the_model_lets_an_error_through_once_the_first_matching_retrier_is_spent() -> None:
    saga = Saga("First")
    saga.step(
        "Only",
        lambda event: "done",
        retry=[Retry("States.TaskFailed", max_retries=1), Retry(ErrA, max_retries=5)],
        compensate_on=[],
    )
    outcome = run_reference(saga, {}, {"Only": {1: Fault("ErrA", "x"), 2: Fault("ErrA", "y")}})
    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "ErrA", "y")
    assert outcome.delays == {"Only": [(1.0, 1.0)]}
    assert outcome.states == ["Only"]


@pytest.mark.parametrize("jitter", ["FULL", None])
def test_the_engine_agrees_with_the_model_on_a_worked_saga(jitter: str | None) -> None:
    plan = {"Reserve": {1: Fault("ErrA", "a"), 2: Fault("ErrA", "a")}}
    model = run_reference(_orders(jitter), {"id": 1}, plan)
    assert model.output == {
        "id": 1,
        "reserve": "Reserve-1",
        "charge": "Charge-1",
        "ship": "Ship-1",
    }
    calls = _Calls()
    execution = _orders(jitter).run(
        {"id": 1},
        seed=SEED,
        clock=TestClock(),
        interceptors=[calls, faults.fails("Reserve", error="ErrA", cause="a", invocations=[1, 2])],
    )
    observed = Outcome(
        status=execution.status,
        output=execution.output,
        states=list(execution.states),
        invocations=calls.counts,
        delays={"Reserve": [(d, d) for d in retry_delays(execution, "Reserve")]},
    )
    assert_agrees(model, observed, "the worked saga")
    if jitter is None:
        assert observed.delays == {"Reserve": [(2.0, 2.0), (6.0, 6.0)]}
