"""A reference model of saga semantics: a plain Python interpreter of a saga *declaration*.

It reads what the user declared on a :class:`saga.Saga` (its steps in order, their retriers,
compensations, catch rules, parallel groups and failure handlers) and runs it directly, step by
step, without the compiler (``saga.compile``) or the engine. The property test in
``tests/test_saga_reference.py`` holds the compiled machine, run on the engine, to this model.

The rules it encodes, each written once and as plainly as possible:

- forward units run in declaration order; a step's result goes to its ``result_path``
  (``None`` keeps the input), a group's to its ``result_path`` as the list of its steps'
  results in declaration order (each step of a group gets the group's input);
- a failed try is retried by the **first** of its retriers whose errors match (``States.ALL``
  matches any error, ``States.TaskFailed`` any but ``States.Timeout``); each retrier counts
  its own retries, restarting at every visit; retry *n* of a retrier waits
  ``min(interval * rate ** (n - 1), max_delay)`` (defaults 1 s, 2.0, 3 retries), or a draw in
  ``[0, that]`` with full jitter; an exhausted or absent retrier lets the error through;
- a failed group (one of its steps failed after that step's own retries) is retried by the
  group's retriers, which run every step again;
- an error of a forward unit listed in its ``fail_fast_on`` ends the execution with that error
  and, as cause, the error output ``{"Error", "Cause"}`` as compact JSON; one matching its
  ``compensate_on`` (default: any) is recorded at its ``error_path`` and starts the unwind; any
  other error ends the execution with the step's own error and cause;
- the unwind runs the compensations of the units that completed, latest first (a group's in
  reverse declaration order), preceded by the failed unit's own with ``compensate_self``
  (default on for a group, off for a step); a compensation's failure is recorded at its
  ``error_path`` and the unwind goes on; then the failure handlers run in order (a failure is
  recorded and the next runs, or with ``continue_on_error=False`` ends the execution with the
  handler's error); then the saga fails with ``failure_error`` (or the original error's name)
  and ``failure_cause`` (or the recorded error output as compact JSON).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from saga.policies import Retry
from saga.saga import OriginalError, ParallelGroup, Saga
from saga.steps import Step

__all__ = ["Fault", "Outcome", "run_reference"]

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"


@dataclass(frozen=True)
class Fault:
    """What invocation ``invocation`` (1 = the first call of the state in the execution) does
    instead of running: fail with ``error``/``cause`` (``cause=None`` for a timeout)."""

    error: str
    cause: str | None


@dataclass
class Outcome:
    """How an execution ended, and what it did on the way."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    states: list[str] = field(default_factory=list)
    invocations: dict[str, int] = field(default_factory=dict)
    delays: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per state, the bounds ``(low, high)`` of each retry's delay (equal without jitter)."""


