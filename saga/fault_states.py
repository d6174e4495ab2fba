"""Checking a fault plan against its machine: each fault must name a state the machine has.

Running a saga with faults checks the plan before it starts, so the check sits beside the runner;
:mod:`saga.testing.faults` builds the faults on :class:`StateFault` and re-exports the check.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from engine.bindings import Interceptor
from engine.model import MapState, ParallelState, State, StateMachine

__all__ = ["StateFault", "UnknownFaultState", "check_fault_states"]


class StateFault:
    """Base of a fault: an interceptor that answers the calls of the state it names."""

    kind: str = "fault"
    state: str


class UnknownFaultState(ValueError):
    """A fault names a state the machine does not have, so it would inject nothing."""


def _state_names(states: Mapping[str, State]) -> list[str]:
    names: list[str] = []
    for name, state in states.items():
        names.append(name)
        if isinstance(state, ParallelState):
            for branch in state.branches:
                names += _state_names(branch.states)
        elif isinstance(state, MapState) and (state.item_processor or state.iterator):
            names += _state_names(state.processor.states)
    return names


def check_fault_states(faults: Iterable[Interceptor], machine: StateMachine) -> None:
    """Refuse a fault on a state ``machine`` does not have (also inside Parallel and Map).

    The message lists the machine's states and suggests the closest name, so a misspelt
    state fails the test instead of silently injecting nothing.
    """
    names = _state_names(machine.states)
    known = set(names)
    for fault in faults:
        if not isinstance(fault, StateFault) or fault.state in known:
            continue
        close = difflib.get_close_matches(fault.state, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        listed = ", ".join(repr(name) for name in names)
        raise UnknownFaultState(
            f"faults.{fault.kind}({fault.state!r}): the state machine has no state "
            f"{fault.state!r}, so the fault would inject nothing; {hint}its states are: {listed}"
        )
