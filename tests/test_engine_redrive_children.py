"""Redriving a Parallel or Map runs again only the branches, iterations or children that failed."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import anyio
import pytest

from engine import LocalEngine, VirtualClock
from engine.history import HistoryEvent

OK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ok"
SHAKY_ARN = "arn:aws:lambda:us-east-1:123456789012:function:shaky"
ITEM_ARN = "arn:aws:lambda:us-east-1:123456789012:function:item"


class Calls:
    """Counting handlers: ``ok`` always answers; ``shaky`` and ``item`` (odd ``n``) fail until
    healed."""

    def __init__(self) -> None:
        self.healed = False
        self.counts: Counter[str] = Counter()

    def ok(self, event: Any) -> Any:
        self.counts["ok"] += 1
        return {"ok": event}

    def shaky(self, event: Any) -> Any:
        self.counts["shaky"] += 1
        if not self.healed:
            raise ValueError("not yet")
        return {"healed": event}

    def item(self, event: dict[str, Any]) -> Any:
        self.counts[f"item {event['n']}"] += 1
        if event["n"] % 2 and not self.healed:
            raise ValueError(f"item {event['n']} failed")
        return event["n"] * 10

    def handlers(self) -> dict[str, Any]:
        return {OK_ARN: self.ok, SHAKY_ARN: self.shaky, ITEM_ARN: self.item}


def _after_last_redrive(history: list[HistoryEvent]) -> list[str]:
    types = [event.type for event in history]
    start = len(types) - types[::-1].index("ExecutionRedriven")
    return types[start:]


PARALLEL = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Ok",
                    "States": {"Ok": {"Type": "Task", "Resource": OK_ARN, "End": True}},
                },
                {
                    "StartAt": "Pause",
                    "States": {
                        "Pause": {
                            "Type": "Wait",
                            "Seconds": 10,
                            "Assign": {"paused": 10},
                            "Next": "Shaky",
                        },
                        "Shaky": {
                            "Type": "Task",
                            "Resource": SHAKY_ARN,
                            "Parameters": {"n.$": "$.n", "paused.$": "$paused"},
                            "End": True,
                        },
                    },
                },
                {
                    "StartAt": "Tag",
                    "States": {"Tag": {"Type": "Pass", "Result": "tagged", "End": True}},
                },
            ],
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "End": True},
    },
}


def test_a_redriven_parallel_runs_only_the_branch_that_failed_from_its_failed_state() -> None:
    calls = Calls()

    async def main() -> None:
        async with LocalEngine(clock=VirtualClock(), handlers=calls.handlers()) as engine:
            failed = await engine.execute(PARALLEL, {"n": 1}, "fan")
            assert (failed.status, failed.error) == ("FAILED", "ValueError")
            again = await (await engine.redrive("fan")).result()
            assert again.status == "FAILED"
            calls.healed = True
            done = await (await engine.redrive("fan")).result()
            assert done.status == "SUCCEEDED"
            # The branch went on from Shaky, with the variable Pause assigned before.
            assert done.output == [{"ok": {"n": 1}}, {"healed": {"n": 1, "paused": 10}}, "tagged"]
            assert _after_last_redrive(done.history) == [
                "ParallelStateEntered",
                "ParallelStateStarted",
                "TaskStateEntered",
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted",
                "LambdaFunctionSucceeded",
                "TaskStateExited",
                "ParallelStateSucceeded",
                "ParallelStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded",
            ]
            entered = [e.state_name for e in done.history if e.type.endswith("StateEntered")]
            assert (entered.count("Tag"), entered.count("Ok"), entered.count("Pause")) == (1, 1, 1)

    anyio.run(main)
    # Ok ran once (the first attempt), Shaky in every attempt.
    assert calls.counts == {"ok": 1, "shaky": 3}


INLINE_MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemSelector": {"n.$": "$$.Map.Item.Value"},
            "ItemProcessor": {
                "StartAt": "Prep",
                "States": {
                    "Prep": {"Type": "Pass", "Assign": {"base.$": "$.n"}, "Next": "Item"},
                    "Item": {
                        "Type": "Task",
                        "Resource": ITEM_ARN,
                        "Parameters": {"n.$": "$base"},
                        "End": True,
                    },
                },
            },
            "End": True,
        }
    },
}


def test_a_redriven_inline_map_runs_only_the_iterations_that_did_not_succeed() -> None:
    calls = Calls()

    async def main() -> None:
        async with LocalEngine(clock=VirtualClock(), handlers=calls.handlers()) as engine:
            failed = await engine.execute(INLINE_MAP, [0, 2, 3, 4], "each")
            assert (failed.status, failed.error) == ("FAILED", "ValueError")
            calls.healed = True
            done = await (await engine.redrive("each")).result()
            assert done.status == "SUCCEEDED"
            assert done.output == [0, 20, 30, 40]
            after = [
                e.details
                for e in done.history[[ev.type for ev in done.history].index("ExecutionRedriven") :]
                if e.type == "MapIterationStarted"
            ]
            assert after == [{"index": 2, "name": "Each"}, {"index": 3, "name": "Each"}]
            after_types = _after_last_redrive(done.history)
            assert after_types[:2] == ["MapStateEntered", "MapStateStarted"]
            # Iteration 2 went on from Item (its Prep had completed, its variable kept);
            # iteration 3 had not started: it runs from Prep.
            prepared = [e.details for e in done.history if e.type == "PassStateEntered"]
            assert [d["input"] for d in prepared] == [{"n": 0}, {"n": 2}, {"n": 3}, {"n": 4}]
            assert after_types.count("PassStateEntered") == 1

    anyio.run(main)
    # Items 0 and 2 succeeded first and did not run again; 3 failed (the Map stopped there,
    # 4 never started).
    assert calls.counts == {"item 0": 1, "item 2": 1, "item 3": 2, "item 4": 1}


DISTRIBUTED: dict[str, Any] = {
    "StartAt": "Spread",
    "States": {
        "Spread": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ToleratedFailureCount": 1,
            "ItemSelector": {"n.$": "$$.Map.Item.Value"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Item",
                "States": {
                    "Item": {
                        "Type": "Task",
                        "Resource": ITEM_ARN,
                        "Parameters": {"n.$": "$.n", "redrives.$": "$$.Execution.RedriveCount"},
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}


@pytest.mark.parametrize(("execution_type", "redrives"), [("STANDARD", 1), ("EXPRESS", 0)])
def test_a_redriven_distributed_map_redrives_its_map_run(
    execution_type: str, redrives: int
) -> None:
    calls = Calls()
    machine = copy.deepcopy(DISTRIBUTED)
    machine["States"]["Spread"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = (
        execution_type
    )
    seen: list[tuple[int, int]] = []
    item = calls.item

    def watched(event: dict[str, Any]) -> Any:
        seen.append((event["n"], event["redrives"]))
        return item(event)

    handlers = {**calls.handlers(), ITEM_ARN: watched}

    async def main() -> None:
        async with LocalEngine(clock=VirtualClock(), handlers=handlers) as engine:
            failed = await engine.execute(machine, [0, 1, 2, 3], "spread")
            assert (failed.status, failed.error) == (
                "FAILED",
                "States.ExceedToleratedFailureThreshold",
            )
            (before,) = engine.list_map_runs("spread")
            first = before.describe()
            assert first["executionCounts"]["failed"] == 2
            assert first["redriveCount"] == 0
            assert "redriveDate" not in first
            calls.healed = True
            done = await (await engine.redrive("spread")).result()
            assert done.status == "SUCCEEDED"
            assert done.output == [0, 10, 20, 30]
            (run,) = engine.list_map_runs("spread")
            described = run.describe()
            assert described["mapRunArn"] == first["mapRunArn"]
            assert described["status"] == "SUCCEEDED"
            assert described["redriveCount"] == 1
            # Redriven after its first stop, before its second.
            assert first["stopDate"] <= described["redriveDate"] <= described["stopDate"]
            assert described["startDate"] == first["startDate"]
            assert described["executionCounts"] == {
                "pending": 0,
                "running": 0,
                "succeeded": 4,
                "failed": 0,
                "timedOut": 0,
                "aborted": 0,
                "total": 4,
                "resultsWritten": 0,
                "failuresNotRedrivable": 0,
                "pendingRedrive": 0,
            }
            assert _after_last_redrive(done.history) == [
                "MapStateEntered",
                "MapStateStarted",
                "MapRunRedriven",
                "MapRunSucceeded",
                "MapStateSucceeded",
                "MapStateExited",
                "ExecutionSucceeded",
            ]
            redriven = [e.details for e in done.history if e.type == "MapRunRedriven"]
            assert redriven == [{"mapRunArn": first["mapRunArn"], "redriveCount": 1}]

    anyio.run(main)
    # Children 1 and 3 failed and ran again (a Standard child redriven, an Express one started
    # anew); 0 and 2 kept their outputs.
    assert seen == [(0, 0), (1, 0), (2, 0), (3, 0), (1, redrives), (3, redrives)]
