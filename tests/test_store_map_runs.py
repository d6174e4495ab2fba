"""Execution stores keep distributed Map runs and how each child ended; an older SQLite store
(schema version 1, before map runs were kept, or 2, before children's histories were kept) is
brought up to date when opened for writing;
a resume plan goes on with a map run under way."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.distributed.map_run import MapChild, MapRun
from engine.history import HistoryEvent
from engine.resume_plan import plan_resume
from engine.store import (
    CorruptStoreError,
    ExecutionDoesNotExist,
    ExecutionStore,
    HistoryNotKept,
    MemoryStore,
    SQLiteStore,
)
from tests.test_store import _record

RUN_ARN = "arn:aws:states:us-east-1:123456789012:mapRun:M/Fan:8f0c"


def _run(arn: str = RUN_ARN) -> MapRun:
    return MapRun(
        map_run_arn=arn,
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:M:order-1",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:M/Fan",
        start_posix=1_700_000_001.5,
        max_concurrency=2,
        tolerated_failure_count=1,
        tolerated_failure_percentage=12.5,
    )


def _child(status: str, output: object = None) -> MapChild:
    return MapChild(items=1, status=status, record={"Status": status}, output=output)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ExecutionStore]:
    made: ExecutionStore = (
        MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "executions.db")
    )
    with made:
        made.start(_record(), "me")
        yield made


def test_a_map_run_and_its_ended_children_are_kept(store: ExecutionStore) -> None:
    run = _run()
    store.save_map_run("order-1", run)
    run.started(1)
    run.started(1)
    run.ended(1, "SUCCEEDED")
    store.save_map_child("order-1", run, 0, _child("SUCCEEDED", {"ok": 1}))
    run.ended(1, "FAILED")
    store.save_map_child("order-1", run, 1, _child("FAILED"))
    [kept] = store.map_runs("order-1")
    assert kept.describe() == run.describe()
    assert kept.execution_counts["succeeded"] == 1
    assert kept.execution_counts["failed"] == 1
    assert store.map_children("order-1", RUN_ARN) == {
        0: _child("SUCCEEDED", {"ok": 1}),
        1: _child("FAILED"),
    }
    assert store.map_children("order-1", RUN_ARN + "-other") == {}


def test_a_map_run_is_updated_in_place_and_runs_keep_start_order(store: ExecutionStore) -> None:
    first, second = _run(), _run(RUN_ARN + "-2")
    store.save_map_run("order-1", first)
    store.save_map_run("order-1", second)
    first.update(max_concurrency=5)
    first.status, first.stop_posix = "SUCCEEDED", 1_700_000_009.0
    store.save_map_run("order-1", first)
    kept = store.map_runs("order-1")
    assert [run.map_run_arn for run in kept] == [RUN_ARN, RUN_ARN + "-2"]
    assert (kept[0].status, kept[0].max_concurrency, kept[0].stop_posix) == (
        "SUCCEEDED",
        5,
        1_700_000_009.0,
    )


def test_map_runs_of_an_unknown_execution_are_refused(store: ExecutionStore) -> None:
    with pytest.raises(ExecutionDoesNotExist):
        store.map_runs("never")
    with pytest.raises(ExecutionDoesNotExist):
        store.save_map_run("never", _run())


def _version_one(path: Path) -> None:
    """A store as schema version 1 left it: no map-run tables."""
    with SQLiteStore(path) as store:
        store.start(_record(), "me")
    connection = sqlite3.connect(path)
    connection.execute("DROP TABLE map_children")
    connection.execute("DROP TABLE map_runs")
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()


def test_a_version_one_store_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_one(path)
    with SQLiteStore(path, read_only=True) as reader:
        assert reader.map_runs("order-1") == []  # read as it is, not changed
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
    connection.close()
    with SQLiteStore(path) as store:
        assert store.get("order-1").input == {"order": 1}
        store.save_map_run("order-1", _run())
        assert [run.map_run_arn for run in store.map_runs("order-1")] == [RUN_ARN]
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 3
    connection.close()


def test_a_version_two_store_gains_child_histories(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    event = HistoryEvent(1, "ExecutionStarted", 1.0, 0, {"input": {"n": 1}})
    with SQLiteStore(path) as store:
        store.start(_record(), "me")
        store.save_map_child("order-1", _run(), 0, _child("SUCCEEDED", 1))
    connection = sqlite3.connect(path)
    connection.execute("DROP TABLE map_child_histories")
    connection.execute("PRAGMA user_version = 2")
    connection.commit()
    connection.close()
    with SQLiteStore(path, read_only=True) as reader, pytest.raises(HistoryNotKept):
        reader.map_child_history("order-1", RUN_ARN, 0)
    with SQLiteStore(path) as store:
        with pytest.raises(HistoryNotKept, match=r"child 0 of map run .* has no stored history"):
            store.map_child_history("order-1", RUN_ARN, 0)
        store.save_map_child("order-1", _run(), 1, _child("FAILED"), [event])
        assert store.map_child_history("order-1", RUN_ARN, 1) == [event]
        with pytest.raises(ExecutionDoesNotExist):
            store.map_child_history("order-1", RUN_ARN, 2)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 3
    connection.close()


def test_a_damaged_map_run_record_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.start(_record(), "me")
        store.save_map_run("order-1", _run())
    connection = sqlite3.connect(path)
    connection.execute('UPDATE map_runs SET record = \'{"status": "RUNNING"}\'')
    connection.commit()
    connection.close()
    with SQLiteStore(path) as store, pytest.raises(CorruptStoreError) as raised:
        store.map_runs("order-1")
    assert str(raised.value).startswith(f"execution store {path}: map run {RUN_ARN} cannot be read")


def _map_machine() -> Any:
    from engine.loader import load

    return load(
        {
            "StartAt": "Fan",
            "States": {
                "Fan": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "P",
                        "States": {"P": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            },
        }
    )


def _events(*extra: str) -> list[HistoryEvent]:
    types = ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", *extra]
    details: dict[str, dict[str, Any]] = {
        "ExecutionStarted": {"input": [1]},
        "MapStateEntered": {"name": "Fan", "input": [1]},
        "MapRunStarted": {"mapRunArn": RUN_ARN},
    }
    return [
        HistoryEvent(i, kind, float(i), i - 1, details.get(kind)) for i, kind in enumerate(types, 1)
    ]


def test_a_resume_goes_on_with_a_map_run_under_way() -> None:
    point = plan_resume(_map_machine(), _events(), {})
    assert point.visit is not None
    assert (point.visit.map_run_arn, point.visit.map_runs_started, point.last_id) == (
        RUN_ARN,
        1,
        4,  # the resumed run's events follow its MapRunStarted
    )


def test_a_map_run_that_ended_is_not_gone_on_with() -> None:
    point = plan_resume(_map_machine(), _events("MapRunFailed"), {})
    assert point.visit is not None
    # the Map runs again as a whole, from its entry, as a run of its own
    assert (point.visit.map_run_arn, point.visit.map_runs_started, point.last_id) == (None, 1, 2)
