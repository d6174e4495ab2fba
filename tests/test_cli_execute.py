"""``saga execute``: output object, exit codes, handlers modules, substitutions, diagnostics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from saga.cli import main
from saga.cli._common import UsageError
from saga.cli.execute_cmd import load_handlers, parse_substitutions

MACHINE = {
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Task", "Resource": "${GreetFunction}", "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 86400, "End": True},
    },
}

HANDLERS = """
class Rejected(Exception):
    pass

def greet(event):
    if event.get("reject"):
        raise Rejected("no greeting for you")
    return {"greeting": "hello " + event["who"]}

HANDLERS = {"GreetFunction": greet}
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    definition = tmp_path / "greeter.asl.json"
    definition.write_text(json.dumps(MACHINE))
    handlers = tmp_path / "greet_handlers.py"
    handlers.write_text(HANDLERS)
    data = tmp_path / "input.json"
    data.write_text('{"who": "file"}')
    return {"definition": definition, "handlers": handlers, "input": data, "dir": tmp_path}


def _execute(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(["execute", *argv])
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    return code, out, captured.err


def _execute_greet(
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    data: str,
    *extra: str,
    handlers: str | None = None,
) -> tuple[int, Any, str]:
    """``saga execute`` of the greeting definition with ``--input data`` and its handlers."""
    bound = handlers if handlers is not None else str(files["handlers"])
    return _execute(capsys, str(files["definition"]), "--input", data, "--handlers", bound, *extra)


def test_succeeded_execution_prints_one_object_and_exits_0(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _execute_greet(capsys, files, '{"who": "Ann"}', "--name", "run-1")
    assert code == 0
    assert err == ""
    assert out == {
        "status": "SUCCEEDED",
        "output": {"greeting": "hello Ann"},
        "name": "run-1",
        "states": ["Greet", "Nap"],
    }


def test_input_from_file_and_history(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _execute_greet(capsys, files, f"@{files['input']}", "--history")
    assert code == 0
    assert out["output"] == {"greeting": "hello file"}
    types = [event["type"] for event in out["history"]]
    assert types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "WaitStateEntered",
        "WaitStateExited",
        "ExecutionSucceeded",
    ]
    assert out["history"][0]["executionStartedEventDetails"]["input"] == '{"who":"file"}'


def test_failed_execution_exits_1_with_error_and_cause(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _execute_greet(capsys, files, '{"reject": true}')
    assert code == 1
    assert out["status"] == "FAILED"
    assert out["error"] == "Rejected"
    assert json.loads(out["cause"])["errorMessage"] == "no greeting for you"
    assert "output" not in out


def test_handlers_as_module_name_and_substitution(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files["dir"])
    arn = "arn:aws:lambda:us-east-1:123456789012:function:greeter"
    code, out, _ = _execute_greet(
        capsys,
        files,
        '{"who": "mod"}',
        "--substitute",
        f"GreetFunction={arn}",
        handlers="greet_handlers",
    )
    # After substitution the resource is a Lambda ARN; HANDLERS has no key for it.
    assert code == 2
    assert out is None
    monkeypatch.syspath_prepend(str(files["dir"]))
    extra = files["dir"] / "arn_handlers.py"
    extra.write_text(f"HANDLERS = {{'{arn}': lambda event: event}}\n")
    code, out, _ = _execute_greet(
        capsys,
        files,
        '{"who": "mod"}',
        "--substitute",
        f"GreetFunction={arn}",
        handlers="arn_handlers",
    )
    assert code == 0
    assert out["output"] == {"who": "mod"}


def test_unbound_resource_exits_2_with_diagnostic(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _execute(capsys, str(files["definition"]))
    assert code == 2
    assert out is None
    assert "UNBOUND_RESOURCE" in err
    assert "/States/Greet/Resource" in err
    assert "Traceback" not in err


def test_invalid_definition_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.asl.json"
    bad.write_text('{"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": true}}}')
    code, out, err = _execute(capsys, str(bad))
    assert code == 2
    assert out is None
    assert err.startswith("saga: invalid definition")
    not_json = tmp_path / "nope.asl.json"
    not_json.write_text("{")
    code, _, err = _execute(capsys, str(not_json))
    assert code == 2
    assert "INVALID_JSON" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.asl.json"], "no such definition file"),
        (["{definition}", "--input", "{oops"], "--input: not valid JSON"),
        (["{definition}", "--substitute", "novalue"], "expected NAME=VALUE"),
        (["{definition}", "--handlers", "no_such_module_xyz"], "cannot import"),
        (["{definition}", "--handlers", "{missing_py}"], "no such file"),
        (
            ["{definition}", "--name", "bad name", "--handlers", "{handlers}"],
            "invalid execution name",
        ),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    values = {
        "definition": str(files["definition"]),
        "handlers": str(files["handlers"]),
        "missing_py": str(files["dir"] / "absent.py"),
    }
    code, out, err = _execute(capsys, *[values.get(arg.strip("{}"), arg) for arg in argv])
    assert code == 2
    assert out is None
    assert message in err
    assert "Traceback" not in err


def test_timed_out_execution_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = tmp_path / "slow.asl.json"
    definition.write_text(
        json.dumps(
            {
                "TimeoutSeconds": 5,
                "StartAt": "W",
                "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
            }
        )
    )
    code, out, _ = _execute(capsys, str(definition), "--name", "slow")
    assert code == 1
    assert out == {
        "status": "TIMED_OUT",
        "error": "States.Timeout",
        "name": "slow",
        "states": ["W"],
    }


def test_load_handlers_needs_a_handlers_dict(tmp_path: Path) -> None:
    module = tmp_path / "empty_handlers.py"
    module.write_text("X = 1\n")
    with pytest.raises(UsageError, match="no HANDLERS dict"):
        load_handlers(str(module))
    module.write_text("HANDLERS = {'a': 1}\n")
    with pytest.raises(UsageError, match="not callable: a"):
        load_handlers(str(module))
    module.write_text("raise RuntimeError('broken import')\n")
    with pytest.raises(UsageError, match="RuntimeError: broken import"):
        load_handlers(str(module))


def test_parse_substitutions() -> None:
    assert parse_substitutions(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
