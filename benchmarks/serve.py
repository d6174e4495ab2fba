"""Executions/s through boto3: ``saga serve`` and ``moto_server`` side by side, same definition.

Each server runs as its own process on 127.0.0.1. One after another: the client starts an
execution of the six-state machine and polls DescribeExecution until it ends, as a test suite
driving a local endpoint does. Burst: it starts them all back to back, then waits for each.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from benchmarks.machines import six_state_machine

__all__ = ["serve_and_moto"]

_ROLE = "arn:aws:iam::123456789012:role/benchmark"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _server(command: Sequence[str], port: int) -> Iterator[str]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="benchmark",
        aws_secret_access_key="benchmark",
        config=Config(retries={"max_attempts": 1}),
    )


def _executions_per_second(endpoint: str, count: int, runs: int, name: str) -> list[float]:
    client = _client(endpoint)
    arn = client.create_state_machine(
        name=name, definition=json.dumps(six_state_machine()), roleArn=_ROLE
    )["stateMachineArn"]
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        for index in range(count):
            execution = client.start_execution(
                stateMachineArn=arn, name=f"r{run}-{index}", input="{}"
            )["executionArn"]
            while client.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.0005)
        samples.append(count / (time.perf_counter() - started))
        status = client.describe_execution(executionArn=execution)["status"]
        if status != "SUCCEEDED":
            raise RuntimeError(f"{name}: the last execution ended {status}")
    return samples


def _burst_per_second(endpoint: str, count: int, runs: int, name: str) -> list[float]:
    """Start ``count`` executions back to back, then wait for all: executions/s overall."""
    client = _client(endpoint)
    arn = client.create_state_machine(
        name=f"{name}-burst", definition=json.dumps(six_state_machine()), roleArn=_ROLE
    )["stateMachineArn"]
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        arns = [
            client.start_execution(stateMachineArn=arn, name=f"b{run}-{index}", input="{}")[
                "executionArn"
            ]
            for index in range(count)
        ]
        for execution in arns:
            while client.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.001)
        samples.append(count / (time.perf_counter() - started))
    return samples


def _saga_serve(port: int) -> list[str]:
    code = "import sys; from saga.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, "serve", "--port", str(port)]


def _moto_server(port: int) -> list[str] | None:
    found = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which(
        "moto_server"
    )
    return None if found is None else [found, "-p", str(port)]


def _enable_moto_executions(endpoint: str) -> None:
    body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    request = urllib.request.Request(f"{endpoint}/moto-api/config", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass


def serve_and_moto(count: int, runs: int) -> dict[str, list[float]]:
    """Executions/s of the six-state machine through each server (moto's when installed)."""
    results: dict[str, list[float]] = {}
    port = _free_port()
    with _server(_saga_serve(port), port) as endpoint:
        results["saga serve"] = _executions_per_second(endpoint, count, runs, "saga")
        results["saga serve, burst"] = _burst_per_second(endpoint, count, runs, "saga")
    port = _free_port()
    moto = _moto_server(port)
    if moto is not None:
        with _server(moto, port) as endpoint:
            _enable_moto_executions(endpoint)
            results["moto_server"] = _executions_per_second(endpoint, count, runs, "moto")
            results["moto_server, burst"] = _burst_per_second(endpoint, count, runs, "moto")
    return results
