"""``arn:aws:states:::sns:publish`` through boto3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.integrations._boto import Operation, as_json_text, only_supported, with_metadata

__all__ = ["OPERATIONS"]


def _publish(client: Any, parameters: dict[str, Any], context: Mapping[str, Any]) -> Any:
    if "Message" in parameters:
        parameters["Message"] = as_json_text(parameters["Message"])
    return with_metadata(client.publish(**only_supported(client, "Publish", parameters)))


OPERATIONS: Final[dict[str, Operation]] = {
    "arn:aws:states:::sns:publish": Operation("sns", "SNS", "AmazonSNS", _publish),
}
