"""Where a resumed run picks up: what the interpreter takes from a stored history.

:mod:`engine.durable` reads a history into these records; the run loop only consumes them,
so the interpreter needs nothing of the resume plumbing above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RedrivenChild", "RedrivenVisit", "ResumePoint", "VisitProgress"]


@dataclass(frozen=True, slots=True)
class VisitProgress:
    """How far one visit of a top-level state got before the execution stopped.

    ``counters`` are the retries already started per retrier (``None`` for none);
    ``pending_error`` is a failure whose retry or catch was not decided yet, recorded at
    ``pending_posix``; ``succeeded`` says the task's last attempt recorded its ``result``
    (it is not run again).
    """

    name: str
    input: Any
    entered_id: int
    entered_posix: float
    retry_count: int = 0
    counters: tuple[int, ...] | None = None
    pending_error: str | None = None
    pending_cause: str | None = None
    pending_aliases: tuple[str, ...] = ()
    """Further names the pending failure is matched by (``States.HeartbeatTimeout``)."""
    pending_posix: float | None = None
    succeeded: bool = False
    result: Any = None
    map_run_arn: str | None = None
    map_runs_started: int = 0
    """How many map runs the visit had started (a run again as a whole gets a new ARN)."""


@dataclass(frozen=True, slots=True)
class RedrivenChild:
    """Where a redriven branch or iteration that did not succeed goes on.

    Its states that completed are not run again: it enters ``state`` (the last one it entered
    that did not complete) with the input recorded for it, with the variables the completed
    states of the branch or iteration assigned.
    """

    state: str
    input: Any
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RedrivenVisit:
    """What a redriven Parallel or Map keeps of its unsuccessful visit (``RedriveExecution``).

    ``outputs`` are the outputs of the branches (by branch index) or inline iterations (by item
    index) that succeeded: they are not run again; ``children`` where the others go on.
    ``map_run_arn`` is a distributed Map's run that is redriven: its succeeded children are
    kept, the others run again.
    """

    outputs: dict[int, Any] = field(default_factory=dict)
    children: dict[int, RedrivenChild] = field(default_factory=dict)
    """Branches or iterations that did not succeed and go on from a state of theirs."""
    map_run_arn: str | None = None


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a resumed execution goes on.

    With ``started`` False nothing was recorded: the execution starts from the beginning.
    Otherwise either ``visit`` is a visit to continue, or the execution enters ``next_state``
    with ``next_input`` (``next_state`` None: it ends, succeeding with ``next_input``).
    ``last_id`` is the event the next top-level event follows.
    """

    started: bool
    last_id: int = 0
    visit: VisitProgress | None = None
    next_state: str | None = None
    next_input: Any = None
    states: tuple[str, ...] = ()
    variables: dict[str, Any] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)
    transitions: int = 0
    timeout_from: float | None = None
    """When the machine's ``TimeoutSeconds`` starts counting (None: the execution's start)."""
    redriven: dict[str, RedrivenVisit] = field(default_factory=dict)
    """A redriven top-level Parallel or Map, by state name: what its first attempt keeps."""
