"""Where a flow's events go, so that concurrent branches leave a deterministic history.

Parallel branches and Map iterations run concurrently, and the order in which their handlers
finish depends on thread scheduling. To give the same name, input and seed the same history,
a Parallel or Map records its children's events **in child order**: the lowest-numbered child
that has not finished writes straight through (so a running execution's history stays live);
every later child holds its events in a buffer, which is written out, in order, once all
children before it have finished. Events keep the timestamp of the moment they happened and
their ``previousEventId`` links within their own branch, as in Step Functions; only their ids
(assigned when they reach the history) follow child order instead of wall-clock order.

A held event has a provisional id (negative, unique in the execution) until it is written;
links to it are translated then, and so are the ids that errors quote (``entered at the event
id #N``) in held events and in the error a Parallel or Map passes on once its children's events
are written. (An error a branch catches keeps the provisional id in the data it hands on.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engine.errors import StatesError

if TYPE_CHECKING:
    from engine.history import History
    from engine.interpreter.context import Runtime

__all__ = ["EventSink", "HistorySink", "Sequencer"]

_QUOTED_ID = re.compile(r"(?<=event id #)-\d+")


@dataclass(slots=True)
class _Held:
    """An event recorded by a child that is not yet first in line."""

    provisional_id: int
    type: str
    previous_event_id: int
    details: dict[str, Any] | None
    posix: float


class EventSink(Protocol):
    """Something a flow records its events into."""

    def add(
        self,
        event_type: str,
        previous_event_id: int,
        details: dict[str, Any] | None,
        posix: float | None = None,
    ) -> int:
        """Record an event (now, or at ``posix``); return its id (provisional while held)."""
        ...

    def put(self, event: _Held) -> int:
        """Pass on an event held by a child, keeping its timestamp; return its id."""
        ...


class HistorySink:
    """The execution's history itself: ids are final, links to held events are translated."""

    __slots__ = ("_final_ids", "held", "history")

    def __init__(self, history: History) -> None:
        self.history = history
        """The execution's history (not its runtime, which holds this sink: no cycle to
        collect, the runtime is freed as soon as its execution ends)."""
        self.held = 0
        """How many events children hold (counted against the history quota)."""
        self._final_ids: dict[int, int] = {}

    def final_id(self, event_id: int) -> int:
        """The id an event has in the history (``event_id`` once it has been written)."""
        return self._final_ids.get(event_id, event_id) if event_id < 0 else event_id

    def resolve_text(self, text: str) -> str:
        """``text`` with the provisional event ids it quotes replaced by final ones."""
        if "#-" not in text:
            return text
        return _QUOTED_ID.sub(lambda m: str(self.final_id(int(m.group()))), text)

    def resolve_error(self, error: BaseException) -> None:
        """Give a failure's cause the final ids of the events it quotes."""
        if isinstance(error, StatesError) and error.cause:
            error.cause = self.resolve_text(error.cause)

    def _resolved(self, details: dict[str, Any] | None) -> dict[str, Any] | None:
        """``details`` with provisional ids translated (the same dict when none is quoted)."""
        if details is None:
            return None
        for value in details.values():
            if isinstance(value, str) and "#-" in value:
                break
        else:
            return details
        return {
            key: self.resolve_text(value) if isinstance(value, str) else value
            for key, value in details.items()
        }

    def add(
        self,
        event_type: str,
        previous_event_id: int,
        details: dict[str, Any] | None,
        posix: float | None = None,
    ) -> int:
        """Append an event to the history (counting what children hold against the quota)."""
        if not self._final_ids:
            if not self.held:  # no provisional id exists yet: nothing to translate
                return self.history.add(event_type, previous_event_id, details, posix=posix)
            self.history.admits(self.held + 1)
        elif self.held:
            self.history.admits(self.held + 1)
        return self.history.add(
            event_type, self.final_id(previous_event_id), self._resolved(details), posix=posix
        )

    def put(self, event: _Held) -> int:
        """Append a held event, with its own timestamp, and remember its final id."""
        self.held -= 1
        event_id = self.history.add(
            event.type,
            self.final_id(event.previous_event_id),
            self._resolved(event.details),
            posix=event.posix,
        )
        self._final_ids[event.provisional_id] = event_id
        return event_id

    def hold(self) -> int | None:
        """A provisional id for an event a child holds, or None when the history is full.

        The quota counts held events too, so it fails where it would without holding.
        """
        if not self.history.admits(self.held + 1):
            return None
        self.held += 1
        return -(len(self._final_ids) + self.held)


class _ChildSink:
    """One child of a :class:`Sequencer`: writes through when first in line, else holds."""

    __slots__ = ("events", "index", "sequencer")

    def __init__(self, sequencer: Sequencer, index: int) -> None:
        self.sequencer = sequencer
        self.index = index
        self.events: list[_Held] = []

    @property
    def live(self) -> bool:
        return self.sequencer.head == self.index

    def add(
        self,
        event_type: str,
        previous_event_id: int,
        details: dict[str, Any] | None,
        posix: float | None = None,
    ) -> int:
        sequencer = self.sequencer
        if self.live:
            return sequencer.write(
                sequencer.parent.add(event_type, previous_event_id, details, posix)
            )
        provisional = sequencer.history.hold()
        if provisional is None:  # over the history quota, after it was reported: dropped
            return previous_event_id
        self.events.append(
            _Held(
                provisional,
                event_type,
                previous_event_id,
                details,
                sequencer.runtime.clock.time() if posix is None else posix,
            )
        )
        return provisional

    def put(self, event: _Held) -> int:
        sequencer = self.sequencer
        if self.live:
            return sequencer.write(sequencer.parent.put(event))
        self.events.append(event)
        return event.provisional_id


class Sequencer:
    """Orders the events of ``count`` concurrent children (branches or iterations) by index."""

    __slots__ = ("_children", "_done", "head", "history", "last_id", "parent", "runtime")

    def __init__(self, runtime: Runtime, parent: EventSink, count: int) -> None:
        self.runtime = runtime
        self.history = runtime.sink
        self.parent = parent
        self.head = 0
        self.last_id: int | None = None
        """The id of the latest event passed to ``parent`` (what the parent links to next)."""
        self._children: dict[int, _ChildSink] = {}
        self._done = [False] * count

    def sink(self, index: int) -> _ChildSink:
        """Where child ``index`` records its events."""
        child = self._children.get(index)
        if child is None:
            child = self._children[index] = _ChildSink(self, index)
        return child

    def write(self, event_id: int) -> int:
        self.last_id = event_id
        return event_id

    def finished(self, index: int) -> None:
        """Child ``index`` has finished (succeeded, failed or was stopped)."""
        self._done[index] = True
        self._advance()

    def close(self, *errors: BaseException | None) -> None:
        """Pass on everything still held, in child order (children that never ran included),
        then give ``errors`` the final ids of the events their causes quote."""
        for index in range(len(self._done)):
            self._done[index] = True
        self._advance()
        self._children.clear()  # they point back here: let refcounting free both
        for error in errors:
            if error is not None:
                self.history.resolve_error(error)

    def _advance(self) -> None:
        count = len(self._done)
        while self.head < count and self._done[self.head]:
            self.head += 1
            self._flush(self.head)

    def _flush(self, index: int) -> None:
        child = self._children.get(index)
        if child is None or not child.events:
            return
        events, child.events = child.events, []
        for event in events:
            self.write(self.parent.put(event))
