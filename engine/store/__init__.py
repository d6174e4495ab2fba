"""Execution stores: in memory (the default) and SQLite (durable); see :mod:`engine.store.base`."""

from engine.store.base import (
    CorruptStoreError,
    EventsNotRecorded,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRecorded,
    ExecutionStore,
    FoundChild,
    HistoryNotKept,
    Listing,
    StoredExecution,
    StoreError,
)
from engine.store.memory import MemoryStore
from engine.store.sqlite import SQLiteStore

__all__ = [
    "CorruptStoreError",
    "EventsNotRecorded",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionNotRecorded",
    "ExecutionStore",
    "FoundChild",
    "HistoryNotKept",
    "Listing",
    "MemoryStore",
    "SQLiteStore",
    "StoreError",
    "StoredExecution",
]
