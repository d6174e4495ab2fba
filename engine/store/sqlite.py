"""The SQLite execution store: the embedded durable default (stdlib ``sqlite3``, WAL).

The engine stages events (:meth:`SQLiteStore.stage`) in a batch of the calling thread and
commits the batch (:meth:`SQLiteStore.commit`, one transaction) before it acts on any of them
(see :mod:`engine.store.pending`): a killed process loses only staged events nothing acted on,
and each execution's stored history stays a whole prefix. ``append`` commits at once. No
transaction stays open between commits. WAL lets readers (``saga executions``) run beside
writers; every thread gets its own connection and waits up to ``busy_timeout`` seconds for the
write lock, so many executions, threads and processes can write to one file.
``synchronous=NORMAL`` (the default) survives any process crash; ``synchronous="FULL"`` also
survives power loss, at the cost of a disk flush per commit. A damaged file raises
:class:`CorruptStoreError` naming it.

A new store is built under a private name and linked into place, so no process ever sees a
half-made one; it is readable by its owner only (mode 0600, which SQLite gives its ``-wal`` and
``-shm`` files too). ``read_only=True`` never writes and never leaves a file behind: while no
writer has the store open (no ``-wal`` file) it reads the file as it is and checks that nothing
changed meanwhile; beside a writer it shares the writer's ``-wal``/``-shm``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from engine.distributed.map_run import MapChild, MapRun
from engine.execution import ExecutionStatus
from engine.history import HistoryEvent
from engine.store.base import (
    CLOSING_EVENTS,
    CorruptStoreError,
    EventsNotRecorded,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStore,
    FoundChild,
    HistoryNotKept,
    Listing,
    StoredExecution,
    StoreError,
    Transition,
    closing_outcome,
    same_input,
)
from engine.store.sqlite_file import (
    ErrorTranslator,
    busy,
    create_schema,
    file_identity,
    has_map_tables,
    has_table,
    identify,
    migrate,
    quick_check,
    use_wal,
    wal_path,
)

__all__ = ["SQLiteStore"]

_READ_ATTEMPTS: Final = 4
_STATUSES: Final = frozenset({"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
_T = TypeVar("_T")

_COLUMNS: Final = (
    "e.name, e.execution_arn, e.state_machine_arn, m.definition, e.input, e.status, e.output, "
    "e.error, e.cause, e.start_posix, e.stop_posix, e.handlers_ref, e.options"
)
_SELECT: Final = f"SELECT {_COLUMNS} FROM executions e LEFT JOIN machines m ON m.hash = e.machine"

_INSERT_EVENTS: Final = (
    "INSERT INTO events (execution, id, type, posix, previous_id, details, next_state) VALUES "
)
_ROW: Final = "(?, ?, ?, ?, ?, ?, ?)"
_ROWS_PER_INSERT: Final = 64
"""Rows one INSERT statement writes (7 parameters each, well below SQLite's 999)."""
_INSERT_EXECUTION: Final = (
    "INSERT INTO executions (name, execution_arn, state_machine_arn, machine, input, status, "
    "start_posix, handlers_ref, options, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(name) DO NOTHING"
)
"""An execution's record; one of the same name is left as it is (rowcount 0)."""
_CLOSE_EXECUTION: Final = (
    "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_posix = ?, "
    "owner = NULL WHERE seq = ?"
)

_dumps_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode
_dumps_ascii = json.JSONEncoder(separators=(",", ":"), default=str).encode
_make_encoder: Callable[..., Callable[[Any, int], list[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_chunks_text = (
    None
    if _make_encoder is None
    # markers (None: no circular check), default, string encoder, indent, key and item
    # separators, sort_keys, skipkeys, allow_nan: JSONEncoder's own for _dumps_text.
    else _make_encoder(
        None, str, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)
"""The C encoder behind ``_dumps_text``, made once (``JSONEncoder.encode`` makes one per call),
without the check for circular values (only a failure's path: see :func:`_dumps`)."""


def _dumps(value: Any) -> str:
    """Compact JSON text SQLite can store: a lone surrogate is kept as a ``\\uXXXX`` escape."""
    if _chunks_text is None:
        text = _dumps_text(value)
    else:
        try:
            text = "".join(_chunks_text(value, 0))
        except RecursionError:
            text = _dumps_text(value)  # a circular value: said as JSONEncoder says it
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _dumps_ascii(value)
    return text


class _Batch:
    """The events one thread staged and has not committed: their rows, whose they are, and the
    records the closing ones among them close (by row)."""

    __slots__ = ("closes", "names", "rows")

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.names: list[str] = []
        self.closes: dict[int, tuple[Any, ...]] = {}


class SQLiteStore(ExecutionStore):
    """Executions and history events in one SQLite file (created when missing, owner-only).

    ``read_only=True`` opens an existing store for reading (``saga executions``): it writes
    nothing and creates no file; writing methods raise :class:`StoreError`.
    """

    durable = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        check: bool = True,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous
        self.read_only = read_only
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._seqs: dict[str, int] = {}
        self._machines: dict[str, str] = {}
        """Definitions this store has kept, and their hashes (their ``machines`` row)."""
        self._closed = False
        # Written before batches, a subclass overriding only append gets every event there.
        self._batches = type(self).append is SQLiteStore.append or (
            type(self).stage is not SQLiteStore.stage
        )
        if self.path.is_dir():
            raise StoreError(f"execution store {self.path} is a directory", str(self.path))
        if not self.path.parent.is_dir():
            raise StoreError(
                f"execution store {self.path}: no such directory {self.path.parent}",
                str(self.path),
            )
        if read_only:
            if not self.path.is_file():
                raise StoreError(f"no such execution store: {self.path}", str(self.path))
        elif not self.path.exists():
            self._create()
        try:
            if read_only:
                self._read(lambda db: self._check(db, check))
            else:
                self._initialise(check)
        except BaseException:
            self.close()
            raise

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
        if self.read_only:
            connection = self._open_read_only()
        else:
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute(f"PRAGMA synchronous = {self.synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        """A read-only connection; ``immutable`` (no ``-wal``/``-shm`` made) while no writer runs.

        Without a ``-wal`` file nobody has the store open for writing and the file holds every
        committed event; the file's identity is noted to check after each read that no writer
        came and changed it meanwhile (then the read is done again).
        """
        snapshot = file_identity(self.path)
        alone = not wal_path(self.path).exists() and not getattr(self._local, "shared", False)
        query = "mode=ro&immutable=1" if alone else "mode=ro"
        self._local.snapshot = snapshot if alone else None
        return sqlite3.connect(
            f"{self.path.as_uri()}?{query}",
            uri=True,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )

    def _drop_connection(self) -> None:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is None:
            return
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        with contextlib.suppress(sqlite3.Error):
            connection.close()

    def _unchanged(self) -> bool:
        """Whether the file read without locks (``immutable``) is still as it was."""
        snapshot = getattr(self._local, "snapshot", None)
        if snapshot is None:
            return True
        return file_identity(self.path) == snapshot and not wal_path(self.path).exists()

    def _read(self, query: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``query`` on this thread's connection; read again if a writer changed the file."""
        with self._errors():
            for attempt in range(_READ_ATTEMPTS):
                db = self._connection()
                try:
                    result = query(db)
                except sqlite3.DatabaseError:
                    if self._unchanged():
                        raise
                else:
                    if self._unchanged():
                        return result
                self._drop_connection()
                if attempt == _READ_ATTEMPTS - 2:
                    # A writer keeps coming and going: share its -wal like any reader.
                    self._local.shared = True
            raise StoreError(
                f"execution store {self.path} kept changing while it was read", str(self.path)
            )

    def _write(self, action: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``action`` (one statement or one transaction), again while the store is busy."""
        if self.read_only:
            raise StoreError(f"execution store {self.path} is open read-only", str(self.path))
        with self._errors():
            db = self._connection()
            deadline = time.monotonic() + self.busy_timeout
            delay = 0.002
            while True:
                try:
                    return action(db)
                except sqlite3.OperationalError as exc:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    if not busy(exc) or time.monotonic() >= deadline:
                        raise
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def _errors(self) -> ErrorTranslator:
        return ErrorTranslator(self.path)

    def _create(self) -> None:
        """Make the store under a private name, then link it into place (owner-only, atomic).

        Processes creating one store at once each build one; the first link wins and the
        others open it. Where hard links are not supported the empty file is created in place
        and initialised in a transaction by whoever opens it first.
        """
        private = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            os.close(os.open(private, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            with self._errors():
                db = sqlite3.connect(private, isolation_level=None)
                try:
                    db.execute("PRAGMA journal_mode = WAL")
                    db.execute("BEGIN IMMEDIATE")
                    create_schema(db)
                    db.execute("COMMIT")
                finally:
                    db.close()
            try:
                os.link(private, self.path)
            except FileExistsError:
                pass  # another process made it first
            except OSError:
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StoreError(
                f"execution store {self.path}: cannot create it: {exc.strerror or exc}",
                str(self.path),
            ) from None
        finally:
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{private}{suffix}")

    def _initialise(self, check: bool) -> None:
        """Check the schema in a read transaction; an empty file gets it in a write transaction."""

        def setup(db: sqlite3.Connection) -> None:
            db.execute("BEGIN")
            kind = identify(self.path, db)
            db.execute("COMMIT")
            if kind != "store":
                db.execute("BEGIN IMMEDIATE")
                kind = identify(self.path, db)
                if kind == "empty":
                    create_schema(db)
                elif kind == "old":
                    migrate(db)
                db.execute("COMMIT")

        self._write(setup)
        self._write(use_wal)
        if check:
            self._read(lambda db: quick_check(self.path, db))

    def _check(self, db: sqlite3.Connection, check: bool) -> None:
        """A read-only open: the file must be an execution store of this schema, undamaged."""
        db.execute("BEGIN")
        try:
            if identify(self.path, db) == "empty":
                raise StoreError(
                    f"execution store {self.path} is empty (not an execution store)",
                    str(self.path),
                )
            if check:
                quick_check(self.path, db)
        finally:
            db.execute("ROLLBACK")

    def close(self) -> None:
        """Commit what this thread staged, then close every connection (after this the store
        cannot be used; StoreError: what this thread staged could not be committed)."""
        try:
            if not self._closed:
                self.commit()
        finally:
            self._close()

    def _close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
        self._local = threading.local()

    # -- writing ----------------------------------------------------------------------------

    def start(self, execution: StoredExecution, owner: str) -> tuple[StoredExecution, bool]:
        """Record a new execution, or return the open one with the same name and input.

        Once this store has kept a machine's definition (rows of ``machines`` are never
        removed), an execution of it is recorded by one statement, its own transaction.
        """
        definition = execution.definition
        machine_hash = self._machines.get(definition)
        known = machine_hash is not None
        if machine_hash is None:
            machine_hash = hashlib.sha256(definition.encode("utf-8")).hexdigest()
        values = (
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
        )

        def insert(db: sqlite3.Connection) -> tuple[StoredExecution, int | None]:
            if not known:
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT OR IGNORE INTO machines (hash, definition) VALUES (?, ?)",
                    (machine_hash, definition),
                )
            cursor = db.execute(_INSERT_EXECUTION, values)
            if not known:
                db.execute("COMMIT")
            if cursor.rowcount == 1:
                return execution, cursor.lastrowid
            existing = self._find(db, execution.name)
            if existing is None:
                raise StoreError(
                    f"execution store {self.path}: execution {execution.name!r} vanished",
                    str(self.path),
                )
            return existing, None

        record, seq = self._write(insert)
        self._machines[definition] = machine_hash
        if seq is None:
            if not record.done and same_input(record.input, execution.input):
                return record, False
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{execution.name}'")
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
        """Commit the event (with what this thread staged before it); a closing event closes
        the record in the same transaction."""
        self._stage(name, event, transition)
        self.commit()

    def stage(self, name: str, event: HistoryEvent, transition: Transition | None = None) -> bool:
        """Stage the event in this thread's batch: it is committed by :meth:`commit`.

        A subclass that overrides only ``append`` (written before batches) gets every event
        through its ``append``, committed at once (returns False).
        """
        if not self._batches:
            self.append(name, event, transition)
            return False
        self._stage(name, event, transition)
        return True

    def _stage(self, name: str, event: HistoryEvent, transition: Transition | None) -> None:
        if self.read_only:
            raise StoreError(f"execution store {self.path} is open read-only", str(self.path))
        if self._closed:
            raise StoreError(f"execution store {self.path} is closed", str(self.path))
        seq = self._seqs.get(name)
        if seq is None:
            seq = self._read(lambda db: self._seq(db, name))
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is None:
            batch = self._local.batch = _Batch()
        batch.rows.append(
            (
                seq,
                event.id,
                event.type,
                event.posix,
                event.previous_event_id,
                None if event.details is None else _dumps(event.details),
                None if transition is None else _dumps(transition.next_state),
            )
        )
        batch.names.append(name)
        if event.type in CLOSING_EVENTS:
            status, output, error, cause = closing_outcome(event)
            batch.closes[len(batch.rows) - 1] = (
                status,
                None if status != "SUCCEEDED" else _dumps(output),
                error,
                cause,
                event.posix,
                seq,
            )

    def commit(self) -> None:
        """Commit this thread's staged events in one transaction.

        The transaction takes the write lock first (``BEGIN IMMEDIATE``), waiting while
        another connection holds it, so no statement inside it finds the store busy; no
        transaction stays open between commits. When it fails for another reason than a busy
        store (a full disk), the events are committed one by one, as far as each execution's
        can be: :class:`EventsNotRecorded` says where each execution's stopped.
        """
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is None:
            return
        self._local.batch = None
        rows, closes = batch.rows, batch.closes

        def write(db: sqlite3.Connection) -> None:
            if len(rows) <= _ROWS_PER_INSERT and not closes:
                _insert_events(db, rows)  # one statement: a transaction of its own
                return
            db.execute("BEGIN IMMEDIATE")
            for start in range(0, len(rows), _ROWS_PER_INSERT):
                _insert_events(db, rows[start : start + _ROWS_PER_INSERT])
            db.executemany(_CLOSE_EXECUTION, closes.values())
            db.execute("COMMIT")

        try:
            self._write(write)
        except StoreError as exc:
            cause = exc.__cause__
            if len(rows) == 1 or (isinstance(cause, sqlite3.OperationalError) and busy(cause)):
                raise
            self._commit_each(batch)

    def _commit_each(self, batch: _Batch) -> None:
        """Commit the rows one at a time; an execution's rows after one that fails are not."""
        lost: dict[str, tuple[int, str, StoreError]] = {}
        for index, row in enumerate(batch.rows):
            name = batch.names[index]
            if name in lost:
                continue
            try:
                self._write(functools.partial(_insert_row, row, batch.closes.get(index)))
            except StoreError as exc:
                lost[name] = (int(row[1]), str(row[2]), exc)
        if lost:
            first = next(iter(lost.values()))[2]
            raise EventsNotRecorded(str(first), str(self.path), lost)

    def claim(self, name: str, owner: str, expected: str | None) -> bool:
        """Take ``name`` over if it is open and its owner is still ``expected``."""
        return self._write(
            lambda db: (
                db.execute(
                    "UPDATE executions SET owner = ? WHERE name = ? AND status = 'RUNNING' "
                    "AND owner IS ?",
                    (owner, name, expected),
                ).rowcount
                == 1
            )
        )

    def reopen(self, name: str, event: HistoryEvent, owner: str) -> StoredExecution:
        """Open the closed execution ``name`` again: its redrive event and the record, at once."""

        def write(db: sqlite3.Connection) -> StoredExecution:
            db.execute("BEGIN IMMEDIATE")  # rolled back by _write on any error
            record = self._find(db, name)
            if record is None:
                raise ExecutionDoesNotExist(name)
            if not record.done:
                raise StoreError(f"execution {name!r} is open ({record.status})", str(self.path))
            reopened = record.reopened_by(event)
            seq = self._seq(db, name)
            db.execute(
                "INSERT INTO events (execution, id, type, posix, previous_id, details, "
                "next_state) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (
                    seq,
                    event.id,
                    event.type,
                    event.posix,
                    event.previous_event_id,
                    None if event.details is None else _dumps(event.details),
                ),
            )
            db.execute(
                "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, "
                "cause = NULL, stop_posix = NULL, options = ?, owner = ? WHERE seq = ?",
                (_dumps(dict(reopened.options)), owner, seq),
            )
            db.execute("COMMIT")
            return reopened

        return self._write(write)

    def release(self, name: str, owner: str) -> None:
        """Leave ``name`` open and unowned, if ``owner`` holds it."""
        self._write(
            lambda db: db.execute(
                "UPDATE executions SET owner = NULL WHERE name = ? AND owner = ?", (name, owner)
            )
        )

    # -- reading ----------------------------------------------------------------------------

    def _find(self, db: sqlite3.Connection, name: str) -> StoredExecution | None:
        row = db.execute(f"{_SELECT} WHERE e.name = ?", (name,)).fetchone()
        return None if row is None else self._record(row)

    def _record(self, row: tuple[Any, ...]) -> StoredExecution:
        try:
            if row[3] is None:
                raise ValueError("its state machine definition is missing")
            return StoredExecution(
                name=row[0],
                execution_arn=row[1],
                state_machine_arn=row[2],
                definition=row[3],
                input=json.loads(row[4]),
                status=_status(row[5]),
                output=None if row[6] is None else json.loads(row[6]),
                error=row[7],
                cause=row[8],
                start_posix=float(row[9]),
                stop_posix=None if row[10] is None else float(row[10]),
                handlers_ref=row[11],
                options=_options(json.loads(row[12])),
            )
        except (TypeError, ValueError, RecursionError) as exc:
            raise CorruptStoreError(
                f"execution store {self.path}: execution {row[0]!r} cannot be read: {exc}",
                str(self.path),
            ) from None

    def find(self, name: str) -> StoredExecution | None:
        """The execution ``name``, or None."""
        return self._read(lambda db: self._find(db, name))

    def _rows(self, status: str | None) -> list[tuple[Any, ...]]:
        def query(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            if status is None:
                return db.execute(f"{_SELECT} ORDER BY e.seq").fetchall()
            return db.execute(f"{_SELECT} WHERE e.status = ? ORDER BY e.seq", (status,)).fetchall()

        return self._read(query)

    def executions(self, *, status: str | None = None) -> list[StoredExecution]:
        """Every execution (with that status) in start order; a damaged one raises."""
        return [self._record(row) for row in self._rows(status)]

    def listing(self, *, status: str | None = None) -> Listing:
        """Every execution (with that status) in start order, and apart the damaged ones."""
        found = Listing()
        for row in self._rows(status):
            try:
                found.executions.append(self._record(row))
            except CorruptStoreError as exc:
                found.damaged.append((str(row[0]), str(exc)))
        return found

    def history(self, name: str) -> list[HistoryEvent]:
        """The events of ``name`` in id order (ids 1..n, with no gap)."""
        rows = self._read(
            lambda db: db.execute(
                "SELECT id, type, posix, previous_id, details FROM events "
                "WHERE execution = ? ORDER BY id",
                (self._seq(db, name),),
            ).fetchall()
        )
        events: list[HistoryEvent] = []
        for expected, (event_id, event_type, posix, previous, details) in enumerate(rows, 1):
            if event_id != expected:
                raise CorruptStoreError(
                    f"execution store {self.path}: the history of {name!r} misses event {expected}",
                    str(self.path),
                )
            try:
                parsed = None if details is None else json.loads(details)
                events.append(HistoryEvent(event_id, event_type, float(posix), previous, parsed))
            except (TypeError, ValueError, RecursionError) as exc:
                raise CorruptStoreError(
                    f"execution store {self.path}: event {event_id} of {name!r} cannot be "
                    f"read: {exc}",
                    str(self.path),
                ) from None
        return events

    def transitions(self, name: str) -> dict[int, str | None]:
        """Exit event id → next state, for ``name``."""
        rows = self._read(
            lambda db: db.execute(
                "SELECT id, next_state FROM events WHERE execution = ? AND next_state IS NOT NULL",
                (self._seq(db, name),),
            ).fetchall()
        )
        found: dict[int, str | None] = {}
        for event_id, text in rows:
            try:
                value = json.loads(text)
            except (TypeError, ValueError, RecursionError) as exc:
                raise CorruptStoreError(
                    f"execution store {self.path}: event {event_id} of {name!r} cannot be "
                    f"read: {exc}",
                    str(self.path),
                ) from None
            found[int(event_id)] = value if isinstance(value, str) else None
        return found

    # -- distributed Map runs ----------------------------------------------------------------
    def _put_map_run(self, db: sqlite3.Connection, name: str, run: MapRun) -> None:
        db.execute(
            "INSERT INTO map_runs (execution, arn, record) VALUES (?, ?, ?) "
            "ON CONFLICT(arn) DO UPDATE SET record = excluded.record",
            (self._seq(db, name), run.map_run_arn, _dumps(run.to_json())),
        )

    def save_map_run(self, name: str, run: MapRun) -> None:
        """Commit the map run's record (inserted, or updated in place)."""
        self._write(lambda db: self._put_map_run(db, name, run))

    def save_map_child(
        self,
        name: str,
        run: MapRun,
        index: int,
        child: MapChild,
        history: Sequence[HistoryEvent] = (),
    ) -> None:
        """Commit the child's outcome, its history and the run's counts in one transaction."""
        events = _dumps([[e.id, e.type, e.posix, e.previous_event_id, e.details] for e in history])

        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            self._put_map_run(db, name, run)
            db.execute(
                "INSERT OR REPLACE INTO map_children (map_run, idx, outcome) VALUES (?, ?, ?)",
                (run.map_run_arn, index, _dumps(child.to_json())),
            )
            if history:
                db.execute(
                    "INSERT OR REPLACE INTO map_child_histories (map_run, idx, events) "
                    "VALUES (?, ?, ?)",
                    (run.map_run_arn, index, events),
                )
            db.execute("COMMIT")

        self._write(write)

    def find_map_child(self, execution_arn: str) -> FoundChild | None:
        """The ended map-run child ``execution_arn``, found by one query."""

        def query(db: sqlite3.Connection) -> tuple[Any, ...] | None:
            if not has_map_tables(db):
                return None
            row: tuple[Any, ...] | None = db.execute(
                "SELECT e.name, c.map_run, c.idx FROM map_children c "
                "JOIN map_runs r ON r.arn = c.map_run JOIN executions e ON e.seq = r.execution "
                "WHERE json_extract(c.outcome, '$.record.ExecutionArn') = ?",
                (execution_arn,),
            ).fetchone()
            return row

        row = self._read(query)
        if row is None:
            return None
        name, map_run_arn, index = str(row[0]), str(row[1]), int(row[2])
        run = next(r for r in self.map_runs(name) if r.map_run_arn == map_run_arn)
        return FoundChild(name, run, index, self.map_children(name, map_run_arn)[index])

    def map_child_history(self, name: str, map_run_arn: str, index: int) -> list[HistoryEvent]:
        """The child's stored history (HistoryNotKept: it ended, but none was stored)."""

        def query(db: sqlite3.Connection) -> tuple[bool, Any]:
            if not has_map_tables(db):
                return False, None
            ended = db.execute(
                "SELECT 1 FROM map_children WHERE map_run = ? AND idx = ?", (map_run_arn, index)
            ).fetchone()
            if ended is None or not has_table(db, "map_child_histories"):
                return ended is not None, None
            row = db.execute(
                "SELECT events FROM map_child_histories WHERE map_run = ? AND idx = ?",
                (map_run_arn, index),
            ).fetchone()
            return True, None if row is None else row[0]

        ended, text = self._read(query)
        if not ended:
            raise ExecutionDoesNotExist(f"{map_run_arn}/{index}")
        if text is None:
            raise HistoryNotKept(
                f"execution store {self.path}: child {index} of map run {map_run_arn} has no "
                "stored history (it ended before this store kept children's histories)",
                str(self.path),
            )
        try:
            return [
                HistoryEvent(int(i), str(kind), float(posix), int(previous), details)
                for i, kind, posix, previous, details in json.loads(text)
            ]
        except (TypeError, ValueError, RecursionError) as exc:
            raise CorruptStoreError(
                f"execution store {self.path}: the history of child {index} of map run "
                f"{map_run_arn} cannot be read: {exc}",
                str(self.path),
            ) from None

    def map_runs(self, name: str) -> list[MapRun]:
        """The map runs of ``name`` in start order (none in a version-1 store opened read-only)."""

        def query(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            seq = self._seq(db, name)
            if not has_map_tables(db):
                return []
            return db.execute(
                "SELECT arn, record FROM map_runs WHERE execution = ? ORDER BY seq", (seq,)
            ).fetchall()

        runs: list[MapRun] = []
        for arn, text in self._read(query):
            try:
                runs.append(MapRun.from_json(json.loads(text)))
            except (TypeError, ValueError, KeyError, RecursionError) as exc:
                raise CorruptStoreError(
                    f"execution store {self.path}: map run {arn} cannot be read: {exc}",
                    str(self.path),
                ) from None
        return runs

    def map_children(self, name: str, map_run_arn: str) -> dict[int, MapChild]:
        """The ended children of the map run, by index."""

        def query(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            if not has_map_tables(db):
                return []
            return db.execute(
                "SELECT idx, outcome FROM map_children WHERE map_run = ?", (map_run_arn,)
            ).fetchall()

        children: dict[int, MapChild] = {}
        for index, text in self._read(query):
            try:
                children[int(index)] = MapChild.from_json(json.loads(text))
            except (TypeError, ValueError, KeyError, RecursionError) as exc:
                raise CorruptStoreError(
                    f"execution store {self.path}: child {index} of map run {map_run_arn} "
                    f"cannot be read: {exc}",
                    str(self.path),
                ) from None
        return children

    def owner(self, name: str) -> str | None:
        """Who runs ``name`` now."""
        row = self._read(
            lambda db: db.execute("SELECT owner FROM executions WHERE name = ?", (name,)).fetchone()
        )
        if row is None:
            raise ExecutionDoesNotExist(name)
        owner: str | None = row[0]
        return owner


@functools.cache
def _insert_sql(count: int) -> str:
    return _INSERT_EVENTS + ", ".join([_ROW] * count)


def _insert_events(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (at most :data:`_ROWS_PER_INSERT`) with one statement."""
    if len(rows) == 1:
        db.execute(_insert_sql(1), rows[0])
        return
    db.execute(_insert_sql(len(rows)), [value for row in rows for value in row])


def _insert_row(
    row: tuple[Any, ...], close: tuple[Any, ...] | None, db: sqlite3.Connection
) -> None:
    """Insert one event's row; a closing event's with its record closed, in one transaction."""
    if close is None:
        _insert_events(db, (row,))
        return
    db.execute("BEGIN IMMEDIATE")
    _insert_events(db, (row,))
    db.execute(_CLOSE_EXECUTION, close)
    db.execute("COMMIT")


def _status(value: Any) -> ExecutionStatus:
    if value not in _STATUSES:
        raise ValueError(f"unknown status {value!r}")
    status: ExecutionStatus = value
    return status


def _options(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("its options are not a JSON object")
    return value
