"""Running ``saga serve`` for a test: a subprocess on 127.0.0.1 on a free port, and clients."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

__all__ = [
    "ROLE",
    "Server",
    "aws_env",
    "client_for",
    "definition",
    "free_port",
    "running_moto_server",
    "running_server",
    "wait_for",
]

ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"
_START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running ``saga serve`` process."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def endpoint(self) -> str:
        """The server's URL."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        """Stop the server as Ctrl-C does (SIGINT) and return what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(encoding="utf-8")


def _ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running_server(
    tmp: Path, *arguments: str, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[Server]:
    """Start ``saga serve ARGUMENTS`` and stop it when the block ends."""
    port = port or free_port()
    log = tmp / f"serve-{port}-{time.monotonic_ns()}.log"
    command: Sequence[str] = [
        sys.executable,
        "-c",
        "import sys; from saga.cli import main; sys.exit(main())",
        "serve",
        "--port",
        str(port),
        *arguments,
    ]
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while not _ready(port):
            if process.poll() is not None:
                raise RuntimeError(f"saga serve exited: {log.read_text(encoding='utf-8')}")
            if time.monotonic() > deadline:
                raise RuntimeError("saga serve did not start listening in time")
            time.sleep(0.05)
        yield server
        log = server.stop()
        # Any internal failure (an HTTP 500) is logged with its traceback: there must be none.
        assert "Traceback" not in log, log
    finally:
        server.stop()


def client_for(endpoint: str, *, validate: bool = True) -> Any:
    """A boto3 Step Functions client for ``endpoint`` (no retries, fake credentials)."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            parameter_validation=validate,
            read_timeout=120,
            inject_host_prefix=False,  # StartSyncExecution would go to sync-127.0.0.1
        ),
    )


def wait_for(check: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy (generous: the machine is loaded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def definition(document: dict[str, Any]) -> str:
    """A definition as the API takes it."""
    return json.dumps(document)


@contextmanager
def running_moto_server() -> Iterator[str]:
    """moto's server on a free 127.0.0.1 port (the AWS services a served machine calls)."""
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert moto is not None, "moto[server] is a dev dependency"
    port = free_port()
    process = subprocess.Popen(
        [moto, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _ready(port))
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def aws_env(endpoint: str) -> dict[str, str]:
    """The environment a served machine needs to call the AWS services at ``endpoint``."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
