"""Python steps fail the way their Lambda functions fail on AWS's Python runtime.

Each case runs a saga through ``saga run --store`` in a subprocess: the misbehaving step's
failure has Lambda's error name, the saga compensates and runs its failure handler, the
process exits, and the stored history stays complete and readable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MODULE = """
import datetime
import decimal
import os
import sys
import threading
import time
from collections import namedtuple

from saga import Saga


class Fatal(BaseException):
    pass


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no text for you")


Point = namedtuple("Point", "x y")


def _misbehave(mode):
    if mode == "datetime":
        return {"at": datetime.datetime(2026, 1, 2, 3, 4, 5)}
    if mode == "set":
        return {"ids": {1, 2}}
    if mode == "object":
        return object()
    if mode == "decimal":
        return {"price": decimal.Decimal("12.50"), "point": Point(1, 2), "raw": b"bytes"}
    if mode == "exit":
        sys.exit(3)
    if mode == "exit-clean":
        sys.exit()
    if mode == "interrupt":
        raise KeyboardInterrupt
    if mode == "base":
        raise Fatal("fatal")
    if mode == "surrogate":
        raise FileNotFoundError(os.fsdecode(b"missing-\\xff.csv"))
    if mode == "unprintable":
        raise Unprintable()
    if mode == "huge":
        raise ValueError("x" * 1_000_000)
    if mode == "block":
        threading.Event().wait()
    if mode == "sleep":
        time.sleep(3600)
    if mode == "spin":
        while True:
            pass
    return "fine"


def _saga(name, action):
    saga = Saga(name)

    @saga.step("Book Hotel")
    def book_hotel(event):
        return "hotel-1"

    @book_hotel.compensate("Cancel Hotel")
    def cancel_hotel(event):
        return "cancelled"

    saga.step("Misbehave", action, timeout=1, result_path="$.result")

    @saga.on_failure("Notify")
    def notify(event):
        return "notified"

    return saga


def misbehave(event):
    return _misbehave(event["mode"])


async def misbehave_async(event):
    return _misbehave(event["mode"])


trip = _saga("Trip", misbehave)
async_trip = _saga("AsyncTrip", misbehave_async)
"""

UNWOUND = ["Book Hotel", "Misbehave", "Cancel Hotel", "Notify", "Saga Failed"]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "trips.py").write_text(MODULE, encoding="utf-8")
    yield tmp_path


def _saga_cli(project: Path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from saga.cli import main; sys.exit(main())", *argv],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _run_stored(project: Path, mode: str, saga: str = "trips:trip") -> dict[str, Any]:
    """Run the saga with ``--store``; check the history reads back whole; the run's output."""
    store = str(project / "executions.db")
    ran = _saga_cli(
        project,
        "run",
        saga,
        "--input",
        json.dumps({"mode": mode}),
        "--name",
        mode,
        "--store",
        store,
    )
    assert ran.returncode in (0, 1), ran.stderr
    out: dict[str, Any] = json.loads(ran.stdout)
    history = _saga_cli(project, "executions", "history", mode, "--store", store)
    assert history.returncode == 0, history.stderr
    events = json.loads(history.stdout)
    events = events["events"] if isinstance(events, dict) else events
    assert [event["id"] for event in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == (
        "ExecutionSucceeded" if ran.returncode == 0 else "ExecutionFailed"
    )
    out["events"] = events
    return out


def _original_error(out: dict[str, Any]) -> tuple[str, str]:
    """The misbehaving step's error and cause, as the saga's Fail state reports them."""
    assert out["status"] == "FAILED"
    assert out["error"] == "SagaFailed"
    assert out["states"] == UNWOUND
    cause = json.loads(out["cause"])
    return cause["Error"], cause["Cause"]


def _step_failure(out: dict[str, Any]) -> dict[str, Any]:
    failed = [e for e in out["events"] if e["type"] == "LambdaFunctionFailed"]
    assert len(failed) == 1
    details: dict[str, Any] = failed[0]["lambdaFunctionFailedEventDetails"]
    return details


@pytest.mark.parametrize(
    ("mode", "type_name"), [("datetime", "datetime"), ("set", "set"), ("object", "object")]
)
def test_a_result_that_is_not_json_is_a_catchable_marshal_error(
    project: Path, mode: str, type_name: str
) -> None:
    out = _run_stored(project, mode)
    error, cause = _original_error(out)
    assert error == "Runtime.MarshalError"
    document = json.loads(cause)
    assert document["errorType"] == "Runtime.MarshalError"
    assert document["errorMessage"] == (
        f"Unable to marshal response: Object of type {type_name} is not JSON serializable"
    )
    assert document["stackTrace"] == []


def test_decimal_tuples_and_bytes_are_marshalled_as_the_runtime_does(project: Path) -> None:
    out = _run_stored(project, "decimal")
    assert out["status"] == "SUCCEEDED"
    assert out["output"]["result"] == {"price": 12.5, "point": {"x": 1, "y": 2}, "raw": "bytes"}


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("exit", "Runtime exited with error: exit status 3"),
        ("exit-clean", "Runtime exited without providing a reason"),
        ("interrupt", "Runtime exited with error: signal: interrupt"),
        ("base", "Runtime exited with error: exit status 1"),
        ("unprintable", "Runtime exited with error: exit status 1"),
    ],
)
def test_an_exit_or_an_uncaught_base_exception_is_runtime_exit_error(
    project: Path, mode: str, message: str
) -> None:
    out = _run_stored(project, mode)
    error, cause = _original_error(out)
    assert error == "Runtime.ExitError"
    document = json.loads(cause)
    request_id = document["errorMessage"].split(" ")[1]
    assert document == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: {message}",
    }
    assert _step_failure(out)["error"] == "Runtime.ExitError"


def test_a_lone_surrogate_in_a_message_is_escaped_and_stored(project: Path) -> None:
    out = _run_stored(project, "surrogate")
    error, cause = _original_error(out)
    assert error == "FileNotFoundError"
    assert json.loads(cause)["errorMessage"] == "missing-\\udcff.csv"
    assert json.loads(_step_failure(out)["cause"])["errorMessage"] == "missing-\\udcff.csv"


def test_a_huge_message_is_bounded_as_step_functions_bounds_a_cause(project: Path) -> None:
    out = _run_stored(project, "huge")
    error, _ = _original_error(out)
    assert error == "ValueError"
    cause = _step_failure(out)["cause"]
    assert len(cause) == 32_768
    assert cause.startswith('{"errorMessage": "xxxx')


@pytest.mark.parametrize(
    ("saga", "mode"),
    [("trips:trip", "block"), ("trips:async_trip", "sleep"), ("trips:async_trip", "spin")],
)
def test_a_step_blocking_past_its_timeout_times_out_and_the_process_exits(
    project: Path, saga: str, mode: str
) -> None:
    started = time.monotonic()
    ran = _saga_cli(
        project, "run", saga, "--input", json.dumps({"mode": mode}), "--clock", "real", timeout=60
    )
    elapsed = time.monotonic() - started
    assert ran.returncode == 1, ran.stderr
    out = json.loads(ran.stdout)
    assert out["states"] == UNWOUND
    assert json.loads(out["cause"])["Error"] == "States.Timeout"
    assert elapsed < 30  # the step never returns; the process must not wait for it
