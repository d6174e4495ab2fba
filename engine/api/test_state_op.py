"""The TestState operation: :mod:`engine.test_state` behind the API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.api.errors import ApiError
from engine.bindings import Handler, resolve_binding
from engine.lambda_shapes import LAMBDA_INVOKE, classify_resource

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = ["test_state"]


def _handlers_for(
    service: StepFunctionsService, definition: str, state_name: str | None
) -> dict[str, Handler]:
    """The server's handlers, plus the Lambda endpoint for a Lambda Task none of them runs."""
    handlers = dict(service.config.handlers)
    if service.remote is None:
        return handlers
    try:
        document = json.loads(definition)
    except (json.JSONDecodeError, RecursionError):
        return handlers  # TestState reports the definition itself
    if isinstance(document, dict) and isinstance(document.get("States"), dict):
        document = document["States"].get(state_name or document.get("StartAt"))
    resource = document.get("Resource") if isinstance(document, dict) else None
    if not isinstance(resource, str) or not classify_resource(resource).is_lambda:
        return handlers
    if resolve_binding(resource, handlers, parameters=document.get("Parameters")) is None:
        base = classify_resource(resource).base_resource
        handlers[LAMBDA_INVOKE if base == LAMBDA_INVOKE else resource] = service.remote
    return handlers


async def test_state(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """TestState: run one state offline (see :mod:`engine.test_state`)."""
    from engine.test_state import TestStateError, test_state_async

    if params.get("revealSecrets") and "mock" in params:
        raise ApiError.validation(
            "TestState does not support RevealSecrets when a mock is specified."
        )
    if "roleArn" not in params and "mock" not in params and _is_task(params["definition"]):
        raise ApiError.validation("RoleArn must be specified when testing a Task state")
    try:
        return await test_state_async(
            params["definition"],
            params.get("input"),
            state_name=params.get("stateName"),
            inspection_level=params.get("inspectionLevel", "INFO"),
            variables=params.get("variables"),
            context=params.get("context"),
            mock=params.get("mock"),
            state_configuration=params.get("stateConfiguration"),
            handlers=_handlers_for(service, params["definition"], params.get("stateName")),
            role_arn=params.get("roleArn"),
        )
    except TestStateError as exc:
        raise ApiError(exc.error_type, exc.message) from None


def _is_task(definition: str) -> bool:
    """Whether a TestState definition is a Task state (alone; a whole machine is checked later)."""
    try:
        document = json.loads(definition)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("Type") == "Task"
