"""The pytest plugin, exercised the way users meet it: test files run by pytest (``pytester``)."""

from __future__ import annotations

import json
import os
import re

import pytest

from saga import pytest_plugin
from saga.testing.clock import DEFAULT_START
from saga.testing.harness import DEFAULT_SEED, execution_name_prefix

pytest_plugins = ["pytester"]

INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist")
"""Inner runs skip plugins they do not need (hypothesis alone costs seconds per run)."""

pytest.importorskip("moto")  # imported once here, not again in every inner run

ORDERS = """
from typing import Any

from saga.policies import Retry
from saga.saga import Saga


class OutOfStock(Exception):
    pass


class PaymentDeclined(Exception):
    pass


order = Saga("PlaceOrder", failure_error="OrderFailed", failure_cause="the order was rolled back")


@order.step("Reserve Stock", retry=[Retry(OutOfStock, interval=1, backoff_rate=2, max_retries=2)])
def reserve_stock(event: dict[str, Any]) -> str:
    return "reservation-1"


@reserve_stock.compensate("Release Stock")
def release_stock(event: dict[str, Any]) -> None:
    return None


@order.step("Charge Card", timeout=10)
def charge_card(event: dict[str, Any]) -> str:
    return "charge-1"


@charge_card.compensate("Refund Card")
def refund_card(event: dict[str, Any]) -> None:
    return None


@order.step("Ship Order")
def ship_order(event: dict[str, Any]) -> str:
    return "shipment-1"
"""

USER_TESTS = """
from saga.testing import (
    assert_compensated, assert_failed, assert_path, assert_retried, assert_succeeded, faults,
)
from orders import OutOfStock, PaymentDeclined, order


def test_order_goes_through(saga_engine):
    execution = saga_engine.run(order, {"orderId": "o-1"})
    assert_succeeded(execution)
    assert_path(execution, ["Reserve Stock", "Charge Card", "Ship Order"])
    assert execution.name == "test_orders-test_order_goes_through-1"


def test_stock_is_retried_with_backoff(saga_engine):
    execution = saga_engine.run(
        order,
        {"orderId": "o-1"},
        faults=[faults.raises("Reserve Stock", OutOfStock("none left"), attempts=[1, 2])],
    )
    assert_succeeded(execution)
    assert_retried(execution, "Reserve Stock", times=2, delays=[1.0, 2.0])


def test_failed_shipping_rolls_back(saga_engine):
    execution = saga_engine.run(
        order,
        {"orderId": "o-1"},
        faults=[faults.raises("Ship Order", PaymentDeclined("carrier refused"))],
    )
    assert_failed(execution, error="OrderFailed", cause="the order was rolled back")
    assert_compensated(execution, ["Refund Card", "Release Stock"], saga=order)


def test_hanging_payment_times_out(saga_engine):
    execution = saga_engine.run(order, {"orderId": "o-1"}, faults=[faults.hangs("Charge Card")])
    assert_failed(execution, error="OrderFailed")
    assert_path(execution, ["Reserve Stock", "Charge Card", "Release Stock", "Saga Failed"])
    timed_out = [e for e in execution.history if e.type == "LambdaFunctionTimedOut"]
    assert [e.posix - execution.start_posix for e in timed_out] == [10.0]
"""


MARKER_TESTS = """
from datetime import UTC, datetime

import pytest


MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.mark.saga(seed=5, start=datetime(2030, 6, 1, 12, 0, tzinfo=UTC))
def test_marked(saga_engine, saga_seed):
    execution = saga_engine.run(MACHINE, {"a": 1})
    assert (saga_seed, saga_engine.seed) == (5, 5)
    assert execution.start_date == datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    assert execution.output == {"a": 1}


def test_defaults(saga_engine, saga_clock):
    execution = saga_engine.run(MACHINE)
    assert saga_engine.seed == 0
    assert saga_engine.clock is saga_clock
    assert execution.start_date == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.saga(seed="x")
def test_bad_seed(saga_seed):
    pass
"""

