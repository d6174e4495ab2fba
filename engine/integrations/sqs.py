"""``arn:aws:states:::sqs:sendMessage`` through boto3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.integrations._boto import Operation, as_json_text, only_supported, with_metadata

__all__ = ["OPERATIONS"]


def _send_message(client: Any, parameters: dict[str, Any], context: Mapping[str, Any]) -> Any:
    if "MessageBody" in parameters:
        parameters["MessageBody"] = as_json_text(parameters["MessageBody"])
    return with_metadata(client.send_message(**only_supported(client, "SendMessage", parameters)))


OPERATIONS: Final[dict[str, Operation]] = {
    "arn:aws:states:::sqs:sendMessage": Operation("sqs", "SQS", "AmazonSQS", _send_message),
}
