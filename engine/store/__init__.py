"""Execution stores: in memory (the default) and SQLite (durable); see :mod:`engine.store.base`."""

from engine.store.base import (
    CorruptStoreError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStore,
    StoredExecution,
    StoreError,
)
from engine.store.memory import MemoryStore
from engine.store.sqlite import SQLiteStore

__all__ = [
    "CorruptStoreError",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionStore",
    "MemoryStore",
    "SQLiteStore",
    "StoreError",
    "StoredExecution",
    "open_store",
]


def open_store(path: str | None) -> ExecutionStore:
    """The store at ``path`` (a SQLite file), or a new in-memory store for None/``:memory:``."""
    if path is None or path == ":memory:":
        return MemoryStore()
    return SQLiteStore(path)
