"""The histories of a map run's child executions that an in-memory store keeps: at most a cap.

A distributed Map may run 100,000 children or more; their records are small, their histories
are not. The in-memory store keeps the histories of up to ``cap`` children per map run: once
full, a child that failed, timed out or was aborted takes the place of the oldest kept child
that succeeded (failures are the ones worth reading), and any other child's history is not
kept. A durable store (SQLite) keeps every history on disk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

from engine.history import HistoryEvent

__all__ = ["DEFAULT_CHILD_HISTORIES", "ChildHistories"]

DEFAULT_CHILD_HISTORIES: Final = 1000
"""Child histories an in-memory store keeps per map run unless told otherwise."""


class ChildHistories:
    """The kept histories of one map run's children, by item index (not thread-safe)."""

    __slots__ = ("_cap", "_failed", "_succeeded")

    def __init__(self, cap: int) -> None:
        if cap < 0:
            raise ValueError(f"the child history cap must be 0 or more, not {cap}")
        self._cap = cap
        self._succeeded: OrderedDict[int, tuple[HistoryEvent, ...]] = OrderedDict()
        self._failed: dict[int, tuple[HistoryEvent, ...]] = {}

    def __len__(self) -> int:
        return len(self._succeeded) + len(self._failed)

    def keep(self, index: int, status: str, history: Sequence[HistoryEvent]) -> bool:
        """Keep child ``index``'s history if there is room (or a success to evict); whether kept."""
        self._succeeded.pop(index, None)
        self._failed.pop(index, None)
        events = tuple(history)
        if len(self) >= self._cap:
            if status == "SUCCEEDED" or not self._succeeded:
                return False
            self._succeeded.popitem(last=False)
        if status == "SUCCEEDED":
            self._succeeded[index] = events
        else:
            self._failed[index] = events
        return True

    def drop(self, index: int) -> None:
        """Forget child ``index``'s history (its outcome is no longer kept either)."""
        self._succeeded.pop(index, None)
        self._failed.pop(index, None)

    def get(self, index: int) -> list[HistoryEvent] | None:
        """The kept history of child ``index`` (None: not kept)."""
        found = self._failed.get(index)
        if found is None:
            found = self._succeeded.get(index)
        return None if found is None else list(found)
