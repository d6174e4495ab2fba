"""Hostile stores, full disks, gone owners and bad input: each case's exit code, message and store.

One test per case found by probing the CLI and the API from outside: a store from elsewhere runs
no code, the store never contradicts what was printed, bad input never ends in a traceback.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.store import (
    ExecutionNotRecorded,
    SQLiteStore,
    StoredExecution,
)
from saga.cli import main

PASS_THEN_TASK = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {
            "Type": "Pass",
            "Result": {"pad": "p" * 6000},
            "ResultPath": "$.big",
            "Next": "Work",
        },
        "Work": {"Type": "Task", "Resource": "Work", "ResultPath": "$.work", "End": True},
    },
}

HANDLERS = """
HANDLERS = {"Work": lambda event: "worked"}
"""


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(args)
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    return code, out, captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "machine.asl.json").write_text(json.dumps(PASS_THEN_TASK))
    (tmp_path / "handlers.py").write_text(HANDLERS)
    yield tmp_path


def _open_execution(path: Path, name: str, handlers_ref: str | None, owner: str | None) -> None:
    """An open execution as a killed process leaves it: started, nothing run yet."""
    with SQLiteStore(path) as store:
        store.start(
            StoredExecution(
                name=name,
                execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:machine:{name}",
                state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:machine",
                definition=json.dumps(PASS_THEN_TASK),
                input={"order": 1},
                start_posix=1_700_000_000.0,
                handlers_ref=handlers_ref,
                options={"clock": "virtual"},
            ),
            owner or "nobody",
        )
        if owner is None:
            store.release(name, "nobody")


def _status_and_owner(path: Path, name: str) -> tuple[str, str | None]:
    with SQLiteStore(path, read_only=True) as store:
        return store.get(name).status, store.owner(name)


# -- security ------------------------------------------------------------------------------------


def test_resume_imports_nothing_the_store_alone_names(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "planted.py").write_text(
        "from pathlib import Path\nPath('imported.txt').write_text('ran')\n"
        "from saga.saga import Saga\nsaga = Saga('Planted')\n"
    )
    store = project / "from-elsewhere.db"
    ref = json.dumps({"saga": "planted:saga", "cwd": str(project)})
    _open_execution(store, "e-1", ref, owner=None)

    code, out, err = _run(["resume", "--store", str(store)], capsys)
    assert (code, out) == (2, {"executions": [], "skipped": []})
    assert err == (
        f"saga: e-1 was not resumed: it was started with the saga 'planted:saga' (from "
        f"{project}), named only by the store; resuming imports nothing a store names: give "
        "the saga TARGET or --handlers, or --trust-store to import it\n"
    )
    assert not (project / "imported.txt").exists()
    assert _status_and_owner(store, "e-1") == ("RUNNING", None)

    code, out, err = _run(["resume", "--store", str(store), "--handlers", "handlers.py"], capsys)
    assert (code, err) == (0, "")
    assert [(e["name"], e["status"], e["output"]["work"]) for e in out["executions"]] == [
        ("e-1", "SUCCEEDED", "worked")
    ]
    assert not (project / "imported.txt").exists()


def test_trust_store_says_what_it_imports_before_importing_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "mine.db"
    ref = json.dumps({"handlers": str(project / "handlers.py"), "cwd": str(project)})
    _open_execution(store, "e-2", ref, owner=None)
    code, out, err = _run(["resume", "--store", str(store), "--trust-store"], capsys)
    assert code == 0
    assert err == (
        f"saga: e-2: importing the handlers '{project / 'handlers.py'}' (from {project}), "
        f"as {store} records\n"
    )
    assert [(e["name"], e["status"]) for e in out["executions"]] == [("e-2", "SUCCEEDED")]
    assert _status_and_owner(store, "e-2") == ("SUCCEEDED", None)


def test_store_files_are_readable_by_their_owner_only(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = os.umask(0o022)
    try:
        path = project / "executions.db"
        with SQLiteStore(path) as store:
            store.start(StoredExecution("x", "arn", "arn", "{}", {"secret": 1}, 1.0), "me")
            modes = {
                name: stat.S_IMODE(os.stat(project / name).st_mode)
                for name in ("executions.db", "executions.db-wal", "executions.db-shm")
            }
        assert modes == {
            "executions.db": 0o600,
            "executions.db-wal": 0o600,
            "executions.db-shm": 0o600,
        }
        cli_store = project / "cli.db"
        args = ["execute", "machine.asl.json", "--handlers", "handlers.py", "--store"]
        code, _, _ = _run([*args, str(cli_store)], capsys)
        assert code == 0
        assert stat.S_IMODE(cli_store.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert sorted(p.name for p in project.iterdir() if ".db" in p.name) == [
        "cli.db",
        "executions.db",
    ]


# -- data ----------------------------------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stores fill up right after an execution starts: no page can be added (SQLITE_FULL)."""
    start = SQLiteStore.start

    def start_then_fill(
        self: SQLiteStore, execution: StoredExecution, owner: str
    ) -> tuple[StoredExecution, bool]:
        result = start(self, execution, owner)
        db = self._connection()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return result

    monkeypatch.setattr(SQLiteStore, "start", start_then_fill)