AWS_TESTS = """
import os

from saga.testing import assert_failed, assert_succeeded, faults

THROTTLED = "DynamoDB.ProvisionedThroughputExceededException"

MACHINE = {
    "StartAt": "Reserve Flight",
    "States": {
        "Reserve Flight": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": "flights",
                "Key": {"id": {"S.$": "$.flight"}},
                "UpdateExpression": "SET seats = seats - :one",
                "ConditionExpression": "seats > :zero",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}},
            },
            "ResultPath": None,
            "End": True,
        }
    },
}


def test_seat_is_taken(aws, saga_engine):
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert aws.region == "us-east-1"
    aws.create_table("flights", items=[{"id": {"S": "f1"}, "seats": {"N": "1"}}])
    assert_succeeded(saga_engine.run(MACHINE, {"flight": "f1"}), output={"flight": "f1"})
    assert aws.get_item("flights", {"id": {"S": "f1"}})["seats"] == {"N": "0"}
    full = saga_engine.run(MACHINE, {"flight": "f1"})
    assert_failed(full, error="DynamoDB.ConditionalCheckFailedException")


def test_fault_on_the_integration(aws, saga_engine):
    aws.create_table("flights", items=[{"id": {"S": "f1"}, "seats": {"N": "5"}}])
    execution = saga_engine.run(
        MACHINE,
        {"flight": "f1"},
        faults=[faults.fails("Reserve Flight", error=THROTTLED)],
    )
    assert_failed(execution, error=THROTTLED)
    assert aws.get_item("flights", {"id": {"S": "f1"}})["seats"] == {"N": "5"}


def test_queue_helpers(aws):
    url = aws.create_queue("dlq")
    aws.client("sqs").send_message(QueueUrl=url, MessageBody="hello")
    assert aws.messages(url) == ["hello"]
    assert aws.create_topic("t").endswith(":t")
"""

MOCKED_TESTS = """
from saga.testing import assert_compensated, assert_failed
from orders import order


def test_declined(saga_engine):
    execution = saga_engine.run(
        order, {}, mock_config="MockConfigFile.json", test_case="CardDeclined"
    )
    assert_failed(execution, error="OrderFailed")
    assert_compensated(execution, ["Release Stock"], saga=order)
"""

ASYNC_TESTS = """
import anyio
import pytest

from saga.testing import assert_succeeded, faults
from orders import order


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_run_async(saga_engine):
    execution = await saga_engine.run_async(order, {"orderId": "a"})
    assert_succeeded(execution)
    assert execution.name == "test_async-test_run_async-1"


@pytest.mark.anyio
async def test_run_is_refused_in_an_event_loop(saga_engine):
    with pytest.raises(RuntimeError, match="await saga_engine.run_async"):
        saga_engine.run(order, {})


@pytest.mark.anyio
async def test_many_at_once(saga_engine):
    plan = [faults.hangs("Charge Card")]
    async with saga_engine.local_engine(handlers=order.handlers(), faults=plan) as engine:
        machine = order.to_state_machine()
        first = await engine.start_execution(machine, {"n": 1}, "one")
        second = await engine.start_execution(machine, {"n": 2}, "two")
        results = [await first.result(), await second.result()]
    assert [r.status for r in results] == ["FAILED", "FAILED"]
    assert [r.stop_posix - r.start_posix for r in results] == [10.0, 10.0]
"""

LOADING_TESTS = """
from saga.saga import Saga
from saga.testing import assert_succeeded

ARN = "arn:aws:lambda:us-east-1:123456789012:function:work"


def test_load_saga(load_saga, saga_engine):
    saga = load_saga("orders:order")
    assert isinstance(saga, Saga) and saga.name == "PlaceOrder"
    assert_succeeded(saga_engine.run("orders:order", {}))


def test_load_machine(load_machine, saga_engine):
    machine = load_machine("flow.asl.json", substitutions={"WorkArn": ARN})
    assert machine.states["Work"].resource == ARN
    execution = saga_engine.run(machine, {"x": 2}, handlers={"work": lambda e: e["x"] * 2})
    assert_succeeded(execution, output=4)


def test_run_a_file_by_path(saga_engine):
    execution = saga_engine.run(
        "flow.asl.json", {"x": 1}, substitutions={"WorkArn": ARN},
        handlers={"work": lambda e: "done"},
    )
    assert_succeeded(execution, output="done")
    assert execution.state_machine_arn.endswith(":stateMachine:flow")
"""

WRONG_TESTS = """
from saga.testing import assert_retried, faults
from orders import OutOfStock, order


def test_backoff(saga_engine):
    execution = saga_engine.run(
        order,
        {"orderId": "o-1"},
        faults=[faults.raises("Reserve Stock", OutOfStock("none left"), attempts=[1, 2])],
    )
    assert_retried(execution, "Reserve Stock", times=2, delays=[1.0, 4.0])
"""

PLAIN_TESTS = """
from orders import order


def test_status(saga_engine):
    saga_engine.run(order, {"orderId": "o-1"})
    execution = saga_engine.run(order, {"orderId": "o-2"})
    assert execution.status == "FAILED"


def test_passes(saga_engine):
    saga_engine.run(order, {"orderId": "o-3"})
"""

