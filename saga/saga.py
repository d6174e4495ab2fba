"""The :class:`Saga` builder: ordered steps, their compensations, parallel groups, failure handlers.

Declaring::

    booking = Saga("ProcessBooking", success_state="Booking Confirmed",
                   failure_state="Booking Failed")

    @booking.step("Reserve Booking", retry=[Retry(ReservationError, max_retries=2)])
    def reserve(event: dict[str, Any]) -> str: ...

    @reserve.compensate("Cancel Booking")
    def cancel(event: dict[str, Any]) -> None: ...

compiles (:meth:`Saga.to_state_machine`) to forward Tasks chained by ``Next`` whose ``Catch``
leads into the unwind chain: every compensation in reverse order of its step, each catching
its own failure and going on, then the failure handlers, then a ``Fail`` state. A step's
failure enters the chain at the compensation of the latest earlier step that has one — or at
its own compensation with ``compensate_self=True`` (for effects that may have landed before the
error was seen). See :mod:`saga.compile` for the exact shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.bindings import Interceptor, TaskBinding
from engine.clock import ClockOption
from engine.model import StateMachine
from saga.compile import compile_saga, saga_handlers
from saga.declaration import (
    ORIGINAL_ERROR,
    OriginalError,
    SagaDeclaration,
    SagaInputError,
    check_input,
)
from saga.outcome import SagaExecution
from saga.parallel import GroupBranch, GroupOptions, ParallelGroup
from saga.running import run_saga, run_saga_async

__all__ = [
    "ORIGINAL_ERROR",
    "GroupBranch",
    "GroupOptions",
    "OriginalError",
    "ParallelGroup",
    "Saga",
    "SagaInputError",
    "check_input",
]


class Saga(SagaDeclaration):
    """A saga: ordered steps with compensations, compiled to a Step Functions state machine.

    - ``error_path``: where a failed forward step's error (``{"Error", "Cause"}``) is recorded
      before the unwind (default ``$.error``; per step ``error_path=`` overrides it).
    - ``success_state``: name of a final ``Pass`` state after the last step (else the last
      step ends the execution).
    - ``failure_state``: name of the ``Fail`` state ending the unwind chain; the execution
      fails with its ``Error`` and ``Cause``:

      - ``failure_error``: a static error name (default ``"SagaFailed"``), or
        :data:`ORIGINAL_ERROR` for ``ErrorPath: P.Error`` — the failed step's own error name,
        read where every step records its error (``P``, the ``error_path``). A Fail state may
        not raise a reserved ``States.*`` name (LocalStack's and moto's interpreters fail with
        ``States.Runtime``), so :data:`ORIGINAL_ERROR` requires every ``compensate_on`` to
        list custom errors only (not ``States.ALL``/``States.TaskFailed``/``States.Timeout``).
      - ``failure_cause``: a static cause, or by default ``CausePath:
        States.JsonToString(P)`` — the original error output ``{"Error": ..., "Cause": ...}``
        as JSON text. The whole object rather than ``P.Cause`` because some errors (a
        ``States.Timeout``) carry no ``Cause`` and a missing path would fail the Fail state.

      Reading ``P`` needs one shared error path that nothing in the unwind chain overwrites
      (checked when compiling); with per-step error paths give a static ``failure_cause``.
    - ``fail_fast_state``: the ``Fail`` state that errors listed in a step's ``fail_fast_on``
      go to, skipping compensation and handlers: the catcher stores the error output as the
      whole state (``ResultPath: $``) and the state re-raises it (``ErrorPath: $.Error``,
      ``CausePath: States.JsonToString($)``); ``fail_fast_on`` therefore names custom errors.
    - ``timeout``: the machine's ``TimeoutSeconds``.
    - ``input_key``: accept any JSON value as input (a list, a string …) by placing it at
      ``$.<input_key>`` with a first ``Pass`` state named ``input_state`` (default
      ``"Take Input"``). Without it, the steps record their results and errors in the input,
      so a run is refused before it starts unless the input is a JSON object.
    - ``deadline_path``: where the input holds the saga's deadline (an ISO 8601 timestamp,
      say a fare hold's expiry): before each forward unit a Choice compares the state's
      entry time with it and, once it has passed, fails with ``Saga.DeadlinePassed`` into the
      unwind — compensations and failure handlers run, unlike the machine's ``timeout``
      (see :mod:`saga.deadline`).
    - ``query_language``: ``"JSONPath"`` (default) or ``"JSONata"``, the machine's
      ``QueryLanguage``; in JSONata the same states use ``Arguments``/``Output`` expressions
      (see :mod:`saga.jsonata`) and run the same.
    """

    def child_sagas(self) -> tuple[Saga, ...]:
        """The sagas this saga runs as steps (nested executions), theirs too, each once."""
        return tuple(_saga(child) for child in super().child_sagas())

    # -- compiling and running -------------------------------------------------------------

    def to_state_machine(self) -> StateMachine:
        """The saga compiled to the engine's ASL model (raises :class:`SagaDefinitionError`)."""
        return compile_saga(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The compiled definition as ASL JSON text."""
        return self.to_state_machine().to_json(indent=indent)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        """The Python actions keyed as the engine binds resources (placeholder name, Lambda
        ARN, or ``FunctionName``), for running the compiled machine or its exported JSON."""
        return saga_handlers(self)

    def run(
        self,
        input: Any = None,
        *,
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        name: str | None = None,
        clock: ClockOption = None,
        seed: int | None = None,
        interceptors: Sequence[Interceptor] = (),
        bindings: Mapping[str, TaskBinding] | None = None,
        substitutions: Mapping[str, str] | None = None,
    ) -> SagaExecution:
        """Run locally: compile and execute on the engine (virtual clock unless ``clock="real"``).

        ``handlers`` override or add to :meth:`handlers`; ``seed`` seeds retry jitter and
        every random draw (default: derived from the execution name, so the same ``name`` and
        input repeat the same run; the seed used is ``Execution.seed``);
        ``interceptors`` wrap each task call (fault injection, mocks); ``substitutions`` fill
        ``${Name}`` placeholders of the compiled machine (say, a queue URL). Returns a
        :class:`~saga.outcome.SagaExecution`: the engine's record (``status``, ``output``,
        ``error``, ``cause``, ``states``, ``history``, ``seed``) with the decoded ``failure``
        and the ``unwind`` (each compensation and failure handler that ran, with its status).
        Inside a running event loop use :meth:`run_async`.
        """
        return run_saga(
            self,
            input,
            handlers=handlers,
            name=name,
            clock=clock,
            seed=seed,
            interceptors=interceptors,
            bindings=bindings,
            substitutions=substitutions,
        )

    async def run_async(
        self,
        input: Any = None,
        *,
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        name: str | None = None,
        clock: ClockOption = None,
        seed: int | None = None,
        interceptors: Sequence[Interceptor] = (),
        bindings: Mapping[str, TaskBinding] | None = None,
        substitutions: Mapping[str, str] | None = None,
    ) -> SagaExecution:
        """:meth:`run` for async code (anyio)."""
        return await run_saga_async(
            self,
            input,
            handlers=handlers,
            name=name,
            clock=clock,
            seed=seed,
            interceptors=interceptors,
            bindings=bindings,
            substitutions=substitutions,
        )

    def __repr__(self) -> str:
        return f"<Saga {self.name!r}: {[u.name for u in self._units]}>"


def _saga(declared: SagaDeclaration) -> Saga:
    """A child saga as the :class:`Saga` it is (only a :class:`Saga` can be declared)."""
    if not isinstance(declared, Saga):
        raise TypeError(
            f"child saga {declared.name!r} is a bare SagaDeclaration, not a Saga; "
            f"declare it with Saga({declared.name!r})"
        )
    return declared
