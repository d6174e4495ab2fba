"""Clocks: every wait of the interpreter (Wait states, retry backoff, timeouts) goes through one.

``RealClock`` waits for real. ``VirtualClock`` skips time: when every flow it knows about is
parked on the clock it jumps straight to the earliest deadline, so a day-long Wait finishes at
once. It never runs slower than real time: while a flow is ``busy`` (a handler running, a task
token outstanding) virtual time advances with the wall clock, so timeouts on blocking work
still fire after the right wall-clock delay.

Flows are counted so the jump is exact, not guessed: a flow is counted from
``flow_started()`` (called before it is spawned) until ``flow_finished()``, and uncounted while
parked in ``sleep`` or ``Gate.wait``. Whoever wakes a parked flow counts it again before it
resumes, so the count never drops to zero while something is about to run.
"""

from __future__ import annotations

import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Literal, TypeAlias

import anyio
import anyio.abc
import anyio.lowlevel

__all__ = [
    "Clock",
    "ClockOption",
    "Gate",
    "RealClock",
    "VirtualClock",
    "format_context_timestamp",
    "format_timestamp",
    "make_clock",
]


def format_timestamp(posix: float) -> str:
    """ISO-8601 UTC text as the context object shows it (``2024-01-01T00:00:00.123Z``)."""
    global _last_formatted
    last = _last_formatted
    if last[0] == posix:
        return last[1]
    moment = datetime.fromtimestamp(posix, UTC)
    if moment.year >= 1000:  # %-formatting is twice as fast as strftime (same text)
        text = "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 - fastest
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond // 1000,
        )
    else:  # strftime does not pad years before 1000
        text = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
    _last_formatted = (posix, text)
    return text


_last_formatted: tuple[float, str] = (float("nan"), "")


def format_context_timestamp(posix: float) -> str:
    """Context-object time (``$$.Execution.StartTime``, ``$$.State.EnteredTime``) as AWS shows it.

    Millisecond precision like the history, but a zero fraction is left out
    (``2024-01-01T00:00:00Z``), as AWS prints its timestamps.
    """
    text = format_timestamp(posix)
    return text[:-5] + "Z" if text.endswith(".000Z") else text


class Gate:
    """A one-shot signal from one flow to a waiting flow (Parallel/Map parents wait on one).

    With a virtual clock, opening the gate counts the waiter as running again before it
    resumes, so no time jump happens in between.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._event = anyio.Event()
        self._opened = False
        self._waiting = False

    def open(self) -> None:
        """Let the waiter go (idempotent)."""
        if self._opened:
            return
        self._opened = True
        if self._waiting:
            self._waiting = False
            self._clock._resume()
        self._event.set()

    async def wait(self) -> None:
        """Park until the gate opens."""
        if self._opened:
            await anyio.lowlevel.checkpoint()
            return
        self._waiting = True
        self._clock._park()
        try:
            await self._event.wait()
        except BaseException:
            if self._waiting:
                self._waiting = False
                self._clock._resume()
            raise


class Clock(ABC):
    """What the interpreter needs from time: now, sleep, and flow bookkeeping for skipping."""

    @abstractmethod
    def time(self) -> float:
        """Now, as POSIX seconds."""

    def now(self) -> datetime:
        """Now, as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    @abstractmethod
    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""

    async def sleep_unless(self, seconds: float, event: anyio.Event) -> bool:
        """Wait ``seconds`` of this clock's time, or less if ``event`` is set first; whether
        it was set (a worker reported, a step returned)."""
        if not event.is_set():
            async with anyio.create_task_group() as group:

                async def wake() -> None:
                    await event.wait()
                    group.cancel_scope.cancel()

                group.start_soon(wake)
                await self.sleep(seconds)
                group.cancel_scope.cancel()
        return event.is_set()

    def flow_started(self) -> None:  # noqa: B027 - no-op unless the clock skips time
        """Count a flow about to be spawned (call before ``start_soon``)."""

    def flow_finished(self) -> None:  # noqa: B027 - no-op unless the clock skips time
        """Uncount a flow that ends (call in its ``finally``)."""

    def busy(self) -> AbstractContextManager[None]:
        """Mark work outside the clock's control (a handler, a callback) as in progress."""
        return nullcontext()

    @contextmanager
    def idle(self) -> Iterator[None]:
        """Inside ``busy``: the flow now only waits on the clock (a skipping clock may skip)."""
        yield

    def gate(self) -> Gate:
        """A new :class:`Gate` bound to this clock."""
        return Gate(self)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Keep whatever background work the clock needs alive for the block."""
        yield

    def drive_from(self, group: anyio.abc.TaskGroup) -> bool:
        """Run the clock's background work in ``group`` until :meth:`stop_driving`, instead of
        in a ``running`` block; False when the clock does not (then use ``running``)."""
        return False

    def stop_driving(self) -> None:  # noqa: B027 - no-op unless drive_from took a group
        """End the background work :meth:`drive_from` started."""

    def _park(self) -> None:  # noqa: B027 - no-op unless the clock skips time
        """The current flow parks (no-op unless the clock skips time)."""

    def _resume(self) -> None:  # noqa: B027 - no-op unless the clock skips time
        """A parked flow is woken (no-op unless the clock skips time)."""


class RealClock(Clock):
    """Wall-clock time; ``sleep`` really sleeps."""

    def time(self) -> float:
        """Now, as POSIX seconds."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        await anyio.sleep(max(0.0, seconds))


