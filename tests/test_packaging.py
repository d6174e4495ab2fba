"""``saga package`` deploys as it is, and the built functions behave as the local steps did.

For the airline example and the README's order saga: package, ``sam validate --lint``,
``sam build``; then run each scenario twice on the local engine from the same starting world —
once with the steps in process, once with every step answered by its *built* function folder,
run as Lambda's Python runtime runs it (a fresh virtual environment holding only boto3, the
folder first on the path, the event as JSON, the outcome as the runtime reports it, see
``lambda_runtime_emulator.py``) — and compare, step by step, the input each step saw and its
result, or its ``errorType`` and ``errorMessage``.

The AWS SAM CLI is found in ``.tools/sam-venv`` (where ``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

import engine
from asl_export.functions import function_specs_for
from engine.execution import Execution
from saga.cli import main
from tests._aws import isolate_aws_env

ROOT = Path(__file__).resolve().parents[1]
SAM = ROOT / ".tools" / "sam-venv" / "bin" / "sam"
EMULATOR = Path(__file__).with_name("lambda_runtime_emulator.py")
_RANDOM_TEXT = re.compile(r'(Request ID: |"bookingReference": ")[A-Za-z0-9_-]+')
_RANDOM_IDS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|re_[0-9a-f]{16}"
)


@pytest.fixture(scope="module")
def sam() -> Path:
    if not SAM.exists():
        pytest.skip("aws-sam-cli is not installed in .tools/sam-venv (.ci/run installs it)")
    return SAM


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding only what Lambda's Python runtime brings: boto3."""
    venv = tmp_path_factory.mktemp("lambda-runtime") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "boto3"]
    subprocess.run(pip, check=True, timeout=600, capture_output=True)
    return venv / "bin" / "python"


@dataclass(frozen=True)
class BuiltFunction:
    """One function of ``sam build``'s output: its folder, handler and environment."""

    logical_id: str
    folder: Path
    handler: str
    environment: Mapping[str, str]