class _Failed(Exception):
    """A try, a step or a group failed with an error output."""

    def __init__(self, error: str, cause: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause

    def output(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Error": self.error}
        if self.cause is not None:
            out["Cause"] = self.cause
        elif self.error == TIMEOUT:
            out["Cause"] = ""  # a timeout's error output, as AWS passes it on
        return out


class _Ended(Exception):
    """The execution ended (a Fail state, or an error nothing catches)."""

    def __init__(self, error: str, cause: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


def _name_of(spec: object) -> str:
    if isinstance(spec, str):
        return spec
    assert isinstance(spec, type)
    name = getattr(spec, "error_name", None)
    return name if isinstance(name, str) else spec.__name__


def _matches(error: str, names: Sequence[str]) -> bool:
    return any(name in (ALL, error) or (name == TASK_FAILED and error != TIMEOUT) for name in names)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _put(data: Any, path: str | None, value: Any) -> Any:
    """``ResultPath`` for the paths sagas use by default: ``None``, ``$`` and ``$.key``."""
    if path is None:
        return data
    if path == "$":
        return copy.deepcopy(value)
    assert path.startswith("$.") and "." not in path[2:] and "[" not in path, path
    out = dict(data) if isinstance(data, dict) else {}
    out[path[2:]] = copy.deepcopy(value)
    return out


def _get(data: Any, path: str) -> Any:
    assert path.startswith("$.") and "." not in path[2:], path
    return data[path[2:]]


class _Run:
    def __init__(self, faults: Mapping[str, Mapping[int, Fault]]) -> None:
        self.faults = faults
        self.outcome = Outcome(status="RUNNING")

    # -- one task, with its retriers --------------------------------------------------------

    def _try(self, step: Step, event: Any) -> Any:
        calls = self.outcome.invocations
        calls[step.name] = calls.get(step.name, 0) + 1
        fault = self.faults.get(step.name, {}).get(calls[step.name])
        if fault is not None:
            raise _Failed(fault.error, fault.cause)
        action = step.python_action
        assert action is not None, "the reference model runs Python steps only"
        return action(copy.deepcopy(event))

    def _with_retries(self, name: str, retry: Sequence[Retry], attempt: Callable[[], Any]) -> Any:
        used = [0] * len(retry)
        while True:
            try:
                return attempt()
            except _Failed as failure:
                index = next(
                    (
                        i
                        for i, r in enumerate(retry)
                        if _matches(failure.error, [_name_of(e) for e in r.errors])
                    ),
                    None,
                )
                if index is None:
                    raise
                retrier = retry[index]
                limit = 3 if retrier.max_retries is None else retrier.max_retries
                if used[index] >= limit:
                    raise
                used[index] += 1
                interval = 1 if retrier.interval is None else retrier.interval
                rate = 2.0 if retrier.backoff_rate is None else retrier.backoff_rate
                delay = interval * rate ** (used[index] - 1)
                if retrier.max_delay is not None:
                    delay = min(delay, retrier.max_delay)
                jitter = retrier.jitter in ("FULL", True)
                self.outcome.delays.setdefault(name, []).append(
                    (0.0 if jitter else float(delay), float(delay))
                )

    def task(self, step: Step, event: Any) -> Any:
        return self._with_retries(step.name, step.retry, lambda: self._try(step, event))

    def group(self, group: ParallelGroup, event: Any) -> list[Any]:
        def attempt() -> list[Any]:
            return [self.task(step, event) for step in group.steps]

        result: list[Any] = self._with_retries(group.name, group.retry, attempt)
        return result

    # -- the saga ---------------------------------------------------------------------------

    def saga(self, saga: Saga, data: Any) -> Any:
        units = saga.units
        for index, unit in enumerate(units):
            self.outcome.states.append(unit.name)
            try:
                if isinstance(unit, ParallelGroup):
                    result: Any = self.group(unit, data)
                else:
                    result = self.task(unit, data)
            except _Failed as failure:
                if _matches(failure.error, unit.fail_fast_on):
                    self.outcome.states.append(saga.fail_fast_state)
                    raise _Ended(failure.error, _compact(failure.output())) from None
                if not _matches(failure.error, unit.compensate_on):
                    raise _Ended(failure.error, failure.cause) from None
                data = _put(data, unit.error_path, failure.output())
                undo = list(units[: index + 1] if unit.compensate_self else units[:index])
                self.unwind(saga, undo, data)
            data = _put(data, unit.result_path, result)
        if saga.success_state is not None:
            self.outcome.states.append(saga.success_state)
        return data

    def unwind(self, saga: Saga, undo: list[Step | ParallelGroup], data: Any) -> None:
        for unit in reversed(undo):
            steps = unit.steps if isinstance(unit, ParallelGroup) else [unit]
            for step in reversed(steps):
                if step.compensation is not None:
                    data = self.chain_step(step.compensation, data, keep_going=True)
        for handler in saga.failure_handlers:
            data = self.chain_step(handler, data, keep_going=handler.continue_on_error)
        self.outcome.states.append(saga.failure_state)
        if isinstance(saga.failure_error, OriginalError):
            assert saga.error_path is not None
            error = _get(data, saga.error_path)["Error"]
        else:
            error = saga.failure_error
        if saga.failure_cause is not None:
            cause = saga.failure_cause
        else:
            assert saga.error_path is not None
            cause = _compact(_get(data, saga.error_path))
        raise _Ended(error, cause)

    def chain_step(self, step: Step, data: Any, *, keep_going: bool) -> Any:
        self.outcome.states.append(step.name)
        try:
            result = self.task(step, data)
        except _Failed as failure:
            if not keep_going:
                raise _Ended(failure.error, failure.cause) from None
            return _put(data, step.error_path, failure.output())
        return _put(data, step.result_path, result)


def run_reference(
    saga: Saga, input: Any, faults: Mapping[str, Mapping[int, Fault]] | None = None
) -> Outcome:
    """Run ``saga``'s declaration on ``input``; ``faults[state][n]`` replaces call ``n``."""
    run = _Run(faults or {})
    try:
        output = run.saga(saga, copy.deepcopy(input))
    except _Ended as end:
        run.outcome.status = "FAILED"
        run.outcome.error = end.error
        run.outcome.cause = end.cause
    else:
        run.outcome.status = "SUCCEEDED"
        run.outcome.output = output
    return run.outcome
