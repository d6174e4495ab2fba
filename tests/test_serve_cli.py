"""``saga serve`` refusing what it cannot use: one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

_SAGA = [sys.executable, "-c", "import sys; from saga.cli import main; sys.exit(main())"]


def _serve(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_SAGA, "serve", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--port", "70000"], "saga: --port: 70000 is not a port number (0-65535)"),
        (["--account-id", "12"], "saga: --account-id: expected 12 digits, got '12'"),
        (["--region", "moon"], "saga: --region: 'moon' is not a region name like us-east-1"),
        (
            ["--lambda-endpoint", "localhost:3001"],
            "saga: --lambda-endpoint: expected an http(s) URL, got 'localhost:3001'",
        ),
    ],
)
def test_bad_options(arguments: list[str], message: str) -> None:
    done = _serve(*arguments)
    assert done.returncode == 2
    assert done.stderr.strip() == message


def test_unusable_mock_config_and_store(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    done = _serve("--mock-config", str(missing))
    assert done.returncode == 2
    assert done.stderr.startswith(f"saga: --mock-config: {missing}: cannot read the file")
    broken = tmp_path / "broken.json"
    broken.write_text('{"StateMachines": {"M": {"TestCases": {"T": {"S": "Nope"}}}}}')
    done = _serve("--mock-config", str(broken))
    assert done.returncode == 2
    assert "mocked response 'Nope' is not defined in MockedResponses" in done.stderr
    not_sqlite = tmp_path / "store.db"
    not_sqlite.write_text("this is not a database")
    done = _serve("--store", str(not_sqlite))
    assert done.returncode == 2
    assert done.stderr.startswith("saga: --store: ")
    assert "Traceback" not in done.stderr


def test_address_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = _serve("--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == f"saga: cannot serve on 127.0.0.1:{port}: Address already in use"


def test_commands_other_than_serve_start_without_the_http_stack(tmp_path: Path) -> None:
    """Every command registers ``serve``; only serving imports uvicorn and Starlette, and
    structlog waits until logs are switched on, so ``saga execute`` starts that much sooner."""
    definition = tmp_path / "pass.json"
    definition.write_text('{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')
    script = (
        "import sys\n"
        "from saga.cli import main\n"
        f"code = main(['execute', {str(definition)!r}])\n"
        "print(sorted(m for m in ('uvicorn', 'starlette', 'structlog') if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert '"status": "SUCCEEDED"' in done.stdout
