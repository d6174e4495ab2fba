"""The SQLite execution store: the embedded durable default (stdlib ``sqlite3``, WAL).

Each event is one committed transaction before ``append`` returns, so a killed process loses
nothing it recorded. WAL lets readers (``saga executions``) run beside writers; every thread
gets its own connection and waits up to ``busy_timeout`` seconds for the write lock, so many
executions, threads and processes can write to one file. ``synchronous=NORMAL`` (the default)
survives any process crash; ``synchronous="FULL"`` also survives power loss, at the cost of a
disk flush per event. A damaged file raises :class:`CorruptStoreError` naming it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Final, Literal

from engine.history import HistoryEvent
from engine.store.base import (
    CLOSING_EVENTS,
    CorruptStoreError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStore,
    StoredExecution,
    StoreError,
    Transition,
    closing_outcome,
    same_input,
)

__all__ = ["SQLiteStore"]

_APPLICATION_ID: Final = 0x53414741  # "SAGA"
_SCHEMA_VERSION: Final = 1
_HEADER: Final = b"SQLite format 3\x00"

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

_COLUMNS: Final = (
    "e.name, e.execution_arn, e.state_machine_arn, m.definition, e.input, e.status, e.output, "
    "e.error, e.cause, e.start_posix, e.stop_posix, e.handlers_ref, e.options"
)
_SELECT: Final = f"SELECT {_COLUMNS} FROM executions e JOIN machines m ON m.hash = e.machine"

_CORRUPTION_MARKERS: Final = (
    "malformed",
    "not a database",
    "file is encrypted",
    "disk image",
    "corrupt",
)


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


class SQLiteStore(ExecutionStore):
    """Executions and history events in one SQLite file (created when missing)."""

    durable = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        check: bool = True,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._seqs: dict[str, int] = {}
        self._closed = False
        if self.path.is_dir():
            raise StoreError(f"execution store {self.path} is a directory", str(self.path))
        if not self.path.parent.is_dir():
            raise StoreError(
                f"execution store {self.path}: no such directory {self.path.parent}",
                str(self.path),
            )
        self._check_header()
        with self._errors():
            self._initialise(check)

    # -- connections and errors -------------------------------------------------------------

    @property
    def location(self) -> str:
        """The database file's path."""
        return str(self.path)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        if self._closed:
            raise StoreError(f"execution store {self.path} is closed", str(self.path))
        connection = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        connection.execute("PRAGMA foreign_keys = ON")
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection

    def _errors(self) -> _ErrorTranslator:
        return _ErrorTranslator(self.path)

    def _check_header(self) -> None:
        """Refuse a file that is not SQLite, or is shorter than its header says (truncated)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0:
            return
        with open(self.path, "rb") as file:
            header = file.read(100)
        if len(header) < 100 or not header.startswith(_HEADER):
            raise CorruptStoreError(
                f"execution store {self.path} is not an SQLite database (damaged or another "
                "kind of file)",
                str(self.path),
            )
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        valid = header[24:28] == header[92:96]
        wal = Path(f"{self.path}-wal")
        wal_pending = wal.exists() and wal.stat().st_size > 0
        if valid and not wal_pending and pages * page_size > size:
            raise CorruptStoreError(
                f"execution store {self.path} is truncated: {size} bytes, its header says "
                f"{pages} pages of {page_size} bytes",
                str(self.path),
            )

    def _initialise(self, check: bool) -> None:
        db = self._connection()
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables and application_id != _APPLICATION_ID:
            raise StoreError(
                f"{self.path} is an SQLite database but not an execution store",
                str(self.path),
            )
        if check:
            problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise CorruptStoreError(
                    f"execution store {self.path} is damaged: {'; '.join(problems[:3])}",
                    str(self.path),
                )
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        if not tables:
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        else:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != _SCHEMA_VERSION:
                raise StoreError(
                    f"execution store {self.path} has schema version {version}; this engine "
                    f"reads version {_SCHEMA_VERSION}",
                    str(self.path),
                )

    def close(self) -> None:
        """Close every connection (after this the store cannot be used)."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
        self._local = threading.local()

    # -- writing ----------------------------------------------------------------------------

    def start(self, execution: StoredExecution, owner: str) -> tuple[StoredExecution, bool]:
        """Record a new execution, or return the open one with the same name and input."""
        definition = execution.definition
        machine_hash = hashlib.sha256(definition.encode("utf-8")).hexdigest()
        with self._errors():
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                existing = self._find(db, execution.name)
                if existing is not None:
                    db.execute("ROLLBACK")
                    if not existing.done and same_input(existing.input, execution.input):
                        return existing, False
                    raise ExecutionAlreadyExists(f"Execution Already Exists: '{execution.name}'")
                db.execute(
                    "INSERT OR IGNORE INTO machines (hash, definition) VALUES (?, ?)",
                    (machine_hash, definition),
                )
                cursor = db.execute(
                    "INSERT INTO executions (name, execution_arn, state_machine_arn, machine, "
                    "input, status, start_posix, handlers_ref, options, owner) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        execution.name,
                        execution.execution_arn,
                        execution.state_machine_arn,
                        machine_hash,
                        _dumps(execution.input),
                        execution.status,
                        execution.start_posix,
                        execution.handlers_ref,
                        _dumps(dict(execution.options)),
                        owner,
                    ),
                )
                db.execute("COMMIT")
            except ExecutionAlreadyExists:
                raise
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        seq = cursor.lastrowid
        assert seq is not None
        self._seqs[execution.name] = seq
        return execution, True

    def _seq(self, db: sqlite3.Connection, name: str) -> int:
        seq = self._seqs.get(name)
        if seq is None:
            row = db.execute("SELECT seq FROM executions WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise ExecutionDoesNotExist(name)
            seq = int(row[0])
            self._seqs[name] = seq
        return seq

    def append(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> None:
        """Commit the event; a closing event closes the record in the same transaction."""
        with self._errors():
            db = self._connection()
            seq = self._seq(db, name)
            row = (
                seq,
                event.id,
                event.type,
                event.posix,
                event.previous_event_id,
                None if event.details is None else _dumps(event.details),
                None if transition is None else _dumps(transition.next_state),
            )
            insert = (
                "INSERT INTO events (execution, id, type, posix, previous_id, details, "
                "next_state) VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            if event.type not in CLOSING_EVENTS:
                db.execute(insert, row)
                return
            status, output, error, cause = closing_outcome(event)
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(insert, row)
                db.execute(
                    "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, "
                    "stop_posix = ?, owner = NULL WHERE seq = ?",
                    (
                        status,
                        None if status != "SUCCEEDED" else _dumps(output),
                        error,
                        cause,
                        event.posix,
                        seq,
                    ),
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def claim(self, name: str, owner: str, expected: str | None) -> bool:
        """Take ``name`` over if it is open and its owner is still ``expected``."""
        with self._errors():
            cursor = self._connection().execute(
                "UPDATE executions SET owner = ? WHERE name = ? AND status = 'RUNNING' "
                "AND owner IS ?",
                (owner, name, expected),
            )
            return cursor.rowcount == 1

    def release(self, name: str, owner: str) -> None:
        """Leave ``name`` open and unowned, if ``owner`` holds it."""
        with self._errors():
            self._connection().execute(
                "UPDATE executions SET owner = NULL WHERE name = ? AND owner = ?", (name, owner)
            )

    # -- reading ----------------------------------------------------------------------------

    def _find(self, db: sqlite3.Connection, name: str) -> StoredExecution | None:
        row = db.execute(f"{_SELECT} WHERE e.name = ?", (name,)).fetchone()
        return None if row is None else self._record(row)

    def _record(self, row: tuple[Any, ...]) -> StoredExecution:
        try:
            return StoredExecution(
                name=row[0],
                execution_arn=row[1],
                state_machine_arn=row[2],
                definition=row[3],
                input=json.loads(row[4]),
                status=row[5],
                output=None if row[6] is None else json.loads(row[6]),
                error=row[7],
                cause=row[8],
                start_posix=float(row[9]),
                stop_posix=None if row[10] is None else float(row[10]),
                handlers_ref=row[11],
                options=json.loads(row[12]),
            )
        except (TypeError, ValueError) as exc:
            raise CorruptStoreError(
                f"execution store {self.path}: execution {row[0]!r} cannot be read: {exc}",
                str(self.path),
            ) from None

    def find(self, name: str) -> StoredExecution | None:
        """The execution ``name``, or None."""
        with self._errors():
            return self._find(self._connection(), name)

    def executions(self, *, status: str | None = None) -> list[StoredExecution]:
        """Every execution (with that status), in start order."""
        with self._errors():
            db = self._connection()
            if status is None:
                rows = db.execute(f"{_SELECT} ORDER BY e.seq").fetchall()
            else:
                rows = db.execute(
                    f"{_SELECT} WHERE e.status = ? ORDER BY e.seq", (status,)
                ).fetchall()
            return [self._record(row) for row in rows]

    def history(self, name: str) -> list[HistoryEvent]:
        """The events of ``name`` in id order (ids 1..n, with no gap)."""
        with self._errors():
            db = self._connection()
            seq = self._seq(db, name)
            rows = db.execute(
                "SELECT id, type, posix, previous_id, details FROM events "
                "WHERE execution = ? ORDER BY id",
                (seq,),
            ).fetchall()
        events: list[HistoryEvent] = []
        for expected, (event_id, event_type, posix, previous, details) in enumerate(rows, 1):
            if event_id != expected:
                raise CorruptStoreError(
                    f"execution store {self.path}: the history of {name!r} misses event {expected}",
                    str(self.path),
                )
            try:
                parsed = None if details is None else json.loads(details)
            except ValueError as exc:
                raise CorruptStoreError(
                    f"execution store {self.path}: event {event_id} of {name!r} cannot be "
                    f"read: {exc}",
                    str(self.path),
                ) from None
            events.append(HistoryEvent(event_id, event_type, float(posix), previous, parsed))
        return events

    def transitions(self, name: str) -> dict[int, str | None]:
        """Exit event id → next state, for ``name``."""
        with self._errors():
            db = self._connection()
            rows = db.execute(
                "SELECT id, next_state FROM events WHERE execution = ? AND next_state IS NOT NULL",
                (self._seq(db, name),),
            ).fetchall()
        found: dict[int, str | None] = {}
        for event_id, text in rows:
            value = json.loads(text)
            found[int(event_id)] = value if isinstance(value, str) else None
        return found

    def owner(self, name: str) -> str | None:
        """Who runs ``name`` now."""
        with self._errors():
            row = (
                self._connection()
                .execute("SELECT owner FROM executions WHERE name = ?", (name,))
                .fetchone()
            )
        if row is None:
            raise ExecutionDoesNotExist(name)
        owner: str | None = row[0]
        return owner


class _ErrorTranslator:
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