MOCK_CONFIG = {
    "StateMachines": {"PlaceOrder": {"TestCases": {"CardDeclined": {"Charge Card": "Declined"}}}},
    "MockedResponses": {
        "Declined": {"0": {"Throw": {"Error": "PaymentDeclined", "Cause": "no funds"}}}
    },
}

FLOW = {
    "StartAt": "Work",
    "States": {"Work": {"Type": "Task", "Resource": "${WorkArn}", "End": True}},
}


def _write_orders(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(orders=ORDERS)
    pytester.syspathinsert()


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    """``file::test`` → PASSED/FAILED/ERROR, from a ``-rA`` summary."""
    found: dict[str, str] = {}
    for line in result.stdout.lines:
        match = re.match(r"^(PASSED|FAILED|ERROR) (\S+)", line)
        if match:
            found[match.group(2)] = match.group(1)
    return found


def test_a_users_suite_runs_with_the_fixtures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"
    )  # the aws fixture drops it
    monkeypatch.setenv("AWS_PROFILE", "a-profile-that-does-not-exist")
    _write_orders(pytester)
    pytester.makepyfile(
        test_orders=USER_TESTS,
        test_markers=MARKER_TESTS,
        test_aws=AWS_TESTS,
        test_mocked=MOCKED_TESTS,
        test_async=ASYNC_TESTS,
    )
    (pytester.path / "MockConfigFile.json").write_text(json.dumps(MOCK_CONFIG), encoding="utf-8")
    flows = pytester.mkpydir("flows")
    (flows / "flow.asl.json").write_text(json.dumps(FLOW), encoding="utf-8")
    (flows / "test_loading.py").write_text(LOADING_TESTS, encoding="utf-8")
    before = os.environ.get("AWS_ACCESS_KEY_ID")
    result = pytester.runpytest(*INNER, "--strict-markers", "-rA")
    assert _outcomes(result) == {
        "test_async.py::test_many_at_once": "PASSED",
        "test_async.py::test_run_async": "PASSED",
        "test_async.py::test_run_is_refused_in_an_event_loop": "PASSED",
        "test_aws.py::test_fault_on_the_integration": "PASSED",
        "test_aws.py::test_queue_helpers": "PASSED",
        "test_aws.py::test_seat_is_taken": "PASSED",
        "test_markers.py::test_bad_seed": "ERROR",
        "test_markers.py::test_defaults": "PASSED",
        "test_markers.py::test_marked": "PASSED",
        "test_mocked.py::test_declined": "PASSED",
        "test_orders.py::test_failed_shipping_rolls_back": "PASSED",
        "test_orders.py::test_hanging_payment_times_out": "PASSED",
        "test_orders.py::test_order_goes_through": "PASSED",
        "test_orders.py::test_stock_is_retried_with_backoff": "PASSED",
        "flows/test_loading.py::test_load_machine": "PASSED",
        "flows/test_loading.py::test_load_saga": "PASSED",
        "flows/test_loading.py::test_run_a_file_by_path": "PASSED",
    }
    result.stdout.fnmatch_lines(["*takes an int, got 'x'*"])
    assert os.environ.get("AWS_ACCESS_KEY_ID") == before
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:9"


def test_failure_output_shows_the_history_table(pytester: pytest.Pytester) -> None:
    _write_orders(pytester)
    pytester.makepyfile(test_wrong=WRONG_TESTS, test_plain=PLAIN_TESTS)
    result = pytester.runpytest(*INNER, "test_wrong.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       saga.testing.SagaAssertionError: retry delays of 'Reserve Stock' were "
            "[1 s, 2 s], expected [1 s, 4 s] (± 0.001 s each)",
            "E       errors of its attempts: OutOfStock, OutOfStock",
            "E       history of the execution:",
            "E         execution 'test_wrong-test_backoff-1': SUCCEEDED",
            "E         id  elapsed       event                    state          detail",
            "E          5  +0:00:00.000  LambdaFunctionFailed     Reserve Stock  OutOfStock: *",
            "E          6  +0:00:01.000  LambdaFunctionScheduled  Reserve Stock  ${ReserveStock}",
            "E          9  +0:00:03.000  LambdaFunctionScheduled  Reserve Stock  ${ReserveStock}",
            "E         23  +0:00:03.000  ExecutionSucceeded                      output *",
        ]
    )
    text = result.stdout.str()
    assert "'Reserve Stock': {" not in text  # a table, not a dict dump
    assert "saga executions" not in text  # shown once, in the assertion message


