"""Broken files and options given to the ``saga`` commands: one line on stderr, exit 2, no file
half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine
from engine.diagnostics import DefinitionError
from saga.cli import main

VALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
TRUNCATED = '{"StartAt": "A", "States": {"A": {"Type": "Pa'


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _exit_and_stderr(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe{\x00}\x00", "is not UTF-8 text (byte 0xff at offset 0)"),
        (b'{"StartAt": "\xe9"}', "is not UTF-8 text (byte 0xe9 at offset 13)"),
    ],
    ids=["utf-16-bom", "latin-1"],
)
def test_test_state_refuses_a_definition_that_is_not_utf8_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, message: str
) -> None:
    path = _file(tmp_path, "state.json", data)
    code, err = _exit_and_stderr(["test-state", str(path)], capsys)
    assert (code, err) == (2, f"saga: {path} {message}\n")


def test_test_state_reads_a_definition_within_the_one_mib_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = {**VALID, "Comment": "x" * (1 << 20)}
    path = _file(tmp_path, "big.json", json.dumps(big).encode())
    code, err = _exit_and_stderr(["test-state", str(path)], capsys)
    assert (code, err) == (2, f"saga: {path} is larger than the limit of 1,048,576 bytes\n")


def test_a_truncated_definition_names_the_error_once_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "trunc.json", TRUNCATED.encode())
    code, err = _exit_and_stderr(["validate", str(path)], capsys)
    assert (code, err) == (
        2,
        f"saga: {path}: not valid JSON: Unterminated string starting at line 1 column 43\n",
    )
    code, err = _exit_and_stderr(["export", str(path)], capsys)
    assert (code, err) == (
        2,
        f"saga: {path}: not a usable definition: /: not valid JSON: Unterminated string "
        "starting at line 1 column 43\n",
    )


def test_an_input_with_a_control_character_names_it_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    code, err = _exit_and_stderr(["execute", str(path), "--input", '{"a": "\x01"}'], capsys)
    assert (code, err) == (
        2,
        "saga: --input: not valid JSON: Invalid control character at line 1 column 8\n",
    )


def test_the_loader_takes_utf8_only_and_says_which_byte_is_not() -> None:
    with pytest.raises(DefinitionError) as caught:
        engine.load(b"\xff\xfe{\x00}\x00")
    assert [str(d) for d in caught.value.diagnostics] == [
        "error: /: INVALID_JSON: not UTF-8 text (byte 0xff at offset 0)"
    ]
    with pytest.raises(DefinitionError) as caught:
        engine.load(TRUNCATED)
    assert [d.message for d in caught.value.diagnostics] == [
        "not valid JSON: Unterminated string starting at line 1 column 43"
    ]


@pytest.mark.parametrize("command", ["run", "execute"])
def test_a_store_that_cannot_be_opened_is_bad_usage_not_an_engine_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    machine = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    target = "examples.orders.orders:orders" if command == "run" else str(machine)
    store = tmp_path / "missing" / "x.db"
    code, err = _exit_and_stderr([command, target, "--store", str(store)], capsys)
    assert (code, err) == (
        2,
        f"saga: execution store {store}: no such directory {store.parent}\n",
    )
    damaged = _file(tmp_path, "damaged.db", b"not a database at all" * 100)
    code, err = _exit_and_stderr([command, target, "--store", str(damaged)], capsys)
    assert (code, err) == (
        2,
        f"saga: execution store {damaged} is damaged: file is not a database\n",
    )


def test_a_failed_export_leaves_the_previous_file_and_no_partial_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    output = _file(tmp_path, "out.asl.json", b'{"previous": true}')
    written: list[str] = []
    real_write = Path.open

    def full_disk(self: Path, *args: object, **kwargs: object) -> object:
        file = real_write(self, *args, **kwargs)  # type: ignore[call-overload]
        if self.name.endswith(".tmp"):
            written.append(self.name)

            def write(text: str) -> int:
                raise OSError(28, "No space left on device")

            file.write = write
        return file

    monkeypatch.setattr(Path, "open", full_disk)
    code, err = _exit_and_stderr(["export", str(machine), "-o", str(output)], capsys)
    assert (code, err) == (2, f"saga: -o: cannot write {output}: No space left on device\n")
    assert written and output.read_bytes() == b'{"previous": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["machine.json", "out.asl.json"]
    monkeypatch.undo()
    assert main(["export", str(machine), "-o", str(output)]) == 0
    assert json.loads(output.read_text()) == VALID


def test_export_writes_to_a_device_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    code, err = _exit_and_stderr(["export", str(machine), "-o", "/dev/full"], capsys)
    assert (code, err) == (2, "saga: -o: cannot write /dev/full: No space left on device\n")
    assert main(["export", str(machine), "-o", "/dev/null"]) == 0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--account-id", "abc", "expected 12 digits, got 'abc'"),
        ("--region", "eu west 1", "'eu west 1' is not a region name like us-east-1"),
    ],
)
def test_export_refuses_an_account_or_region_that_cannot_be_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    machine = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    with pytest.raises(SystemExit) as caught:
        main(["export", str(machine), option, value])
    assert caught.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"saga export: error: argument {option}: {message}"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('raise BaseException("boom")\n', "BaseException: boom"),
        (
            "class Unprintable(Exception):\n"
            "    def __str__(self) -> str:\n"
            "        raise RuntimeError('no')\n"
            "raise Unprintable()\n",
            "Unprintable: <its message could not be read>",
        ),
    ],
    ids=["base-exception", "str-raises"],
)
def test_code_failing_oddly_at_import_is_one_line_for_targets_and_handlers(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    module = f"odd_{abs(hash(source))}"
    (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
    machine = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    for command in ("run", "export", "graph"):
        code, err = _exit_and_stderr([command, f"{module}:saga"], capsys)
        assert (code, err) == (
            2,
            f"saga: TARGET '{module}:saga': importing '{module}' failed: {message}\n",
        )
    code, err = _exit_and_stderr(["execute", str(machine), "--handlers", f"{module}.py"], capsys)
    assert (code, err) == (2, f"saga: --handlers: importing {module}.py failed: {message}\n")


@pytest.mark.parametrize("command", ["run", "export", "graph"])
def test_a_python_file_as_target_says_to_name_the_saga_in_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rental.py").write_text("x = 1\n", encoding="utf-8")
    code, err = _exit_and_stderr([command, "rental.py"], capsys)
    expected = (
        "saga: TARGET 'rental.py': expected module:attribute, e.g. shop.orders:saga\n"
        if command == "run"
        else "saga: TARGET 'rental.py' is a Python file; name the saga in it as "
        "module:attribute (e.g. rental:saga, run from its directory)\n"
    )
    assert (code, err) == (2, expected)


_DLQ_SAGA = """
from saga import JsonPath, Saga, sqs

