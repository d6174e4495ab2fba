"""Real and virtual clocks: skipping idle time, wake order, time flowing while busy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from engine import LocalEngine
from engine.clock import RealClock, VirtualClock, format_timestamp

T0 = datetime(2024, 1, 1, tzinfo=UTC)

pytestmark = pytest.mark.anyio


def test_format_timestamp_has_milliseconds() -> None:
    assert format_timestamp(T0.timestamp() + 1.2345) == "2024-01-01T00:00:01.234Z"


def test_virtual_clock_starts_where_told() -> None:
    clock = VirtualClock(T0)
    assert clock.now() == T0
    assert clock.time() == T0.timestamp()
    naive = VirtualClock(datetime(2024, 1, 1))
    assert naive.now() == T0


async def test_a_day_long_sleep_is_skipped() -> None:
    clock = VirtualClock(T0)
    async with clock.running():
        clock.flow_started()
        await clock.sleep(86_400)
        clock.flow_finished()
    assert clock.now() == datetime(2024, 1, 2, tzinfo=UTC)


async def test_concurrent_sleepers_wake_in_virtual_time_order() -> None:
    clock = VirtualClock(T0)
    woke: list[tuple[int, float]] = []

    async def sleeper(seconds: int) -> None:
        try:
            await clock.sleep(seconds)
            woke.append((seconds, clock.time() - T0.timestamp()))
        finally:
            clock.flow_finished()

    async with clock.running(), anyio.create_task_group() as tg:
        for seconds in (30, 10, 20, 10):
            clock.flow_started()
            tg.start_soon(sleeper, seconds)
    assert woke == [(10, 10.0), (10, 10.0), (20, 20.0), (30, 30.0)]


async def test_time_does_not_jump_while_a_flow_is_running() -> None:
    clock = VirtualClock(T0)
    order: list[str] = []

    async def sleeper() -> None:
        try:
            await clock.sleep(60)
            order.append("sleeper")
        finally:
            clock.flow_finished()

    async def worker() -> None:
        try:
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
            order.append(f"worker at {clock.time() - T0.timestamp()}")
        finally:
            clock.flow_finished()

    async with clock.running(), anyio.create_task_group() as tg:
        clock.flow_started()
        tg.start_soon(sleeper)
        clock.flow_started()
        tg.start_soon(worker)
    assert order == ["worker at 0.0", "sleeper"]


async def test_busy_time_flows_with_the_wall_clock() -> None:
    clock = VirtualClock(T0)
    async with clock.running():
        with clock.busy():
            await anyio.sleep(0.05)
        elapsed = clock.time() - T0.timestamp()
    assert elapsed >= 0.05


async def _sleep_while_busy(clock: VirtualClock, seconds: float) -> list[float]:
    """Sleep in a second flow while this one stays busy; the offsets from T0 it woke at."""
    woke: list[float] = []

    async def timer() -> None:
        try:
            await clock.sleep(seconds)
            woke.append(clock.time() - T0.timestamp())
        finally:
            clock.flow_finished()

    async with clock.running(), anyio.create_task_group() as tg:
        with clock.busy():
            clock.flow_started()
            tg.start_soon(timer)
            with anyio.fail_after(5):
                while not woke:
                    await anyio.sleep(0.01)
    return woke


async def test_sleep_while_busy_ends_after_real_time() -> None:
    done = await _sleep_while_busy(VirtualClock(T0), 0.05)
    assert done[0] >= 0.05


async def test_gate_lets_time_skip_while_the_parent_waits() -> None:
    clock = VirtualClock(T0)
    gate = clock.gate()

    async def child() -> None:
        try:
            await clock.sleep(100)
            gate.open()
        finally:
            clock.flow_finished()

    async with clock.running(), anyio.create_task_group() as tg:
        clock.flow_started()  # the parent
        clock.flow_started()
        tg.start_soon(child)
        await gate.wait()
        clock.flow_finished()
    assert clock.time() - T0.timestamp() == 100.0


async def test_cancelled_sleeper_is_forgotten() -> None:
    clock = VirtualClock(T0)
    async with clock.running():
        clock.flow_started()
        with anyio.move_on_after(0.01):
            with clock.busy():
                await clock.sleep(3600)
        clock.flow_finished()
        clock.flow_started()
        await clock.sleep(5)
        clock.flow_finished()
    assert 5.0 <= clock.time() - T0.timestamp() < 6.0


def test_advance_moves_time_by_hand() -> None:
    clock = VirtualClock(T0)
    clock.advance(90)
    assert clock.now() == datetime(2024, 1, 1, 0, 1, 30, tzinfo=UTC)


async def test_real_clock_sleeps_for_real() -> None:
    clock = RealClock()
    before = clock.time()
    await clock.sleep(0.02)
    assert clock.time() - before >= 0.02
    assert abs(clock.now().timestamp() - clock.time()) < 1


async def test_deterministic_mode_keeps_work_out_of_timestamps() -> None:
    clock = VirtualClock(T0, work_moves_time=False)
    async with clock.running():
        with clock.busy():
            await anyio.sleep(0.02)
            assert clock.time() == T0.timestamp()
        assert clock.time() == T0.timestamp()


async def test_deterministic_mode_timeout_fires_at_exactly_its_deadline() -> None:
    fired = await _sleep_while_busy(VirtualClock(T0, work_moves_time=False), 0.05)
    assert [round(value, 6) for value in fired] == [0.05]


async def test_idle_inside_busy_lets_time_skip() -> None:
    clock = VirtualClock(T0)
    async with clock.running():
        clock.flow_started()
        with clock.busy(), clock.idle():
            with anyio.fail_after(5):
                await clock.sleep(3600)
        clock.flow_finished()
    assert clock.time() - T0.timestamp() >= 3600.0


WAIT_THEN_TIME: dict[str, Any] = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Now"},
        "Now": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "End": True},
    },
}


async def test_engines_sharing_a_virtual_clock_skip_time_whichever_closes_first() -> None:
    """The first engine drives the shared clock from its task group; a second one nested in it
    relies on that driver, and after both close the clock drives again for the next engine."""
    clock = VirtualClock(T0)
    async with LocalEngine(clock=clock) as outer:
        async with LocalEngine(clock=clock) as inner:
            first = await inner.execute(WAIT_THEN_TIME, {"seconds": 3600}, "inner")
        second = await outer.execute(WAIT_THEN_TIME, {"seconds": 60}, "outer")
    async with LocalEngine(clock=clock) as again:
        third = await again.execute(WAIT_THEN_TIME, {"seconds": 86_400}, "again")
    assert [e.output for e in (first, second, third)] == [
        {"at": "2024-01-01T01:00:00Z"},
        {"at": "2024-01-01T01:01:00Z"},
        {"at": "2024-01-02T01:01:00Z"},
    ]
