"""The console's web application (Starlette): executions list, execution pages, a JSON feed.

Routes:
  ``/``                               the executions list (live, filters by status and machine)
  ``/api/executions``                 the list as JSON
  ``/executions/{name}``              one execution's page (the report's, kept up to date)
  ``/executions/{name}/section``      that page's body; 204 while no event was added
  ``/executions/{name}/report.html``  the self-contained report file (``saga report``'s)

Everything the pages need is in the package and inline in the responses: nothing is fetched
from elsewhere. The store is read in worker threads; it may be written by other processes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any, Final
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from asl_export.report import machine_name_of, page_asset
from engine.diagnostics import DefinitionError
from engine.store import ExecutionDoesNotExist, ExecutionStore, StoreError
from engine.store.base import StoredExecution
from saga.reporting import execution_view

__all__ = ["create_app", "execution_summary"]

_STATUSES: Final = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:"
)


@cache
def _asset(name: str) -> str:
    """One of the console's bundled assets, read once."""
    return files("saga.console").joinpath("assets", name).read_text(encoding="utf-8")


def _iso(posix: float) -> str:
    moment = datetime.fromtimestamp(posix, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _duration(record: StoredExecution, now: float) -> str:
    end = record.stop_posix if record.stop_posix is not None else now
    seconds = max(0.0, end - record.start_posix)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def execution_summary(record: StoredExecution, now: float) -> dict[str, Any]:
    """One row of the executions list."""
    return {
        "name": record.name,
        "machine": machine_name_of(record),
        "status": record.status,
        "start": _iso(record.start_posix),
        "startPosix": record.start_posix,
        "stopPosix": record.stop_posix,
        "duration": _duration(record, now),
    }


def _page(title: str, body: str, scripts: list[str], where: str, actions: str = "") -> HTMLResponse:
    html = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{page_asset('page.css')}\n{_asset('console.css')}</style>",
            "</head><body>",
            '<header class="top"><a href="/">saga console</a>'
            f'<span class="where">{escape(where)}</span>{actions}'
            '<span class="live">live</span></header>',
            f"<main>{body}</main>",
            *(f"<script>{script}</script>" for script in scripts),
            "</body></html>",
        ]
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": _CSP})


def _list_body() -> str:
    options = "".join(f'<option value="{s}">{s}</option>' for s in _STATUSES)
    return (
        "<h1>Executions</h1>"
        '<div class="filters"><label>status <select id="status">'
        f'<option value="">all statuses</option>{options}</select></label>'
        '<label>state machine <select id="machine"><option value="">all state machines'
        '</option></select></label><span id="count" class="muted"></span></div>'
        '<table id="executions" class="list"><thead><tr><th>Name</th><th>State machine</th>'
        "<th>Status</th><th>Start</th><th>Duration</th></tr></thead><tbody></tbody></table>"
    )


def create_app(store: ExecutionStore, *, clock: Any = None) -> Starlette:
    """The console over ``store`` (``clock()`` gives the current POSIX time, for durations)."""
    import time

    now = clock or time.time

    def index(request: Request) -> Response:
        return _page("Executions · saga console", _list_body(), [_asset("list.js")], store.location)

    def api_executions(request: Request) -> Response:
        status = request.query_params.get("status") or None
        machine = request.query_params.get("machine") or None
        if status is not None and status not in _STATUSES:
            return JSONResponse({"error": f"unknown status {status!r}"}, status_code=400)
        records = store.executions()
        at = now()
        rows = [execution_summary(record, at) for record in records]
        machines = sorted({row["machine"] for row in rows})
        shown = [
            row
            for row in rows
            if (status is None or row["status"] == status)
            and (machine is None or row["machine"] == machine)
        ]
        return JSONResponse({"executions": shown, "machines": machines})

    def _view_or_error(name: str) -> Any:
        try:
            return execution_view(store, name)
        except ExecutionDoesNotExist:
            return _not_found(name)
        except DefinitionError as exc:
            return _page(
                "Unreadable definition",
                f'<p class="problem">{escape(name)}: its definition cannot be read: '
                f"{escape(str(exc))}</p>",
                [],
                store.location,
            )

    def _not_found(name: str) -> Response:
        response = _page(
            "No such execution",
            f'<h1>No execution named {escape(name)}</h1><p><a href="/">all executions</a></p>',
            [],
            store.location,
        )
        response.status_code = 404
        return response

    def execution(request: Request) -> Response:
        name = request.path_params["name"]
        view = _view_or_error(name)
        if isinstance(view, Response):
            return view
        title = f"{name} · {machine_name_of(view.record)} · saga console"
        download = (
            f'<a class="action" href="{quote(name)}/report.html" download>download report</a>'
        )
        scripts = [page_asset("page.js"), _asset("execution.js")]
        return _page(title, view.section(), scripts, store.location, download)

    def report(request: Request) -> Response:
        name = request.path_params["name"]
        view = _view_or_error(name)
        if isinstance(view, Response):
            return view
        filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        disposition = f'attachment; filename="{filename}.html"'
        return HTMLResponse(view.report(), headers={"Content-Disposition": disposition})

    def section(request: Request) -> Response:
        name = request.path_params["name"]
        view = _view_or_error(name)
        if isinstance(view, Response):
            return view
        seen = request.query_params.get("events")
        if seen is not None and seen == str(len(view.events)):
            return Response(status_code=204)
        return HTMLResponse(view.section())

    async def store_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=503)

    return Starlette(
        middleware=[Middleware(GZipMiddleware, minimum_size=4096)],
        routes=[
            Route("/", index),
            Route("/api/executions", api_executions),
            Route("/executions/{name:path}/section", section),
            Route("/executions/{name:path}/report.html", report),
            Route("/executions/{name:path}", execution),
        ],
        exception_handlers={StoreError: store_error},
    )
