"""``saga execute|run --store``, ``saga resume`` and ``saga executions`` on real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.store import SQLiteStore
from saga.cli import main

ROOT = Path(__file__).resolve().parent.parent

WAIT_THEN_WORK = {
    "StartAt": "Pause",
    "States": {
        "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Work"},
        "Work": {"Type": "Task", "Resource": "Work", "End": True},
    },
}

HANDLERS = """
from pathlib import Path

def work(event):
    marker = Path(__file__).with_name("calls.txt")
    with marker.open("a") as out:
        out.write("work\\n")
    return {"done": True, **event}

HANDLERS = {"Work": work}
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "machine.asl.json").write_text(json.dumps(WAIT_THEN_WORK))
    (tmp_path / "handlers.py").write_text(HANDLERS)
    return tmp_path


def _saga(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from saga.cli import main; sys.exit(main())", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_event(
    process: subprocess.Popen[str], store_path: Path, name: str, event_type: str
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process ended: {process.communicate()}")
        if store_path.exists():
            with SQLiteStore(store_path) as store:
                if store.find(name) is not None and any(
                    event.type == event_type for event in store.history(name)
                ):
                    return
        time.sleep(0.02)
    raise AssertionError(f"{event_type} never recorded")


def test_a_killed_execute_is_resumed_by_saga_resume_with_its_recorded_handlers(
    files: Path,
) -> None:
    store_path = files / "executions.db"
    process = _saga(
        "execute",
        "machine.asl.json",
        "--input",
        '{"order": 7}',
        "--handlers",
        "handlers.py",
        "--clock",
        "real",
        "--name",
        "order-7",
        "--store",
        str(store_path),
        cwd=files,
    )
    _wait_for_event(process, store_path, "order-7", "WaitStateEntered")
    process.send_signal(signal.SIGKILL)
    process.wait()
    with SQLiteStore(store_path) as store:
        assert store.get("order-7").status == "RUNNING"

    elsewhere = files / "elsewhere"
    elsewhere.mkdir()
    resumed = _saga("resume", "--store", str(store_path), "--trust-store", cwd=elsewhere)
    out, err = resumed.communicate(timeout=60)
    assert (resumed.returncode, err) == (
        0,
        f"saga: order-7: importing the handlers '{files / 'handlers.py'}' (from {files}), "
        f"as {store_path} records\n",
    )
    report = json.loads(out)
    assert report["skipped"] == []
    assert [(e["name"], e["status"], e["output"]) for e in report["executions"]] == [
        ("order-7", "SUCCEEDED", {"done": True, "order": 7})
    ]
    assert (files / "calls.txt").read_text() == "work\n"
    with SQLiteStore(store_path) as store:
        events = store.history("order-7")
    types = [event.type for event in events]
    assert types.count("ExecutionStarted") == types.count("WaitStateEntered") == 1
    entered = next(e for e in events if e.type == "WaitStateEntered")
    exited = next(e for e in events if e.type == "WaitStateExited")
    assert exited.posix - entered.posix >= 2.0


SAGA_MODULE = """
import os, signal
from pathlib import Path
from saga.saga import Saga

shop = Saga("Shop")
HERE = Path(__file__).parent


@shop.step("Charge")
def charge(event):
    (HERE / "charged.txt").open("a").write("charge\\n")
    return "ch-1"


@shop.step("Ship")
def ship(event):
    marker = HERE / "first-ship.txt"
    if not marker.exists():
        marker.write_text("the process dies here once")
        os.kill(os.getpid(), signal.SIGKILL)
    return "shipped"
"""


def test_a_killed_saga_run_is_resumed_with_the_recorded_saga(tmp_path: Path) -> None:
    (tmp_path / "shop_saga.py").write_text(SAGA_MODULE)
    store_path = tmp_path / "executions.db"
    run = _saga("run", "shop_saga:shop", "--name", "s-1", "--store", str(store_path), cwd=tmp_path)
    run.communicate(timeout=60)
    assert run.returncode == -signal.SIGKILL
    resumed = _saga("resume", "shop_saga:shop", "--store", str(store_path), cwd=tmp_path)
    out, err = resumed.communicate(timeout=60)
    assert (resumed.returncode, err) == (0, "")
    (execution,) = json.loads(out)["executions"]
    assert (execution["name"], execution["status"]) == ("s-1", "SUCCEEDED")
    assert execution["states"][:2] == ["Charge", "Ship"]
    # Charge's outcome was recorded before the kill: it is not charged twice.
    assert (tmp_path / "charged.txt").read_text() == "charge\n"


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(args)
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    return code, out, captured.err


def test_executions_list_describe_and_history(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files)
    store = str(files / "s.db")
    args = ["execute", "machine.asl.json", "--handlers", "handlers.py", "--store", store]
    code, out, _ = _run_main([*args, "--name", "a", "--input", '{"n": 1}'], capsys)
    assert (code, out["status"]) == (0, "SUCCEEDED")
    code, out, err = _run_main([*args, "--name", "a", "--input", '{"n": 1}'], capsys)
    assert (code, out) == (2, None)
    assert "Execution Already Exists: 'a'" in err

    code, out, _ = _run_main(["executions", "list", "--store", store], capsys)
    assert code == 0
    assert [(e["name"], e["status"]) for e in out["executions"]] == [("a", "SUCCEEDED")]
    assert out["executions"][0]["executionArn"].endswith(":execution:machine:a")

    code, out, _ = _run_main(["executions", "describe", "a", "--store", store], capsys)
    assert code == 0
    assert (out["status"], out["input"], out["output"]) == (
        "SUCCEEDED",
        {"n": 1},
        {"done": True, "n": 1},
    )
    assert json.loads(out["handlers"])["handlers"] == str(files / "handlers.py")

    code, out, _ = _run_main(["executions", "history", "a", "--store", store], capsys)
    assert code == 0
    assert [e["type"] for e in out["events"]] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    code, out, _ = _run_main(
        ["executions", "list", "--status", "RUNNING", "--store", store], capsys
    )
    assert (code, out) == (0, {"executions": []})
    code, out, _ = _run_main(["resume", "--store", store], capsys)
    assert (code, out) == (0, {"executions": [], "skipped": []})


def test_unusable_stores_and_unknown_executions_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.db")
    code, _, err = _run_main(["executions", "list", "--store", missing], capsys)
    assert (code, err.strip()) == (2, f"saga: --store: no such execution store: {missing}")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    for args in (["executions", "list"], ["resume"]):
        code, _, err = _run_main([*args, "--store", str(damaged)], capsys)
        assert code == 2
        assert str(damaged) in err
    SQLiteStore(tmp_path / "s.db").close()
    code, _, err = _run_main(
        ["executions", "describe", "nope", "--store", str(tmp_path / "s.db")], capsys
    )
    assert code == 2
    assert "no execution named 'nope'" in err


def test_resume_reports_executions_it_cannot_bind(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = files / "s.db"
    process = _saga(
        "execute",
        "machine.asl.json",
        "--handlers",
        "handlers.py",
        "--clock",
        "real",
        "--name",
        "b",
        "--store",
        str(store_path),
        cwd=files,
    )
    _wait_for_event(process, store_path, "b", "WaitStateEntered")
    process.send_signal(signal.SIGKILL)
    process.wait()
    (files / "handlers.py").unlink()
    code, out, err = _run_main(["resume", "--store", str(store_path), "--trust-store"], capsys)
    assert code == 2
    assert out == {"executions": [], "skipped": []}
    assert "saga: b was not resumed: --handlers: no such file" in err
    with SQLiteStore(store_path) as store:
        assert store.get("b").status == "RUNNING"
    (files / "handlers.py").write_text(HANDLERS)
    code, out, err = _run_main(
        ["resume", "--store", str(store_path), "--handlers", str(files / "handlers.py")], capsys
    )
    assert (code, err) == (0, "")
    assert [(e["name"], e["status"]) for e in out["executions"]] == [("b", "SUCCEEDED")]
