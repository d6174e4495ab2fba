"""An execution's history: Step Functions' events with ids, previous ids, timestamps, details.

Events keep their payloads as Python values and render JSON text only when asked
(``to_dict``), so recording stays cheap on the hot path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from engine.clock import format_timestamp
from engine.errors import StatesError
from engine.limits import MAX_HISTORY_EVENTS, FatalError, to_json_text

__all__ = [
    "History",
    "HistoryEvent",
    "HistoryLimitExceeded",
    "JSON_FIELDS",
    "TASK_FAILED_EVENTS",
    "TASK_SCHEDULED_EVENTS",
    "TASK_SUCCEEDED_EVENTS",
    "details_key",
]

JSON_FIELDS: Final = frozenset({"input", "output", "parameters"})
"""Detail fields AWS reports as JSON text (held as Python values until rendered)."""

_DETAIL_WRAPPERS: Final = frozenset({"input", "output"})

_QUOTED_ID: Final = re.compile(r"(?<=event id #)-\d+")
"""A provisional (negative) event id quoted in an error's cause (``entered at the event id``)."""

TASK_SCHEDULED_EVENTS: Final = frozenset(
    {"LambdaFunctionScheduled", "TaskScheduled", "ActivityScheduled"}
)
"""The events that start one attempt of a Task (Lambda, service integration, activity)."""

TASK_SUCCEEDED_EVENTS: Final = frozenset(
    {"LambdaFunctionSucceeded", "TaskSucceeded", "ActivitySucceeded"}
)
"""The events that end an attempt of a Task successfully."""

TASK_FAILED_EVENTS: Final = frozenset(
    {
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionScheduleFailed",
        "LambdaFunctionStartFailed",
        "TaskFailed",
        "TaskTimedOut",
        "TaskScheduleFailed",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "ActivityFailed",
        "ActivityTimedOut",
        "ActivityScheduleFailed",
    }
)
"""The events that end an attempt of a Task with an error (its ``error`` and ``cause``)."""


