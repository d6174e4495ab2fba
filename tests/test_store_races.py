"""The SQLite store under real concurrent processes: creation, polling readers, open/close loops.

Each test starts several Python processes that meet at a shared start time and then hammer one
store file; every process must finish with exit 0 and nothing on stderr. They are the races a
loaded machine showed: two processes creating one store, a reader checking the file while a
writer commits, readers opening and closing the store beside a writer running executions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from engine.store import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent

_PRELUDE = """
import sys, time
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
"""

_CREATOR = (
    _PRELUDE
    + """
from engine.store import SQLiteStore, StoredExecution
directory, me, rounds = sys.argv[2], sys.argv[3], int(sys.argv[4])
for round_ in range(rounds):
    while time.time() < start + round_ * 0.25:
        time.sleep(0.001)
    with SQLiteStore(f"{directory}/s{round_}.db") as store:
        store.start(StoredExecution(f"{me}-{round_}", "arn", "arn", "{}", {}, 1.0), "p")
        store.executions()
"""
)

_WRITER = (
    _PRELUDE
    + """
from engine.history import HistoryEvent
from engine.store import SQLiteStore, StoredExecution
path, seconds = sys.argv[2], float(sys.argv[3])
n = 0
# At least a few executions even when a loaded machine starts this process late.
while n < 5 or time.time() < start + seconds:
    n += 1
    # Opened and closed per execution, as one 'saga execute' after another: the -wal file
    # comes and goes, and each close checkpoints it into the database file.
    with SQLiteStore(path) as store:
        name = f"e-{n}"
        store.start(StoredExecution(name, "arn", "arn", "{}", {"pad": "x" * 2000}, 1.0), "p")
        for event_id in range(1, 31):
            details = {"pad": "y" * 1500, "i": event_id}
            store.append(name, HistoryEvent(event_id, "PassStateEntered", 1.0, 0, details))
            if event_id % 10 == 0:
                store._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
        store.append(name, HistoryEvent(31, "ExecutionSucceeded", 2.0, 0, {}))
"""
)

_POLLER = (
    _PRELUDE
    + """
from engine.store import SQLiteStore
path, seconds, read_only = sys.argv[2], float(sys.argv[3]), sys.argv[4] == "ro"
deadline = time.time() + seconds
while time.time() < deadline:
    with SQLiteStore(path, read_only=read_only) if read_only else SQLiteStore(path) as store:
        store.executions()
"""
)

_ROUND_SECONDS = 1.5

_RUNNER = (
    _PRELUDE
    + """
import engine
from engine.store import SQLiteStore
directory, rounds, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
machine = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"pad": "z" * 3000}, "Next": "B"},
    "B": {"Type": "Pass", "Next": "C"},
    "C": {"Type": "Pass", "End": True}}}
for round_ in range(rounds):
    while time.time() < start + round_ * seconds:
        time.sleep(0.001)
    with SQLiteStore(f"{directory}/s{round_}.db") as store:
        for n in range(5):
            execution = engine.run(machine, {"n": n}, name=f"run-{n}", store=store)
            assert execution.status == "SUCCEEDED", execution.status
"""
)

_LISTER = (
    _PRELUDE
    + """
import contextlib, io
from saga.cli import main
directory, rounds, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
for round_ in range(rounds):
    path = f"{directory}/s{round_}.db"
    while time.time() < start + (round_ + 1) * seconds:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["executions", "list", "--store", path])
        if code != 0 and "no such execution store" not in err.getvalue():
            sys.exit(f"exit {code}: {err.getvalue().strip()}")
"""
)

_OPENER = (
    _PRELUDE
    + """
from pathlib import Path
from engine.store import SQLiteStore
directory, rounds, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
for round_ in range(rounds):
    path = Path(f"{directory}/s{round_}.db")
    while time.time() < start + (round_ + 1) * seconds:
        if path.exists():
            with SQLiteStore(path) as store:
                store.executions()
"""
)


def _spawn(script: str, start: float, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(start), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )


def _outcomes(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    errors = [process.communicate(timeout=300)[1] for process in processes]  # pipes closed
    return [(p.returncode, error) for p, error in zip(processes, errors, strict=True)]


def _start_time() -> float:
    """A moment every spawned process reaches after importing the engine (a loaded machine)."""
    return time.time() + 4.0


def test_processes_creating_one_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    rounds, count = 24, 6
    start = _start_time()
    processes = [
        _spawn(_CREATOR, start, str(tmp_path), f"p{index}", str(rounds)) for index in range(count)
    ]
    assert _outcomes(processes) == [(0, "")] * count
    for round_ in range(rounds):
        with SQLiteStore(tmp_path / f"s{round_}.db") as store:
            names = sorted(record.name for record in store.executions())
        assert names == [f"p{index}-{round_}" for index in range(count)]


def test_readers_polling_while_a_writer_commits_never_misread_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    start = _start_time()
    writer = _spawn(_WRITER, start, str(path), "10")
    pollers = [_spawn(_POLLER, start, str(path), "11", mode) for mode in ("rw", "rw", "ro")]
    assert _outcomes([writer, *pollers]) == [(0, "")] * 4
    with SQLiteStore(path) as store:
        records = store.executions()
        assert {record.status for record in records} == {"SUCCEEDED"}
        assert {len(store.history(record.name)) for record in records} == {31}


def test_a_writer_on_a_new_store_beside_two_opening_loops_sees_no_error(tmp_path: Path) -> None:
    rounds = 6
    args = (str(tmp_path), str(rounds), str(_ROUND_SECONDS))
    start = _start_time()
    runner = _spawn(_RUNNER, start, *args)
    others = [_spawn(_LISTER, start, *args), _spawn(_OPENER, start, *args)]
    assert _outcomes([runner, *others]) == [(0, "")] * 3
    for round_ in range(rounds):
        with SQLiteStore(tmp_path / f"s{round_}.db") as store:
            assert [record.status for record in store.executions()] == ["SUCCEEDED"] * 5
    assert sorted(os.listdir(tmp_path)) == [f"s{round_}.db" for round_ in range(rounds)]
