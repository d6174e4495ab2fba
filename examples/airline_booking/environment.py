"""The AWS services the airline sample needs, and the evidence read back from them afterwards.

By default everything lives in moto, in process (``mock_aws``): nothing to install or start.
Given an endpoint (``endpoint_url=`` or ``AWS_ENDPOINT_URL``) the same resources are created
there instead — LocalStack or moto's server; with ``real_aws=True``, in the AWS account and
region boto3's standard configuration points at.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import boto3

from examples.airline_booking.functions import _aws, payments

__all__ = [
    "AirlineEnvironment",
    "MotoMissingError",
    "ResourceNames",
]

_ENDPOINT_ENV = "AWS_ENDPOINT_URL"
_LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class MotoMissingError(RuntimeError):
    """The embedded default needs moto, which is a development dependency."""


@dataclass(frozen=True)
class ResourceNames:
    """Names of the tables, topic and queues; the functions read theirs from the environment."""

    flight_table: str = "Airline-Flights"
    booking_table: str = _aws.DEFAULT_BOOKING_TABLE
    payment_table: str = _aws.DEFAULT_PAYMENT_TABLE
    booking_topic: str = _aws.DEFAULT_BOOKING_TOPIC
    dead_letter_queue: str = "Airline-BookingsDLQ"
    notification_queue: str = "Airline-BookingNotifications"


@dataclass
class _Provisioned:
    topic_arn: str = ""
    dead_letter_queue_url: str = ""
    notification_queue_url: str = ""
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)


class AirlineEnvironment:
    """Creates the sample's resources, points the functions at them, and reads the evidence.

    Use as a context manager: entering starts moto (when no endpoint is given), creates the
    flight, bookings and payments tables, the booking topic (with a queue subscribed, so the
    notifications can be read back) and the bookings dead-letter queue; leaving stops moto and
    restores the process environment.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        real_aws: bool = False,
        region: str | None = None,
        names: ResourceNames | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url or os.environ.get(_ENDPOINT_ENV) or None
        self.real_aws = real_aws and self.endpoint_url is None
        self.region = region or _aws.region()
        self.names = names or ResourceNames()
        self._state = _Provisioned()
        self._mock: Any = None
        self._saved_environ: dict[str, str | None] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def embedded(self) -> bool:
        """Whether the services are moto's, in this process (fresh for every environment)."""
        return self.endpoint_url is None and not self.real_aws

    @property
    def backend(self) -> str:
        """Where the resources live, for a person: moto, the endpoint URL, or AWS."""
        if self.real_aws:
            return f"AWS ({self.region})"
        return self.endpoint_url or "moto (in process)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start moto if needed, export the functions' configuration, create the resources."""
        self._set_environ("AWS_DEFAULT_REGION", self.region)
        if self.embedded:
            try:
                from moto import mock_aws
            except ImportError:
                raise MotoMissingError(
                    "moto is not installed: pip install -e '.[dev,aws]' (or 'moto[dynamodb,sns,"
                    "sqs]'), or use --endpoint-url / --aws"
                ) from None

            self._set_environ(_ENDPOINT_ENV, None)
            self._mock = mock_aws()
            self._mock.start()
        elif self.endpoint_url is not None:
            self._set_environ(_ENDPOINT_ENV, self.endpoint_url)
            if boto3.session.Session().get_credentials() is None:
                for name, value in _LOCAL_CREDENTIALS.items():
                    self._set_environ(name, value)
        self._set_environ(_aws.BOOKING_TABLE_ENV, self.names.booking_table)
        self._set_environ(_aws.PAYMENT_TABLE_ENV, self.names.payment_table)
        self._provision()
        self._set_environ(_aws.BOOKING_TOPIC_ENV, self._state.topic_arn)

    def stop(self) -> None:
        """Stop moto (dropping its resources) and restore the variables :meth:`start` set."""
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for name, value in reversed(list(self._saved_environ.items())):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environ.clear()

    def _set_environ(self, name: str, value: str | None) -> None:
        self._saved_environ.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    # -- provisioning --------------------------------------------------------------------------

    def _provision(self) -> None:
        for table_name in (
            self.names.flight_table,
            self.names.booking_table,
            self.names.payment_table,
        ):
            self._create_table(table_name)
        sns, sqs = _aws.client("sns"), _aws.client("sqs")
        self._state.topic_arn = sns.create_topic(Name=self.names.booking_topic)["TopicArn"]
        self._state.dead_letter_queue_url = sqs.create_queue(
            QueueName=self.names.dead_letter_queue,
            Attributes={"MessageRetentionPeriod": "1209600"},
        )["QueueUrl"]
        self._state.notification_queue_url = sqs.create_queue(
            QueueName=self.names.notification_queue
        )["QueueUrl"]
        self._subscribe_notification_queue(sns, sqs)

    def _create_table(self, name: str) -> None:
        dynamodb = _aws.client("dynamodb")
        # A table left by an earlier run against the same endpoint is reused.
        with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        dynamodb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )

    def _subscribe_notification_queue(self, sns: Any, sqs: Any) -> None:
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=self._state.notification_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": self._state.topic_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(
            QueueUrl=self._state.notification_queue_url,
            Attributes={"Policy": json.dumps(policy)},
        )
        sns.subscribe(
            TopicArn=self._state.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
        )

    # -- what a run needs ----------------------------------------------------------------------

    @property
    def topic_arn(self) -> str:
        """The booking topic's ARN (the functions' ``BOOKING_TOPIC``)."""
        return self._state.topic_arn

    @property
    def dead_letter_queue_url(self) -> str:
        """The bookings dead-letter queue's URL — what ``${BookingsDLQ}`` resolves to."""
        return self._state.dead_letter_queue_url

    def substitutions(self) -> dict[str, str]:
        """Values for the definition's non-Lambda placeholders."""
        return {"BookingsDLQ": self.dead_letter_queue_url}

    def add_flight(self, flight_id: str, seat_capacity: int, **attributes: Any) -> None:
        """Put a flight with ``seatCapacity`` seats left (Reserve Flight decrements it)."""
        item = {"id": flight_id, "seatCapacity": seat_capacity, **attributes}
        _aws.table(self.names.flight_table).put_item(Item=item)

    def add_charge(
        self, charge_id: str, amount: int, *, status: payments.ChargeStatus = payments.AUTHORIZED
    ) -> None:
        """Record a card authorisation with the payment provider (``DECLINED`` to refuse it)."""
        payments.authorize(charge_id, amount, status=status)

    def execution_input(
        self, *, flight_id: str, customer_id: str, charge_id: str, name: str, created_at: str
    ) -> dict[str, Any]:
        """The execution input the sample's AppSync resolver builds for ProcessBooking."""
        return {
            "outboundFlightId": flight_id,
            "customerId": customer_id,
            "chargeId": charge_id,
            "bookingTable": self.names.booking_table,
            "flightTable": self.names.flight_table,
            "name": name,
            "createdAt": created_at,
        }

    # -- evidence ------------------------------------------------------------------------------

    def seat_capacity(self, flight_id: str) -> int | None:
        """The flight's ``seatCapacity`` now (None when there is no such flight)."""
        item = _get(self.names.flight_table, flight_id)
        return None if item is None else int(item["seatCapacity"])

    def booking(self, booking_id: str) -> dict[str, Any] | None:
        """One booking row, as stored."""
        return _get(self.names.booking_table, booking_id)

    def bookings_of(self, execution_name: str) -> list[dict[str, Any]]:
        """Every booking row a given execution wrote (its ``stateExecutionId``)."""
        rows = _scan(self.names.booking_table)
        return [row for row in rows if row.get("stateExecutionId") == execution_name]

    def charge(self, charge_id: str) -> dict[str, Any] | None:
        """The payment provider's record of a charge: status, amount, refund id."""
        return payments.get_charge(charge_id)

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every message the dead-letter queue has received so far (bodies parsed as JSON)."""
        self._drain(self._state.dead_letter_queue_url, self._state.dead_letters)
        return list(self._state.dead_letters)

    def notifications(self) -> list[dict[str, Any]]:
        """Every booking notification published so far: subject, status and message."""
        self._drain(self._state.notification_queue_url, self._state.notifications)
        return list(self._state.notifications)

    @property
    def _poll_seconds(self) -> int:
        # moto delivers at once; a real queue is read with a short long-poll, since a plain
        # receive samples only some of its servers and SNS delivers asynchronously.
        return 0 if self._mock is not None else 1

    def _drain(self, queue_url: str, into: list[dict[str, Any]]) -> None:
        sqs = _aws.client("sqs")
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self._poll_seconds
            ).get("Messages", [])
            if not messages:
                return
            for message in messages:
                into.append(_parse_message(queue_url, message["Body"], self._state))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _parse_message(queue_url: str, body: str, state: _Provisioned) -> dict[str, Any]:
    if queue_url != state.notification_queue_url:
        parsed: Any = json.loads(body)
        return parsed if isinstance(parsed, dict) else {"body": parsed}
    envelope = json.loads(body)
    attributes = envelope.get("MessageAttributes", {})
    status = attributes.get("Booking.Status", {}).get("Value")
    return {
        "subject": envelope.get("Subject"),
        "status": status,
        "message": json.loads(envelope.get("Message", "null")),
        "messageId": envelope.get("MessageId"),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _get(table_name: str, key: str) -> dict[str, Any] | None:
    item = _aws.table(table_name).get_item(Key={"id": key}, ConsistentRead=True).get("Item")
    return None if item is None else dict(_plain(item))


def _scan(table_name: str) -> list[dict[str, Any]]:
    table = _aws.table(table_name)
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        rows.extend(_plain(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
