"""``arn:aws:states:::events:putEvents`` through boto3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.errors import StatesError
from engine.integrations._boto import Operation, as_json_text, call_api
from engine.paths import compact_json

__all__ = ["FAILED_ENTRY", "OPERATIONS"]

FAILED_ENTRY: Final = "EventBridge.FailedEntry"


def _context_arns(context: Mapping[str, Any]) -> list[str]:
    """The state machine and execution ARNs Step Functions appends to each entry's Resources."""
    arns: list[str] = []
    for section in ("StateMachine", "Execution"):
        value = context.get(section)
        arn = value.get("Id") if isinstance(value, Mapping) else None
        if isinstance(arn, str) and arn:
            arns.append(arn)
    return arns


def _entry(entry: Any, arns: list[str]) -> Any:
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    if "Detail" in entry:
        entry["Detail"] = as_json_text(entry["Detail"])
    if arns:
        resources = entry.get("Resources")
        entry["Resources"] = [*(resources if isinstance(resources, list) else []), *arns]
    return entry


def _put_events(client: Any, parameters: dict[str, Any], context: Mapping[str, Any]) -> Any:
    entries = parameters.get("Entries")
    if isinstance(entries, list):
        arns = _context_arns(context)
        parameters["Entries"] = [_entry(entry, arns) for entry in entries]
    response = call_api(client, "PutEvents", parameters)
    result = {key: response[key] for key in sorted(response) if key != "ResponseMetadata"}
    if result.get("FailedEntryCount", 0):
        raise StatesError(FAILED_ENTRY, compact_json(result))
    return result


OPERATIONS: Final[dict[str, Operation]] = {
    "arn:aws:states:::events:putEvents": Operation(
        "events", "EventBridge", "AmazonEventBridge", _put_events
    ),
}
