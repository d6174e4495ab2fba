"""Task timeouts (blocking and async handlers), heartbeats, task tokens, machine timeouts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from engine.clock import VirtualClock
from engine.execution import Execution
from engine.history import HistoryEvent
from engine.local_engine import InvalidToken, LocalEngine, run

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SERVICE = "arn:aws:states:::dynamodb:getItem"
CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def _machine(states: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states, **top}


def _run(states: dict[str, Any], data: Any = None, **kw: Any) -> Execution:
    kw.setdefault("clock", VirtualClock(T0))
    kw.setdefault("name", "exec-1")
    return run(_machine(states), data, **kw)


def _of(execution: Execution, event_type: str) -> list[HistoryEvent]:
    return [event for event in execution.history if event.type == event_type]


def test_blocking_sync_handler_times_out_and_is_abandoned() -> None:
    release = threading.Event()

    def blocks(event: Any) -> Any:
        release.wait(10)
        return "late"

    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "TimeoutSeconds": 1,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}],
            "End": True,
        },
        "Late": {"Type": "Pass", "End": True},
    }
    try:
        ex = _run(states, {"a": 1}, handlers={SERVICE: blocks})
    finally:
        release.set()
    assert ex.states == ["T", "Late"]
    assert ex.output == {"Error": "States.Timeout", "Cause": ""}
    timed_out = _of(ex, "TaskTimedOut")[0]
    assert timed_out.details == {
        "resource": "getItem",
        "resourceType": "dynamodb",
        "error": "States.Timeout",
    }
    started = _of(ex, "TaskStarted")[0]
    # Virtual time ran with the wall clock while the handler blocked: at least the timeout.
    assert timed_out.posix - started.posix >= 1.0
    scheduled = _of(ex, "TaskScheduled")[0].to_dict()["taskScheduledEventDetails"]
    assert scheduled == {
        "resource": "getItem",
        "resourceType": "dynamodb",
        "region": "us-east-1",
        "parameters": '{"a":1}',
        "timeoutInSeconds": 1,
    }


def test_async_handler_times_out() -> None:
    async def sleeps(event: Any) -> Any:
        await anyio.sleep(3600)
        return "never"

    states = {"T": {"Type": "Task", "Resource": SERVICE, "TimeoutSeconds": 1, "End": True}}
    ex = _run(states, {}, handlers={SERVICE: sleeps})
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    assert [e.type for e in ex.history][-2:] == ["TaskTimedOut", "ExecutionFailed"]


def test_timeout_is_retried_and_timeout_seconds_path_is_read() -> None:
    calls: list[int] = []

    async def slow_then_fast(event: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            await anyio.sleep(3600)
        return {"n": len(calls)}

    states = {
        "T": {
            "Type": "Task",
            "Resource": SERVICE,
            "TimeoutSecondsPath": "$.limit",
            "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 30}],
            "End": True,
        }
    }
    ex = _run(states, {"limit": 1}, handlers={SERVICE: slow_then_fast})
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"n": 2}
    assert _of(ex, "TaskScheduled")[0].details["timeoutInSeconds"] == 1  # type: ignore[index]
    gap = _of(ex, "TaskScheduled")[1].posix - _of(ex, "TaskTimedOut")[0].posix
    assert round(gap, 6) == 30.0


def test_lambda_timeout_event() -> None:
    async def sleeps(event: Any) -> Any:
        await anyio.sleep(3600)

    fn = "arn:aws:lambda:us-east-1:123456789012:function:slow"
    ex = _run(
        {"T": {"Type": "Task", "Resource": fn, "TimeoutSeconds": 1, "End": True}},
        {},
        handlers={"slow": sleeps},
    )
    assert ex.error == "States.Timeout"
    assert _of(ex, "LambdaFunctionScheduled")[0].details == {
        "resource": fn,
        "input": {},
        "timeoutInSeconds": 1,
    }
    assert _of(ex, "LambdaFunctionTimedOut")[0].details == {"error": "States.Timeout"}


def test_machine_timeout_gives_timed_out_status() -> None:
    definition = _machine(
        {
            "Before": {"Type": "Pass", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 86_400, "End": True},
        },
        TimeoutSeconds=60,
    )
    ex = run(definition, {}, clock=VirtualClock(T0), name="t")
    assert ex.status == "TIMED_OUT"
    assert ex.error == "States.Timeout"
    assert [e.type for e in ex.history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "WaitStateEntered",
        "WaitStateAborted",
        "ExecutionTimedOut",
    ]
    assert ex.stop_date is not None
    assert (ex.stop_date - ex.start_date).total_seconds() == 60
    assert ex.to_dict() == {
        "status": "TIMED_OUT",
        "error": "States.Timeout",
        "name": "t",
        "states": ["Before", "W"],
    }


def _token_machine(**task: Any) -> dict[str, Any]:
    return _machine(
        {
            "Wait for callback": {
                "Type": "Task",
                "Resource": CALLBACK,
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
                **task,
            },
            "Caught": {"Type": "Pass", "End": True},
        }
    )


class _Outbox:
    """Stands in for the queue: records the messages (and their tokens)."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, event: Any) -> Any:
        self.tokens.append(event["MessageBody"]["token"])
        return {"MessageId": "m-1"}

    async def next_token(self) -> str:
        with anyio.fail_after(5):
            while not self.tokens:
                await anyio.sleep(0.005)
        return self.tokens.pop(0)


