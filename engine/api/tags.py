"""Tag operations on state machines and activities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.api.errors import ApiError

if TYPE_CHECKING:
    from engine.api.service import StepFunctionsService

__all__ = ["list_tags_for_resource", "tag_resource", "untag_resource"]


def _tagged(service: StepFunctionsService, arn: str) -> str:
    kind, rest = service.arns.kind_of(arn)
    known = (kind == "stateMachine" and rest in service.registry.machines) or (
        kind == "activity" and rest in service.registry.activities
    )
    if kind not in {"stateMachine", "activity"}:
        raise ApiError.invalid_arn(f"Resource type not valid in this context: {kind}")
    if not known or not arn.startswith(service.arns.prefix + ":"):
        raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")
    return arn


async def tag_resource(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """TagResource: add or overwrite tags (at most 50 per resource)."""
    arn = _tagged(service, params["resourceArn"])
    tags = dict(service.registry.tags.get(arn, {}))
    for tag in params["tags"]:
        tags[tag["key"]] = tag.get("value", "")
    if len(tags) > 50:
        raise ApiError("TooManyTags", f"Too many tags: the limit is 50 for '{arn}'")
    service.registry.set_tags(arn, tags)
    return {}


async def untag_resource(service: StepFunctionsService, params: dict[str, Any]) -> dict[str, Any]:
    """UntagResource."""
    arn = _tagged(service, params["resourceArn"])
    tags = {
        key: value
        for key, value in service.registry.tags.get(arn, {}).items()
        if key not in set(params["tagKeys"])
    }
    service.registry.set_tags(arn, tags)
    return {}


async def list_tags_for_resource(
    service: StepFunctionsService, params: dict[str, Any]
) -> dict[str, Any]:
    """ListTagsForResource."""
    arn = _tagged(service, params["resourceArn"])
    tags = service.registry.tags.get(arn, {})
    return {"tags": [{"key": key, "value": value} for key, value in tags.items()]}
