"""The ASGI application: AWS JSON 1.0 requests in, the service's answers or AWS errors out.

Requests are ``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Operation>`` and a JSON body;
an unknown target answers ``UnknownOperationException``, a body that is not a JSON object
``SerializationException``, a request breaking its shape ``ValidationException`` — all with
HTTP 400 like AWS, so SDKs raise their typed exceptions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine.api.errors import ApiError
from engine.api.service import ServiceConfig, StepFunctionsService
from engine.api.shapes import operation_names, validate_request

__all__ = ["MAX_REQUEST_BYTES", "create_app"]

_log = structlog.get_logger("engine.api")

_CONTENT_TYPE: Final = "application/x-amz-json-1.0"
_TARGET_PREFIX: Final = "AWSStepFunctions."
MAX_REQUEST_BYTES: Final = 4 * 1024 * 1024
"""Larger bodies are refused unread: no member of any request may be this large."""


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        media_type=_CONTENT_TYPE,
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
    )


async def _dispatch(service: StepFunctionsService, request: Request) -> Response:
    target = request.headers.get("x-amz-target", "")
    operation = target.removeprefix(_TARGET_PREFIX) if target.startswith(_TARGET_PREFIX) else ""
    if operation not in service.operations:
        if operation in operation_names():
            message = f"The operation {operation} is not supported by this endpoint"
        else:
            message = f"Unknown operation: {target or '(no X-Amz-Target header)'}"
        raise ApiError("UnknownOperationException", message)
    raw = await request.body()
    if len(raw) > MAX_REQUEST_BYTES:
        raise ApiError(
            "RequestEntityTooLargeException",
            f"The request body is {len(raw)} bytes; the limit is {MAX_REQUEST_BYTES}",
            413,
        )
    try:
        params = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError("SerializationException", "The request body is not valid JSON") from None
    except RecursionError:
        raise ApiError("SerializationException", "The request body is nested too deeply") from None
    if not isinstance(params, dict):
        raise ApiError("SerializationException", "The request body must be a JSON object")
    validate_request(operation, params)
    return _answer(await service.call(operation, params))


def create_app(config: ServiceConfig | None = None) -> Starlette:
    """The Step Functions API as an ASGI app; its lifespan runs the engines."""
    service = StepFunctionsService(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with service.running():
            yield

    async def endpoint(request: Request) -> Response:
        try:
            return await _dispatch(service, request)
        except ApiError as exc:
            return _answer(exc.body(), exc.status)
        except Exception as exc:
            _log.exception("internal_error", target=request.headers.get("x-amz-target"))
            return _answer(
                {"__type": "InternalFailure", "message": f"{type(exc).__name__}: {exc}"}, 500
            )

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])], lifespan=lifespan)
    app.state.service = service
    return app
