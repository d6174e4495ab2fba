"""How Step Functions names an optimised integration's errors and what a service answers to a
request missing a required member.

Step Functions calls the optimised integrations with the AWS SDK for Java 1.x: an error the
service models keeps its own class name (``DynamoDB.ConditionalCheckFailedException``); any other
answer surfaces as the service's base exception (``DynamoDB.AmazonDynamoDBException`` for a
``ValidationException``, ``SQS.AmazonSQSException`` for ``MissingParameter``), the error code
staying in the cause. A ``null`` member is left out of the request, so the service itself
reports a required one as missing (boto3 would refuse the call before sending it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

__all__ = ["base_exception", "missing_members_answer"]


def base_exception(java_service: str) -> str:
    """The SDK's base exception of a service: ``AmazonDynamoDBv2`` → ``AmazonDynamoDBException``."""
    return f"{java_service.removesuffix('v2')}Exception"


def _lower_camel(member: str) -> str:
    return member[:1].lower() + member[1:]


def _json_validation(missing: Sequence[str]) -> tuple[str, str]:
    """DynamoDB's (Coral) constraint message, one clause per missing member."""
    clauses = "; ".join(
        f"Value null at '{_lower_camel(member)}' failed to satisfy constraint: "
        "Member must not be null"
        for member in missing
    )
    count = len(missing)
    noun = "error" if count == 1 else "errors"
    return "ValidationException", f"{count} validation {noun} detected: {clauses}"


def _query_missing(missing: Sequence[str]) -> tuple[str, str]:
    """SQS's answer: the first missing parameter."""
    return "MissingParameter", f"The request must contain the parameter {missing[0]}."


_ANSWERS: Final[dict[str, Callable[[Sequence[str]], tuple[str, str]]]] = {
    "dynamodb": _json_validation,
    "sqs": _query_missing,
}


def missing_members_answer(service: str, missing: Sequence[str]) -> tuple[str, str] | None:
    """The error code and message ``service`` answers when required ``missing`` members are
    absent, for the services whose answer AWS recorded; None for the others."""
    answer = _ANSWERS.get(service)
    return None if answer is None or not missing else answer(missing)