def details_key(event_type: str) -> str:
    """The name of the details member of an event (``stateEnteredEventDetails`` ...)."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


@dataclass(slots=True)
class HistoryEvent:
    """One history event; ``details`` holds Python values for the JSON-text fields."""

    id: int
    type: str
    posix: float
    previous_event_id: int
    details: dict[str, Any] | None = None

    @property
    def timestamp(self) -> datetime:
        """When the event happened (aware UTC)."""
        return datetime.fromtimestamp(self.posix, UTC)

    @property
    def state_name(self) -> str | None:
        """The state an event belongs to, when its details name one."""
        if self.details is None:
            return None
        name = self.details.get("name")
        return name if isinstance(name, str) else None

    def rendered_details(self) -> dict[str, Any]:
        """The details as AWS shows them: payload fields as JSON text plus ``…Details``."""
        if not self.details:
            return {}
        out: dict[str, Any] = {}
        for key, value in self.details.items():
            if key in JSON_FIELDS:
                out[key] = to_json_text(value)
                if key in _DETAIL_WRAPPERS:
                    out[f"{key}Details"] = {"truncated": False}
            else:
                out[key] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """The event as ``GetExecutionHistory`` shows it (timestamp in ISO-8601, milliseconds)."""
        event: dict[str, Any] = {
            "timestamp": format_timestamp(self.posix),
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        # AWS's HistoryEvent has no details member for ``…StateAborted`` events.
        if self.details is not None and not self.type.endswith("StateAborted"):
            event[details_key(self.type)] = self.rendered_details()
        return event


_new_event: Final = object.__new__


class HistoryLimitExceeded(FatalError):
    """The execution reached the history-event quota; it fails as AWS fails it."""


class History:
    """The ordered event list of one execution, with the quota enforced.

    Flows record into it (it is their :class:`~engine.interpreter.ordering.EventSink`): events
    a concurrent child held back come in through :meth:`put` and get their final ids then,
    and links and quoted ids pointing at held events are translated as they are written (see
    :mod:`engine.interpreter.ordering`).
    """

    __slots__ = (
        "_clock",
        "_final_ids",
        "_limit_hit",
        "_listener",
        "_translating",
        "events",
        "held",
        "limit",
    )

    def __init__(
        self,
        clock_time: Callable[[], float],
        *,
        limit: int = MAX_HISTORY_EVENTS,
        listener: Callable[[HistoryEvent], None] | None = None,
    ) -> None:
        self.events: list[HistoryEvent] = []
        self.limit = limit
        self._clock = clock_time
        self._limit_hit = False
        self._listener = listener
        self.held = 0
        """How many events children hold (counted against the quota)."""
        self._final_ids: dict[int, int] = {}
        """Provisional id of each held event written so far → its id in the history."""
        self._translating = False
        """Whether an event was ever held (what is added may count or name held events)."""

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[HistoryEvent]:
        return iter(self.events)

    @property
    def last_id(self) -> int:
        """Id of the latest event (0 when empty)."""
        return len(self.events)

    def _limit_exceeded(self) -> HistoryLimitExceeded:
        self._limit_hit = True
        return HistoryLimitExceeded(
            "States.Runtime",
            f"The execution reached the maximum number of history events ({self.limit}).",
        )

    def admits(self, events: int) -> bool:
        """Whether ``events`` more (non-final) events fit under the quota; the first time
        they do not, :class:`HistoryLimitExceeded` is raised, later it is False."""
        if len(self.events) + events < self.limit:
            return True
        if self._limit_hit:
            return False
        raise self._limit_exceeded()

    def add(
        self,
        event_type: str,
        previous_event_id: int,
        details: dict[str, Any] | None = None,
        posix: float | None = None,
        *,
        final: bool = False,
        put: bool = False,
    ) -> int:
        """Append an event and return its id.

        The last slot below the quota is kept for the closing execution event (``final``);
        the first event that would take it raises :class:`HistoryLimitExceeded`, later ones
        are dropped. ``posix`` is when the event happened, when that was earlier than now (an
        event a concurrent branch held back, see :mod:`engine.interpreter.ordering`). While
        children hold events, those count against the quota too, and a link to (or a quoted
        id of) a held event that was written is translated to its final id; ``put``: the
        event is one of them, already translated and counted.
        """
        if self._translating and not (final or put) and (self.held or self._final_ids):
            if self.held:
                self.admits(self.held + 1)
            previous_event_id = self.final_id(previous_event_id)
            details = self._resolved(details)
        events = self.events
        event_id = len(events) + 1
        if event_id >= self.limit and not final:
            if self._limit_hit:
                return event_id - 1
            raise self._limit_exceeded()
        # What HistoryEvent(...) does, without running its __init__ (a Python call per event).
        event = _new_event(HistoryEvent)
        event.id = event_id
        event.type = event_type
        event.posix = self._clock() if posix is None else posix
        event.previous_event_id = previous_event_id
        event.details = details
        events.append(event)
        if self._listener is not None:
            self._listener(event)
        return event_id

    # -- events held by concurrent children (see engine.interpreter.ordering) ---------------

    def hold(self) -> int | None:
        """A provisional id for an event a child holds, or None when the history is full.

        The quota counts held events too, so it fails where it would without holding.
        """
        if not self.admits(self.held + 1):
            return None
        self._translating = True
        self.held += 1
        return -(len(self._final_ids) + self.held)

    def put(self, event: HistoryEvent) -> int:
        """Append a held event (its ``id`` provisional), with its own timestamp; remember its
        final id."""
        self.held -= 1
        event_id = self.add(
            event.type,
            self.final_id(event.previous_event_id),
            self._resolved(event.details),
            event.posix,
            put=True,
        )
        self._final_ids[event.id] = event_id
        return event_id

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
