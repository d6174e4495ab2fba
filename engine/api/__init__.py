"""The Step Functions API over HTTP (AWS JSON 1.0) on the local engine: ``saga serve``."""

from engine.api.app import create_app
from engine.api.errors import ApiError
from engine.api.server import DEFAULT_PORT, serve
from engine.api.service import ServiceConfig, StepFunctionsService

__all__ = [
    "DEFAULT_PORT",
    "ApiError",
    "ServiceConfig",
    "StepFunctionsService",
    "create_app",
    "serve",
]
