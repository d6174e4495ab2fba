"""Random bytes, random JSON and random nesting at the engine's and the CLI's doors.

Whatever comes in, ``engine.load`` raises :class:`DefinitionError` or returns a machine,
``engine.run`` raises :class:`InvalidExecutionInput` or runs, and every CLI command returns an
exit code (0, 1, 2) with, when it prints no JSON, one ``saga: ...`` line on stderr (followed by
a definition's diagnostics, indented) and never a traceback. Examples are derived from a fixed
seed (``derandomize``), so a run is repeatable; the CLI runs in-process through
:func:`saga.cli.main`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.diagnostics import DefinitionError
from engine.local_engine import InvalidExecutionInput
from engine.store import SQLiteStore
from saga.cli import main

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}

_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(codec=None))
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """JSON text of arrays and objects nested 1 to 20,000 deep, sometimes cut short."""
    depth = draw(st.integers(1, 20_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    closing = depth if draw(st.booleans()) else draw(st.integers(0, depth))
    inner = "[]" if opener == "[" else "1"
    return opener * depth + inner + closer * closing


def _deep_value(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


documents = (
    st.binary(max_size=300).map(lambda data: data.decode("utf-8", "surrogateescape"))
    | json_values.map(lambda value: json.dumps(value, allow_nan=True))
    | nested()
)
"""Text an option or a file may hold: random bytes, random JSON, random nesting."""

file_bytes = (
    st.binary(max_size=300)
    | json_values.map(lambda value: json.dumps(value, allow_nan=True).encode())
    | nested().map(str.encode)
)


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def _check_outcome(args: list[str], allowed: frozenset[int] = frozenset({0, 1, 2})) -> int:
    code, out, err = _cli(args)
    assert code in allowed, (args, code, err)
    assert "Traceback" not in err
    if code != 0 and not out.strip():
        # One line; a definition's diagnostics follow it indented, one per line.
        first, *rest = err.splitlines() or [""]
        assert first.startswith("saga: "), (args, err)
        assert all(line.startswith("  ") for line in rest), (args, err)
    return code


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pass.asl.json").write_text(json.dumps(PASS))
    return tmp_path


# -- the engine ----------------------------------------------------------------------------------


@FUZZ
@given(source=file_bytes | documents)
def test_engine_load_gives_a_machine_or_a_definition_error(source: bytes | str) -> None:
    try:
        machine = engine.load(source)
    except DefinitionError as exc:
        assert exc.diagnostics
    else:
        assert machine.start_at in machine.states


@FUZZ
@given(data=json_values | st.integers(1, 3_000).map(_deep_value))
def test_engine_run_runs_or_refuses_the_input(data: Any) -> None:
    try:
        execution = engine.run(PASS, data)
    except InvalidExecutionInput as exc:
        assert str(exc).startswith("the execution input ")
    else:
        assert execution.status == "SUCCEEDED"


# -- the command line ----------------------------------------------------------------------------


@FUZZ
@given(content=file_bytes)
def test_validate_execute_export_graph_take_any_definition_file(
    workdir: Path, content: bytes
) -> None:
    path = workdir / "fuzzed.asl.json"
    path.write_bytes(content)
    _check_outcome(["validate", str(path)])
    _check_outcome(["execute", str(path)])
    _check_outcome(["export", str(path)])
    _check_outcome(["graph", str(path)])


@FUZZ
@given(text=documents, content=file_bytes)
def test_execute_takes_any_input_and_substitutions(
    workdir: Path, text: str, content: bytes
) -> None:
    (workdir / "in.json").write_bytes(content)
    _check_outcome(["execute", "pass.asl.json", f"--input={text}"])
    _check_outcome(["execute", "pass.asl.json", "--input=@in.json"])
    _check_outcome(["export", "pass.asl.json", "--substitutions=in.json"])
    _check_outcome(["run", "fuzz_missing_module:saga", f"--input={text}"])


@FUZZ
@given(name=documents, clock=st.sampled_from(["real", "virtual"]))
def test_execute_takes_any_execution_name(workdir: Path, name: str, clock: str) -> None:
    code = _check_outcome(
        ["execute", "pass.asl.json", f"--name={name}", f"--clock={clock}", "--store=s.db"]
    )
    if code == 0:
        with SQLiteStore(workdir / "s.db", read_only=True) as store:
            assert store.get(name).status == "SUCCEEDED"


@FUZZ
@given(
    module=st.text(max_size=12),
    attribute=st.text(max_size=8),
    command=st.sampled_from(["run", "export", "graph", "resume"]),
)
def test_any_target_is_one_line(workdir: Path, module: str, attribute: str, command: str) -> None:
    target = f"fuzz_missing_{module}:{attribute}"
    extra = ["--store=none.db"] if command == "resume" else []
    _check_outcome([command, target, *extra])
    _check_outcome([command, f".{module}:{attribute}", *extra])


@FUZZ
@given(url=documents)
def test_deploy_takes_any_endpoint_url(workdir: Path, url: str) -> None:
    (workdir / "bad.asl.json").write_text("{")
    _check_outcome(["deploy", "bad.asl.json", "--name=m", f"--endpoint-url={url}"])


@FUZZ
@given(content=file_bytes, name=documents)
def test_store_readers_and_resume_take_any_store_file(
    workdir: Path, content: bytes, name: str
) -> None:
    path = workdir / "fuzzed.db"
    path.write_bytes(content)
    for args in (
        ["executions", "list"],
        ["executions", "describe", f"--store={path}", "--", name],
        ["executions", "history", f"--store={path}", "--", name],
        ["resume", "--handlers=nothing.py"],
    ):
        full = args if "--" in args else [*args, f"--store={path}"]
        _check_outcome(full)
    for suffix in ("-wal", "-shm", "-journal"):
        assert not Path(f"{path}{suffix}").exists()


@FUZZ
@given(
    column=st.sampled_from(["input", "options", "status", "start_posix", "machine"]),
    value=documents,
)
def test_a_store_with_a_damaged_record_is_listed_and_resumed_without_traceback(
    workdir: Path, column: str, value: str
) -> None:
    path = workdir / "damaged.db"
    if path.exists():
        os.unlink(path)
    assert _check_outcome(["execute", "pass.asl.json", "--name=a", f"--store={path}"]) == 0
    connection = sqlite3.connect(path)
    connection.execute(
        f"UPDATE executions SET {column} = ?, status = 'RUNNING'",
        (value.encode("utf-8", "surrogateescape"),),
    )
    connection.commit()
    connection.close()
    _check_outcome(["executions", "list", f"--store={path}"])
    _check_outcome(["executions", "describe", "a", f"--store={path}"])
    _check_outcome(["resume", f"--store={path}", "--handlers=nothing.py"], frozenset({0, 1, 2, 3}))