dlq = Saga("WithDlq")
dlq.step("Fail", lambda event: 1 / 0)
dlq.on_failure("Dead Letter", sqs.send_message(queue_url="${DlqUrl}", message_body=JsonPath("$")))
"""


def test_saga_run_fills_placeholders_with_substitute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "with_dlq.py").write_text(_DLQ_SAGA, encoding="utf-8")
    calls = tmp_path / "calls.json"
    mock = {
        "StateMachines": {"WithDlq": {"TestCases": {"Sent": {"Dead Letter": "Sent"}}}},
        "MockedResponses": {"Sent": {"0": {"Return": {"MessageId": "m-1"}}}},
    }
    calls.write_text(json.dumps(mock), encoding="utf-8")
    code = main(
        [
            "run",
            "with_dlq:dlq",
            "--substitute",
            "DlqUrl=https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
            "--history",
            "--mock-config",
            str(calls),
            "--test-case",
            "Sent",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    [scheduled] = [e for e in out["history"] if e["type"] == "TaskScheduled"]
    assert json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["QueueUrl"] == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"
    )
    code, err = _exit_and_stderr(
        ["run", "with_dlq:dlq", "--substitute", "DlqUrl=x", "--store", "x.db"], capsys
    )
    assert (code, err) == (
        2,
        "saga: --substitute: not with --store, since 'saga resume' compiles the saga again "
        "without them; give the values in the input (JsonPath) instead\n",
    )
    code, err = _exit_and_stderr(["run", "with_dlq:dlq", "--substitute", "DlqUrl"], capsys)
    assert (code, err) == (2, "saga: --substitute: expected NAME=VALUE, got 'DlqUrl'\n")


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{machine}"],
        ["export", "{machine}"],
        ["graph", "{machine}"],
        ["execute", "{machine}"],
        ["run", "examples.orders.orders:orders", "--input", '{"id": 1, "amount": 20}'],
        ["test-state", "{machine}"],
    ],
    ids=lambda args: args[0],
)
def test_a_full_disk_on_stdout_is_one_line_not_a_traceback(tmp_path: Path, args: list[str]) -> None:
    import subprocess
    import sys

    machine = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    argv = [str(machine) if arg == "{machine}" else arg for arg in args]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from saga.cli import main; sys.exit(main())",
                *argv,
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert (done.returncode, done.stderr) == (
        2,
        "saga: cannot write to stdout: No space left on device\n",
    )


def test_a_child_machine_file_is_read_within_the_bound_and_its_errors_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    machine = _file(tmp_path, "machine.json", json.dumps(VALID).encode())
    broken = _file(tmp_path, "child.json", TRUNCATED.encode())
    code, err = _exit_and_stderr(
        ["execute", str(machine), "--state-machine", f"Child={broken}"], capsys
    )
    assert (code, err) == (
        2,
        f"saga: --state-machine Child: invalid definition {broken}: /: not valid JSON: "
        "Unterminated string starting at line 1 column 43\n",
    )
    big = _file(tmp_path, "big.json", json.dumps({**VALID, "Comment": "x" * (1 << 20)}).encode())
    code, err = _exit_and_stderr(
        ["execute", str(machine), "--state-machine", f"Child={big}"], capsys
    )
    assert (code, err) == (
        2,
        f"saga: --state-machine Child: {big} is larger than the limit of 1,048,576 bytes\n",
    )
