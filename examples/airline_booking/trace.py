"""The path an execution took, read from its history: steps, attempts, backoffs, catches.

:func:`steps_of` turns Step Functions history events into :class:`Step` records (what the
tests assert on); :func:`render_trace` prints them for a person, compensations marked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from engine.execution import Execution
from engine.history import (
    TASK_FAILED_EVENTS,
    TASK_SCHEDULED_EVENTS,
    TASK_SUCCEEDED_EVENTS,
    HistoryEvent,
)
from engine.model import StateMachine, TaskState
from examples.airline_booking.style import Style

__all__ = [
    "Attempt",
    "Role",
    "Step",
    "error_message",
    "render_trace",
    "retry_delays",
    "short_cause",
    "steps_of",
]

_EXECUTION_END = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")


class Role(Enum):
    """What a state is for in the saga, so the trace can mark it."""

    FORWARD = "forward"
    COMPENSATION = "compensation"
    FAILURE_HANDLER = "failure handler"
    END = "end"


@dataclass
class Attempt:
    """One invocation of a Task's resource: when it started, and how it ended."""

    started: float
    ended: float | None = None
    error: str | None = None
    cause: str | None = None
    output: Any = None
    backoff: float | None = None
    """Seconds waited since the previous attempt failed (None for the first attempt)."""

    @property
    def failed(self) -> bool:
        """Whether this attempt ended in an error."""
        return self.error is not None


@dataclass
class Step:
    """One visit of a state: its type, attempts, and where the execution went next."""

    name: str
    state_type: str
    entered: float
    exited: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    output: Any = None
    next_state: str | None = None
    execution_error: str | None = None
    execution_cause: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the state ended in an error (caught, or ending the execution)."""
        return (bool(self.attempts) and self.attempts[-1].failed) or self.state_type == "Fail"

    @property
    def retries(self) -> list[float]:
        """The backoff waited before each retry, in seconds."""
        return [a.backoff for a in self.attempts if a.backoff is not None]


def steps_of(history: Iterable[HistoryEvent]) -> list[Step]:
    """The top-level states an execution visited, in order, with their attempts."""
    steps: list[Step] = []
    current: Step | None = None
    last_failure: float | None = None
    for event in history:
        kind = event.type
        details = event.details or {}
        if kind.endswith("StateEntered"):
            current = Step(str(details.get("name")), kind[: -len("StateEntered")], event.posix)
            if steps and steps[-1].next_state is None:
                steps[-1].next_state = current.name
            steps.append(current)
            last_failure = None
        elif current is None:
            continue
        elif kind in TASK_SCHEDULED_EVENTS:
            backoff = None if last_failure is None else event.posix - last_failure
            current.attempts.append(Attempt(started=event.posix, backoff=backoff))
        elif kind in TASK_SUCCEEDED_EVENTS and current.attempts:
            current.attempts[-1].ended = event.posix
            current.attempts[-1].output = details.get("output")
        elif kind in TASK_FAILED_EVENTS and current.attempts:
            attempt = current.attempts[-1]
            attempt.ended = event.posix
            attempt.error = details.get("error")
            attempt.cause = details.get("cause")
            last_failure = event.posix
        elif kind.endswith("StateExited"):
            current.exited = event.posix
            current.output = details.get("output")
        elif kind in _EXECUTION_END and kind != "ExecutionSucceeded":
            current.execution_error = details.get("error")
            current.execution_cause = details.get("cause")
    return steps


def retry_delays(steps: Iterable[Step]) -> dict[str, list[float]]:
    """Backoffs waited per state, rounded to milliseconds (only states that retried)."""
    delays: dict[str, list[float]] = {}
    for step in steps:
        if step.retries:
            delays.setdefault(step.name, []).extend(round(d, 3) for d in step.retries)
    return delays


def error_message(cause: str | None) -> str:
    """The readable part of a cause: a Lambda cause's ``errorMessage``, else the text itself."""
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return cause


def _seconds(value: float) -> str:
    if value >= 60:
        minutes, seconds = divmod(value, 60)
        return f"{int(minutes)}m{seconds:04.1f}s"
    return f"{value:.1f}s"


def _catch_of(machine: StateMachine | None, step: Step, error: str | None) -> str | None:
    """The ResultPath the catcher that handled ``error`` wrote the error to."""
    state = machine.states.get(step.name) if machine is not None else None
    if not isinstance(state, TaskState) or not state.catch or error is None:
        return None
    from engine.retry import find_catcher

    catcher = find_catcher(state.catch, error)
    if catcher is None:
        return None
    return catcher.result_path if "result_path" in catcher.model_fields_set else "$"


