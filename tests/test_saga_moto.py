"""Exported sagas are valid ASL (statelint, asl-validator) and run the same in moto's interpreter
as in the local engine: status, error, cause, output and the order of top-level states.

The sagas use DynamoDB and SQS integrations only (moto runs Lambda functions in Docker), which
is enough to exercise the unwind chain, a compensation's failure, parallel groups, failure
handlers, the fail-fast state and both ways the Fail state carries the original failure.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from saga.integrations import dynamodb, sqs
from saga.saga import ORIGINAL_ERROR, Saga
from saga.templates import JsonPath
from tests._aws import moto_running_state_machines

TABLE = "Flights"
QUEUE = "saga-dlq"
QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/123456789012/{QUEUE}"
ROLE_ARN = "arn:aws:iam::123456789012:role/saga"
CONDITION_FAILED = "DynamoDB.ConditionalCheckFailedException"
_REQUEST_ID = re.compile(r"Request ID: [^;)\\\"]+")
_DEADLINE_SECONDS = 30.0


def _seat(name: str, delta: str, *, condition: bool, flight: str = "$.flight") -> Any:
    return dynamodb.update_item(
        table_name=TABLE,
        key={"id": {"S": JsonPath(flight)}},
        update_expression=f"SET seats = seats {delta} :one",
        expression_attribute_values={":one": {"N": "1"}, ":zero": {"N": "0"}}
        if condition
        else {":one": {"N": "1"}},
        condition_expression="seats > :zero" if condition else None,
    )


def _dlq() -> Any:
    return sqs.send_message(queue_url=QUEUE_URL, message_body=JsonPath("$.flight"))


def booking(*, fail_fast: bool = False, **saga_options: Any) -> Saga:
    """Reserve a seat (compensated), reserve a return seat, notify through SQS."""
    saga = Saga("Booking", success_state="Booked", **saga_options)
    saga.step("Reserve Seat", _seat("reserve", "-", condition=True), result_path=None).compensate(
        "Release Seat", _seat("release", "+", condition=False)
    )
    saga.step(
        "Reserve Return Seat",
        _seat("return", "-", condition=True, flight="$.returnFlight"),
        result_path=None,
        fail_fast_on=[CONDITION_FAILED] if fail_fast else [],
    )
    saga.step(
        "Confirm", sqs.send_message(queue_url=QUEUE_URL, message_body="confirmed"), result_path=None
    )
    saga.on_failure("Dead Letter", _dlq(), result_path=None, continue_on_error=False)
    return saga


def booking_original_error() -> Saga:
    saga = Saga("BookingOriginal", failure_error=ORIGINAL_ERROR)
    saga.step(
        "Reserve Seat",
        _seat("reserve", "-", condition=True),
        result_path=None,
        compensate_on=[CONDITION_FAILED],
    )
    return saga


def travel() -> Saga:
    """A parallel group whose second step fails; both compensations run, one of them fails."""
    saga = Saga("Travel", failure_cause="travel could not be booked")
    group = saga.parallel("Book Both", result_path=None)
    group.step("Outbound", _seat("out", "-", condition=True)).compensate(
        "Release Outbound", _seat("rel", "+", condition=False)
    )
    group.step("Inbound", _seat("in", "-", condition=True, flight="$.returnFlight")).compensate(
        "Release Inbound", _seat("rel", "+", condition=True, flight="$.returnFlight")
    )
    return saga


def both_ways() -> Saga:
    """A group of two branches of two steps each; a failing step keeps its branch's record."""
    saga = Saga("BothWays")
    group = saga.parallel("Both Ways")
    for branch, flight in (("Out", "$.flight"), ("Back", "$.returnFlight")):
        steps = group.branch(branch)
        for what in ("Seat", "Meal"):
            steps.step(f"{branch} {what}", _seat("take", "-", condition=True, flight=flight))
            # conditional: freeing a seat of the full flight fails (and the unwind goes on),
            # so the other cases still find it full
            steps.steps[-1].compensate(
                f"Free {branch} {what}", _seat("free", "+", condition=True, flight=flight)
            )
    return saga


CASES: dict[str, tuple[Callable[[], Saga], dict[str, Any]]] = {
    "booked": (booking, {"flight": "free", "returnFlight": "free2"}),
    "sold out": (booking, {"flight": "full", "returnFlight": "free"}),
    "return sold out": (booking, {"flight": "free", "returnFlight": "full"}),
    "fail fast": (lambda: booking(fail_fast=True), {"flight": "free", "returnFlight": "full"}),
    "static failure": (
        lambda: booking(failure_error="BookingFailed", failure_cause="no seat"),
        {"flight": "free", "returnFlight": "full"},
    ),
    "original error": (booking_original_error, {"flight": "full"}),
    "parallel group": (travel, {"flight": "free", "returnFlight": "full"}),
    "branches": (both_ways, {"flight": "free", "returnFlight": "full"}),
}


def _seed() -> None:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for flight, seats in (("free", "9"), ("free2", "9"), ("full", "0")):
        client.put_item(TableName=TABLE, Item={"id": {"S": flight}, "seats": {"N": seats}})
    boto3.client("sqs").create_queue(QueueName=QUEUE)


