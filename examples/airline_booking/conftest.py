"""Fixtures shared by the airline example's test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.airline_booking.environment import AirlineEnvironment


@pytest.fixture(scope="module")
def env() -> Iterator[AirlineEnvironment]:
    """DynamoDB, SNS and SQS from moto, one set per test module."""
    with AirlineEnvironment() as environment:
        yield environment
