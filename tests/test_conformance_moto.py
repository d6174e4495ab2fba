"""Differential conformance: each definition runs in this engine and in moto's interpreter.

Compared: status, error name, parsed output and the order of top-level states entered.
Moto is a port of LocalStack's interpreter; where it disagrees with behaviour recorded against
AWS (the OBS rows of the checklist), that aspect is not compared. Exclusions:

- choice_no_match, error: moto reports States.Runtime; AWS reports States.NoChoiceMatched.
- map_items_not_array, error: moto reports States.QueryEvaluationError (its JSONata error) for
  a JSONPath ItemsPath that does not select an array; AWS reports States.Runtime.
- sqs_send_object_body, output: moto serialises an object MessageBody with Python's spaced
  separators, so its MD5OfMessageBody differs; Step Functions sends compact JSON.
- Every integration result: moto drops SdkHttpMetadata/SdkResponseMetadata, which AWS returns
  for DynamoDB, SQS, SNS and Step Functions; those keys are removed before comparing. Values that
  are random per call (MessageId, EventId, request ids in causes) are blanked on both sides.
- Execution output: moto renders a top-level string result without JSON quotes; it is read
  back as that string.
- Not run at all: states:startExecution (moto renders StartDate as ISO text, AWS as epoch
  milliseconds; both engines would also start a child of the same name), Lambda resources (moto
  needs Docker to run functions), Wait/Retry timings (moto sleeps in real time; only the
  outcome is compared), and anything JSONata (not supported locally).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from engine.local_engine import run
from tests._aws import moto_running_state_machines
from tests.conformance_cases import ASPECTS, CASES, QUEUE_URL, TABLE, TOPIC_ARN, Case

ROLE_ARN = "arn:aws:iam::123456789012:role/conformance"
_DEADLINE_SECONDS = 45.0
_METADATA_KEYS = frozenset({"SdkHttpMetadata", "SdkResponseMetadata"})
_RANDOM_IDS = frozenset({"MessageId", "EventId"})
_REQUEST_ID = re.compile(r"Request ID: [^;)]+")


@dataclass(frozen=True)
class Outcome:
    """What one engine reports for one execution."""

    status: str
    error: str | None
    output: Any
    states: list[str]


def _normalise(value: Any) -> Any:
    """Drop Sdk*Metadata (moto omits it) and blank out values that are random per call."""
    if isinstance(value, dict):
        return {
            key: "<id>" if key in _RANDOM_IDS else _normalise(item)
            for key, item in value.items()
            if key not in _METADATA_KEYS
        }
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, str):
        return _REQUEST_ID.sub("Request ID: <id>", value)
    return value


def _parse_output(text: str | None) -> Any:
    """Moto's execution output; it renders a top-level string result without JSON quotes."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _seed() -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "seed"}, "seats": {"N": "3"}})
    assert boto3.client("sqs").create_queue(QueueName="conformance-queue")["QueueUrl"] == QUEUE_URL
    assert boto3.client("sns").create_topic(Name="conformance-topic")["TopicArn"] == TOPIC_ARN


def _run_in_moto(cases: list[Case]) -> dict[str, Outcome]:
    """Start every case in moto at once (its executions run in threads), then collect them."""
    sfn = boto3.client("stepfunctions")
    started: dict[str, str] = {}
    for case in cases:
        machine = sfn.create_state_machine(
            name=case.name, definition=json.dumps(case.definition), roleArn=ROLE_ARN
        )["stateMachineArn"]
        started[case.name] = sfn.start_execution(
            stateMachineArn=machine, name="conformance", input=json.dumps(case.input)
        )["executionArn"]
    outcomes: dict[str, Outcome] = {}
    deadline = time.monotonic() + _DEADLINE_SECONDS
    pending = dict(started)
    while pending and time.monotonic() < deadline:
        for name, arn in list(pending.items()):
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] == "RUNNING":
                continue
            top_level = set(next(c for c in cases if c.name == name).definition["States"])
            events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            entered = [
                event["stateEnteredEventDetails"]["name"]
                for event in events
                if event["type"].endswith("StateEntered")
                and event["stateEnteredEventDetails"]["name"] in top_level
            ]
            text = described.get("output")
            output = _parse_output(text)
            outcomes[name] = Outcome(described["status"], described.get("error"), output, entered)
            del pending[name]
        time.sleep(0.05)
    for name in pending:
        outcomes[name] = Outcome("RUNNING", None, None, [])
    return outcomes


def _run_locally(case: Case) -> Outcome:
    execution = run(case.definition, case.input, name="conformance", seed=1)
    output = execution.output if execution.status == "SUCCEEDED" else None
    return Outcome(execution.status, execution.error, output, list(execution.states))


@pytest.fixture(scope="module")
def outcomes() -> Iterator[dict[str, tuple[Outcome, Outcome]]]:
    with moto_running_state_machines():
        _seed()
        from_moto = _run_in_moto(CASES)
        yield {case.name: (from_moto[case.name], _run_locally(case)) for case in CASES}


def test_enough_definitions_and_every_exclusion_has_a_reason() -> None:
    assert len(CASES) >= 50
    assert len({case.name for case in CASES}) == len(CASES)
    for case in CASES:
        assert case.skip <= ASPECTS, case.name
        assert bool(case.skip) == bool(case.reason), case.name


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_same_as_moto(case: Case, outcomes: dict[str, tuple[Outcome, Outcome]]) -> None:
    moto, local = outcomes[case.name]
    assert moto.status != "RUNNING", f"moto did not finish {case.name}"
    compared = {
        "status": (local.status, moto.status),
        "error": (local.error, moto.error),
        "output": (_normalise(local.output), _normalise(moto.output)),
        "states": (local.states, moto.states),
    }
    for aspect in case.skip:
        del compared[aspect]
    mismatches = {aspect: pair for aspect, pair in compared.items() if pair[0] != pair[1]}
    assert mismatches == {}, f"(local, moto) differ: {mismatches}"
