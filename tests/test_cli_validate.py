"""``saga validate``: output and exit codes (0 valid, 1 errors, 2 unusable input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from saga.cli import main

VALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
WITH_WARNING = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Retry": [{"ErrorEquals": ["ConditionalCheckFailedException"]}],
            "End": True,
        }
    },
}
INVALID = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Next": "Missing", "Parameters": {"a": 1, "a.$": "$.a"}},
        "B": {"Type": "Succeed"},
    },
}


_ENTRY_POINT = "import sys; from saga.cli import main; sys.exit(main())"


def _write(tmp_path: Path, document: object, name: str = "machine.asl.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_valid_definition_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, VALID)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == f"{path}: valid (0 error(s), 0 warning(s))\n"


def test_warnings_are_printed_with_locations_but_exit_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, WITH_WARNING)
    assert main(["validate", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        f"{path}: warning: /States/T/Retry/0/ErrorEquals/0: UNPREFIXED_INTEGRATION_ERROR: "
    )
    assert lines[1] == f"{path}: valid (0 error(s), 1 warning(s))"


def test_errors_exit_one_and_list_every_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, INVALID)
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    located = sorted(line.split(": ")[2] + " " + line.split(": ")[3] for line in lines[:-1])
    assert located == [
        "/States/A/Next MISSING_TRANSITION_TARGET",
        "/States/A/Parameters/a.$ DUPLICATE_TEMPLATE_KEY",
        "/States/B UNREACHABLE_STATE",
    ]
    assert lines[-1] == f"{path}: invalid (3 error(s), 0 warning(s))"


def test_schema_errors_exit_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Nap"}}})
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}: error: /States/A/Type: UNKNOWN_STATE_TYPE: " in out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, WITH_WARNING)
    assert main(["validate", "--json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    assert [(d["severity"], d["code"], d["location"]) for d in report["diagnostics"]] == [
        ("warning", "UNPREFIXED_INTEGRATION_ERROR", "/States/T/Retry/0/ErrorEquals/0")
    ]


def test_substitutions_are_applied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "${Fn}", "TimeoutSeconds": 0, "End": True}},
    }
    path = _write(tmp_path, document)
    assert main(["validate", str(path), "--substitute", "Fn=arn:aws:lambda:r:1:function:f"]) == 1
    assert "/States/T/TimeoutSeconds: OUT_OF_RANGE" in capsys.readouterr().out


def test_bad_substitution_argument_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, VALID)
    assert main(["validate", str(path), "--substitute", "novalue"]) == 2
    assert capsys.readouterr().err == "saga: --substitute expects NAME=VALUE, got 'novalue'\n"


def test_missing_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.asl.json"
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"saga: cannot read {path}: No such file or directory\n"


def test_directory_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"saga: cannot read {tmp_path}: ")


@pytest.mark.parametrize(
    "text", ['{"StartAt": ', "", "\udcff"], ids=["truncated", "empty", "bad-utf8"]
)
def test_not_json_exits_two_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path / "broken.asl.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"saga: {path}: not ")
    assert captured.err.count("\n") == 1


def test_not_an_object_is_a_definition_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, [1, 2])
    assert main(["validate", str(path)]) == 1
    assert "INVALID_TYPE: expected a JSON object, got array" in capsys.readouterr().out


def test_console_entry_point_never_prints_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.asl.json"
    path.write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-c", _ENTRY_POINT, "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert "TOO_DEEP" in completed.stdout
