"""Assertions about an execution that read like the domain: path, retries, compensations, outcome.

Each raises :class:`SagaAssertionError` (an ``AssertionError``) whose message says what differs
and shows the execution's history as a table.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from engine.execution import Execution
from saga.outcome import Failure, SagaExecution, decode_failure, unwrap_cause
from saga.testing.history_table import history_table
from saga.visits import Attempt, StateVisit, state_visits

if TYPE_CHECKING:
    from saga.declaration import SagaDeclaration
    from saga.steps import Step

__all__ = [
    "Attempt",
    "SagaAssertionError",
    "StateVisit",
    "assert_compensated",
    "assert_failed",
    "assert_path",
    "assert_retried",
    "assert_succeeded",
    "assert_timed_out",
    "compensations_run",
    "retry_delays",
    "state_visits",
]

_MISSING: Final[Any] = object()


class SagaAssertionError(AssertionError):
    """An execution did not do what the test expected; the message holds its history."""

    __module__ = "saga.testing"

    def __init__(self, message: str, execution: Execution) -> None:
        self.execution = execution
        super().__init__(f"{message}\n\nhistory of the execution:\n{history_table(execution)}")


def retry_delays(execution: Execution, state: str) -> list[float]:
    """The backoff before each retry of ``state``, in seconds, over all its visits."""
    return [delay for visit in state_visits(execution, state) for delay in visit.delays()]


def _names(items: Sequence[Any]) -> list[str]:
    return [json.dumps(item, ensure_ascii=False) for item in items]


def _not_one_string(value: Any, what: str) -> None:
    """A bare string would be read letter by letter: refuse it, showing the list to write."""
    if isinstance(value, str):
        raise TypeError(
            f"{what}: expected a list of state names, got the string {value!r}; write [{value!r}]"
        )


def _fail(message: str, execution: Execution) -> SagaAssertionError:
    return SagaAssertionError(message, execution)


def assert_path(execution: Execution, expected: Sequence[str]) -> None:
    """The top-level states the execution entered are exactly ``expected``, in order."""
    __tracebackhide__ = True
    _not_one_string(expected, "assert_path")
    actual = list(execution.states)
    if actual == list(expected):
        return
    index = next(
        (i for i, (a, e) in enumerate(zip(actual, expected, strict=False)) if a != e),
        min(len(actual), len(expected)),
    )
    if index < len(actual) and index < len(expected):
        where = f"at step {index + 1}: entered {actual[index]!r}, expected {expected[index]!r}"
    elif index < len(actual):
        where = f"after step {index}: it went on into {actual[index]!r}"
    else:
        where = f"after step {index}: it stopped before {expected[index]!r}"
    raise _fail(
        f"the execution took another path ({where})\n"
        f"  expected: {' → '.join(_names(expected)) or '(no state)'}\n"
        f"  actual:   {' → '.join(_names(actual)) or '(no state)'}",
        execution,
    )


def assert_retried(
    execution: Execution,
    state: str,
    *,
    times: int,
    delays: Sequence[float] | None = None,
    tolerance: float = 0.001,
) -> None:
    """``state`` was retried ``times`` times, waiting ``delays`` seconds before each retry.

    Delays come from the history's virtual timestamps: from the failed attempt's end to the
    next attempt's start. Over several visits of the state, retries and delays add up.
    """
    __tracebackhide__ = True
    visits = state_visits(execution, state)
    if not visits:
        raise _fail(f"state {state!r} never ran, so it was not retried", execution)
    actual_times = sum(visit.retries for visit in visits)
    actual_delays = [delay for visit in visits for delay in visit.delays()]
    problems: list[str] = []
    if actual_times != times:
        problems.append(f"{state!r} was retried {_count(actual_times)}, expected {_count(times)}")
    if delays is not None and (
        len(actual_delays) != len(delays)
        or not all(
            math.isclose(a, e, rel_tol=0.0, abs_tol=tolerance)
            for a, e in zip(actual_delays, delays, strict=True)
        )
    ):
        problems.append(
            f"retry delays of {state!r} were {_seconds(actual_delays)}, "
            f"expected {_seconds(delays)} (± {tolerance:g} s each)"
        )
    if problems:
        errors = [a.error or "?" for visit in visits for a in visit.attempts if a.error]
        if errors:
            problems.append(f"errors of its attempts: {', '.join(errors)}")
        raise _fail("\n".join(problems), execution)


def _count(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _seconds(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g} s" for v in values) + "]"


def _compensation_names(saga: SagaDeclaration) -> set[str]:
    return {s.compensation.name for s in saga.forward_steps if s.compensation is not None}


def _expected_name(item: str | Step) -> tuple[str, SagaDeclaration | None]:
    if isinstance(item, str):
        return item, None
    if item.compensation is not None:
        return item.compensation.name, item.saga
    return item.name, item.saga


def _failed_runs(execution: Execution, names: Sequence[str]) -> dict[str, str]:
    """Of the states ``names`` that ran, those whose last try failed: name → error (message)."""
    if isinstance(execution, SagaExecution):
        return {
            step.state: _error_text(step.error, step.message)
            for step in execution.unwind
            if step.state in names and step.failed
        }
    out: dict[str, str] = {}
    for name in names:
        for visit in state_visits(execution, name):
            last = visit.attempts[-1] if visit.attempts else None
            if last is not None and last.error is not None:
                details = last.outcome.details if last.outcome is not None else None
                cause = details.get("cause") if details else None
                message = unwrap_cause(last.error, cause if isinstance(cause, str) else None)[1]
                out[name] = _error_text(last.error, message)
    return out


def _error_text(error: str | None, message: str | None) -> str:
    return f"{error}: {message}" if message else str(error)


def compensations_run(execution: Execution, saga: SagaDeclaration) -> list[str]:
    """The compensations of ``saga`` the execution entered, in order."""
    names = _compensation_names(saga)
    return [state for state in execution.states if state in names]


def assert_compensated(
    execution: Execution,
    expected: Sequence[str | Step],
    *,
    saga: SagaDeclaration | None = None,
    failed: Sequence[str | Step] = (),
) -> None:
    """Exactly the ``expected`` compensations ran, in this order, and only ``failed`` failed.

    Give compensation state names, or the saga's steps (a forward step stands for its
    compensation). Knowing the saga (``saga=``, or through the steps given) also catches a
    compensation that ran but was not expected; with names alone, only those are checked.
    A compensation that ran and failed (after its retries) is an undo that did not happen:
    it must be listed in ``failed``, and each one listed there must have failed.
    """
    __tracebackhide__ = True
    _not_one_string(expected, "assert_compensated")
    _not_one_string(failed, "assert_compensated(failed=...)")
    names: list[str] = []
    for item in expected:
        name, owner = _expected_name(item)
        names.append(name)
        saga = saga if saga is not None else owner
    if saga is not None:
        known = _compensation_names(saga)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise _fail(
                f"{', '.join(map(repr, unknown))} "
                f"{'is not a compensation' if len(unknown) == 1 else 'are not compensations'}"
                f" of saga {saga.name!r} (its compensations: {sorted(known)})",
                execution,
            )
        actual = compensations_run(execution, saga)
    else:
        wanted = set(names)
        actual = [state for state in execution.states if state in wanted]
    if actual != names:
        raise _fail(
            "the compensations differ\n"
            f"  expected: {' → '.join(_names(names)) or '(none)'}\n"
            f"  ran:      {' → '.join(_names(actual)) or '(none)'}",
            execution,
        )
    expected_failed = [_expected_name(item)[0] for item in failed]
    outcomes = _failed_runs(execution, names)
    actual_failed = [name for name in names if name in outcomes]
    if sorted(actual_failed) == sorted(expected_failed):
        return
    lines = [
        f"  {json.dumps(n, ensure_ascii=False)} failed with {outcomes[n]}" for n in actual_failed
    ]
    raise _fail(
        "the compensations that failed differ\n"
        f"  expected to fail: {', '.join(_names(expected_failed)) or '(none)'}\n"
        f"  failed:           {', '.join(_names(actual_failed)) or '(none)'}"
        + ("\n" + "\n".join(lines) if lines else ""),
        execution,
    )


def _cause_matches(actual: str | None, expected: str | re.Pattern[str]) -> bool:
    if actual is None:
        return False
    if isinstance(expected, re.Pattern):
        return expected.search(actual) is not None
    if actual == expected:
        return True
    if actual.startswith("{"):
        try:
            parsed = json.loads(actual)
        except ValueError:
            return False
        return isinstance(parsed, dict) and parsed.get("errorMessage") == expected
    return False


def _failure_of(execution: Execution) -> Failure | None:
    if isinstance(execution, SagaExecution):
        return execution.failure
    return decode_failure(execution)


def _check_status(execution: Execution, status: str) -> None:
    __tracebackhide__ = True
    if execution.status != status:
        detail = ""
        if execution.error is not None:
            failure = _failure_of(execution)
            detail = f" with {execution.error}" + (f" ({failure})" if failure else "")
        raise _fail(
            f"execution {execution.name!r} ended {execution.status}{detail}, expected {status}",
            execution,
        )


def assert_succeeded(execution: Execution, *, output: Any = _MISSING) -> None:
    """The execution succeeded (and its output equals ``output`` when given)."""
    __tracebackhide__ = True
    _check_status(execution, "SUCCEEDED")
    if output is not _MISSING and execution.output != output:
        raise _fail(
            "the output differs\n"
            f"  expected: {json.dumps(output, ensure_ascii=False, sort_keys=True)}\n"
            f"  actual:   {json.dumps(execution.output, ensure_ascii=False, sort_keys=True)}",
            execution,
        )


def _check_error(
    execution: Execution, error: str | None, cause: str | re.Pattern[str] | None
) -> None:
    __tracebackhide__ = True
    problems: list[str] = []
    if error is not None and execution.error != error:
        problems.append(f"  error: {execution.error!r}, expected {error!r}")
    if cause is not None and not _cause_matches(execution.cause, cause):
        shown = cause.pattern if isinstance(cause, re.Pattern) else cause
        problems.append(f"  cause: {execution.cause!r}\n  expected {shown!r}")
    if problems:
        failure = _failure_of(execution)
        if failure is not None:
            problems.append(f"  original failure: {failure}")
        raise _fail(
            f"execution {execution.name!r} ended {execution.status} differently\n"
            + "\n".join(problems),
            execution,
        )


def assert_failed(
    execution: Execution,
    *,
    error: str | None = None,
    cause: str | re.Pattern[str] | None = None,
) -> None:
    """The execution failed (with ``error`` and ``cause`` when given).

    ``cause`` matches the whole cause text, or the ``errorMessage`` of a Lambda-style JSON
    cause; a compiled pattern is searched in the cause.
    """
    __tracebackhide__ = True
    _check_status(execution, "FAILED")
    _check_error(execution, error, cause)


def assert_timed_out(
    execution: Execution,
    *,
    error: str | None = None,
    cause: str | re.Pattern[str] | None = None,
) -> None:
    """The execution timed out (its own TimeoutSeconds), with ``error``/``cause`` when given."""
    __tracebackhide__ = True
    _check_status(execution, "TIMED_OUT")
    _check_error(execution, error, cause)
