"""boto3 access for the functions: standard configuration, so ``AWS_ENDPOINT_URL`` is honoured.

One shared session (creating sessions is slow); a fresh client per call, so clients follow the
current endpoint and an in-process moto mock started after import.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3

__all__ = [
    "BOOKING_TABLE_ENV",
    "BOOKING_TOPIC_ENV",
    "DEFAULT_BOOKING_TABLE",
    "DEFAULT_BOOKING_TOPIC",
    "DEFAULT_PAYMENT_TABLE",
    "DEFAULT_REGION",
    "PAYMENT_TABLE_ENV",
    "booking_table_name",
    "booking_topic_arn",
    "client",
    "payment_table_name",
    "region",
    "table",
]

DEFAULT_REGION = "us-east-1"
BOOKING_TABLE_ENV = "BOOKING_TABLE_NAME"
PAYMENT_TABLE_ENV = "PAYMENT_TABLE_NAME"
BOOKING_TOPIC_ENV = "BOOKING_TOPIC"
DEFAULT_BOOKING_TABLE = "Airline-Bookings"
DEFAULT_PAYMENT_TABLE = "Airline-Payments"
DEFAULT_BOOKING_TOPIC = "Airline-BookingTopic"

_lock = threading.Lock()
_session: Any = None  # a boto3 Session; typed loosely: the stubs type clients per service


def region() -> str:
    """The region from the standard variables, ``us-east-1`` when none is set."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _shared_session() -> Any:
    global _session
    if _session is None:
        _session = boto3.session.Session()
    return _session


def client(service: str) -> Any:
    """A low-level boto3 client for ``service`` in :func:`region`."""
    with _lock:
        return _shared_session().client(service, region_name=region())


def table(name: str) -> Any:
    """A DynamoDB ``Table`` resource (plain Python values instead of attribute-value maps)."""
    with _lock:
        resource = _shared_session().resource("dynamodb", region_name=region())
    return resource.Table(name)


def booking_table_name() -> str:
    """The bookings table, from ``BOOKING_TABLE_NAME`` as in the sample's template."""
    return os.environ.get(BOOKING_TABLE_ENV) or DEFAULT_BOOKING_TABLE


def payment_table_name() -> str:
    """The payment provider stand-in's table of charges."""
    return os.environ.get(PAYMENT_TABLE_ENV) or DEFAULT_PAYMENT_TABLE


def booking_topic_arn() -> str:
    """The booking topic, from ``BOOKING_TOPIC``; else the default topic name in this account."""
    configured = os.environ.get(BOOKING_TOPIC_ENV)
    if configured:
        return configured
    account = client("sts").get_caller_identity()["Account"]
    return f"arn:aws:sns:{region()}:{account}:{DEFAULT_BOOKING_TOPIC}"
