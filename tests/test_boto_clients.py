"""boto3 clients of the built-in integrations: shared process-wide, chosen by the environment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import engine
from engine.integrations._boto import clear_client_cache, client_for
from tests._aws import isolate_aws_env

PUT_THEN_GET: dict[str, Any] = {
    "StartAt": "Put",
    "States": {
        "Put": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "Seats", "Item": {"id": {"S.$": "$.id"}}},
            "ResultPath": None,
            "Next": "Get",
        },
        "Get": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "Seats", "Key": {"id": {"S": "seat-1"}}},
            "ResultSelector": {"found.$": "$.Item.id.S"},
            "End": True,
        },
    },
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    isolate_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield monkeypatch
    clear_client_cache()


def _create_table() -> None:
    boto3.client("dynamodb").create_table(
        TableName="Seats",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_one_client_serves_every_thread(env: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    lock = threading.Lock()

    def fetch() -> None:
        client = client_for("dynamodb")
        with lock:
            seen.append(client)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert len({id(client) for client in seen}) == 1
    assert seen[0] is client_for("dynamodb")
    assert client_for("sqs") is not seen[0]


def test_a_cached_client_works_in_each_new_mock_aws_context(env: pytest.MonkeyPatch) -> None:
    with mock_aws():
        _create_table()
        first = engine.run(PUT_THEN_GET, {"id": "seat-1"})
        client = client_for("dynamodb")
    with mock_aws():
        _create_table()  # a fresh backend: the first context's item is gone
        second = engine.run(PUT_THEN_GET, {"id": "seat-2"})
        assert client_for("dynamodb") is client
    assert (first.status, first.output) == ("SUCCEEDED", {"found": "seat-1"})
    assert (second.status, second.error) == ("FAILED", "States.Runtime")
    assert "$.Item.id.S" in (second.cause or "")


def test_endpoint_variables_select_the_client(env: pytest.MonkeyPatch) -> None:
    default = client_for("dynamodb")
    assert default.meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com"
    env.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    everywhere = client_for("dynamodb")
    assert everywhere.meta.endpoint_url == "http://localhost:4566"
    assert client_for("events").meta.endpoint_url == "http://localhost:4566"
    env.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000")
    assert client_for("dynamodb").meta.endpoint_url == "http://localhost:8000"
    assert client_for("sqs").meta.endpoint_url == "http://localhost:4566"
    env.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://localhost:4010")
    assert client_for("events").meta.endpoint_url == "http://localhost:4010"
    env.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert client_for("dynamodb").meta.endpoint_url == default.meta.endpoint_url
    for key in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_EVENTBRIDGE",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ):
        env.delenv(key)
    assert client_for("dynamodb") is default


def test_region_and_credentials_select_the_client(env: pytest.MonkeyPatch) -> None:
    first = client_for("sqs")
    env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    elsewhere = client_for("sqs")
    assert (first.meta.region_name, elsewhere.meta.region_name) == ("us-east-1", "eu-west-1")
    env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert client_for("sqs") is first
    env.setenv("AWS_SECRET_ACCESS_KEY", "another")
    other_secret = client_for("sqs")
    env.setenv("AWS_ACCESS_KEY_ID", "someone-else")
    other_key = client_for("sqs")
    assert len({id(first), id(other_secret), id(other_key)}) == 3


def test_clearing_the_cache_gives_new_clients(env: pytest.MonkeyPatch) -> None:
    first = client_for("sns")
    clear_client_cache()
    again = client_for("sns")
    assert again is not first
    assert again.meta.endpoint_url == first.meta.endpoint_url
