"""The SQLite execution store's file: its schema (made, identified, updated), checks, WAL.

Also turns ``sqlite3`` errors into :class:`~engine.store.base.StoreError` and
:class:`~engine.store.base.CorruptStoreError` naming the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Final, Literal

from engine.store.base import CorruptStoreError, StoreError

__all__ = [
    "ErrorTranslator",
    "busy",
    "create_schema",
    "file_identity",
    "has_map_tables",
    "has_table",
    "identify",
    "migrate",
    "quick_check",
    "use_wal",
    "wal_path",
]

_APPLICATION_ID: Final = 0x53414741  # "SAGA"
_SCHEMA_VERSION: Final = 3
_OLD_VERSIONS: Final = frozenset({1, 2})
"""Versions a writable open brings up to date (version 2 added the map-run tables, version 3
the histories of map-run children)."""
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS machines (
    hash TEXT PRIMARY KEY,
    definition TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    execution_arn TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    machine TEXT NOT NULL REFERENCES machines(hash),
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_posix REAL NOT NULL,
    stop_posix REAL,
    handlers_ref TEXT,
    options TEXT NOT NULL,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions(status, seq);
CREATE TABLE IF NOT EXISTS events (
    execution INTEGER NOT NULL REFERENCES executions(seq),
    id INTEGER NOT NULL,
    type TEXT NOT NULL,
    posix REAL NOT NULL,
    previous_id INTEGER NOT NULL,
    details TEXT,
    next_state TEXT,
    PRIMARY KEY (execution, id)
) WITHOUT ROWID;
"""

_MAP_RUN_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS map_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    execution INTEGER NOT NULL REFERENCES executions(seq),
    arn TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs(execution, seq);
CREATE TABLE IF NOT EXISTS map_children (
    map_run TEXT NOT NULL,
    idx INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (map_run, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS map_child_histories (
    map_run TEXT NOT NULL,
    idx INTEGER NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (map_run, idx)
) WITHOUT ROWID;
"""

_CORRUPTION_MARKERS: Final = (
    "malformed",
    "not a database",
    "file is encrypted",
    "disk image",
    "corrupt",
)


def wal_path(path: Path) -> Path:
    return Path(f"{path}-wal")


def file_identity(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when the file is written: inode, size, modification and change times."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED} or "locked" in str(exc)


def create_schema(db: sqlite3.Connection) -> None:
    """The tables, the application id and the schema version (inside the caller's transaction)."""
    for statement in (_SCHEMA + _MAP_RUN_SCHEMA).split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")


def has_map_tables(db: sqlite3.Connection) -> bool:
    return has_table(db, "map_runs")


def has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None


def migrate(db: sqlite3.Connection) -> None:
    """Bring a version-1 or -2 store up to date: add the map-run tables that are missing
    (inside a transaction)."""
    for statement in _MAP_RUN_SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")


def identify(path: Path, db: sqlite3.Connection) -> Literal["empty", "old", "store"]:
    """Whether the database is empty, a store of an older schema this engine brings up to date,
    or an execution store of this schema (else StoreError).

    Called inside a transaction, so the id, the version and the tables are read together.
    """
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if not tables and application_id == 0:
        return "empty"
    if application_id != _APPLICATION_ID:
        raise StoreError(f"{path} is an SQLite database but not an execution store", str(path))
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version in _OLD_VERSIONS:
        return "old"
    if version != _SCHEMA_VERSION:
        raise StoreError(
            f"execution store {path} has schema version {version}; this engine reads version "
            f"{_SCHEMA_VERSION}",
            str(path),
        )
    return "store"


def quick_check(path: Path, db: sqlite3.Connection) -> None:
    problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if problems != ["ok"]:
        raise CorruptStoreError(
            f"execution store {path} is damaged: {'; '.join(problems[:3])}", str(path)
        )


def use_wal(db: sqlite3.Connection) -> None:
    if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        db.execute("PRAGMA journal_mode = WAL")


class ErrorTranslator:
    """Turns ``sqlite3`` errors into :class:`StoreError` / :class:`CorruptStoreError`."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not isinstance(exc, sqlite3.Error):
            return
        message = str(exc)
        if isinstance(exc, sqlite3.DatabaseError) and any(
            marker in message.lower() for marker in _CORRUPTION_MARKERS
        ):
            raise CorruptStoreError(
                f"execution store {self.path} is damaged: {message}", str(self.path)
            ) from exc
        raise StoreError(f"execution store {self.path}: {message}", str(self.path)) from exc
