"""How synchronous steps are handed to their threads: a quick step is taken back at once, a slow
one is awaited while other executions go on, and neither ever runs on the engine's loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest

from engine import LocalEngine, VirtualClock

pytestmark = pytest.mark.anyio

FN = "arn:aws:lambda:us-east-1:123456789012:function:Step"


def _chain(*names: str) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for index, name in enumerate(names):
        state: dict[str, Any] = {"Type": "Task", "Resource": FN, "ResultPath": f"$.{name}"}
        if index + 1 < len(names):
            state["Next"] = names[index + 1]
        else:
            state["End"] = True
        states[name] = state
    return {"StartAt": names[0], "States": states}


async def test_a_blocked_step_does_not_stall_other_executions() -> None:
    """While one execution's step blocks its thread, another execution runs to its end."""
    release = threading.Event()
    seen: list[str] = []

    def step(event: Any) -> Any:
        if event["who"] == "slow":
            assert release.wait(30), "never released"
        seen.append(event["who"])
        return event["who"]

    async with LocalEngine(clock=VirtualClock(), handlers={FN: step}) as engine:
        slow = await engine.start_execution(_chain("A"), {"who": "slow"}, "slow")
        with anyio.fail_after(30):  # a stalled loop would never get here
            quick = await engine.execute(_chain("A", "B", "C"), {"who": "quick"}, "quick")
        assert quick.status == "SUCCEEDED"
        assert seen == ["quick", "quick", "quick"]
        release.set()
        done = await slow.result()
    assert (done.status, done.output) == ("SUCCEEDED", {"who": "slow", "A": "slow"})
    assert seen == ["quick", "quick", "quick", "slow"]


async def test_a_step_slow_once_is_taken_back_at_once_again_when_quick() -> None:
    """The same step, slow on one call and quick on the next, gives each call its own result."""
    calls: list[int] = []
    gate = threading.Event()

    def step(event: Any) -> Any:
        calls.append(len(calls))
        if len(calls) == 2:
            assert gate.wait(30), "never released"
        return len(calls)

    async def release_soon() -> None:
        await anyio.sleep(0.05)
        gate.set()

    async with (
        LocalEngine(clock=VirtualClock(), handlers={FN: step}) as engine,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(release_soon)
        execution = await engine.execute(_chain("A", "B", "C", "D"), {}, "mixed")
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"A": 1, "B": 2, "C": 3, "D": 4}


async def test_a_step_runs_off_the_engine_thread_and_may_start_an_event_loop() -> None:
    """As on Lambda, a synchronous step sees no running event loop: ``asyncio.run`` works."""

    async def fetch(value: int) -> int:
        await asyncio.sleep(0)
        return value * 2

    engine_thread = threading.get_ident()

    def step(event: Any) -> Any:
        return {
            "doubled": asyncio.run(fetch(event)),
            "own_thread": threading.get_ident() != engine_thread,
        }

    async with LocalEngine(clock=VirtualClock(), handlers={FN: step}) as engine:
        execution = await engine.execute(
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": FN, "End": True}}}, 21
        )
    assert execution.output == {"doubled": 42, "own_thread": True}


def _on_a_thread(*steps: Any) -> list[Any]:
    """Call each async step through Lambda's calling convention on one fresh thread, in turn."""
    from engine.lambda_runtime import call_step

    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.extend(call_step(s, {}, None) for s in steps))
    thread.start()
    thread.join()
    return results


def test_async_steps_leaving_nothing_behind_share_their_threads_loop() -> None:
    async def loop_id(event: Any) -> int:
        helper = asyncio.get_running_loop().create_task(asyncio.sleep(0))
        await helper  # a task made and finished inside the step leaves the loop clean
        return id(asyncio.get_running_loop())

    first, second = _on_a_thread(loop_id, loop_id)
    assert first == second


def test_a_task_left_pending_is_cancelled_and_the_next_step_gets_a_new_loop() -> None:
    seen: dict[str, Any] = {}

    async def leaves_a_task(event: Any) -> int:
        seen["task"] = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
        seen["loop"] = asyncio.get_running_loop()
        return id(seen["loop"])

    async def loop_id(event: Any) -> int:
        return id(asyncio.get_running_loop())

    first, second = _on_a_thread(leaves_a_task, loop_id)
    assert seen["task"].cancelled()  # as asyncio.run finishes what a coroutine left
    assert seen["loop"].is_closed()
    assert first != second


def test_a_step_that_replaces_the_task_factory_gets_its_loop_closed() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def own_factory(event: Any) -> None:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(lambda loop, coro, **kw: asyncio.Task(coro, loop=loop, **kw))
        loops.append(loop)

    _on_a_thread(own_factory, own_factory)
    assert loops[0] is not loops[1]
    assert loops[0].is_closed() and loops[1].is_closed()
