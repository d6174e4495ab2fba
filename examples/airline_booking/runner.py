"""Run one scenario on the local engine and read back what it left behind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.clock import Clock, RealClock, VirtualClock
from engine.execution import Execution
from engine.loader import load
from engine.local_engine import run
from engine.model import StateMachine
from engine.store import ExecutionStore
from examples.airline_booking.environment import AirlineEnvironment
from examples.airline_booking.evidence import Evidence, collect_evidence
from examples.airline_booking.functions import HANDLERS
from examples.airline_booking.saga import booking
from examples.airline_booking.scenarios import PreparedRun, Scenario
from examples.airline_booking.trace import Role

__all__ = [
    "ROLES",
    "ClockName",
    "ScenarioRun",
    "load_reference",
    "make_clock",
    "run_scenario",
]

ClockName = Literal["virtual", "real"]


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario's execution and the evidence read back after it."""

    prepared: PreparedRun
    machine: StateMachine
    execution: Execution
    evidence: Evidence


def make_clock(name: ClockName) -> Clock:
    """A fresh clock: virtual (backoffs skipped) or real (backoffs waited)."""
    return VirtualClock() if name == "virtual" else RealClock()


def load_reference(env: AirlineEnvironment, path: Path) -> StateMachine:
    """The sample's own definition with ``${BookingsDLQ}`` bound to this environment's queue.

    The Lambda placeholders stay as they are: :data:`HANDLERS` binds them by name.
    """
    return load(path, substitutions=env.substitutions())


def run_scenario(
    scenario: Scenario,
    env: AirlineEnvironment,
    machine: StateMachine,
    *,
    handlers: Mapping[str, Callable[..., Any]] = HANDLERS,
    clock: ClockName = "virtual",
    seed: int = 0,
    run_id: str = "1",
    store: ExecutionStore | None = None,
    handlers_ref: str | None = None,
    machine_name: str | None = None,
) -> ScenarioRun:
    """Prepare the world for ``scenario``, run ``machine`` on it, and collect the evidence.

    ``handlers`` bind the definition's Lambda placeholders (by default the sample's functions
    by placeholder name; a saga passes its own :meth:`~saga.saga.Saga.handlers`). With a
    ``store`` every event is kept there, with ``handlers_ref`` saying what ran.
    """
    prepared = scenario.prepare(env, run_id)
    execution = run(
        machine,
        prepared.input,
        handlers=handlers,
        name=prepared.execution_name,
        clock=make_clock(clock),
        seed=seed,
        interceptors=scenario.faults,
        store=store,
        handlers_ref=handlers_ref,
        state_machine_name=machine_name,
    )
    return ScenarioRun(prepared, machine, execution, collect_evidence(env, prepared))


def _roles() -> dict[str, Role]:
    """Each ProcessBooking state's role, as the saga declares it (forward steps left out)."""
    kinds = {"compensation": Role.COMPENSATION, "failure handler": Role.FAILURE_HANDLER}
    roles = {step.name: kinds[step.role] for step in booking.all_steps() if step.role in kinds}
    ends = (booking.success_state, booking.failure_state)
    return {**roles, **{name: Role.END for name in ends if name is not None}}


ROLES: dict[str, Role] = _roles()
"""What each ProcessBooking state is for, so the trace marks compensations as such."""
