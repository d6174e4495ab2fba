"""Values as the API's JSON carries them: timestamps as epoch seconds, payloads as JSON text."""

from __future__ import annotations

from typing import Any

from engine.limits import to_json_text

__all__ = ["encryption", "json_text", "posix"]


def posix(value: float | None) -> float | None:
    """A timestamp as the JSON protocol sends it: epoch seconds, to the millisecond."""
    return None if value is None else round(value, 3)


def json_text(value: Any) -> str:
    """A payload (input, output) as the JSON text the API returns."""
    return to_json_text(value)


def encryption(configuration: dict[str, Any]) -> dict[str, Any]:
    """An ``encryptionConfiguration`` as Describe… shows it: as given, else an AWS-owned key."""
    return dict(configuration) or {"type": "AWS_OWNED_KEY"}
