"""Running a saga locally: compile it and execute the machine on the engine (no other executor).

The saga's Python actions are bound by :meth:`~saga.saga.Saga.handlers`; ``handlers`` passed
here override or add to them (e.g. a fake for a service integration's resource). The clock is
virtual unless ``clock="real"`` (or a :class:`~engine.clock.Clock`) is given, so retries and
timeouts are skipped through instantly while their timing is kept in the history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.background_loop import in_event_loop
from engine.bindings import Interceptor, TaskBinding
from engine.clock import ClockOption, make_clock
from engine.loader import with_substitutions
from engine.local_engine import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, LocalEngine, run
from saga.compile import compile_saga, compile_with_handlers, saga_handlers
from saga.declaration import SagaDeclaration, check_input
from saga.fault_states import check_fault_states
from saga.outcome import SagaExecution, explain
from saga.steps import child_arn_placeholder

if TYPE_CHECKING:
    from engine.model import StateMachine

__all__ = ["ClockOption", "make_clock", "run_saga", "run_saga_async", "saga_engine"]


def _refuse_in_event_loop(method: str) -> None:
    """A blocking run inside a running event loop cannot work: point at the async form."""
    if not in_event_loop():  # blocking is fine
        return
    raise RuntimeError(
        f"Saga.{method}() blocks until the execution ends, so it cannot be called inside a "
        f"running event loop; use 'await saga.{method}_async(...)' there"
    )


def _compiled(
    saga: SagaDeclaration,
    extra: Mapping[str, Callable[..., Any]] | None,
    substitutions: Mapping[str, str] | None,
    interceptors: Sequence[Interceptor] = (),
    kids: Sequence[SagaDeclaration] | None = None,
) -> tuple[StateMachine, dict[str, Callable[..., Any]]]:
    """The machine to run (placeholders filled) and its handlers, from one compilation.

    Faults among ``interceptors`` must name states of the machine. ``kids``:
    ``saga.child_sagas()``, when the caller has them already.
    """
    machine, actions = compile_with_handlers(saga)
    if interceptors:
        check_fault_states(interceptors, machine)
    filled = {**child_arns(saga, kids), **(substitutions or {})}
    return with_substitutions(machine, filled), {**actions, **(extra or {})}


def child_arns(
    saga: SagaDeclaration, kids: Sequence[SagaDeclaration] | None = None
) -> dict[str, str]:
    """The local ARN of each saga ``saga`` runs as a step, by its placeholder: the engine
    knows a registered machine by the ARN of its name. ``kids``: ``saga.child_sagas()``,
    when the caller has them already."""
    prefix = f"arn:aws:states:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:stateMachine:"
    out: dict[str, str] = {}
    kids = saga.child_sagas() if kids is None else kids
    for grandchildren in (kids, *(kid.child_sagas() for kid in kids)):
        for grandchild in grandchildren:
            out[child_arn_placeholder(grandchild)] = prefix + grandchild.name
    return out


def run_saga(
    saga: SagaDeclaration,
    input: Any = None,
    *,
    handlers: Mapping[str, Callable[..., Any]] | None = None,
    name: str | None = None,
    clock: ClockOption = None,
    seed: int | None = None,
    interceptors: Sequence[Interceptor] = (),
    bindings: Mapping[str, TaskBinding] | None = None,
    substitutions: Mapping[str, str] | None = None,
    children: Sequence[SagaDeclaration] = (),
) -> SagaExecution:
    """Compile ``saga`` and run one execution to its end (synchronously).

    ``seed`` seeds retry jitter and every random draw (default: derived from ``name``);
    ``interceptors`` wrap every task invocation (fault injection, mock configs);
    ``substitutions`` fill ``${Name}`` placeholders of the compiled machine (a queue URL, a
    table name); ``children`` are sagas its steps start with ``states.start_execution`` (a
    saga of sagas), each known by the ARN of its name, its actions bound too. Raises
    :class:`~saga.errors.SagaDefinitionError` for a saga that cannot compile and
    :class:`~engine.diagnostics.DefinitionError` when a resource has nothing bound to it.
    """
    _refuse_in_event_loop("run")
    check_input(saga, input)
    kids = saga.child_sagas()
    machine, actions = _compiled(saga, handlers, substitutions, interceptors, kids)
    machines, child_actions = _children([*children, *kids], substitutions)
    execution = run(
        machine,
        input,
        handlers={**child_actions, **actions},
        name=name,
        clock=make_clock(clock),
        seed=seed,
        interceptors=interceptors,
        bindings=bindings,
        state_machine_name=saga.name,
        state_machines=machines,
    )
    return explain(execution, saga=saga)


def _children(
    children: Sequence[SagaDeclaration], substitutions: Mapping[str, str] | None
) -> tuple[dict[str, StateMachine], dict[str, Callable[..., Any]]]:
    """Child sagas' machines by name, and their actions."""
    machines: dict[str, StateMachine] = {}
    actions: dict[str, Callable[..., Any]] = {}
    for child in children:
        machine, bound = _compiled(child, None, substitutions)
        machines[child.name] = machine
        actions.update(bound)
    return machines, actions


def saga_engine(
    *sagas: SagaDeclaration,
    handlers: Mapping[str, Callable[..., Any]] | None = None,
    clock: ClockOption = None,
    seed: int | None = None,
    interceptors: Sequence[Interceptor] = (),
    bindings: Mapping[str, TaskBinding] | None = None,
) -> LocalEngine:
    """A :class:`~engine.local_engine.LocalEngine` bound to the Python actions of ``sagas``, for
    running many executions side by side; each saga is known by the ARN of its name, so one
    can start another with ``states.start_execution``::

        machine = orders.to_state_machine()
        async with saga_engine(orders, refunds) as engine:
            first = await engine.start_execution(machine, {"id": 1})
            second = await engine.start_execution(machine, {"id": 2})
            print((await first.result()).status, (await second.result()).status)
    """
    merged: dict[str, Callable[..., Any]] = {}
    for saga in sagas:
        for key, action in saga_handlers(saga).items():
            if merged.get(key, action) is not action:
                raise ValueError(
                    f"sagas {[s.name for s in sagas]} bind {key!r} to different functions; "
                    "give their steps distinct resources"
                )
            merged[key] = action
    return LocalEngine(
        clock=make_clock(clock),
        handlers={**merged, **(handlers or {})},
        seed=seed,
        interceptors=interceptors,
        bindings=bindings,
        state_machines={saga.name: compile_saga(saga) for saga in sagas},
    )


async def run_saga_async(
    saga: SagaDeclaration,
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
    """Like :func:`run_saga`, awaited from async code (anyio: asyncio or trio)."""
    check_input(saga, input)
    machine, actions = _compiled(saga, handlers, substitutions, interceptors)
    async with LocalEngine(
        clock=make_clock(clock),
        handlers=actions,
        seed=seed,
        interceptors=interceptors,
        bindings=bindings,
    ) as engine:
        execution = await engine.execute(machine, input, name, state_machine_name=saga.name)
    return explain(execution, saga=saga)
