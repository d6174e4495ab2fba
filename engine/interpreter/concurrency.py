"""Running Parallel branches and Map iterations concurrently, results in input order.

``workers`` flows pull indexes in order, so at most ``workers`` children run at once and a
single worker runs them strictly in sequence. The parent waits on a clock Gate, so a virtual
clock keeps skipping time while children sleep. With ``fail_fast`` the first failure cancels
the rest and is raised; otherwise failures are collected (a fatal error always stops all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from engine.clock import Clock
from engine.errors import StatesError
from engine.interpreter.context import FatalError
from engine.model import MapState, ParallelState, State

__all__ = ["is_instant", "run_children"]

_INSTANT_TYPES = frozenset({"Pass", "Choice", "Succeed", "Fail"})
_instant_cache: dict[int, tuple[Mapping[str, State], bool]] = {}


def is_instant(states: Mapping[str, State]) -> bool:
    """Whether a sub-machine can never wait: no Task, no Wait, no Retry, at any depth."""
    cached = _instant_cache.get(id(states))
    if cached is not None and cached[0] is states:
        return cached[1]
    instant = all(_state_is_instant(state) for state in states.values())
    if len(_instant_cache) > 4096:
        _instant_cache.clear()
    _instant_cache[id(states)] = (states, instant)
    return instant


def _state_is_instant(state: State) -> bool:
    if state.type in _INSTANT_TYPES:
        return True
    if isinstance(state, ParallelState):
        return not state.retry and all(is_instant(b.states) for b in state.branches)
    if isinstance(state, MapState):
        return not state.retry and is_instant(state.processor.states)
    return False


async def run_children(
    clock: Clock,
    count: int,
    workers: int,
    run_one: Callable[[int], Awaitable[Any]],
    *,
    fail_fast: bool = True,
    inline: bool = False,
) -> tuple[list[Any], list[StatesError | None]]:
    """Run ``run_one(i)`` for ``i`` in ``range(count)``; return results and errors by index.

    ``inline`` runs the children one after another in the calling flow: for sub-machines that
    never wait (see :func:`is_instant`) this is indistinguishable from running them as tasks,
    and much cheaper.
    """
    results: list[Any] = [None] * count
    errors: list[StatesError | None] = [None] * count
    if count == 0:
        return results, errors
    if inline:
        for index in range(count):
            try:
                results[index] = await run_one(index)
            except StatesError as exc:
                errors[index] = exc
                if fail_fast or isinstance(exc, FatalError):
                    raise
        return results, errors
    workers = max(1, min(workers, count))
    gate = clock.gate()
    state: dict[str, Any] = {"next": 0, "running": workers, "failure": None}

    async def worker() -> None:
        try:
            while state["failure"] is None and state["next"] < count:
                index = state["next"]
                state["next"] = index + 1
                try:
                    results[index] = await run_one(index)
                except StatesError as exc:
                    errors[index] = exc
                    if fail_fast or isinstance(exc, FatalError):
                        if state["failure"] is None:
                            state["failure"] = exc
                            gate.open()
                        return
                except Exception as exc:
                    if state["failure"] is None:
                        state["failure"] = exc
                        gate.open()
                    return
        finally:
            state["running"] -= 1
            if state["running"] == 0:
                gate.open()
            clock.flow_finished()

    async with anyio.create_task_group() as tg:
        for _ in range(workers):
            clock.flow_started()
            tg.start_soon(worker)
        await gate.wait()
        if state["failure"] is not None:
            tg.cancel_scope.cancel()
    failure = state["failure"]
    if failure is not None:
        raise failure
    return results, errors