class _Sleeper:
    __slots__ = ("deadline", "event", "state")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.event = anyio.Event()
        self.state = 0  # 0 parked, 1 woken, 2 abandoned


class _BusyBlock:
    """``VirtualClock.busy()``: one per clock (it only counts), a class rather than a generator
    context manager because every task enters it."""

    __slots__ = ("_clock",)

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def __enter__(self) -> None:
        clock = self._clock
        if clock._busy == 0:
            clock._start_work()
        clock._busy += 1

    def __exit__(self, *exc_info: object) -> None:
        clock = self._clock
        clock._busy -= 1
        if clock._busy == 0:
            clock._end_work()


class VirtualClock(Clock):
    """A clock that skips idle time; see the module docstring for the rules."""

    _WATCHDOG_SECONDS = 2.0

    def __init__(self, start: datetime | None = None, *, work_moves_time: bool = True) -> None:
        moment = start if start is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        self._virtual = moment.timestamp()
        self._work_moves_time = work_moves_time
        self._work_base = self._virtual
        self._heap: list[tuple[float, int, _Sleeper]] = []
        self._seq = itertools.count()
        self._active = 0
        self._busy = 0
        self._busy_since = 0.0
        self._changed: anyio.Event | None = None
        self._drivers = 0
        self._progress = 0
        self._idle_pending = False
        self._driving: object | None = None
        """The token of the driver that should run now (None: none should)."""
        self._driver_group: anyio.abc.TaskGroup | None = None
        """Where the driver starts with the first sleeper (None: started, or not driven)."""
        self._busy_block = _BusyBlock(self)

    # -- time -------------------------------------------------------------------------------

    def time(self) -> float:
        """Virtual now: frozen while idle, flowing with the wall clock while busy.

        With ``work_moves_time=False`` work never moves it: only deadlines do (a sleeper
        woken while work runs sets it to exactly its deadline), so histories repeat exactly.
        """
        if self._busy and self._work_moves_time:
            return self._virtual + (time.monotonic() - self._busy_since)
        return self._virtual

    def _horizon(self) -> float:
        """How far virtual time may have got: deadlines up to here are due."""
        if not self._busy:
            return self._virtual
        return self._work_base + (time.monotonic() - self._busy_since)

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by hand (tests), waking sleepers now due."""
        self._virtual += max(0.0, seconds)
        self._wake_due()

    async def sleep(self, seconds: float) -> None:
        """Park until virtual time reaches now + ``seconds``."""
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        sleeper = _Sleeper(self.time() + seconds)
        heapq.heappush(self._heap, (sleeper.deadline, next(self._seq), sleeper))
        group = self._driver_group
        if group is not None:
            # The driver starts with the first sleeper: until then it has nothing to wake,
            # and most executions never sleep.
            self._driver_group = None
            group.start_soon(self._drive, self._driving)
        self._notify()
        self._park()
        try:
            await sleeper.event.wait()
        except BaseException:
            if sleeper.state == 0:
                sleeper.state = 2
                self._resume()
            raise

    # -- bookkeeping ------------------------------------------------------------------------

    def flow_started(self) -> None:
        """Count a flow about to be spawned."""
        self._active += 1
        self._progress += 1

    def flow_finished(self) -> None:
        """Uncount a finished flow; jump if everything left is parked."""
        self._active -= 1
        self._progress += 1
        if self._active <= 0:
            self._idle()

    def busy(self) -> AbstractContextManager[None]:
        """Let virtual time flow with the wall clock while the block runs (blocks nest)."""
        return self._busy_block

    @contextmanager
    def idle(self) -> Iterator[None]:
        """Inside a busy block: this flow now only waits on the clock, so time may skip."""
        if self._busy == 0:
            yield
            return
        self._busy -= 1
        if self._busy == 0:
            self._end_work()
            self._notify()
        try:
            yield
        finally:
            if self._busy == 0:
                self._start_work()
            self._busy += 1

    def _start_work(self) -> None:
        self._busy_since = time.monotonic()
        self._work_base = self._virtual
        if self._heap:
            # The driver's next deadline now runs on work time. With nobody sleeping it has
            # nothing to recompute: waking it would only cost a turn of the loop.
            self._notify()

    def _end_work(self) -> None:
        if self._work_moves_time:
            self._virtual += time.monotonic() - self._busy_since
        self._wake_due()

    def _park(self) -> None:
        self._active -= 1
        self._progress += 1
        if self._active <= 0:
            self._idle()

    def _resume(self) -> None:
        self._active += 1
        self._progress += 1

    def _idle(self) -> None:
        """Every counted flow is parked: jump now, or let the driver jump once things settle.

        With a driver running, the jump waits a few scheduler turns, so flows whose
        cancellation is already on its way (a timed-out or stopped execution) unwind first.
        Nobody sleeping: there is nothing to jump to, and the driver is left asleep (an
        execution without a Wait ending would otherwise cost it a turn of the loop).
        """
        if not self._heap:
            return
        if self._drivers:
            self._idle_pending = True
            self._notify()
        else:
            self._jump()

    def _jump(self) -> None:
        """Everything is parked: advance to the earliest deadline and wake who is due."""
        if self._busy:
            return
        while self._heap and self._heap[0][2].state != 0:
            heapq.heappop(self._heap)
        if not self._heap:
            return
        deadline = self._heap[0][0]
        self._virtual = max(self._virtual, deadline)
        self._wake_due()

    def _wake_due(self) -> None:
        horizon = self._horizon() if self._busy else self.time()
        while self._heap and (self._heap[0][2].state != 0 or self._heap[0][0] <= horizon):
            deadline, _, sleeper = heapq.heappop(self._heap)
            if sleeper.state == 0:
                if self._busy and not self._work_moves_time:
                    self._virtual = max(self._virtual, deadline)
                sleeper.state = 1
                self._resume()
                sleeper.event.set()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    # -- background driver ------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the driver that wakes sleepers while time flows (one per clock), from the
        first sleep on."""
        if self._drivers:
            self._drivers += 1
            try:
                yield
            finally:
                self._drivers -= 1
            return
        self._drivers = 1
        try:
            async with anyio.create_task_group() as tg:
                self._host(tg)
                try:
                    yield
                finally:
                    self.stop_driving()
        finally:
            self._drivers = 0
            self._changed = None

    def drive_from(self, group: anyio.abc.TaskGroup) -> bool:
        """Run the driver in ``group`` (exited only after :meth:`stop_driving`) from the first
        sleep on; False (nothing done) when the clock is driven already or has sleepers.

        ``running`` does this with a task group of its own; an engine hands its own group
        instead, saving one. Flows still unwinding after ``stop_driving`` do without the driver
        (with none, an idle clock jumps at once).
        """
        if self._drivers or self._heap:
            return False
        self._host(group)
        return True

    def _host(self, group: anyio.abc.TaskGroup) -> None:
        self._drivers = 1
        self._driving = object()
        if self._heap:  # sleepers left from an earlier block
            group.start_soon(self._drive, self._driving)
        else:
            self._driver_group = group

    def stop_driving(self) -> None:
        """End what :meth:`drive_from` started: the driver returns when it next wakes (no
        cancellation to deliver, which costs more than a small execution)."""
        self._driver_group = None
        self._driving = None
        self._notify()
        self._drivers = 0

    async def _drive(self, token: object | None) -> None:
        stalled_since: float | None = None
        last_progress = -1
        while token is not None and self._driving is token:
            self._changed = anyio.Event()
            if self._idle_pending:
                self._idle_pending = False
                progress = self._progress
                await anyio.lowlevel.checkpoint()
                if self._active <= 0 and not self._busy and self._progress == progress:
                    self._jump()
                continue
            self._wake_due()
            timeout: float | None = None
            if self._heap:
                timeout = max(0.0, self._heap[0][0] - self._horizon()) if self._busy else 0.25
            if timeout is None:
                stalled_since = None
                await self._changed.wait()
                continue
            with anyio.move_on_after(timeout):
                await self._changed.wait()
            # Safety net: counted flows that neither run nor park would freeze time forever.
            if self._busy or not self._heap or self._progress != last_progress:
                last_progress = self._progress
                stalled_since = None
                continue
            now = time.monotonic()
            if stalled_since is None:
                stalled_since = now
            elif now - stalled_since >= self._WATCHDOG_SECONDS:
                stalled_since = None
                busy, self._busy = self._busy, 0
                self._jump()
                self._busy = busy


ClockOption: TypeAlias = Clock | Literal["real", "virtual"] | None
"""A clock, or ``"real"``/``"virtual"`` as the command line spells it (``None``: virtual)."""


def make_clock(clock: ClockOption) -> Clock:
    """The clock ``clock`` names: a new one for ``"real"``, ``"virtual"`` or ``None``."""
    if clock is None or clock == "virtual":
        return VirtualClock()
    if clock == "real":
        return RealClock()
    if isinstance(clock, Clock):
        return clock
    raise ValueError(f"clock must be 'real', 'virtual' or a Clock, got {clock!r}")
