"""The commands the README shows, run as written."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from pathlib import Path

import pytest

from saga.cli import main

GREET = Path(__file__).resolve().parents[1] / "examples" / "greet"


def test_validate_the_greet_definition(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(GREET / "greet.asl.json")]) == 0
    assert "valid (0 error(s), 0 warning(s))" in capsys.readouterr().out


def test_execute_the_greet_definition_retrying_in_virtual_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "execute",
            str(GREET / "greet.asl.json"),
            "--input",
            '{"name": "Ada"}',
            "--handlers",
            str(GREET / "handlers.py"),
            "--name",
            "readme",
            "--history",
        ]
    )
    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert printed["status"] == "SUCCEEDED"
    assert printed["output"] == {"name": "Ada", "greeting": "hello, Ada"}
    assert printed["states"] == ["Greet", "Done"]
    failures = [e for e in printed["history"] if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failures] == ["Busy", "Busy"]
    scheduled = [
        datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        for e in printed["history"]
        if e["type"] == "LambdaFunctionScheduled"
    ]
    waits = [(b - a).total_seconds() for a, b in itertools.pairwise(scheduled)]
    # IntervalSeconds 30, BackoffRate 2.0 (default): 30 s then 60 s, plus the handler's own time
    assert [round(w) for w in waits] == [30, 60]


def test_load_validate_and_run_the_greet_definition_in_python() -> None:
    import engine
    from examples.greet import handlers

    handlers.attempts["n"] = 0
    machine = engine.load(
        (GREET / "greet.asl.json").read_text(encoding="utf-8"),
        substitutions={"Greeter": "arn:aws:lambda:us-east-1:123456789012:function:greet"},
    )
    assert machine.validate() == []
    execution = engine.run(machine, {"name": "Ada"}, handlers={"greet": handlers.greet})
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"name": "Ada", "greeting": "hello, Ada"}
    assert execution.states == ["Greet", "Done"]
