"""Serving the Step Functions API with uvicorn (``saga serve``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Final

import uvicorn

from engine.api.app import create_app
from engine.api.service import ServiceConfig

__all__ = ["DEFAULT_PORT", "serve"]

DEFAULT_PORT: Final = 8083
"""Step Functions Local's port, so existing setups switch without a change."""


def serve(
    config: ServiceConfig,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down cleanly: a durable store keeps
    running executions open, and they resume when the server starts again)."""
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    say = announce or (lambda text: print(text, file=sys.stderr, flush=True))
    original = server.startup

    async def startup(sockets: object = None) -> None:
        await original(sockets)  # type: ignore[arg-type]
        if server.started:
            say(f"Step Functions API listening on http://{host}:{port}")

    server.startup = startup  # type: ignore[method-assign]
    server.run()
