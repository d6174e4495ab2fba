"""The console's HTTP routes, over a store holding the airline example's executions."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from engine.store import SQLiteStore
from saga.cli import main
from saga.console import create_app
from tests._airline_runs import SCENARIO_EXECUTIONS, run_airline_into


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = SQLiteStore(run_airline_into(tmp_path_factory.mktemp("console") / "runs.db"))
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.close()


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _json(url: str) -> Any:
    status, _, body = _get(url)
    assert status == 200
    return json.loads(body)


def test_executions_feed(console: str) -> None:
    data = _json(f"{console}/api/executions")
    assert [row["name"] for row in data["executions"]] == list(SCENARIO_EXECUTIONS.values())
    assert data["machines"] == ["ProcessBooking"]
    first = data["executions"][0]
    assert (first["machine"], first["status"]) == ("ProcessBooking", "SUCCEEDED")
    assert first["start"].endswith(" UTC") and first["duration"]


def test_executions_feed_filters(console: str) -> None:
    failed = _json(f"{console}/api/executions?status=FAILED&machine=ProcessBooking")
    assert [row["name"] for row in failed["executions"]] == [
        SCENARIO_EXECUTIONS["payment-declined"],
        SCENARIO_EXECUTIONS["sold-out"],
        SCENARIO_EXECUTIONS["confirmation-fails"],
    ]
    assert _json(f"{console}/api/executions?machine=Other")["executions"] == []
    status, _, body = _get(f"{console}/api/executions?status=DONE")
    assert (status, json.loads(body)) == (400, {"error": "unknown status 'DONE'"})


def test_execution_page_and_its_live_section(console: str) -> None:
    name = SCENARIO_EXECUTIONS["payment-declined"]
    status, headers, body = _get(f"{console}/executions/{name}")
    assert status == 200
    assert "default-src 'none'" in headers["content-security-policy"]
    page = body.decode()
    assert f'data-name="{name}"' in page and 'data-events="38"' in page
    assert "<script src" not in page and "<link" not in page
    status, _, body = _get(f"{console}/executions/{name}/section?events=38")
    assert (status, body) == (204, b"")
    status, _, body = _get(f"{console}/executions/{name}/section?events=37")
    assert status == 200 and body.decode().startswith('<section id="execution"')


def test_unknown_execution_is_a_404(console: str) -> None:
    status, _, body = _get(f"{console}/executions/nope")
    assert status == 404
    assert "No execution named nope" in body.decode()
    assert _get(f"{console}/executions/nope/section?events=1")[0] == 404


def test_console_refuses_a_bad_port(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "x.db"
    assert main(["console", "--store", str(store), "--port", "70000"]) == 2
    assert "--port 70000: not a port number (0-65535)" in capsys.readouterr().err


def test_console_says_when_the_port_is_taken(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["console", "--store", str(tmp_path / "x.db"), "--port", str(port)])
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in capsys.readouterr().err


def test_the_report_file_is_offered_for_download(console: str) -> None:
    name = SCENARIO_EXECUTIONS["payment-declined"]
    status, headers, body = _get(f"{console}/executions/{name}")
    assert f'href="{name}/report.html" download' in body.decode()
    status, headers, body = _get(f"{console}/executions/{name}/report.html")
    assert status == 200
    assert headers["content-disposition"] == f'attachment; filename="{name}.html"'
    assert body.decode().startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in body.decode()
