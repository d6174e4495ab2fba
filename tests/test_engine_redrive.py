"""``LocalEngine.redrive``: a failed execution goes on from the state that did not complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import ExecutionNotRedrivable, LocalEngine, SQLiteStore, VirtualClock
from engine.store.base import ExecutionDoesNotExist

FLAKY_ARN = "arn:aws:lambda:us-east-1:123456789012:function:flaky"

MACHINE = {
    "StartAt": "Remember",
    "States": {
        "Remember": {"Type": "Pass", "Assign": {"order": "o-7"}, "Next": "Charge"},
        "Charge": {
            "Type": "Task",
            "Resource": FLAKY_ARN,
            "Parameters": {"order.$": "$order", "redrives.$": "$$.Execution.RedriveCount"},
            "End": True,
        },
    },
}


class Flaky:
    """Fails until healed; keeps the events it was called with."""

    def __init__(self) -> None:
        self.healed = False
        self.calls: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(event)
        if not self.healed:
            raise ValueError("card declined")
        return {"charged": event}


def test_redrive_in_a_new_engine_keeps_variables_and_counts_the_redrive(tmp_path: Path) -> None:
    flaky = Flaky()
    store_path = tmp_path / "executions.db"

    async def fail_first() -> None:
        with SQLiteStore(store_path) as store:
            async with LocalEngine(
                clock=VirtualClock(), handlers={FLAKY_ARN: flaky}, store=store
            ) as engine:
                failed = await engine.execute(MACHINE, {"amount": 5}, "order-7")
                assert (failed.status, failed.error) == ("FAILED", "ValueError")

    async def redrive() -> None:
        with SQLiteStore(store_path) as store:
            async with LocalEngine(
                clock=VirtualClock(), handlers={FLAKY_ARN: flaky}, store=store
            ) as engine:
                flaky.healed = True
                handle = await engine.redrive("order-7")
                done = await handle.result()
                assert done.status == "SUCCEEDED"
                # The variable assigned before the failure is still there.
                assert done.output == {"charged": {"order": "o-7", "redrives": 1}}
                stored = store.get("order-7")
                assert (stored.status, stored.redrive_count) == ("SUCCEEDED", 1)
                types = [event.type for event in store.history("order-7")]
                assert types[-8:] == [
                    "ExecutionFailed",
                    "ExecutionRedriven",
                    "TaskStateEntered",
                    "LambdaFunctionScheduled",
                    "LambdaFunctionStarted",
                    "LambdaFunctionSucceeded",
                    "TaskStateExited",
                    "ExecutionSucceeded",
                ]
                assert types.count("PassStateEntered") == 1  # Remember did not run again
                with pytest.raises(ExecutionNotRedrivable) as info:
                    await engine.redrive("order-7")
                assert str(info.value) == "Execution is SUCCEEDED and cannot be redriven"
                with pytest.raises(ExecutionDoesNotExist):
                    await engine.redrive("nobody")

    anyio.run(fail_first)
    anyio.run(redrive)
    assert [call["redrives"] for call in flaky.calls] == [0, 1]


def test_a_redrive_that_fails_again_can_be_redriven_again() -> None:
    flaky = Flaky()

    async def main() -> None:
        async with LocalEngine(clock=VirtualClock(), handlers={FLAKY_ARN: flaky}) as engine:
            assert (await engine.execute(MACHINE, {}, "twice")).status == "FAILED"
            again = await (await engine.redrive("twice")).result()
            assert again.status == "FAILED"
            flaky.healed = True
            done = await (await engine.redrive("twice")).result()
            assert done.output == {"charged": {"order": "o-7", "redrives": 2}}
            redriven = [e.details for e in done.history if e.type == "ExecutionRedriven"]
            assert redriven == [{"redriveCount": 1}, {"redriveCount": 2}]

    anyio.run(main)
    assert len(flaky.calls) == 3
