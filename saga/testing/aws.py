"""AWS services from moto for tests: fake credentials, one region, boto3 clients, quick setup."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

__all__ = ["FAKE_CREDENTIALS", "MockAws", "environment", "mock_aws_environment"]

FAKE_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
"""Credentials no real account accepts, so a test can never touch AWS by mistake."""


def environment(region: str) -> dict[str, str]:
    """The environment variables a moto-backed test runs with."""
    return {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}


class MockAws:
    """boto3 against moto: a session, clients, and helpers to create tables and queues."""

    def __init__(self, region: str) -> None:
        import boto3

        self.region = region
        self.session: Any = boto3.Session(region_name=region)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """A (cached) boto3 client for ``service`` in the test's region."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def resource(self, service: str) -> Any:
        """A boto3 resource for ``service`` in the test's region."""
        return self.session.resource(service, region_name=self.region)

    def create_table(
        self,
        name: str,
        *,
        key: str = "id",
        key_type: str = "S",
        items: Iterable[Mapping[str, Any]] = (),
    ) -> str:
        """A DynamoDB table with a hash key, holding ``items`` (DynamoDB JSON); its name."""
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": key_type}],
            BillingMode="PAY_PER_REQUEST",
        )
        for item in items:
            dynamodb.put_item(TableName=name, Item=dict(item))
        return name

    def get_item(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """An item of a table (DynamoDB JSON), or None."""
        answer = self.client("dynamodb").get_item(TableName=table, Key=dict(key))
        item = answer.get("Item")
        return dict(item) if item is not None else None

    def create_queue(self, name: str) -> str:
        """An SQS queue; its URL."""
        return str(self.client("sqs").create_queue(QueueName=name)["QueueUrl"])

    def messages(self, queue_url: str, *, limit: int = 10) -> list[str]:
        """Bodies of the messages waiting in a queue (received, not deleted)."""
        answer = self.client("sqs").receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=min(limit, 10), WaitTimeSeconds=0
        )
        return [str(message["Body"]) for message in answer.get("Messages", [])]

    def create_topic(self, name: str) -> str:
        """An SNS topic; its ARN."""
        return str(self.client("sns").create_topic(Name=name)["TopicArn"])


@contextmanager
def mock_aws_environment(region: str = "us-east-1") -> Iterator[MockAws]:
    """moto's ``mock_aws`` for the block (the caller sets the environment first)."""
    try:
        from moto import mock_aws
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "the aws fixture needs moto: pip install 'moto[dynamodb,sqs,sns,events,stepfunctions]'"
        ) from exc
    with mock_aws():
        yield MockAws(region)