def test_a_full_disk_leaves_the_execution_running_and_says_so(
    project: Path, capsys: pytest.CaptureFixture[str], full_disk: None
) -> None:
    store = project / "s.db"
    code, out, err = _run(
        [
            "execute",
            "machine.asl.json",
            "--handlers",
            "handlers.py",
            "--name",
            "full-1",
            "--store",
            str(store),
        ],
        capsys,
    )
    message = (
        f"execution 'full-1': event 3 (PassStateExited) could not be recorded: execution store "
        f"{store}: database or disk is full; not recorded: the execution is left RUNNING in "
        f"{store} and can be resumed"
    )
    assert code == 3
    assert out == {
        "status": "RUNNING",
        "notRecorded": message,
        "name": "full-1",
        "states": ["Prepare"],
    }
    assert err == f"saga: {message}\n"
    assert _status_and_owner(store, "full-1") == ("RUNNING", None)
    with SQLiteStore(store, read_only=True) as reader:
        assert [e.type for e in reader.history("full-1")] == [
            "ExecutionStarted",
            "PassStateEntered",
        ]


def test_an_execution_left_running_by_a_full_disk_is_resumed_to_its_end(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = project / "s.db"
    with monkeypatch.context() as patched:
        start = SQLiteStore.start

        def start_then_fill(
            self: SQLiteStore, execution: StoredExecution, owner: str
        ) -> tuple[StoredExecution, bool]:
            result = start(self, execution, owner)
            db = self._connection()
            db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
            return result

        patched.setattr(SQLiteStore, "start", start_then_fill)
        with SQLiteStore(store) as full, pytest.raises(ExecutionNotRecorded) as raised:
            engine.run(PASS_THEN_TASK, {"n": 1}, name="api-1", handlers={"Work": str}, store=full)
    assert raised.value.execution.status == "RUNNING"
    assert raised.value.execution.output is None
    assert [e.type for e in raised.value.execution.history] == [
        "ExecutionStarted",
        "PassStateEntered",
    ]
    assert _status_and_owner(store, "api-1") == ("RUNNING", None)
    code, out, err = _run(["resume", "--store", str(store), "--handlers", "handlers.py"], capsys)
    assert (code, err) == (0, "")
    assert [(e["name"], e["status"], e["output"]["work"]) for e in out["executions"]] == [
        ("api-1", "SUCCEEDED", "worked")
    ]
    assert _status_and_owner(store, "api-1") == ("SUCCEEDED", None)


def test_an_execution_claimed_by_a_gone_host_is_taken_over_only_when_asked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "s.db"
    gone = "old-container-3f2a/4242/991"
    assert not socket.gethostname().startswith("old-container-3f2a")
    _open_execution(store, "c-1", None, owner=gone)
    args = ["resume", "--store", str(store), "--handlers", "handlers.py"]

    code, out, err = _run(args, capsys)
    assert (code, out["executions"]) == (1, [])
    reason = (
        f"execution 'c-1' is claimed by {gone}, which cannot be checked from here (another "
        "host or container); if it is gone, resume with --take-over"
    )
    assert out["skipped"] == [{"name": "c-1", "reason": reason}]
    assert err == f"saga: c-1 was not resumed: {reason}\n"
    assert _status_and_owner(store, "c-1") == ("RUNNING", gone)

    code, out, err = _run([*args, "--take-over"], capsys)
    assert (code, err, out["skipped"]) == (0, "", [])
    assert [(e["name"], e["status"]) for e in out["executions"]] == [("c-1", "SUCCEEDED")]
    assert _status_and_owner(store, "c-1") == ("SUCCEEDED", None)


def test_resume_exits_1_when_an_execution_asked_for_has_ended(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "s.db"
    code, _, _ = _run(
        [
            "execute",
            "machine.asl.json",
            "--handlers",
            "handlers.py",
            "--name",
            "done",
            "--store",
            str(store),
        ],
        capsys,
    )
    assert code == 0
    code, out, err = _run(["resume", "--store", str(store), "--name", "done"], capsys)
    assert (code, out) == (
        1,
        {
            "executions": [],
            "skipped": [{"name": "done", "reason": "execution 'done' has ended (SUCCEEDED)"}],
        },
    )
    assert err == "saga: done was not resumed: execution 'done' has ended (SUCCEEDED)\n"


def test_reading_a_store_leaves_no_file_behind_and_writers_go_on(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "s.db"
    base = ["execute", "machine.asl.json", "--handlers", "handlers.py", "--store", str(store)]
    assert _run([*base, "--name", "a"], capsys)[0] == 0
    before = store.read_bytes()
    for args in (["list"], ["describe", "a"], ["history", "a"]):
        code, _, err = _run(["executions", *args, "--store", str(store)], capsys)
        assert (code, err) == (0, "")
        assert sorted(p.name for p in project.iterdir() if ".db" in p.name) == ["s.db"]
    assert store.read_bytes() == before
    with SQLiteStore(store, read_only=True) as reader:
        assert [r.name for r in reader.executions()] == ["a"]
        # A writer starting beside a reader works, and the reader sees what it commits.
        assert _run([*base, "--name", "b"], capsys)[0] == 0
        assert [r.name for r in reader.executions()] == ["a", "b"]
        with pytest.raises(engine.StoreError, match="is open read-only"):
            reader.release("a", "me")


def test_a_damaged_record_is_reported_and_the_listing_goes_on(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "s.db"
    base = ["execute", "machine.asl.json", "--handlers", "handlers.py", "--store", str(store)]
    for name in ("a", "b", "c"):
        assert _run([*base, "--name", name], capsys)[0] == 0
    connection = sqlite3.connect(store)
    connection.execute("UPDATE executions SET input = '{oops' WHERE name = 'b'")
    connection.commit()
    connection.close()
    code, out, err = _run(["executions", "list", "--store", str(store)], capsys)
    why = (
        f"execution store {store}: execution 'b' cannot be read: Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1)"
    )
    assert code == 1
    assert [e["name"] for e in out["executions"]] == ["a", "c"]
    assert out["damaged"] == [{"name": "b", "error": why}]
    assert err == f"saga: {why}\n"
    code, _, err = _run(["executions", "describe", "b", "--store", str(store)], capsys)
    assert (code, err) == (2, f"saga: {why}\n")
    code, out, _ = _run(["executions", "describe", "c", "--store", str(store)], capsys)
    assert (code, out["status"]) == (0, "SUCCEEDED")


# -- no traceback, bounded reads -----------------------------------------------------------------


def test_invalid_utf8_input_and_substitutions_are_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bad.json").write_bytes(b'{"name": "\xff"}')
    code, out, err = _run(["execute", "machine.asl.json", "--input", "@bad.json"], capsys)
    assert (code, out, err) == (
        2,
        None,
        "saga: --input: bad.json is not UTF-8 text (byte 0xff at offset 10)\n",
    )
    code, out, err = _run(["export", "machine.asl.json", "--substitutions", "bad.json"], capsys)
    assert (code, out, err) == (
        2,
        None,
        "saga: --substitutions: bad.json is not UTF-8 text (byte 0xff at offset 10)\n",
    )


def test_input_nested_10000_deep_is_invalid_input_not_a_crash(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "deep.json").write_text("[" * 10_000 + "]" * 10_000)
    code, out, err = _run(["execute", "machine.asl.json", "--input", "@deep.json"], capsys)
    assert (code, out, err) == (
        2,
        None,
        "saga: --input: objects and arrays nest more than 512 levels deep\n",
    )
    deep: Any = {}
    for _ in range(10_000):
        deep = {"d": deep}
    with pytest.raises(
        engine.InvalidExecutionInput,
        match=r"^the execution input nests objects and arrays more than 512 levels deep$",
    ):
        engine.run(PASS_THEN_TASK, deep, handlers={"Work": str})


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("raise RuntimeError('no config here')\n", "RuntimeError: no config here"),
        ("def broken(:\n", "SyntaxError: invalid syntax ({path}, line 1)"),
        ("import sys\nsys.exit(0)\n", "it called sys.exit(0)"),
        ("raise KeyError('HOME')\n", "KeyError: 'HOME'"),
    ],
)
def test_a_target_failing_at_import_is_one_line_for_every_command(
    project: Path, capsys: pytest.CaptureFixture[str], source: str, error: str
) -> None:
    module = f"target_{abs(hash(source))}"
    path = project / f"{module}.py"
    path.write_text(source)
    expected = error.format(path=path)
    for command in (["run"], ["export"], ["graph"], ["deploy", "--name", "m"]):
        code, out, err = _run([*command[:1], f"{module}:saga", *command[1:]], capsys)
        assert (code, out) == (2, None)
        assert err == f"saga: TARGET '{module}:saga': importing '{module}' failed: {expected}\n"


def test_a_relative_target_and_handlers_calling_sys_exit_are_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["run", ".foo:x"], capsys)
    assert (code, err) == (
        2,
        "saga: TARGET '.foo:x': '.foo' is a relative module name; give it in full "
        "(e.g. shop.orders:saga)\n",
    )
    (project / "quits.py").write_text("import sys\nsys.exit(3)\n")
    code, out, err = _run(["execute", "machine.asl.json", "--handlers", "quits.py"], capsys)
    assert (code, out, err) == (
        2,
        None,
        "saga: --handlers: importing quits.py failed: it called sys.exit(3)\n",
    )


def test_deploy_to_an_endpoint_that_is_not_a_url_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        ["deploy", "machine.asl.json", "--name", "m", "--endpoint-url", "not a url"], capsys
    )
    assert (code, out, err) == (
        2,
        None,
        "saga: --endpoint-url: 'not a url' is not an http(s) URL (e.g. http://localhost:4566)\n",
    )


