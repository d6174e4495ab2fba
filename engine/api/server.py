"""Serving the Step Functions API with uvicorn (``saga serve``)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from typing import Final

import uvicorn

from engine.api import DEFAULT_PORT
from engine.api.app import create_app
from engine.api.service import ServiceConfig

__all__ = ["DEFAULT_PORT", "serve"]

_GRACEFUL_SECONDS: Final = 10
"""How long a shutdown waits for open requests (a GetActivityTask long poll) to finish."""


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket; ``OSError`` (address in use, no such address) before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every response waits out the client's delayed ACK (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    config: ServiceConfig,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; raises ``OSError`` when the address cannot be bound.

    SIGINT/SIGTERM shut down cleanly: a durable store keeps running executions open, and they
    resume when the server starts again.
    """
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=_GRACEFUL_SECONDS,
        )
    )
    say = announce or (lambda text: print(text, file=sys.stderr, flush=True))
    original = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original(sockets)
        if server.started:
            say(f"Step Functions API listening on http://{host}:{bound_port}")

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
