"""``arn:aws:states:::dynamodb:{getItem,putItem,updateItem,deleteItem}`` through boto3."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

from engine.integrations._boto import Operation, call_api, with_metadata

__all__ = ["OPERATIONS"]


def _jsonable(value: Any) -> Any:
    """Typed attribute values as DynamoDB's JSON wire format has them (binary as base64)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(item) for item in value]
    return value


def _operation(action: str) -> Operation:
    api = action[:1].upper() + action[1:]

    def call(client: Any, parameters: dict[str, Any], context: Mapping[str, Any]) -> Any:
        return _jsonable(with_metadata(call_api(client, api, parameters)))

    return Operation("dynamodb", "DynamoDB", "AmazonDynamoDBv2", call)


OPERATIONS: Final[dict[str, Operation]] = {
    f"arn:aws:states:::dynamodb:{action}": _operation(action)
    for action in ("getItem", "putItem", "updateItem", "deleteItem")
}