def test_a_plain_assert_failure_gets_the_histories_as_a_report_section(
    pytester: pytest.Pytester,
) -> None:
    _write_orders(pytester)
    pytester.makepyfile(test_plain=PLAIN_TESTS)
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*- saga executions -*",
            "  execution 'test_plain-test_status-1': SUCCEEDED",
            "*",
            "  execution 'test_plain-test_status-2': SUCCEEDED",
            "  id  elapsed       event                    state          detail",
        ]
    )
    assert "test_plain-test_passes-1" not in result.stdout.str()


DETERMINISM = """
import json
import os
import time
from typing import Any

from saga.policies import Retry
from saga.saga import Saga
from saga.testing import faults


class Flaky(Exception):
    pass


trip = Saga("Trip")


BACKOFF = Retry(Flaky, interval=3, backoff_rate=2, max_retries=3, jitter="FULL")


@trip.step("Book", timeout=30, retry=[BACKOFF])
def book(event: dict[str, Any]) -> str:
    time.sleep(0.002)
    return "booked"


@book.compensate("Unbook")
def unbook(event: dict[str, Any]) -> None:
    return None


together = trip.parallel("Extras")


@together.step("Hotel", timeout=5)
def hotel(event: dict[str, Any]) -> str:
    return "hotel"


@together.step("Car")
def car(event: dict[str, Any]) -> str:
    time.sleep(0.003)
    return "car"


def test_history(saga_engine):
    execution = saga_engine.run(
        trip,
        {"id": 1},
        faults=[faults.raises("Book", Flaky("busy"), attempts=[1, 2, 3]), faults.hangs("Hotel")],
    )
    assert execution.status == "FAILED"
    with open(os.environ["HISTORY_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps(execution.to_dict(history=True), sort_keys=True) + "\\n")
"""


def test_the_same_test_gives_the_same_history_every_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_determinism=DETERMINISM)
    out = pytester.path / "histories.jsonl"
    monkeypatch.setenv("HISTORY_OUT", str(out))
    for _ in range(2):
        pytester.runpytest(*INNER).assert_outcomes(passed=1)
    first, second = (json.loads(line) for line in out.read_text().splitlines())
    assert first == second
    assert first["name"] == "test_determinism-test_history-1"
    assert first["states"] == ["Book", "Extras", "Unbook", "Saga Failed"]
    history = first["history"]
    assert history[0]["timestamp"] == "2024-01-01T00:00:00.000Z"
    retried = [e["timestamp"] for e in history if e["type"] == "LambdaFunctionScheduled"][:4]
    assert len(set(retried)) == 4  # jittered backoff, reproduced exactly
    timed_out = [e for e in history if e["type"] == "LambdaFunctionTimedOut"]
    assert len(timed_out) == 1


@pytest.mark.parametrize(
    ("node_id", "prefix"),
    [
        ("tests/test_orders.py::test_refund", "test_orders-test_refund"),
        ("t/test_x.py::TestA::test_b[1-a b]", "test_x-TestA-test_b-1-a-b"),
        ("test_y.py::test_z[<{x}>]", "test_y-test_z-x"),
    ],
)
def test_execution_name_prefix(node_id: str, prefix: str) -> None:
    assert execution_name_prefix(node_id) == prefix


def test_long_execution_names_are_shortened_stably() -> None:
    node_id = "tests/test_long.py::test_" + "very_" * 30 + "long"
    prefix = execution_name_prefix(node_id)
    assert len(prefix) == 74
    assert prefix == execution_name_prefix(node_id)
    assert prefix.startswith("test_long-test_very_very_")
    assert prefix != execution_name_prefix(node_id + "er")


def test_the_plugins_defaults_are_the_toolkits() -> None:
    assert (pytest_plugin._DEFAULT_SEED, pytest_plugin._DEFAULT_START) == (
        DEFAULT_SEED,
        DEFAULT_START,
    )


def test_handlers_of_a_run_override_the_engines_which_override_the_sagas() -> None:
    from saga.saga import Saga
    from saga.testing.harness import SagaTestEngine

    saga = Saga("Layers")

    @saga.step("Answer", result_path="$")
    def answer(event: object) -> str:
        return "saga"

    harness = SagaTestEngine(handlers={"Answer": lambda event: "engine"})
    assert harness.run(saga).output == "engine"
    assert harness.run(saga, handlers={"Answer": lambda event: "run"}).output == "run"
    assert SagaTestEngine().run(saga).output == "saga"
    assert [e.name for e in harness.executions] == ["execution-1", "execution-2"]
