"""``saga console [--store PATH] [--host H] [--port P]``: executions in the browser."""

from __future__ import annotations

import argparse
import socket
from typing import Any

from saga.cli._common import EXIT_OK, UsageError
from saga.cli.executions_cmd import open_store_option

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``console`` subcommand."""
    parser = subparsers.add_parser(
        "console",
        help="executions in the browser (list, graph, state data, live updates)",
        description=(
            "Serve a local web page over a SQLite execution store: the executions (live, "
            "filtered by status and state machine) and each one's page, kept up to date while "
            "it runs. Nothing is fetched from the internet. Stop it with Ctrl-C."
        ),
    )
    parser.add_argument(
        "--store",
        default="executions.db",
        metavar="PATH",
        help="the SQLite store file (created when missing; default executions.db)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8800, help="port to listen on (default 8800)")
    parser.set_defaults(handler=_console)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; UsageError saying why when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _console(args: argparse.Namespace) -> int:
    import uvicorn

    from saga.console import create_app

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: not a port number (0-65535)")
    sock = _listen(args.host, args.port)
    store = open_store_option(args.store)
    assert store is not None
    try:
        config = uvicorn.Config(create_app(store), log_level="warning")
        server = uvicorn.Server(config)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"saga console: http://{shown}:{port}/ (store {store.location})", flush=True)
        server.run(sockets=[sock])
    finally:
        sock.close()
        store.close()
    return EXIT_OK
