"""A distributed Map's child executions through LocalEngine: listed by map run (newest first,
by status), described, and their histories; the in-memory store keeps a bounded number of
child histories (failed ones first), a SQLite store keeps them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import (
    ChildExecution,
    ExecutionDoesNotExist,
    LocalEngine,
    MemoryStore,
    SQLiteStore,
)
from engine.history import HistoryEvent
from engine.store.base import ExecutionStore
from engine.store.child_histories import ChildHistories

PREFIX = "arn:aws:states:us-east-1:123456789012"
CHILD_MACHINE = f"{PREFIX}:stateMachine:Shop/Orders"


def _machine(tolerated: int = 1) -> dict[str, Any]:
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "Label": "Orders",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ToleratedFailureCount": tolerated,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Check",
                    "States": {
                        "Check": {
                            "Type": "Choice",
                            "Choices": [
                                {"Variable": "$.fail", "IsPresent": True, "Next": "Broken"}
                            ],
                            "Default": "Done",
                        },
                        "Done": {"Type": "Pass", "End": True},
                        "Broken": {"Type": "Fail", "Error": "Item.Broken", "Cause": "bad item"},
                    },
                },
                "ResultPath": None,
                "End": True,
            }
        },
    }


ITEMS = [{"n": 1}, {"n": 2, "fail": True}, {"n": 3}, {"n": 4}]


def _run(
    store: ExecutionStore | None, items: list[Any], tolerated: int = 1
) -> tuple[str, list[ChildExecution], list[ChildExecution], ChildExecution, list[HistoryEvent]]:
    async def main() -> Any:
        async with LocalEngine(store=store) as engine:
            execution = await engine.execute(
                _machine(tolerated), {"items": items}, "order-1", state_machine_name="Shop"
            )
            assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
            run_arn = execution.map_runs[0].map_run_arn
            children = engine.list_map_run_executions(run_arn)
            failed = engine.list_map_run_executions(run_arn, status="FAILED")
            described = engine.describe_map_run_execution(failed[0].execution_arn)
            history = engine.map_run_execution_history(failed[0].execution_arn)
            return run_arn, children, failed, described, history

    result: Any = anyio.run(main)
    return result  # type: ignore[no-any-return]


def test_children_listed_newest_first_described_with_their_history() -> None:
    run_arn, children, failed, described, history = _run(None, ITEMS)
    assert [child.input for child in children] == list(reversed(ITEMS))
    assert [child.status for child in children] == ["SUCCEEDED", "SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert all(
        child.execution_arn.startswith(f"{PREFIX}:execution:Shop/Orders:") for child in children
    )
    assert {child.state_machine_arn for child in children} == {CHILD_MACHINE}
    assert {child.map_run_arn for child in children} == {run_arn}
    assert len({child.name for child in children}) == 4
    assert [child.output for child in children] == [{"n": 4}, {"n": 3}, None, {"n": 1}]
    assert {child.item_count for child in children} == {1}
    assert failed == [children[2]]
    assert described == children[2]
    assert (described.error, described.cause) == ("Item.Broken", "bad item")
    assert described.stop_posix is not None and described.stop_posix >= described.start_posix
    assert [event.type for event in history] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "FailStateEntered",
        "ExecutionFailed",
    ]
    assert history[-1].details == {"error": "Item.Broken", "cause": "bad item"}


def test_unknown_children_and_map_runs_are_refused() -> None:
    async def main() -> None:
        async with LocalEngine() as engine:
            with pytest.raises(ExecutionDoesNotExist):
                engine.list_map_run_executions(f"{PREFIX}:mapRun:Shop/Orders:nope")
            with pytest.raises(ExecutionDoesNotExist):
                engine.describe_map_run_execution(f"{PREFIX}:execution:Shop/Orders:nope")
            with pytest.raises(ExecutionDoesNotExist):
                engine.map_run_execution_history(f"{PREFIX}:execution:Shop/Orders:nope")

    anyio.run(main)


def test_the_memory_store_keeps_a_bounded_number_of_children_failed_first() -> None:
    items = [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4, "fail": True}]
    store = MemoryStore(child_histories=2)

    async def main() -> None:
        async with LocalEngine(store=store) as engine:
            execution = await engine.execute(
                _machine(), {"items": items}, "order-1", state_machine_name="Shop"
            )
            children = engine.list_map_run_executions(execution.map_runs[0].map_run_arn)
            histories = [engine.map_run_execution_history(c.execution_arn) for c in children]
            # The first two successes were kept; the failure took the oldest one's place, and
            # the third success was not kept: records and histories alike (bounded memory).
            assert [child.input["n"] for child in children] == [4, 2]
            assert [child.status for child in children] == ["FAILED", "SUCCEEDED"]
            ends = [history[-1].type for history in histories]
            assert ends == ["ExecutionFailed", "ExecutionSucceeded"]
            described = engine.describe_map_run(execution.map_runs[0].map_run_arn)
            assert described["executionCounts"]["succeeded"] == 3  # the counts stay whole
            assert described["executionCounts"]["failed"] == 1

    anyio.run(main)


def test_a_sqlite_store_keeps_every_history(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "runs.db") as store:
        _, children, failed, described, history = _run(store, ITEMS)
        assert [event.type for event in history][-1] == "ExecutionFailed"
        assert described == failed[0]
        for child in children:
            found = store.find_map_child(child.execution_arn)
            assert found is not None and found.execution == "order-1"
            events = store.map_child_history("order-1", child.map_run_arn, found.index)
            assert events[0].type == "ExecutionStarted"
            assert events[0].details is not None
            assert events[-1].type in ("ExecutionSucceeded", "ExecutionFailed")


def test_child_histories_evict_the_oldest_success_for_a_failure() -> None:
    shelf = ChildHistories(2)
    event = HistoryEvent(1, "ExecutionStarted", 0.0, 0)
    assert shelf.keep(0, "SUCCEEDED", [event])
    assert shelf.keep(1, "SUCCEEDED", [event])
    assert not shelf.keep(2, "SUCCEEDED", [event])
    assert shelf.keep(3, "FAILED", [event])
    assert shelf.keep(4, "ABORTED", [event])
    assert not shelf.keep(5, "FAILED", [event])
    assert [shelf.get(i) is not None for i in range(6)] == [False, False, False, True, True, False]
    with pytest.raises(ValueError, match="0 or more"):
        ChildHistories(-1)
