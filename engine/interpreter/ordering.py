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

from typing import TYPE_CHECKING, Any, Protocol

from engine.history import History, HistoryEvent

if TYPE_CHECKING:
    from engine.interpreter.context import Runtime

__all__ = ["EventSink", "Sequencer", "recorded_event"]


class EventSink(Protocol):
    """Something a flow records its events into: the execution's
    :class:`~engine.history.History`, or a child of a :class:`Sequencer`."""

    def add(
        self,
        event_type: str,
        previous_event_id: int,
        details: dict[str, Any] | None,
        posix: float | None = None,
    ) -> int:
        """Record an event (now, or at ``posix``); return its id (provisional while held)."""
        ...

    def put(self, event: HistoryEvent) -> int:
        """Pass on an event held by a child (its id provisional), keeping its timestamp;
        return its id."""
        ...


def recorded_event(history: History, sink: EventSink, event_id: int) -> HistoryEvent | None:
    """The event recorded as ``event_id`` by a flow writing into ``sink``: in the history, or
    still held by the child ``sink`` is (None when neither has it)."""
    final = history.final_id(event_id)
    if 0 < final <= len(history.events):
        return history.events[final - 1]
    while isinstance(sink, Sequencer | _ChildSink):
        if isinstance(sink, _ChildSink):
            for event in sink.events:
                if event.id == event_id:
                    return event
            sink = sink.sequencer.parent
        else:
            sink = sink.parent
    return None


class _ChildSink:
    """One child of a :class:`Sequencer`: writes through when first in line, else holds."""

    __slots__ = ("events", "index", "sequencer")

    def __init__(self, sequencer: Sequencer, index: int) -> None:
        self.sequencer = sequencer
        self.index = index
        self.events: list[HistoryEvent] = []

    def add(
        self,
        event_type: str,
        previous_event_id: int,
        details: dict[str, Any] | None,
        posix: float | None = None,
    ) -> int:
        sequencer = self.sequencer
        if sequencer.head == self.index:  # first in line: straight through
            event_id = sequencer.last_id = sequencer.parent.add(
                event_type, previous_event_id, details, posix
            )
            return event_id
        provisional = sequencer.history.hold()
        if provisional is None:  # over the history quota, after it was reported: dropped
            return previous_event_id
        when = sequencer.runtime.clock.time() if posix is None else posix
        self.events.append(HistoryEvent(provisional, event_type, when, previous_event_id, details))
        return provisional

    def put(self, event: HistoryEvent) -> int:
        sequencer = self.sequencer
        if sequencer.head == self.index:
            event_id = sequencer.last_id = sequencer.parent.put(event)
            return event_id
        self.events.append(event)
        return event.id


class Sequencer:
    """Orders the events of ``count`` concurrent children (branches or iterations) by index.

    ``sequential``: the children run one at a time, in index order (each is first in line
    while it runs), so each writes straight through the sequencer itself.
    """

    __slots__ = (
        "_children",
        "_done",
        "_sequential",
        "head",
        "history",
        "last_id",
        "parent",
        "runtime",
    )

    def __init__(
        self, runtime: Runtime, parent: EventSink, count: int, *, sequential: bool = False
    ) -> None:
        self.runtime = runtime
        self._sequential = sequential
        self.history = runtime.history
        self.parent = parent
        self.head = 0
        self.last_id: int | None = None
        """The id of the latest event passed to ``parent`` (what the parent links to next)."""
        self._children: dict[int, _ChildSink] = {}
        self._done = [False] * count

    def sink(self, index: int) -> EventSink:
        """Where child ``index`` records its events."""
        if self._sequential:
            return self
        child = self._children.get(index)
        if child is None:
            child = self._children[index] = _ChildSink(self, index)
        return child

    def add(
        self,
        event_type: str,
        previous_event_id: int,
        details: dict[str, Any] | None,
        posix: float | None = None,
    ) -> int:
        """Write an event of the running child straight through (``sequential`` only)."""
        event_id = self.last_id = self.parent.add(event_type, previous_event_id, details, posix)
        return event_id

    def put(self, event: HistoryEvent) -> int:
        """Pass on an event the running child's own children held (``sequential`` only)."""
        event_id = self.last_id = self.parent.put(event)
        return event_id

    def finished(self, index: int) -> None:
        """Child ``index`` has finished (succeeded, failed or was stopped)."""
        if self._sequential:
            return  # nothing is held
        self._done[index] = True
        self._advance()

    def close(self, *errors: BaseException | None) -> None:
        """Pass on everything still held, in child order (children that never ran included),
        then give ``errors`` the final ids of the events their causes quote."""
        if not self._sequential:
            for index in range(len(self._done)):
                self._done[index] = True
            self._advance()
            self._children.clear()  # they point back here: let refcounting free both
        for error in errors:
            if error is not None:
                self.history.resolve_error(error)

    def _advance(self) -> None:
        done, children = self._done, self._children
        count = len(done)
        head = self.head
        while head < count and done[head]:
            head += 1
            self.head = head
            child = children.get(head)
            if child is not None and child.events:
                events, child.events = child.events, []
                for event in events:
                    self.last_id = self.parent.put(event)