def _package_and_build(target: str, directory: Path, sam: Path) -> dict[str, BuiltFunction]:
    """``saga package`` then ``sam validate --lint`` and ``sam build``; the built functions."""
    assert main(["package", target, "-o", str(directory)]) == 0
    template = directory / "template.yaml"
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    for command in (
        [str(sam), "validate", "--lint", "--template", str(template)],
        [str(sam), "build", "--template", str(template), "--build-dir", str(directory / "build")],
    ):
        done = subprocess.run(
            command,
            cwd=directory,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    built = yaml.safe_load((directory / "build" / "template.yaml").read_text(encoding="utf-8"))
    functions: dict[str, BuiltFunction] = {}
    for logical_id, resource in built["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        variables = properties.get("Environment", {}).get("Variables", {})
        functions[logical_id] = BuiltFunction(
            logical_id,
            directory / "build" / properties["CodeUri"],
            properties["Handler"],
            {k: v for k, v in variables.items() if isinstance(v, str)},
        )
    return functions


class _Container:
    """A warm Lambda container: the emulated runtime answering one function's invocations."""

    def __init__(
        self, python: Path, function: BuiltFunction, environment: Mapping[str, str], log: IO[str]
    ) -> None:
        self.function = function
        self.process = subprocess.Popen(
            [str(python), str(EMULATOR), str(function.folder), function.handler],
            cwd=function.folder,
            env={
                **environment,
                **function.environment,
                "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )

    def __call__(self, event: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the runtime of {self.function.logical_id} exited"
        outcome = json.loads(line)
        if "errorType" in outcome:
            raise _remote_error(outcome["errorType"])(outcome["errorMessage"])
        return outcome["result"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _remote_error(error_type: str) -> type[Exception]:
    """An exception class named as the function's ``errorType``, so the engine reports it so."""
    return type(error_type, (Exception,), {})


def _runtime_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The process environment of a Lambda function: no PYTHONPATH, no project venv."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    base = {k: v for k, v in os.environ.items() if k in keep}
    return {**base, "PYTHONDONTWRITEBYTECODE": "1", **extra}


def _steps(execution: Execution) -> list[tuple[Any, ...]]:
    """What every Lambda step saw and answered: (resource, input), then output or error."""
    records: list[tuple[Any, ...]] = []
    for event in execution.history:
        details = event.details or {}
        if event.type == "LambdaFunctionScheduled":
            records.append(("called", details["resource"], details["input"]))
        elif event.type == "LambdaFunctionSucceeded":
            records.append(("returned", details["output"]))
        elif event.type == "LambdaFunctionFailed":
            message = json.loads(details["cause"])["errorMessage"]
            records.append(("failed", details["error"], message))
    return records


def _without_traces(value: Any) -> Any:
    """``value`` with the stack traces of Lambda error documents emptied: they name files,
    which differ between the local checkout and the built folder."""
    if isinstance(value, dict):
        return {key: _without_traces(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_traces(item) for item in value]
    if isinstance(value, str) and value.startswith('{"errorMessage"'):
        document = json.loads(value)
        document["stackTrace"] = []
        return json.dumps(document)
    return value


def _comparable(records: Any) -> Any:
    """``records`` without stack traces, and with values drawn at random masked: uuid4 ids,
    refund ids, moto's request ids, and the booking references made from a booking id."""
    text = _RANDOM_IDS.sub("<random id>", json.dumps(_without_traces(records)))
    return json.loads(_RANDOM_TEXT.sub(r"\1<random>", text))


def _confirmations_masked(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The booking reference Confirm Booking returns is drawn from the random booking id."""
    masked: list[tuple[Any, ...]] = []
    resource = ""
    for record in records:
        if record[0] == "called":
            resource = record[1]
        if record[0] == "returned" and resource.startswith("${ConfirmBooking"):
            masked.append(("returned", "<booking reference>"))
        else:
            masked.append(record)
    return masked


def _containers(
    python: Path,
    functions: Mapping[str, BuiltFunction],
    placeholders: Mapping[str, str],
    environment: Mapping[str, str],
    log: IO[str],
) -> tuple[dict[str, Callable[[Any], Any]], list[_Container]]:
    started = {
        key: _Container(python, functions[logical], environment, log)
        for key, logical in placeholders.items()
    }
    return dict(started), list(started.values())


# --- the README's order saga ------------------------------------------------------------------


def test_the_order_saga_package_runs_as_the_local_steps(
    sam: Path, runtime_python: Path, tmp_path: Path
) -> None:
    from examples.orders.orders import orders

    functions = _package_and_build("examples.orders.orders:orders", tmp_path / "orders", sam)
    machine = orders.to_state_machine()
    specs = {
        spec.placeholder: spec.resource_id
        for spec in function_specs_for(machine, orders.handlers())
    }
    assert set(specs.values()) == set(functions)
    inputs = [{"id": 1, "amount": 20}, {"id": 7, "amount": 250}]
    with (tmp_path / "functions.log").open("w", encoding="utf-8") as log:
        deployed, containers = _containers(
            runtime_python, functions, specs, _runtime_environment({}), log
        )
        try:
            for number, order in enumerate(inputs):
                name = f"order-{number}"
                local = engine.run(machine, order, handlers=orders.handlers(), name=name, seed=1)
                remote = engine.run(machine, order, handlers=deployed, name=name, seed=1)
                assert _comparable(_steps(remote)) == _comparable(_steps(local))
                assert (remote.status, remote.states) == (local.status, local.states)
        finally:
            for container in containers:
                container.close()
    assert [engine.run(machine, o, handlers=orders.handlers()).status for o in inputs] == [
        "SUCCEEDED",
        "FAILED",
    ]


# --- the airline example --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server on 127.0.0.1, reachable by the function processes as by this one."""
    from moto.server import ThreadedMotoServer

    from engine.integrations._boto import clear_client_cache

    isolate_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    clear_client_cache()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        clear_client_cache()


def _reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass


def test_the_airline_package_runs_as_the_local_steps(
    sam: Path, runtime_python: Path, tmp_path: Path, moto_server: str
) -> None:
    from examples.airline_booking.deployment import stack
    from examples.airline_booking.environment import AirlineEnvironment
    from examples.airline_booking.functions import _aws
    from examples.airline_booking.runner import run_scenario
    from examples.airline_booking.saga import booking, build_machine
    from examples.airline_booking.scenarios import SCENARIOS

    functions = _package_and_build(
        "examples.airline_booking.deployment:stack", tmp_path / "airline", sam
    )
    specs = {spec.placeholder: spec.resource_id for spec in stack.function_specs()}
    assert set(specs.values()) == set(functions)
    outcomes: dict[str, list[Any]] = {"local": [], "deployed": []}
    with (tmp_path / "functions.log").open("w", encoding="utf-8") as log:
        for where in ("local", "deployed"):
            _reset(moto_server)
            with AirlineEnvironment(endpoint_url=moto_server) as env:
                backend = {
                    "AWS_ENDPOINT_URL": moto_server,
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1",
                    _aws.BOOKING_TABLE_ENV: env.names.booking_table,
                    _aws.PAYMENT_TABLE_ENV: env.names.payment_table,
                    _aws.BOOKING_TOPIC_ENV: env.topic_arn,
                }
                handlers: Mapping[str, Callable[..., Any]] = booking.handlers()
                containers: list[_Container] = []
                if where == "deployed":
                    handlers, containers = _containers(
                        runtime_python, functions, specs, _runtime_environment(backend), log
                    )
                try:
                    machine = build_machine(env.substitutions())
                    for scenario in SCENARIOS.values():
                        ran = run_scenario(scenario, env, machine, handlers=handlers, seed=3)
                        execution = ran.execution
                        outcomes[where].append(
                            (
                                scenario.name,
                                execution.status,
                                execution.states,
                                _confirmations_masked(_steps(execution)),
                            )
                        )
                finally:
                    for container in containers:
                        container.close()
    assert len(outcomes["local"]) == len(SCENARIOS)
    for local, deployed in zip(outcomes["local"], outcomes["deployed"], strict=True):
        assert _comparable(deployed) == _comparable(local)
    failures = [steps for *_, steps in outcomes["local"] if any(s[0] == "failed" for s in steps)]
    assert failures, "the scenarios include failing steps"


# --- the package itself (no SAM needed) -------------------------------------------------------


def test_the_package_holds_the_steps_the_handler_and_pinned_requirements(tmp_path: Path) -> None:
    import importlib.metadata

    from engine import lambda_runtime

    assert main(["package", "examples.orders.orders:orders", "-o", str(tmp_path)]) == 0
    code = tmp_path / "src"
    assert (code / "saga_lambda_runtime.py").read_bytes() == Path(
        lambda_runtime.__file__
    ).read_bytes()
    copied = sorted(str(p.relative_to(code)) for p in (code / "examples").rglob("*.py"))
    assert copied == [
        "examples/__init__.py",
        "examples/orders/__init__.py",
        "examples/orders/orders.py",
    ]
    assert (code / "saga" / "__init__.py").is_file() and (code / "engine" / "model.py").is_file()
    declared = [
        re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0]
        for requirement in importlib.metadata.requires("saga-statemachine") or []
        if "extra ==" not in requirement
    ]
    assert "pydantic" in declared
    assert (code / "requirements.txt").read_text(encoding="utf-8").splitlines() == [
        f"{name}=={importlib.metadata.version(name)}" for name in sorted(declared, key=str.lower)
    ]
    template = yaml.safe_load((tmp_path / "template.yaml").read_text(encoding="utf-8"))
    reserve = template["Resources"]["ReserveStock"]["Properties"]
    assert (reserve["CodeUri"], reserve["Handler"]) == ("src", "saga_lambda_runtime.handler")
    assert reserve["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert reserve["Environment"]["Variables"] == {
        "SAGA_STEP": "examples.orders.orders:reserve_stock"
    }


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("examples/greet/greet.asl.json", "has no Python steps to package"),
        ("examples.orders.orders:nothing", "has no attribute 'nothing'"),
    ],
)
def test_package_refuses_what_it_cannot_package(
    target: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["package", target, "-o", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
