"""Callback steps: a task token handed out (a Python call or a message), heartbeats and a
timeout, the answer sent back by a test on the virtual clock; a rejection or silence unwinds."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine
from saga import JsonPath, LambdaInvoke, Saga, SagaDefinitionError, sqs
from saga.testing import callbacks
from saga.testing.harness import SagaTestEngine
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/reviews"


def build(calls: list[str]) -> Saga:
    """Book, a fraud review answered by a callback (heartbeat 15 min, timeout 2 h), pay."""
    saga = Saga("Reviewed", success_state="Booked")

    def book(event: dict[str, Any]) -> str:
        calls.append("Book")
        return "b-1"

    def unbook(event: dict[str, Any]) -> None:
        calls.append("Unbook")

    def ask_review(event: dict[str, Any]) -> str:
        calls.append(f"Review asked {event['input']['book']} token={len(event['taskToken']) > 0}")
        return "ignored: the answer is the callback's output"

    def pay(event: dict[str, Any]) -> str:
        calls.append(f"Pay approved={event['fraudReview']['approved']}")
        return "paid"

    saga.step("Book", book).compensate("Unbook", unbook)
    saga.step(
        "Fraud Review",
        ask_review,
        resource=LambdaInvoke("fraud-review", wait_for_task_token=True),
        heartbeat=900,
        timeout=7200,
    )
    saga.step("Pay", pay)
    return saga


def test_the_step_compiles_to_a_callback_task() -> None:
    state = json.loads(build([]).to_json())["States"]["Fraud Review"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert state["Parameters"] == {
        "FunctionName": "fraud-review",
        "Payload": {"input.$": "$", "taskToken.$": "$$.Task.Token"},
    }
    assert (state["HeartbeatSeconds"], state["TimeoutSeconds"]) == (900, 7200)
    assert state["ResultPath"] == "$.fraudReview"


def test_an_approval_resumes_the_saga_with_the_callback_output() -> None:
    calls: list[str] = []
    tester = SagaTestEngine()
    answer = callbacks.answers(
        "Fraud Review", output={"approved": True}, after=3000, heartbeats=[800, 1600, 2400]
    )
    execution = tester.run(build(calls), {}, faults=[answer])
    assert execution.status == "SUCCEEDED"
    assert execution.output["fraudReview"] == {"approved": True}
    assert calls == ["Book", "Review asked b-1 token=True", "Pay approved=True"]
    # the answer came 3000 s after the task started, on the virtual clock
    started = next(
        e
        for e in execution.history
        if e.type == "TaskStateEntered" and e.state_name == "Fraud Review"
    )
    left = next(
        e
        for e in execution.history
        if e.type == "TaskStateExited" and e.state_name == "Fraud Review"
    )
    assert (left.timestamp - started.timestamp).total_seconds() == pytest.approx(3000, abs=1)


def test_a_rejection_unwinds() -> None:
    calls: list[str] = []
    answer = callbacks.answers("Fraud Review", error="Fraud.Rejected", cause="card reported stolen")
    execution = SagaTestEngine().run(build(calls), {}, faults=[answer])
    assert execution.status == "FAILED"
    assert json.loads(execution.cause or "") == {
        "Error": "Fraud.Rejected",
        "Cause": "card reported stolen",
    }
    assert calls == ["Book", "Review asked b-1 token=True", "Unbook"]
    assert [u.state for u in execution.unwind] == ["Unbook"]


@pytest.mark.parametrize(
    ("after", "heartbeats"),
    [(1000, []), (3000, [800, 1600]), (8000, range(0, 8000, 800))],
    ids=["no heartbeat within 900 s", "heartbeats stop", "past the 2 h timeout"],
)
def test_silence_times_out_and_unwinds(after: float, heartbeats: Any) -> None:
    calls: list[str] = []
    answer = callbacks.answers(
        "Fraud Review", output={"approved": True}, after=after, heartbeats=heartbeats
    )
    execution = SagaTestEngine().run(build(calls), {}, faults=[answer])
    assert execution.status == "FAILED"
    assert json.loads(execution.cause or "")["Error"] == "States.Timeout"
    assert calls == ["Book", "Review asked b-1 token=True", "Unbook"]


def test_a_callback_through_sqs_carries_the_token_in_the_message() -> None:
    sent: list[Any] = []
    saga = Saga("Queued")
    message = {"booking": JsonPath("$.id"), "token": JsonPath("$$.Task.Token")}
    saga.step(
        "Ask Agent",
        sqs.send_message(queue_url=QUEUE, message_body=message, wait_for_task_token=True),
        timeout=600,
    )
    resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

    def queue(event: dict[str, Any]) -> dict[str, str]:
        sent.append(event)
        return {"MessageId": "m-1"}

    answer = callbacks.answers("Ask Agent", output={"agent": "ok"}, after=30)
    execution = SagaTestEngine().run(
        saga, {"id": "b-9"}, faults=[answer], handlers={resource: queue}
    )
    assert execution.status == "SUCCEEDED"
    assert execution.output["askAgent"] == {"agent": "ok"}
    assert sent[0]["QueueUrl"] == QUEUE
    assert sent[0]["MessageBody"]["booking"] == "b-9"
    assert isinstance(sent[0]["MessageBody"]["token"], str)


def test_export_passes_both_validators_and_runs_the_same() -> None:
    saga = build([])
    text = saga.to_json()
    document = engine.substitute(json.loads(text), {k: ARN + k for k in saga.handlers()})
    assert statelint_problems([document]) == [[]]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is not installed")
    assert asl_validator_problems([document], command) == [[]]
    answer = callbacks.answers("Fraud Review", error="Fraud.Rejected", after=10)
    direct = SagaTestEngine().run(saga, {}, faults=[answer], name="x")
    exported = SagaTestEngine().run(
        engine.load(text), {}, faults=[answer], name="x", handlers=saga.handlers()
    )
    assert (exported.status, exported.output, exported.cause, exported.states) == (
        direct.status,
        direct.output,
        direct.cause,
        direct.states,
    )


def test_a_callback_nobody_can_answer_is_refused() -> None:
    saga = Saga("Bad")
    with pytest.raises(SagaDefinitionError, match="never pass it on"):
        saga.step(
            "Ask",
            print,
            resource=LambdaInvoke("f", wait_for_task_token=True),
            parameters={"x": 1},
            timeout=60,
        )


def test_a_callback_without_a_timeout_is_warned_about() -> None:
    from saga.compile import saga_warnings

    saga = Saga("Patient")
    saga.step("Ask", print, resource=LambdaInvoke("f", wait_for_task_token=True))
    (warning,) = saga_warnings(saga)
    assert (warning.code, warning.step) == ("CALLBACK_WITHOUT_TIMEOUT", "Ask")


def test_an_sqs_callback_without_the_token_is_refused() -> None:
    saga = Saga("Bad")
    silent = sqs.send_message(queue_url=QUEUE, message_body={"x": 1}, wait_for_task_token=True)
    with pytest.raises(SagaDefinitionError, match="never pass it on"):
        saga.step("Ask", silent, timeout=60)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either output= .* or error="),
        ({"output": 1, "error": "E"}, "either output="),
        ({"output": 1, "cause": "c"}, "cause= goes with error="),
        ({"output": 1, "after": -1}, "after is -1"),
        ({"output": 1, "after": 5, "heartbeats": [6]}, "heartbeats must fall between"),
    ],
)
def test_bad_answers_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        callbacks.answers("Ask", **kwargs)


def test_answering_a_state_without_a_token_fails_the_task_with_the_reason() -> None:
    saga = Saga("Plain")
    saga.step("Plain Step", lambda event: 1, compensate_on=[])
    execution = SagaTestEngine().run(saga, {}, faults=[callbacks.answers("Plain Step", output=1)])
    assert execution.status == "FAILED"
    assert "hands out no task token" in (execution.cause or "")
