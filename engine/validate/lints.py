"""Lints: definitions AWS accepts that do not do what their author most likely meant (warnings)."""

from __future__ import annotations

import re

from engine.diagnostics import Diagnostic

__all__ = ["catcher_discards_input", "integration_prefix", "unprefixed_integration_error"]

_INTEGRATION_PREFIXES = {
    "dynamodb": "DynamoDB",
    "sqs": "SQS",
    "sns": "SNS",
    "events": "EventBridge",
    "states": "StepFunctions",
}
_OPTIMISED_RESOURCE = re.compile(r"^arn:aws[\w-]*:states:::(?P<service>[a-z0-9]+):")


def integration_prefix(resource: str) -> str | None:
    """The prefix an optimised integration puts on its error names (``DynamoDB``…), if any."""
    match = _OPTIMISED_RESOURCE.match(resource)
    return _INTEGRATION_PREFIXES.get(match.group("service")) if match else None


def unprefixed_integration_error(error: str, prefix: str, location: str) -> Diagnostic | None:
    """A warning when ``error`` lacks the integration's prefix, so no error it raises matches."""
    if error.startswith(prefix + "."):
        return None
    bare = error.split(".", 1)[1] if "." in error else error
    return Diagnostic(
        "UNPREFIXED_INTEGRATION_ERROR",
        location,
        f"'{error}' never matches: this integration reports its errors as "
        f"'{prefix}.<Code>' (e.g. '{prefix}.{bare}')",
        "warning",
    )


def catcher_discards_input(location: str) -> Diagnostic:
    """A JSONPath catcher without ResultPath: its error output replaces the state input."""
    return Diagnostic(
        "CATCHER_DISCARDS_INPUT",
        location,
        "this catcher has no ResultPath, so the default '$' replaces the state "
        "input with the error output; set ResultPath (e.g. '$.error') to keep it",
        "warning",
    )
