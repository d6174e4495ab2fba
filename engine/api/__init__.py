"""The Step Functions API over HTTP (AWS JSON 1.0) on the local engine: ``saga serve``.

Its names are imported when first used: the command line registers ``saga serve`` (and reads
its default port) on every call, and the HTTP stack (uvicorn, Starlette) is only worth
importing for the one command that serves.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from engine.api.app import create_app
    from engine.api.errors import ApiError
    from engine.api.server import serve
    from engine.api.service import ServiceConfig, StepFunctionsService

__all__ = [
    "DEFAULT_PORT",
    "ApiError",
    "ServiceConfig",
    "StepFunctionsService",
    "create_app",
    "serve",
]

DEFAULT_PORT: Final = 8083
"""Step Functions Local's port, so existing setups switch without a change."""

_HOMES: Final = {
    "ApiError": "engine.api.errors",
    "ServiceConfig": "engine.api.service",
    "StepFunctionsService": "engine.api.service",
    "create_app": "engine.api.app",
    "serve": "engine.api.server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
