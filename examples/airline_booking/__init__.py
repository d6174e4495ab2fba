"""The airline booking saga: the AWS serverless airline sample's ProcessBooking, in Python.

``python -m examples.airline_booking`` runs it locally; ``booking`` (from :mod:`.saga`, loaded
on first use so the Lambda functions import nothing else) is the saga to run or export.
"""

from __future__ import annotations

from typing import Any

__all__ = ["booking"]


def __getattr__(name: str) -> Any:
    if name == "booking":
        from examples.airline_booking.saga import booking

        return booking
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
