"""Which actions the optimised integrations of a service offer (AWS's complete lists).

Step Functions refuses a definition naming another action of one of these services
(``arn:aws:states:::dynamodb:query``): "The resource provided … is not recognized". Services not
listed here (ECS, Batch, Glue, ``aws-sdk:*``…) are left for the binding to judge.
"""

from __future__ import annotations

import re
from typing import Final

from engine.lambda_shapes import classify_resource

__all__ = ["is_known_optimised_action"]

_OPTIMISED: Final = re.compile(r"^arn:[^:]+:states:::(?P<service>[^:]+):")

_ACTIONS: Final[dict[str, frozenset[str]]] = {
    "dynamodb": frozenset({"getItem", "putItem", "updateItem", "deleteItem"}),
    "sqs": frozenset({"sendMessage"}),
    "sns": frozenset({"publish"}),
    "events": frozenset({"putEvents"}),
    "lambda": frozenset({"invoke"}),
    "states": frozenset({"startExecution"}),
}


def is_known_optimised_action(resource: str) -> bool:
    """False for an optimised-integration ARN of a listed service naming an action it lacks."""
    match = _OPTIMISED.match(resource)
    actions = _ACTIONS.get(match["service"]) if match is not None else None
    if actions is None:
        return True
    base = classify_resource(resource).base_resource
    return base.rsplit(":", 1)[-1] in actions