def _max_retries(machine: StateMachine | None, step: Step, error: str | None) -> int | None:
    state = machine.states.get(step.name) if machine is not None else None
    if not isinstance(state, TaskState) or not state.retry or error is None:
        return None
    from engine.retry import find_retrier, max_attempts

    index = find_retrier(state.retry, error)
    return None if index is None else max_attempts(state.retry[index])


def render_trace(
    execution: Execution,
    *,
    machine: StateMachine | None = None,
    roles: Mapping[str, Role] | None = None,
    style: Style | None = None,
) -> list[str]:
    """The execution's path as lines for a terminal: one line per state visited, then its
    attempts, retries (with the backoff waited) and where a caught error went."""
    style = style or Style(enabled=False)
    roles = roles or {}
    steps = steps_of(execution.history)
    start = execution.start_posix
    width = max((len(step.name) for step in steps), default=0) + 2
    lines: list[str] = []
    for step in steps:
        role = roles.get(step.name, Role.FORWARD)
        clock = style.dim(f"+{_seconds(step.entered - start):>6}")
        marker, name = _heading(step, role, style)
        label = name + " " * (width - len(step.name))
        summary = _summary(step, role, machine, style)
        lines.append(f"  {clock}  {marker} {label}{summary}".rstrip())
        lines.extend(" " * 15 + line for line in _details(step, machine, style))
    return lines


def _heading(step: Step, role: Role, style: Style) -> tuple[str, str]:
    if step.state_type == "Fail":
        return style.red("✗"), style.bold(style.red(step.name))
    if role is Role.END:
        return style.green("✓"), style.bold(style.green(step.name))
    if role is Role.COMPENSATION:
        return (style.red("✗") if step.failed else style.yellow("↺")), style.yellow(step.name)
    if role is Role.FAILURE_HANDLER:
        return (style.red("✗") if step.failed else style.magenta("•")), style.magenta(step.name)
    if step.failed:
        return style.red("✗"), style.bold(step.name)
    return style.green("✓"), style.bold(step.name)


def _short(value: Any, limit: int = 60) -> str:
    """A result on one line; service metadata (``SdkHttpMetadata``, ``MD5Of…``) left out."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if not k.startswith(("Sdk", "MD5"))}
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(step: Step, role: Role, machine: StateMachine | None, style: Style) -> str:
    if step.state_type == "Fail":
        return style.red(f"execution FAILED ({step.execution_error or 'no error name'})")
    if role is Role.END:
        return style.green("execution SUCCEEDED")
    tag = {
        Role.COMPENSATION: style.yellow("compensation"),
        Role.FAILURE_HANDLER: style.magenta("failure handling"),
    }.get(role, "")
    if step.failed or not step.attempts:
        return tag
    state = machine.states.get(step.name) if machine is not None else None
    result_path = getattr(state, "result_path", None) if isinstance(state, TaskState) else None
    if result_path is None:
        return tag
    stored = style.dim(f"{result_path} = {_short(step.attempts[-1].output)}")
    return f"{tag}  {stored}" if tag else stored


def short_cause(message: str, limit: int = 110) -> str:
    """A cause short enough for one line: AWS's ``(Service: …)`` suffix dropped, then cut."""
    message = message.split(" (Service: ", 1)[0]
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _details(step: Step, machine: StateMachine | None, style: Style) -> list[str]:
    lines: list[str] = []
    total = len(step.attempts)
    for number, attempt in enumerate(step.attempts, start=1):
        if attempt.backoff is not None:
            limit = _max_retries(machine, step, step.attempts[number - 2].error)
            of = f" of {limit}" if limit else ""
            waited = _seconds(attempt.backoff)
            lines.append(style.cyan(f"⏱ retry {number - 1}{of} after a {waited} backoff"))
        if attempt.failed:
            prefix = f"attempt {number}: " if total > 1 else ""
            message = short_cause(error_message(attempt.cause))
            lines.append(
                style.red(f"{prefix}{attempt.error}" + (f": {message}" if message else ""))
            )
        elif total > 1:
            lines.append(style.green(f"attempt {number}: succeeded"))
    if step.attempts and step.attempts[-1].failed and step.next_state is not None:
        where = _catch_of(machine, step, step.attempts[-1].error)
        into = f" (error kept at {where})" if where else ""
        lines.append(style.yellow(f"↳ caught → {step.next_state}{into}"))
    return lines
