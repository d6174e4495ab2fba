"""Staged events not committed yet, per thread: committed before the engine acts on them.

The engine records an event with :meth:`ExecutionStore.stage
<engine.store.base.ExecutionStore.stage>`; a store that batches (SQLite) holds it in the
calling thread's batch. Events of pure computation (states entered and left, a task
scheduled) wait there together, and the batch is committed in one transaction:

- explicitly, by :func:`commit_staged`, right before the engine acts on what it recorded
  (invokes a Task's handler or integration, writes a distributed Map's results, saves a map
  run or a child's outcome, closes an execution, ends a run);
- at the latest when the event loop runs its next callbacks: the first staged event schedules
  a commit there, so any await that really yields (a Wait, a retry's backoff, a callback or
  activity, another thread) finds the batch committed.

A crash before that commit loses only events nothing acted on: a resume replays them.
Whoever staged an event is told how its batch ended (:class:`Party`): when the commit fails,
each execution that lost events stops at its first event not kept, unrecorded
(:class:`~engine.store.base.EventsNotRecorded` says which, when some were kept).
"""

from __future__ import annotations

import threading
from typing import Protocol

import anyio.lowlevel

from engine.store.base import ExecutionStore, StoreError

__all__ = ["Party", "commit_staged", "note_staged"]


class Party(Protocol):
    """Who staged events in a batch (an execution's recorder)."""

    def committed(self) -> None:
        """The batch holding its staged events was committed."""

    def lost(self, exc: StoreError) -> None:
        """The batch holding its staged events could not be committed (all or some of them
        were not kept: :class:`~engine.store.base.EventsNotRecorded` says which)."""


class _Batch:
    """One store's batch on this thread: who staged events in it."""

    __slots__ = ("parties", "store")

    def __init__(self, store: ExecutionStore) -> None:
        self.store = store
        self.parties: list[Party] = []


class _Thread(threading.local):
    """This thread's batches, by store, and the event loop a commit is scheduled on (None)."""

    def __init__(self) -> None:
        self.batches: dict[int, _Batch] = {}
        self.scheduled_on: object = None


_thread = _Thread()


def note_staged(store: ExecutionStore, party: Party) -> None:
    """``party`` staged an event in ``store`` on this thread (noted once per batch).

    The batch is committed when the event loop runs its next callbacks (at once when this
    thread runs no event loop), unless :func:`commit_staged` commits it sooner.
    """
    state = _thread
    batch = state.batches.get(id(store))
    if batch is None:
        batch = state.batches[id(store)] = _Batch(store)
    batch.parties.append(party)
    try:
        token = anyio.lowlevel.current_token()
    except RuntimeError:  # no event loop runs on this thread
        commit_staged()
        return
    # Once per loop: one closed with the commit still to run (it never did) gets a new one.
    if state.scheduled_on is not token.native_token:
        token.backend_class.run_sync_soon(_tick_end, (), token.native_token)
        state.scheduled_on = token.native_token


def _tick_end() -> None:
    _thread.scheduled_on = None
    commit_staged()


def commit_staged() -> bool:
    """Commit every batch staged on this thread; False when one could not be committed.

    Each party of a failed batch is told (it stops its execution); nothing is raised.
    """
    batches = _thread.batches
    kept = True
    while batches:
        _, batch = batches.popitem()
        try:
            batch.store.commit()
        except Exception as exc:
            kept = False
            lost = exc if isinstance(exc, StoreError) else _unexpected(batch.store, exc)
            for party in batch.parties:
                party.lost(lost)
        else:
            for party in batch.parties:
                party.committed()
    return kept


def _unexpected(store: ExecutionStore, exc: Exception) -> StoreError:
    """A store's commit raised something else than a StoreError: said as one, naming it."""
    error = StoreError(f"{type(exc).__name__}: {exc}", store.location)
    error.__cause__ = exc
    return error
