"""``arn:aws:states:::sqs:sendMessage`` through boto3."""

from __future__ import annotations

from typing import Final

from engine.integrations._boto import Operation, message_operation

__all__ = ["OPERATIONS"]

OPERATIONS: Final[dict[str, Operation]] = {
    "arn:aws:states:::sqs:sendMessage": message_operation(
        "sqs", "SQS", "AmazonSQS", "SendMessage", "MessageBody"
    ),
}