@pytest.mark.anyio
async def test_send_task_success_completes_the_task() -> None:
    outbox = _Outbox()
    async with LocalEngine(clock=VirtualClock(T0), handlers={CALLBACK: outbox}) as engine:
        handle = await engine.start_execution(_token_machine(), {"order": 1}, "cb")
        token = await outbox.next_token()
        engine.send_task_success(token, '{"approved": true}')
        ex = await handle.result()
        with pytest.raises(InvalidToken):
            engine.send_task_success(token, {})
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"approved": True}
    types = [e.type for e in ex.history]
    assert types[2:7] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    assert _of(ex, "TaskSubmitted")[0].details == {
        "resource": "sendMessage.waitForTaskToken",
        "resourceType": "sqs",
        "output": {"MessageId": "m-1"},
    }


@pytest.mark.anyio
async def test_send_task_failure_is_caught() -> None:
    outbox = _Outbox()
    async with LocalEngine(clock=VirtualClock(T0), handlers={CALLBACK: outbox}) as engine:
        handle = await engine.start_execution(_token_machine(), {}, "cb")
        engine_token = await outbox.next_token()
        engine.send_task_failure(engine_token, "Rejected", "manager said no")
        ex = await handle.result()
    assert ex.states == ["Wait for callback", "Caught"]
    assert ex.output == {"Error": "Rejected", "Cause": "manager said no"}


@pytest.mark.anyio
async def test_unknown_token_is_rejected() -> None:
    async with LocalEngine(clock=VirtualClock(T0)) as engine:
        with pytest.raises(InvalidToken):
            engine.send_task_heartbeat("nope")


@pytest.mark.anyio
async def test_missing_heartbeat_times_out() -> None:
    outbox = _Outbox()
    machine = _token_machine(TimeoutSeconds=600, HeartbeatSeconds=1)
    async with LocalEngine(clock=VirtualClock(T0), handlers={CALLBACK: outbox}) as engine:
        ex = await engine.execute(machine, {}, "hb")
    assert ex.states == ["Wait for callback", "Caught"]
    assert ex.output == {"Error": "States.Timeout", "Cause": ""}
    scheduled = _of(ex, "TaskScheduled")[0].details
    assert scheduled is not None
    assert (scheduled["timeoutInSeconds"], scheduled["heartbeatInSeconds"]) == (600, 1)
    assert len(_of(ex, "TaskTimedOut")) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("task", "caught_by"),
    [
        ({"TimeoutSeconds": 600, "HeartbeatSeconds": 1}, "Heartbeat"),
        ({"TimeoutSeconds": 1}, "Other"),
    ],
)
async def test_heartbeat_timeout_catcher_catches_only_a_missed_heartbeat(
    task: dict[str, Any], caught_by: str
) -> None:
    machine = _token_machine(**task)
    machine["States"]["Wait for callback"]["Catch"] = [
        {"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Heartbeat"},
        {"ErrorEquals": ["States.ALL"], "Next": "Other"},
    ]
    machine["States"]["Heartbeat"] = {"Type": "Pass", "End": True}
    machine["States"]["Other"] = {"Type": "Pass", "End": True}
    del machine["States"]["Caught"]
    async with LocalEngine(clock=VirtualClock(T0), handlers={CALLBACK: _Outbox()}) as engine:
        ex = await engine.execute(machine, {}, "hb-catch")
    assert ex.states == ["Wait for callback", caught_by]
    # Either way the error is States.Timeout, as AWS records it (no cause).
    assert ex.output == {"Error": "States.Timeout", "Cause": ""}
    timed_out = _of(ex, "TaskTimedOut")[0].details
    assert timed_out is not None and timed_out["error"] == "States.Timeout"
    assert "cause" not in timed_out


HEARTBEAT_SECONDS = 2
"""While a token is outstanding the heartbeat deadline follows the wall clock, so this test
waits for real: heartbeats every 0.2 s leave 1.8 s for a loaded machine to be late."""


@pytest.mark.anyio
async def test_heartbeats_keep_the_task_alive() -> None:
    outbox = _Outbox()
    machine = _token_machine(HeartbeatSeconds=HEARTBEAT_SECONDS)
    async with LocalEngine(clock=VirtualClock(T0), handlers={CALLBACK: outbox}) as engine:
        handle = await engine.start_execution(machine, {}, "hb")
        token = await outbox.next_token()
        started = anyio.current_time()
        beats = 0
        # Alive for 1.75 heartbeat periods: without the heartbeats it would have timed out.
        while anyio.current_time() - started < 1.75 * HEARTBEAT_SECONDS:
            await anyio.sleep(0.2)
            engine.send_task_heartbeat(token)
            beats += 1
        engine.send_task_success(token, {"alive": True})
        ex = await handle.result()
    assert ex.output == {"alive": True}
    assert _of(ex, "TaskTimedOut") == []
    assert beats >= 2


def test_callback_from_another_thread() -> None:
    engines: list[LocalEngine] = []

    def answer(event: Any) -> Any:
        token = event["MessageBody"]["token"]
        # A thread the engine knows nothing about answers a little later.
        threading.Timer(0.05, engines[0].send_task_success, (token, {"t": 1})).start()
        return {}

    async def main() -> Execution:
        async with LocalEngine(clock=VirtualClock(T0), handlers={CALLBACK: answer}) as engine:
            engines.append(engine)
            return await engine.execute(_token_machine(), {}, "thread")

    ex = anyio.run(main)
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"t": 1}


def test_mocked_callback_task_does_not_wait_for_a_token() -> None:
    async def mock(request: Any, call_next: Any) -> Any:
        return {"mocked": request.context["Task"]["Token"] != ""}

    class Mocker:
        def mocks_state(self, state_name: str) -> bool:
            return state_name == "Wait for callback"

        async def __call__(self, request: Any, call_next: Any) -> Any:
            return await mock(request, call_next)

    ex = run(_token_machine(), {}, interceptors=[Mocker()], clock=VirtualClock(T0))
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"mocked": True}
