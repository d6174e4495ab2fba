"""Fault injection by state and attempt, as engine interceptors.

Each fault wraps the task call of one state, so it works the same for Python steps, service
integrations and raw ASL tasks::

    faults.raises("Reserve Booking", BookingReservationException("full"), attempts=[1, 2])
    faults.fails("Reserve Flight", error="DynamoDB.ConditionalCheckFailedException")
    faults.hangs("Collect Payment")            # TimeoutSeconds fires, in virtual time
    faults.returns("Confirm Booking", "ref-1")
    faults.mock_config("MockConfigFile.json", "HappyPath")

``attempts`` counts as a person does: attempt 1 is the first try of a state visit, attempt 2
its first retry. ``invocations`` counts every call of the state in the execution, across
visits and retries (as mock-config files index them; 1 is the first call). Leaving both out
means every call. A fault that answers every call also stands in for the resource, so a
state with nothing bound to it can still run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from engine.bindings import Interceptor, TaskRequest, function_time_limit, task_error
from engine.clock import Clock
from engine.errors import RUNTIME, TIMEOUT, StatesError
from engine.lambda_shapes import classify_resource, function_timed_out, request_id_for
from engine.limits import DEFAULT_TASK_TIMEOUT_SECONDS
from engine.mock_config import MockConfig, MockConfigInterceptor, load_mock_config
from saga.fault_states import StateFault, UnknownFaultState, check_fault_states

__all__ = [
    "AWS_DEFAULT_TASK_TIMEOUT",
    "ClockBound",
    "Counts",
    "Fault",
    "Fails",
    "Hangs",
    "Raises",
    "Returns",
    "UnknownFaultState",
    "bind_clock",
    "check_fault_states",
    "config_state_machine",
    "fails",
    "fault_list",
    "hangs",
    "mock_config",
    "raises",
    "returns",
]

AWS_DEFAULT_TASK_TIMEOUT: Final = float(DEFAULT_TASK_TIMEOUT_SECONDS)
"""The TimeoutSeconds Step Functions applies to a Task that sets none."""

CallNext = Callable[[TaskRequest], Awaitable[Any]]


@runtime_checkable
class ClockBound(Protocol):
    """A fault that needs the engine's clock (a hang waits on it)."""

    def with_clock(self, clock: Clock) -> Interceptor:
        """A copy of the fault that waits on ``clock``."""
        ...


Counts = Iterable[int] | int | None
"""Which tries a fault applies to, counted from 1: one number, several, or None for all."""


def _count_set(counts: Counts, what: str) -> frozenset[int] | None:
    if counts is None:
        return None
    values = frozenset([counts] if isinstance(counts, int) else counts)
    bad = sorted(a for a in values if isinstance(a, bool) or not isinstance(a, int) or a < 1)
    if bad or not values:
        raise ValueError(f"{what} are counted from 1 (the first); got {sorted(values, key=repr)!r}")
    return values


class Fault(StateFault):
    """Base of the faults: matches one state name and some attempts, else calls through."""

    kind = "fault"

    def __init__(self, state: str, attempts: Counts, invocations: Counts = None) -> None:
        if not isinstance(state, str) or not state:
            raise ValueError("name the state the fault applies to")
        self.state = state
        self.attempts = _count_set(attempts, "attempts")
        self.invocations = _count_set(invocations, "invocations")

    def applies(self, request: TaskRequest) -> bool:
        """Whether this invocation is one the fault answers."""
        if request.state_name != self.state:
            return False
        if self.invocations is not None and request.invocation + 1 not in self.invocations:
            return False
        return self.attempts is None or request.attempt + 1 in self.attempts

    def mocks_state(self, state_name: str) -> bool:
        """Whether every invocation of ``state_name`` is answered here (no binding needed)."""
        return state_name == self.state and self.attempts is None and self.invocations is None

    async def __call__(self, request: TaskRequest, call_next: CallNext) -> Any:
        """Inject the fault when it applies; otherwise run the task as usual."""
        if self.applies(request):
            return await self.inject(request)
        return await call_next(request)

    async def inject(self, request: TaskRequest) -> Any:
        """What the task does instead of running (overridden by each fault)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        which = []
        if self.attempts is not None:
            which.append(f"attempts {sorted(self.attempts)}")
        if self.invocations is not None:
            which.append(f"invocations {sorted(self.invocations)}")
        return f"<{type(self).__name__} {self.state!r} on {' and '.join(which) or 'every attempt'}>"


class Raises(Fault):
    """The task raises a Python exception, reported exactly as a handler raising it would be."""

    kind = "raises"

    def __init__(
        self,
        state: str,
        exception: BaseException | type[BaseException],
        attempts: Counts = None,
        invocations: Counts = None,
    ) -> None:
        super().__init__(state, attempts, invocations)
        if isinstance(exception, type):
            exception = exception()
        if not isinstance(exception, Exception):
            raise TypeError(f"raises() needs an Exception, got {exception!r}")
        self.exception: Exception = exception

    async def inject(self, request: TaskRequest) -> Any:
        """Fail with the exception's error name and a Lambda-style cause for Lambda tasks."""
        info = classify_resource(request.resource)
        request_id = request_id_for(request.execution_name, request.state_name, request.invocation)
        raise task_error(self.exception, lambda_resource=info.is_lambda, request_id=request_id)


