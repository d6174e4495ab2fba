"""Execution stores: records, write-ahead events, idempotent starts, ownership, damaged files."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.history import HistoryEvent
from engine.store import (
    CorruptStoreError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStore,
    MemoryStore,
    SQLiteStore,
    StoredExecution,
    StoreError,
)
from engine.store.base import Transition
from engine.store.owner import owner_state, process_owner

DEFINITION = '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}'


def _record(name: str = "order-1", data: object = None) -> StoredExecution:
    return StoredExecution(
        name=name,
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:M:{name}",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:M",
        definition=DEFINITION,
        input={"order": 1} if data is None else data,
        start_posix=1_700_000_000.0,
        handlers_ref='{"saga": "shop:orders"}',
        options={"clock": "real", "region": "us-east-1"},
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExecutionStore]:
    made: ExecutionStore = (
        MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "executions.db")
    )
    with made:
        yield made


def test_a_started_execution_is_kept_with_its_definition_input_and_handlers(
    store: ExecutionStore,
) -> None:
    record, created = store.start(_record(), "me")
    assert created is True
    found = store.get("order-1")
    assert found == record
    assert found.status == "RUNNING"
    assert found.definition == DEFINITION
    assert found.input == {"order": 1}
    assert found.handlers_ref == '{"saga": "shop:orders"}'
    assert found.options == {"clock": "real", "region": "us-east-1"}
    assert store.owner("order-1") == "me"


def test_a_closing_event_keeps_every_other_field_of_the_record() -> None:
    record = _record()
    closed = record.closed_by(
        HistoryEvent(3, "ExecutionFailed", 1_700_000_009.5, 2, {"error": "E", "cause": "C"})
    )
    assert (closed.status, closed.output, closed.error, closed.cause, closed.stop_posix) == (
        "FAILED",
        None,
        "E",
        "C",
        1_700_000_009.5,
    )
    changed = {"status", "output", "error", "cause", "stop_posix"}
    kept = [f.name for f in dataclasses.fields(StoredExecution) if f.name not in changed]
    assert len(kept) == 8
    assert all(getattr(closed, name) == getattr(record, name) for name in kept)


def test_the_same_name_and_input_while_open_returns_the_open_execution(
    store: ExecutionStore,
) -> None:
    store.start(_record(data={"b": 2, "a": 1}), "me")
    record, created = store.start(_record(data={"a": 1, "b": 2}), "someone-else")
    assert created is False
    assert record.input == {"b": 2, "a": 1}
    assert store.owner("order-1") == "me"


def test_the_same_name_with_another_input_is_refused(store: ExecutionStore) -> None:
    store.start(_record(), "me")
    with pytest.raises(ExecutionAlreadyExists, match="order-1"):
        store.start(_record(data={"order": 2}), "me")


def test_the_name_of_a_closed_execution_is_refused_even_with_the_same_input(
    store: ExecutionStore,
) -> None:
    store.start(_record(), "me")
    store.append("order-1", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"input": {}}))
    store.append("order-1", HistoryEvent(2, "ExecutionSucceeded", 2.0, 1, {"output": {"x": 1}}))
    with pytest.raises(ExecutionAlreadyExists):
        store.start(_record(), "me")


def test_events_come_back_in_order_with_their_details(store: ExecutionStore) -> None:
    store.start(_record(), "me")
    events = [
        HistoryEvent(1, "ExecutionStarted", 10.0, 0, {"input": {"order": 1}, "roleArn": "r"}),
        HistoryEvent(2, "PassStateEntered", 10.5, 1, {"name": "A", "input": {"order": 1}}),
        HistoryEvent(3, "PassStateExited", 10.75, 2, {"name": "A", "output": ["ü", None]}),
    ]
    store.append("order-1", events[0])
    store.append("order-1", events[1])
    store.append("order-1", events[2], Transition(None))
    assert [event.to_dict() for event in store.history("order-1")] == [
        event.to_dict() for event in events
    ]
    assert store.transitions("order-1") == {3: None}


def test_a_transition_names_the_next_state(store: ExecutionStore) -> None:
    store.start(_record(), "me")
    store.append(
        "order-1", HistoryEvent(1, "ChoiceStateExited", 1.0, 0, {"name": "C"}), Transition("B")
    )
    assert store.transitions("order-1") == {1: "B"}


@pytest.mark.parametrize(
    ("event_type", "details", "status", "output", "error", "cause"),
    [
        ("ExecutionSucceeded", {"output": {"ok": True}}, "SUCCEEDED", {"ok": True}, None, None),
        ("ExecutionFailed", {"error": "E", "cause": "why"}, "FAILED", None, "E", "why"),
        (
            "ExecutionTimedOut",
            {"error": "States.Timeout"},
            "TIMED_OUT",
            None,
            "States.Timeout",
            None,
        ),
        ("ExecutionAborted", {}, "ABORTED", None, None, None),
    ],
)
def test_a_closing_event_closes_the_record(
    store: ExecutionStore,
    event_type: str,
    details: dict[str, object],
    status: str,
    output: object,
    error: str | None,
    cause: str | None,
) -> None:
    store.start(_record(), "me")
    store.append("order-1", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"input": {}}))
    store.append("order-1", HistoryEvent(2, event_type, 5.0, 1, details))
    record = store.get("order-1")
    assert (record.status, record.output, record.error, record.cause, record.stop_posix) == (
        status,
        output,
        error,
        cause,
        5.0,
    )
    assert store.owner("order-1") is None
    assert store.unfinished() == []


def test_closing_a_record_keeps_every_other_field() -> None:
    outcome = {"status", "output", "error", "cause", "stop_posix"}
    kept = {f.name: object() for f in dataclasses.fields(StoredExecution) if f.name not in outcome}
    record = StoredExecution(**kept)  # type: ignore[arg-type]
    closed = record.closed_by(HistoryEvent(7, "ExecutionFailed", 9.5, 6, {"error": "E"}))
    assert {name: getattr(closed, name) for name in kept} == kept
    assert (closed.status, closed.output, closed.error, closed.cause, closed.stop_posix) == (
        "FAILED",
        None,
        "E",
        None,
        9.5,
    )


def test_listing_keeps_start_order_and_filters_by_status(store: ExecutionStore) -> None:
    for index in range(3):
        store.start(_record(f"order-{index}"), "me")
    store.append("order-1", HistoryEvent(1, "ExecutionAborted", 1.0, 0, {}))
    assert [record.name for record in store.executions()] == ["order-0", "order-1", "order-2"]
    assert [record.name for record in store.unfinished()] == ["order-0", "order-2"]
    assert [record.name for record in store.executions(status="ABORTED")] == ["order-1"]


def test_unknown_executions_are_reported(store: ExecutionStore) -> None:
    assert store.find("nope") is None
    with pytest.raises(ExecutionDoesNotExist):
        store.get("nope")
    with pytest.raises(ExecutionDoesNotExist):
        store.history("nope")
    with pytest.raises(ExecutionDoesNotExist):
        store.append("nope", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {}))


def test_claiming_needs_the_expected_owner_and_an_open_execution(store: ExecutionStore) -> None:
    store.start(_record(), "first")
    assert store.claim("order-1", "second", "someone") is False
    assert store.claim("order-1", "second", "first") is True
    assert store.owner("order-1") == "second"
    store.release("order-1", "first")
    assert store.owner("order-1") == "second"
    store.release("order-1", "second")
    assert store.owner("order-1") is None
    assert store.claim("order-1", "third", None) is True
    store.append("order-1", HistoryEvent(1, "ExecutionAborted", 1.0, 0, {}))
    assert store.claim("order-1", "fourth", None) is False


def test_the_sqlite_store_keeps_details_as_compact_json_text(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    details = {"name": "A", "output": {"text": "ü \ud800", "n": [1, 2.5, None, True]}}
    with SQLiteStore(path) as store:
        store.start(_record(), "me")
        store.append("order-1", HistoryEvent(1, "PassStateExited", 1.0, 0, details))
        assert store.history("order-1")[0].details == details
    connection = sqlite3.connect(path)
    stored = connection.execute("SELECT details FROM events").fetchone()[0]
    connection.close()
    # A lone surrogate cannot be UTF-8: the text is then all escaped ASCII.
    assert stored == ('{"name":"A","output":{"text":"\\u00fc \\ud800","n":[1,2.5,null,true]}}')


def test_a_circular_value_is_refused_as_json_refuses_it(tmp_path: Path) -> None:
    looped: list[object] = []
    looped.append(looped)
    with SQLiteStore(tmp_path / "s.db") as store:
        store.start(_record(), "me")
        with pytest.raises(ValueError, match=r"^Circular reference detected$"):
            store.stage("order-1", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"input": looped}))


def test_stores_sharing_a_file_start_executions_of_one_machine(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as first, SQLiteStore(path) as second:
        first.start(_record("order-1"), "me")
        assert second.start(_record("order-2"), "me") == (_record("order-2"), True)
        assert first.start(_record("order-3"), "me")[1] is True
        # The name taken by the other store: its open execution, or refused with another input.
        assert first.start(_record("order-2"), "me") == (_record("order-2"), False)
        with pytest.raises(ExecutionAlreadyExists):
            first.start(_record("order-2", {"order": 2}), "me")
        names = [record.name for record in second.executions()]
        assert names == ["order-1", "order-2", "order-3"]
    connection = sqlite3.connect(path)
    assert connection.execute("SELECT count(*) FROM machines").fetchone()[0] == 1
    connection.close()


def test_the_sqlite_store_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.start(_record(), "me")
        store.append("order-1", HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"input": {}}))
    with SQLiteStore(path) as store:
        assert store.get("order-1").input == {"order": 1}
        assert [event.type for event in store.history("order-1")] == ["ExecutionStarted"]
        connection = sqlite3.connect(path)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        connection.close()


def test_a_file_that_is_not_a_database_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database, just text " * 200)
    with pytest.raises(CorruptStoreError, match=str(path)):
        SQLiteStore(path)


def _filled_store(path: Path, executions: int = 40) -> None:
    with SQLiteStore(path) as store:
        for index in range(executions):
            store.start(_record(f"order-{index}"), "me")
            for event_id in range(1, 30):
                store.append(
                    f"order-{index}",
                    HistoryEvent(event_id, "PassStateEntered", 1.0, event_id - 1, {"n": "x" * 200}),
                )
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def test_a_truncated_store_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _filled_store(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        CorruptStoreError, match=rf"{path} is damaged: database disk image is malformed"
    ):
        SQLiteStore(path)


def test_a_store_with_damaged_pages_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _filled_store(path)
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 2 * page):
        data[offset + 8 : offset + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match=str(path)):
        SQLiteStore(path)


def test_another_sqlite_database_is_not_taken_for_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE things (x)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreError, match=rf"{path}.*not an execution store"):
        SQLiteStore(path)


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        SQLiteStore(tmp_path)
    with pytest.raises(StoreError, match="no such directory"):
        SQLiteStore(tmp_path / "missing" / "s.db")


def test_many_threads_write_concurrently_without_lock_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    errors: list[BaseException] = []
    threads_count, events_count = 8, 150

    with SQLiteStore(path, busy_timeout=30) as store:

        def work(index: int) -> None:
            try:
                name = f"thread-{index}"
                store.start(_record(name), "me")
                for event_id in range(1, events_count + 1):
                    store.append(name, HistoryEvent(event_id, "PassStateEntered", 1.0, 0, {}))
                store.append(name, HistoryEvent(events_count + 1, "ExecutionSucceeded", 2.0, 0, {}))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(store.executions(status="SUCCEEDED")) == threads_count
        for index in range(threads_count):
            assert len(store.history(f"thread-{index}")) == events_count + 1


_WRITER = """
import sys
from engine.history import HistoryEvent
from engine.store import SQLiteStore, StoredExecution
path, prefix = sys.argv[1], sys.argv[2]
with SQLiteStore(path) as store:
    for n in range(5):
        name = f"{prefix}-{n}"
        store.start(StoredExecution(name, "arn", "arn", "{}", {}, 1.0), "p")
        for event_id in range(1, 61):
            store.append(name, HistoryEvent(event_id, "PassStateEntered", 1.0, 0, {"i": event_id}))
        store.append(name, HistoryEvent(61, "ExecutionSucceeded", 2.0, 0, {}))
