"""``saga serve`` driven by the AWS CLI: create, start, describe, history, send-task-success."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests._sfn_server import ROLE, running_server, wait_for

_REPO = Path(__file__).resolve().parent.parent


def _aws_cli() -> str | None:
    for candidate in (os.environ.get("SAGA_AWS_CLI"), str(_REPO / ".tools/awscli/bin/aws")):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("aws")


AWS = _aws_cli()
pytestmark = pytest.mark.skipif(
    AWS is None, reason="the AWS CLI is not installed (.ci/run installs it in .tools/awscli)"
)

HANDLERS = """
HANDLERS = {"notify": lambda event: None}
"""

APPROVAL = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"amount.$": "$.amount"}, "Next": "Approve"},
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            "ResultPath": "$.approval",
            "End": True,
        },
    },
}


def test_aws_cli_round_trip(tmp_path: Path) -> None:
    handlers = tmp_path / "handlers.py"
    handlers.write_text(HANDLERS, encoding="utf-8")
    definition = tmp_path / "approval.asl.json"
    definition.write_text(json.dumps(APPROVAL), encoding="utf-8")
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    with running_server(tmp_path, "--handlers", str(handlers)) as server:

        def aws(*arguments: str) -> Any:
            assert AWS is not None
            done = subprocess.run(
                [AWS, "stepfunctions", *arguments, "--endpoint-url", server.endpoint],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout) if done.stdout.strip() else None

        created = aws(
            "create-state-machine",
            "--name",
            "Approval",
            "--definition",
            f"file://{definition}",
            "--role-arn",
            ROLE,
        )
        arn = created["stateMachineArn"]
        assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:Approval"
        started = aws(
            "start-execution",
            "--state-machine-arn",
            arn,
            "--name",
            "cli",
            "--input",
            '{"amount": 9}',
        )
        execution = started["executionArn"]
        assert aws("describe-execution", "--execution-arn", execution)["status"] == "RUNNING"

        def token() -> str | None:
            events = aws("get-execution-history", "--execution-arn", execution)["events"]
            for event in events:
                if event["type"] == "TaskScheduled":
                    parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                    return str(parameters["Payload"]["token"])
            return None

        aws("send-task-success", "--task-token", wait_for(token), "--task-output", '{"ok": true}')

        def finished() -> Any:
            described = aws("describe-execution", "--execution-arn", execution)
            return described if described["status"] != "RUNNING" else None

        described = wait_for(finished)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"amount": 9, "approval": {"ok": True}}
        history = aws("get-execution-history", "--execution-arn", execution, "--reverse-order")
        assert history["events"][0]["type"] == "ExecutionSucceeded"
        assert history["events"][-1]["type"] == "ExecutionStarted"


def test_aws_cli_versions_and_alias(tmp_path: Path) -> None:
    document = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    definition = tmp_path / "pass.asl.json"
    definition.write_text(json.dumps(document), encoding="utf-8")
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    with running_server(tmp_path) as server:

        def aws(*arguments: str) -> Any:
            assert AWS is not None
            done = subprocess.run(
                [AWS, "stepfunctions", *arguments, "--endpoint-url", server.endpoint],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout) if done.stdout.strip() else None

        created = aws(
            "create-state-machine",
            "--name",
            "Released",
            "--definition",
            f"file://{definition}",
            "--role-arn",
            ROLE,
            "--publish",
            "--version-description",
            "first release",
        )
        version = created["stateMachineVersionArn"]
        assert version == "arn:aws:states:us-east-1:123456789012:stateMachine:Released:1"
        alias = aws(
            "create-state-machine-alias",
            "--name",
            "live",
            "--routing-configuration",
            json.dumps([{"stateMachineVersionArn": version, "weight": 100}]),
        )["stateMachineAliasArn"]
        described = aws("describe-state-machine-alias", "--state-machine-alias-arn", alias)
        assert described["routingConfiguration"] == [
            {"stateMachineVersionArn": version, "weight": 100}
        ]
        listed = aws(
            "list-state-machine-versions", "--state-machine-arn", created["stateMachineArn"]
        )
        assert [v["stateMachineVersionArn"] for v in listed["stateMachineVersions"]] == [version]