class Fails(Fault):
    """The task fails with an ASL error name and cause (e.g. an integration's error)."""

    kind = "fails"

    def __init__(
        self,
        state: str,
        error: str,
        cause: str | None = None,
        attempts: Counts = None,
        invocations: Counts = None,
    ) -> None:
        super().__init__(state, attempts, invocations)
        if not isinstance(error, str) or not error:
            raise ValueError("fails() needs an error name, e.g. 'DynamoDB.ConditionalCheckFailed'")
        self.error = error
        self.cause = cause

    async def inject(self, request: TaskRequest) -> Any:
        """Raise the error as the task's failure."""
        raise StatesError(self.error, self.cause)


class Returns(Fault):
    """The task returns ``value`` without running (a deep copy each time)."""

    kind = "returns"

    def __init__(
        self, state: str, value: Any, attempts: Counts = None, invocations: Counts = None
    ) -> None:
        super().__init__(state, attempts, invocations)
        json.dumps(value)  # fail early on a value no task could return
        self.value = value

    async def inject(self, request: TaskRequest) -> Any:
        """Return the canned value."""
        return copy.deepcopy(self.value)


class Hangs(Fault):
    """The task never answers: the state's TimeoutSeconds fires, in virtual time.

    Without TimeoutSeconds the task fails with ``States.Timeout`` after ``seconds`` (by
    default the 99,999,999 s Step Functions applies), unless the execution ends first. A
    step's Lambda function cannot hang that long: a step deployed as a ``${Placeholder}``
    function fails at its function's timeout with ``Sandbox.Timedout``, as the step itself
    would (see :func:`~engine.lambda_shapes.deployed_timeout`). It waits on the execution's
    clock; ``clock`` is only needed when calling the fault by hand.
    """

    kind = "hangs"

    def __init__(
        self,
        state: str,
        attempts: Counts = None,
        invocations: Counts = None,
        *,
        seconds: float = AWS_DEFAULT_TASK_TIMEOUT,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(state, attempts, invocations)
        if seconds <= 0:
            raise ValueError("a hang lasts a positive number of seconds")
        self.seconds = float(seconds)
        self.clock = clock

    def with_clock(self, clock: Clock) -> Hangs:
        """This hang, waiting on ``clock``."""
        return Hangs(self.state, self.attempts, self.invocations, seconds=self.seconds, clock=clock)

    async def __call__(self, request: TaskRequest, call_next: CallNext) -> Any:
        """Hang when the fault applies (until the step's function times out, if it is one);
        otherwise run the task as usual."""
        if self.applies(request):
            return await self._hang(request, function_time_limit(call_next, request))
        return await call_next(request)

    async def inject(self, request: TaskRequest) -> Any:
        """Wait on the engine's clock until the engine's timeout cancels the call.

        The clock is the one the request carries (the execution's), else the one given here.
        """
        return await self._hang(request, None)

    async def _hang(self, request: TaskRequest, function_limit: float | None) -> Any:
        clock = request.clock if request.clock is not None else self.clock
        if clock is None:
            raise StatesError(
                RUNTIME,
                f"faults.hangs({self.state!r}) needs the engine's clock: run it through an "
                "engine, the saga_engine fixture, or pass clock= (the clock the engine runs on)",
            )
        if function_limit is not None and function_limit < self.seconds:
            with clock.idle():
                await clock.sleep(function_limit)
            request_id = request_id_for(
                request.execution_name, request.state_name, request.invocation
            )
            raise StatesError("Sandbox.Timedout", function_timed_out(request_id, function_limit))
        with clock.idle():
            await clock.sleep(self.seconds)
        raise StatesError(TIMEOUT, f"The task of state '{request.state_name}' never answered.")


def raises(
    state: str,
    exception: BaseException | type[BaseException],
    *,
    attempts: Counts = None,
    invocations: Counts = None,
) -> Raises:
    """State ``state`` raises ``exception`` (on the given tries, else on every one)."""
    return Raises(state, exception, attempts, invocations)


def fails(
    state: str,
    *,
    error: str,
    cause: str | None = None,
    attempts: Counts = None,
    invocations: Counts = None,
) -> Fails:
    """State ``state`` fails with ASL ``error`` and ``cause`` (on the given tries, else always)."""
    return Fails(state, error, cause, attempts, invocations)


def returns(
    state: str, value: Any, *, attempts: Counts = None, invocations: Counts = None
) -> Returns:
    """State ``state`` returns ``value`` as its task result (on the given tries, else always)."""
    return Returns(state, value, attempts, invocations)


def hangs(
    state: str,
    *,
    attempts: Counts = None,
    invocations: Counts = None,
    seconds: float = AWS_DEFAULT_TASK_TIMEOUT,
    clock: Clock | None = None,
) -> Hangs:
    """State ``state`` never answers, so its TimeoutSeconds fires (in virtual time)."""
    return Hangs(state, attempts, invocations, seconds=seconds, clock=clock)


def mock_config(
    source: str | Path | Mapping[str, Any],
    test_case: str,
    *,
    state_machine: str | None = None,
) -> MockConfigInterceptor:
    """The mocked responses of a Step Functions Local mock-config test case.

    ``state_machine`` may be left out when the file defines a single state machine.
    """
    config = load_mock_config(source)
    if state_machine is None:
        state_machine = config_state_machine(config, test_case)
    return MockConfigInterceptor(config, state_machine, test_case)


def config_state_machine(config: MockConfig, test_case: str, preferred: str | None = None) -> str:
    """``preferred`` when the mock config defines it, else the config's only state machine."""
    if preferred is not None and preferred in config.state_machines:
        return preferred
    machines = sorted(config.state_machines)
    if len(machines) != 1:
        raise ValueError(
            f"{config.source}: name the state machine of test case {test_case!r} "
            f"(defined: {', '.join(machines) or 'none'})"
        )
    return machines[0]


def bind_clock(faults: Iterable[Interceptor], clock: Clock) -> list[Interceptor]:
    """The faults, with those that wait (hangs) bound to ``clock`` unless they have one."""
    bound: list[Interceptor] = []
    for fault in faults:
        if isinstance(fault, Hangs) and fault.clock is not None:
            bound.append(fault)
        elif isinstance(fault, ClockBound):
            bound.append(fault.with_clock(clock))
        else:
            bound.append(fault)
    return bound


def fault_list(faults: Iterable[Interceptor]) -> list[Interceptor]:
    """``faults`` as a list; TypeError naming what is wrong when it is not a list of faults."""
    if callable(faults) or isinstance(faults, str | bytes) or not isinstance(faults, Iterable):
        raise TypeError(
            "faults: expected a list of faults such as [faults.raises(...)], got "
            f"{type(faults).__name__}"
        )
    found = list(faults)
    for index, fault in enumerate(found):
        if not callable(fault):
            raise TypeError(
                f"faults[{index}]: expected a fault such as faults.raises(...) or an "
                f"interceptor, got {type(fault).__name__}"
            )
    return found
