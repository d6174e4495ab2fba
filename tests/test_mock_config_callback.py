"""Mock configs on ``.waitForTaskToken`` states: the mocked response answers at once.

Step Functions Local returns a mocked callback task's response directly; nobody sends the token
back. States the test case leaves out still wait for their callback.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.local_engine import LocalEngine, run
from engine.mock_config import MockConfigInterceptor

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

CONFIG: dict[str, Any] = {
    "StateMachines": {
        "Approval": {
            "TestCases": {
                "Approved": {"Ask Manager": "Approved", "Ask Finance": "Approved"},
                "Rejected": {"Ask Manager": "Rejected"},
                "RetriedThenApproved": {"Ask Manager": "NotReadyOnce", "Ask Finance": "Approved"},
                "ManagerOnly": {"Ask Manager": "Approved"},
            }
        }
    },
    "MockedResponses": {
        "Approved": {"0": {"Return": {"approved": True}}},
        "Rejected": {"0": {"Throw": {"Error": "Rejected", "Cause": "manager said no"}}},
        "NotReadyOnce": {
            "0": {"Throw": {"Error": "NotReady", "Cause": "later"}},
            "1": {"Return": {"approved": True}},
        },
    },
}


def _callback_state(next_state: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": CALLBACK,
        "Parameters": {
            "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
            "MessageBody": {"token.$": "$$.Task.Token"},
        },
        "Retry": [{"ErrorEquals": ["NotReady"], "IntervalSeconds": 5, "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["Rejected"], "Next": "Turned Down"}],
        "ResultPath": "$.approval",
        # Were the token awaited, the task would time out rather than hang the test.
        "TimeoutSeconds": 3,
    }
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


MACHINE: dict[str, Any] = {
    "StartAt": "Ask Manager",
    "States": {
        "Ask Manager": _callback_state("Ask Finance"),
        "Ask Finance": _callback_state(None),
        "Turned Down": {"Type": "Fail", "Error": "Rejected", "Cause": "turned down"},
    },
}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(CONFIG), encoding="utf-8")
    return path


def _mock(config_file: Path, test_case: str) -> MockConfigInterceptor:
    return MockConfigInterceptor.from_file(config_file, "Approval", test_case)


def _clock() -> VirtualClock:
    return VirtualClock(T0, work_moves_time=False)


def _task_events(execution: Execution) -> list[tuple[str, float]]:
    return [
        (e.type, round(e.posix - execution.start_posix, 3))
        for e in execution.history
        if e.type.startswith("Task") and not e.type.startswith("TaskState")
    ]


def test_mocked_callback_states_answer_without_a_token(config_file: Path) -> None:
    execution = run(
        MACHINE, {"order": 7}, interceptors=[_mock(config_file, "Approved")], clock=_clock()
    )
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"order": 7, "approval": {"approved": True}}
    assert execution.states == ["Ask Manager", "Ask Finance"]
    assert [kind for kind, _ in _task_events(execution)] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
    ] * 2


def test_mocked_callback_throw_is_caught(config_file: Path) -> None:
    execution = run(MACHINE, {}, interceptors=[_mock(config_file, "Rejected")], clock=_clock())
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "Rejected",
        "turned down",
    )
    assert execution.states == ["Ask Manager", "Turned Down"]
    assert [kind for kind, _ in _task_events(execution)] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
    ]


def test_mocked_callback_retry_takes_the_next_invocation(config_file: Path) -> None:
    execution = run(
        MACHINE,
        {},
        interceptors=[_mock(config_file, "RetriedThenApproved")],
        clock=_clock(),
    )
    assert execution.status == "SUCCEEDED"
    assert _task_events(execution)[:6] == [
        ("TaskScheduled", 0.0),
        ("TaskStarted", 0.0),
        ("TaskFailed", 0.0),
        ("TaskScheduled", 5.0),
        ("TaskStarted", 5.0),
        ("TaskSucceeded", 5.0),
    ]


def test_states_left_out_of_the_test_case_still_wait_for_their_callback(
    config_file: Path,
) -> None:
    engines: list[LocalEngine] = []
    asked: list[str] = []

    def send(event: Any) -> Any:
        token = event["MessageBody"]["token"]
        asked.append(token)
        # The callback comes from elsewhere, a little later.
        threading.Timer(0.05, engines[0].send_task_success, (token, {"by": "finance"})).start()
        return {"MessageId": "m-1"}

    async def main() -> Execution:
        async with LocalEngine(
            clock=_clock(),
            handlers={CALLBACK: send},
            interceptors=[_mock(config_file, "ManagerOnly")],
        ) as engine:
            engines.append(engine)
            return await engine.execute(MACHINE, {}, "hybrid")

    execution = anyio.run(main)
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"approval": {"by": "finance"}}
    assert len(asked) == 1
    assert [kind for kind, _ in _task_events(execution)] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
    ]