"""


def test_many_processes_write_one_store_without_lock_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), f"p{index}"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(6)
    ]
    errors = [p.communicate()[1] for p in processes]  # communicate closes the pipes
    failures = [(p.returncode, error) for p, error in zip(processes, errors, strict=True)]
    assert failures == [(0, "")] * 6
    with SQLiteStore(path) as store:
        assert len(store.executions(status="SUCCEEDED")) == 30
        assert {len(store.history(r.name)) for r in store.executions()} == {61}


def test_owners_tell_this_process_from_live_dead_and_unknown_ones() -> None:
    me = process_owner()
    assert owner_state(me) == "this-process"
    host = me.split("/")[0]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert owner_state(f"{host}/{sleeper.pid}/?") == "alive"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert owner_state(f"{host}/{sleeper.pid}/?") == "dead"
    assert owner_state("elsewhere.example/1/1") == "unknown"


def test_engines_in_many_threads_run_executions_on_one_store(tmp_path: Path) -> None:
    import anyio

    from engine.clock import VirtualClock
    from engine.local_engine import LocalEngine

    machine = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Wait", "Seconds": 5, "Next": "C"},
            "C": {"Type": "Pass", "End": True},
        },
    }
    errors: list[BaseException] = []

    with SQLiteStore(tmp_path / "s.db") as store:

        async def many(prefix: str) -> None:
            async with LocalEngine(clock=VirtualClock(), store=store) as engine:
                handles = [
                    await engine.start_execution(machine, {"i": i}, f"{prefix}-{i}")
                    for i in range(40)
                ]
                for handle in handles:
                    assert (await handle.result()).status == "SUCCEEDED"

        def work(prefix: str) -> None:
            try:
                anyio.run(many, prefix)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(store.executions(status="SUCCEEDED")) == 160
        assert {len(store.history(record.name)) for record in store.executions()} == {8}


def test_an_empty_file_becomes_a_store_and_readers_call_it_empty(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.touch()
    with pytest.raises(StoreError, match=rf"^execution store {path} is empty \(not an execution"):
        SQLiteStore(path, read_only=True)
    with SQLiteStore(path) as store:
        store.start(_record(), "me")
    with SQLiteStore(path, read_only=True) as reader:
        assert [record.name for record in reader.executions()] == ["order-1"]
