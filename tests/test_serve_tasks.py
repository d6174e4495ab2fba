"""``saga serve`` running tasks: mock-config test cases, a Lambda endpoint, a durable restart."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine.api.scoped_store import ScopedStore
from engine.store import SQLiteStore
from tests._sfn_server import ROLE, client_for, definition, running_server, wait_for

ORDER = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
            "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 0, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["CardDeclined"], "Next": "Declined"}],
            "End": True,
        },
        "Declined": {"Type": "Fail", "Error": "OrderDeclined"},
    },
}

MOCK_CONFIG = {
    "StateMachines": {
        "Order": {
            "TestCases": {
                "HappyPath": {"Charge": "Charged"},
                "Declined": {"Charge": "CardDeclined"},
                "ThrottledOnce": {"Charge": "ThrottledThenCharged"},
            }
        }
    },
    "MockedResponses": {
        "Charged": {"0": {"Return": {"charged": 30}}},
        "CardDeclined": {"0": {"Throw": {"Error": "CardDeclined", "Cause": "insufficient funds"}}},
        "ThrottledThenCharged": {
            "0": {"Throw": {"Error": "Throttled", "Cause": "slow down"}},
            "1": {"Return": {"charged": 30, "attempt": 2}},
        },
    },
}


def _finished(sfn: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_for(check)
    return result


def test_mock_config_test_case_is_chosen_by_the_arn_suffix(tmp_path: Path) -> None:
    config = tmp_path / "MockConfigFile.json"
    config.write_text(json.dumps(MOCK_CONFIG), encoding="utf-8")
    with running_server(tmp_path, env={"SFN_MOCK_CONFIG": str(config)}) as server:
        sfn = client_for(server.endpoint)
        arn = sfn.create_state_machine(name="Order", definition=definition(ORDER), roleArn=ROLE)[
            "stateMachineArn"
        ]
        happy = sfn.start_execution(stateMachineArn=f"{arn}#HappyPath", name="happy")
        assert (
            happy["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:Order:happy"
        )
        described = _finished(sfn, happy["executionArn"])
        assert (described["status"], json.loads(described["output"])) == (
            "SUCCEEDED",
            {"charged": 30},
        )
        declined = _finished(
            sfn, sfn.start_execution(stateMachineArn=f"{arn}#Declined")["executionArn"]
        )
        assert (declined["status"], declined["error"]) == ("FAILED", "OrderDeclined")
        retried = sfn.start_execution(stateMachineArn=f"{arn}#ThrottledOnce")["executionArn"]
        assert json.loads(_finished(sfn, retried)["output"]) == {"charged": 30, "attempt": 2}
        events = [e["type"] for e in sfn.get_execution_history(executionArn=retried)["events"]]
        assert events.count("LambdaFunctionFailed") == 1
        assert events.count("LambdaFunctionSucceeded") == 1
        with pytest.raises(sfn.exceptions.ValidationException) as unknown:
            sfn.start_execution(stateMachineArn=f"{arn}#NoSuchCase")
        assert "NoSuchCase" in str(unknown.value)
        # Without a test case nothing answers the Lambda: the task fails, naming the resource.
        unmocked = _finished(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
        assert unmocked["error"] == "States.Runtime"
        assert "arn:aws:lambda:us-east-1:123456789012:function:charge" in unmocked["cause"]


class _FakeLambda(BaseHTTPRequestHandler):
    """The Lambda Invoke API as ``sam local start-lambda`` serves it, for two functions."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        event = json.loads(self.rfile.read(length) or b"null")
        name = self.path.split("/functions/", 1)[1].split("/", 1)[0]
        if name == "greet":
            self._answer(200, {"greeting": f"hello {event['who']}"})
        elif name == "explode":
            body = {"errorMessage": "boom", "errorType": "KeyError", "stackTrace": []}
            self._answer(200, body, {"X-Amz-Function-Error": "Unhandled"})
        else:
            self._answer(404, {"Type": "User", "message": f"Function not found: {name}"})

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_lambda() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeLambda)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_lambda_resources_are_invoked_at_the_lambda_endpoint(
    tmp_path: Path, fake_lambda: str
) -> None:
    machine = {
        "StartAt": "Greet",
        "States": {
            "Greet": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:greet",
                "ResultPath": "$.legacy",
                "Next": "Invoke",
            },
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "greet", "Payload": {"who.$": "$.who"}},
                "ResultSelector": {"greeting.$": "$.Payload.greeting", "status.$": "$.StatusCode"},
                "ResultPath": "$.invoked",
                "Next": "Explode",
            },
            "Explode": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:explode",
                "Catch": [{"ErrorEquals": ["KeyError"], "ResultPath": "$.error", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    with running_server(tmp_path, "--lambda-endpoint", fake_lambda) as server:
        sfn = client_for(server.endpoint)
        arn = sfn.create_state_machine(name="Remote", definition=definition(machine), roleArn=ROLE)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, input='{"who": "ada"}')
        described = _finished(sfn, execution["executionArn"])
        assert described["status"] == "SUCCEEDED"
        output = json.loads(described["output"])
        assert output["legacy"] == {"greeting": "hello ada"}
        assert output["invoked"] == {"greeting": "hello ada", "status": 200}
        assert output["error"]["Error"] == "KeyError"
        assert json.loads(output["error"]["Cause"]) == {
            "errorMessage": "boom",
            "errorType": "KeyError",
            "stackTrace": [],
        }
        missing = {
            "StartAt": "Nobody",
            "States": {
                "Nobody": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:nobody",
                    "End": True,
                }
            },
        }
        arn = sfn.create_state_machine(
            name="Missing", definition=definition(missing), roleArn=ROLE
        )["stateMachineArn"]
        failed = _finished(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
        assert failed["error"] == "Lambda.ResourceNotFoundException"
        # TestState on a Lambda Task invokes the function at the endpoint too.
        tested = sfn.test_state(
            definition=json.dumps(machine["States"]["Greet"]),
            roleArn=ROLE,
            input='{"who": "bob"}',
        )
        assert tested["status"] == "SUCCEEDED"
        assert json.loads(tested["output"]) == {"who": "bob", "legacy": {"greeting": "hello bob"}}
        assert tested["nextState"] == "Invoke"


def test_store_keeps_machines_and_resumes_running_executions(tmp_path: Path) -> None:
    store = tmp_path / "sfn.sqlite"
    machine = {
        "StartAt": "Before",
        "States": {
            "Before": {
                "Type": "Pass",
                "Result": {"step": 1},
                "ResultPath": "$.before",
                "Next": "Nap",
            },
            "Nap": {"Type": "Wait", "Seconds": 2, "Next": "After"},
            "After": {"Type": "Pass", "Result": {"step": 3}, "ResultPath": "$.after", "End": True},
        },
    }
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        arn = sfn.create_state_machine(
            name="Durable", definition=definition(machine), roleArn=ROLE
        )["stateMachineArn"]
        sfn.tag_resource(resourceArn=arn, tags=[{"key": "kept", "value": "yes"}])
        done = sfn.start_execution(stateMachineArn=arn, name="done", input='{"n": 1}')
        _finished(sfn, done["executionArn"])
        running = sfn.start_execution(stateMachineArn=arn, name="running", input='{"n": 2}')

        def waiting() -> bool:
            events = sfn.get_execution_history(executionArn=running["executionArn"])["events"]
            return any(e["type"] == "WaitStateEntered" for e in events)

        wait_for(waiting)
        log = server.stop()
    assert "Traceback" not in log
    with SQLiteStore(store) as kept:  # left open by the shutdown, not aborted
        assert ScopedStore(kept, "Durable").get("running").status == "RUNNING"
    with running_server(tmp_path, "--store", str(store)) as server:
        sfn = client_for(server.endpoint)
        described = sfn.describe_state_machine(stateMachineArn=arn)
        assert json.loads(described["definition"]) == machine
        assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [
            {"key": "kept", "value": "yes"}
        ]
        assert sfn.describe_execution(executionArn=done["executionArn"])["status"] == "SUCCEEDED"
        resumed = _finished(sfn, running["executionArn"])
        assert resumed["status"] == "SUCCEEDED"
        assert json.loads(resumed["output"]) == {
            "n": 2,
            "before": {"step": 1},
            "after": {"step": 3},
        }
        events = sfn.get_execution_history(executionArn=running["executionArn"])["events"]
        types = [e["type"] for e in events]
        assert types.count("ExecutionStarted") == 1
        assert types[-1] == "ExecutionSucceeded"
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        names = [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
        assert names == ["running", "done"]


def test_optimised_integrations_call_aws_endpoint_url(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    import boto3

    from tests._sfn_server import free_port

    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert moto is not None, "moto[server] is a dev dependency"
    port = free_port()
    process = subprocess.Popen(
        [moto, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    aws_endpoint = f"http://127.0.0.1:{port}"
    try:
        sqs = boto3.client(
            "sqs",
            endpoint_url=aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        queue = wait_for(lambda: _create_queue(sqs))
        machine = {
            "StartAt": "Send",
            "States": {
                "Send": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": queue, "MessageBody.$": "$.message"},
                    "ResultSelector": {"md5.$": "$.MD5OfMessageBody"},
                    "End": True,
                }
            },
        }
        env = {
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        with running_server(tmp_path, env=env) as server:
            sfn = client_for(server.endpoint)
            arn = sfn.create_state_machine(
                name="Sender", definition=definition(machine), roleArn=ROLE
            )["stateMachineArn"]
            execution = sfn.start_execution(stateMachineArn=arn, input='{"message": "hi"}')
            described = _finished(sfn, execution["executionArn"])
            assert (described["status"], json.loads(described["output"])) == (
                "SUCCEEDED",
                {"md5": hashlib.md5(b"hi").hexdigest()},
            )
        received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
        assert [message["Body"] for message in received] == ["hi"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def _create_queue(sqs: Any) -> str | None:
    try:
        url: str = sqs.create_queue(QueueName="orders")["QueueUrl"]
    except Exception:  # moto_server still starting
        return None
    return url