def test_endless_files_are_read_up_to_a_bound(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["validate", "/dev/zero"], capsys)
    assert (code, out, err) == (
        2,
        None,
        "saga: /dev/zero is larger than the limit of 1,048,576 bytes\n",
    )
    code, out, err = _run(["execute", "machine.asl.json", "--input", "@/dev/zero"], capsys)
    assert (code, out, err) == (
        2,
        None,
        "saga: --input: /dev/zero is larger than the limit of 262,144 bytes\n",
    )
    big = project / "big.json"
    big.write_text(json.dumps({"pad": "x" * 262_144}))
    code, _, err = _run(["execute", "machine.asl.json", "--input", f"@{big}"], capsys)
    assert (code, err) == (2, f"saga: --input: {big} is larger than the limit of 262,144 bytes\n")


def test_an_execution_name_with_a_lone_surrogate_is_refused_naming_the_option(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = b"order-\xff".decode("utf-8", "surrogateescape")
    store = project / "s.db"
    code, out, err = _run(
        [
            "execute",
            "machine.asl.json",
            "--handlers",
            "handlers.py",
            "--name",
            name,
            "--store",
            str(store),
        ],
        capsys,
    )
    assert (code, out, err) == (
        2,
        None,
        "saga: --name: 'order-\\udcff' is not valid Unicode text (it holds bytes that are not "
        "UTF-8)\n",
    )
    assert not store.exists()
    with pytest.raises(ValueError, match="not valid Unicode text"):
        engine.run(PASS_THEN_TASK, {}, name=name, handlers={"Work": str})


def test_an_unrecorded_event_stops_the_execution_even_under_a_catch_all(
    project: Path, full_disk: None
) -> None:
    machine = {
        "StartAt": "Big",
        "States": {
            "Big": {
                "Type": "Task",
                "Resource": "Big",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Fallback"}],
                "End": True,
            },
            "Fallback": {"Type": "Task", "Resource": "Fallback", "End": True},
        },
    }
    calls: list[str] = []

    def big(event: Any) -> str:
        calls.append("Big")
        return "b" * 8000

    def fallback(event: Any) -> str:
        calls.append("Fallback")
        return "fell back"

    path = project / "s.db"
    with SQLiteStore(path) as store, pytest.raises(ExecutionNotRecorded) as raised:
        engine.run(
            machine, {}, name="caught", handlers={"Big": big, "Fallback": fallback}, store=store
        )
    assert calls == ["Big"]
    assert raised.value.execution.status == "RUNNING"
    assert str(raised.value).startswith(
        "execution 'caught': event 5 (TaskSucceeded) could not be recorded: "
    )
    assert _status_and_owner(path, "caught") == ("RUNNING", None)
    with SQLiteStore(path, read_only=True) as reader:
        stored = [event.type for event in reader.history("caught")]
    assert stored == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
    ]
    assert [event.type for event in raised.value.execution.history] == stored


def test_take_over_never_takes_an_execution_from_a_live_process_here(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = f"{socket.gethostname()}/{sleeper.pid}/?"
        store = project / "s.db"
        _open_execution(store, "l-1", None, owner=live)
        code, out, err = _run(
            ["resume", "--store", str(store), "--handlers", "handlers.py", "--take-over"], capsys
        )
        reason = f"execution 'l-1' is running in process {live}"
        assert (code, out["executions"], out["skipped"]) == (
            1,
            [],
            [{"name": "l-1", "reason": reason}],
        )
        assert err == f"saga: l-1 was not resumed: {reason}\n"
        assert _status_and_owner(store, "l-1") == ("RUNNING", live)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_mock_config_the_store_names_is_read_within_the_bound(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = project / "s.db"
    _open_execution(store, "m-1", json.dumps({"mockConfig": "/dev/zero", "testCase": "T"}), None)
    code, out, err = _run(["resume", "--store", str(store)], capsys)
    assert (code, out) == (2, {"executions": [], "skipped": []})
    assert err == (
        "saga: m-1 was not resumed: mock config: /dev/zero is larger than the limit of "
        "1,048,576 bytes\n"
    )
    assert _status_and_owner(store, "m-1") == ("RUNNING", None)