def _normalise(outcome: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(outcome, sort_keys=True)
    return dict(json.loads(_REQUEST_ID.sub("Request ID: <id>", text)))


def _start_in_moto(definition: str, data: Any, name: str) -> str:
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=re.sub(r"\W", "-", name), definition=definition, roleArn=ROLE_ARN
    )["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=machine, input=json.dumps(data))["executionArn"])


def _moto_outcome(arn: str, definition: str) -> dict[str, Any] | None:
    sfn = boto3.client("stepfunctions")
    described = sfn.describe_execution(executionArn=arn)
    if described["status"] == "RUNNING":
        return None
    top = set(json.loads(definition)["States"])
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    states = [
        e["stateEnteredEventDetails"]["name"]
        for e in events
        if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] in top
    ]
    output = described.get("output")
    return {
        "status": described["status"],
        "error": described.get("error"),
        "cause": described.get("cause"),
        "output": json.loads(output) if output else None,
        "states": states,
    }


def _local_outcome(saga: Saga, data: Any) -> dict[str, Any]:
    local = saga.run(data, name="e1", seed=1)
    return {
        "status": local.status,
        "error": local.error,
        "cause": local.cause,
        "output": local.output,
        "states": local.states,
    }


Outcomes = dict[str, tuple[dict[str, Any], dict[str, Any] | None]]


@pytest.fixture(scope="module")
def outcomes() -> Iterator[Outcomes]:
    """Every case run locally and in moto (moto's executions run side by side in threads)."""
    with moto_running_state_machines():
        _seed()
        sagas = {case: make() for case, (make, _) in CASES.items()}
        started = {
            case: (
                _start_in_moto(saga.to_json(), CASES[case][1], f"{saga.name}-{case}"),
                saga.to_json(),
            )
            for case, saga in sagas.items()
        }
        local = {case: _local_outcome(saga, CASES[case][1]) for case, saga in sagas.items()}
        remote: dict[str, dict[str, Any] | None] = dict.fromkeys(CASES)
        deadline = time.monotonic() + _DEADLINE_SECONDS
        while time.monotonic() < deadline and any(v is None for v in remote.values()):
            for case, (arn, definition) in started.items():
                if remote[case] is None:
                    remote[case] = _moto_outcome(arn, definition)
            time.sleep(0.05)
        yield {case: (local[case], remote[case]) for case in CASES}


EXPECTED: dict[str, tuple[str, str | None, list[str]]] = {
    "booked": ("SUCCEEDED", None, ["Reserve Seat", "Reserve Return Seat", "Confirm", "Booked"]),
    "sold out": ("FAILED", "SagaFailed", ["Reserve Seat", "Dead Letter", "Saga Failed"]),
    "return sold out": (
        "FAILED",
        "SagaFailed",
        ["Reserve Seat", "Reserve Return Seat", "Release Seat", "Dead Letter", "Saga Failed"],
    ),
    "fail fast": (
        "FAILED",
        CONDITION_FAILED,
        ["Reserve Seat", "Reserve Return Seat", "Saga Failed Fast"],
    ),
    "static failure": (
        "FAILED",
        "BookingFailed",
        ["Reserve Seat", "Reserve Return Seat", "Release Seat", "Dead Letter", "Saga Failed"],
    ),
    "original error": ("FAILED", CONDITION_FAILED, ["Reserve Seat", "Saga Failed"]),
    "parallel group": (
        "FAILED",
        "SagaFailed",
        ["Book Both", "Release Inbound", "Release Outbound", "Saga Failed"],
    ),
    # the back branch failed at its seat (undone: its call may have landed), its meal never
    # ran; the out branch ran to its end: both its steps are undone
    "branches": (
        "FAILED",
        "SagaFailed",
        [
            "Both Ways",
            "Both Ways (any failed?)",
            "Both Ways (record error)",
            "Back Meal (if done)",
            "Back Seat (if done)",
            "Free Back Seat",
            "Out Meal (if done)",
            "Free Out Meal",
            "Out Seat (if done)",
            "Free Out Seat",
            "Saga Failed",
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_saga_runs_the_same_in_moto(case: str, outcomes: Outcomes) -> None:
    local, moto = outcomes[case]
    assert moto is not None, f"moto did not finish {case}"
    assert _normalise(local) == _normalise(moto)
    status, error, states = EXPECTED[case]
    assert (local["status"], local["error"], local["states"]) == (status, error, states)


def test_fail_state_carries_the_original_error_output() -> None:
    saga = booking()
    machine = saga.to_state_machine().to_dict()
    assert machine["States"]["Saga Failed"] == {
        "Type": "Fail",
        "Error": "SagaFailed",
        "CausePath": "States.JsonToString($.error)",
    }


def _asl_validator() -> str | None:
    for candidate in (
        Path(".tools/node_modules/.bin/asl-validator"),
        Path("/tmp/npmtest/node_modules/.bin/asl-validator"),
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which("asl-validator")


def test_exported_definitions_pass_statelint_and_asl_validator(tmp_path: Path) -> None:
    paths = []
    for index, (make, _) in enumerate(CASES.values()):
        path = tmp_path / f"saga{index}.asl.json"
        path.write_text(make().to_json(), encoding="utf-8")
        paths.append(str(path))
    lint = subprocess.run(
        [sys.executable, "-m", "statelint", *paths], capture_output=True, text=True, check=False
    )
    assert (lint.returncode, lint.stdout) == (0, "")
    validator = _asl_validator()
    if validator is None:
        pytest.skip("asl-validator is not installed")
    arguments = [argument for path in paths for argument in ("--json-path", path)]
    checked = subprocess.run([validator, *arguments], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
