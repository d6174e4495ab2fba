"""Step Functions Local mock configs: parsing, validation errors, and the interceptor."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from engine.bindings import TaskRequest, chain_interceptors, is_mocked, resolve_binding
from engine.errors import StatesError
from engine.mock_config import MockConfigError, MockConfigInterceptor, load_mock_config

LAMBDA_OK = {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}

CONFIG: dict[str, Any] = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
                "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
                "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": LAMBDA_OK}},
        "MockedSQSSuccess": {"0": {"Return": {"MD5OfMessageBody": "md5", "MessageId": "mid"}}},
        "MockedLambdaRetry": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
            "3": {"Return": LAMBDA_OK},
        },
    },
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(CONFIG), encoding="utf-8")
    return path


def _request(
    state: str, invocation: int, resource: str = "arn:aws:states:::lambda:invoke"
) -> TaskRequest:
    return TaskRequest(state_name=state, resource=resource, payload={}, invocation=invocation)


async def _unreachable(request: TaskRequest) -> Any:
    raise AssertionError(f"called through for {request.state_name}")


async def _through(request: TaskRequest) -> Any:
    return {"real": request.state_name}


# --- parsing -----------------------------------------------------------------------------------


def test_load_from_file_and_mapping(config_file: Path) -> None:
    from_file = load_mock_config(config_file)
    from_mapping = load_mock_config(CONFIG)
    assert from_file.source == str(config_file)
    assert from_mapping.source == "<mock config>"
    assert from_file.test_case("LambdaSQSIntegration", "HybridPath") == {
        "LambdaState": "MockedLambdaSuccess"
    }
    retry = from_file.mocked_responses["MockedLambdaRetry"]
    assert [(entry.first, entry.last) for entry in retry] == [(0, 0), (1, 2), (3, 3)]


def test_response_for_covers_ranges_inclusively() -> None:
    config = load_mock_config(CONFIG)
    outcomes: list[str | None] = []
    for invocation in range(5):
        response = config.response_for("MockedLambdaRetry", invocation)
        if response is None:
            outcomes.append(None)
        elif response.throw is not None:
            outcomes.append(response.throw.error)
        else:
            outcomes.append("Return")
    assert outcomes == [
        "Lambda.ResourceNotReadyException",
        "Lambda.TimeoutException",
        "Lambda.TimeoutException",
        "Return",
        None,
    ]


def test_return_null_is_a_response() -> None:
    config = load_mock_config(
        {"StateMachines": {}, "MockedResponses": {"Nothing": {"0": {"Return": None}}}}
    )
    response = config.response_for("Nothing", 0)
    assert response is not None
    assert (response.return_, response.throw) == (None, None)


def _error(document: Any, tmp_path: Path) -> MockConfigError:
    path = tmp_path / "bad.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), "utf-8")
    with pytest.raises(MockConfigError) as caught:
        load_mock_config(path)
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value


def _with_responses(responses: dict[str, Any]) -> dict[str, Any]:
    return {"StateMachines": {}, "MockedResponses": responses}


@pytest.mark.parametrize(
    ("document", "location", "message"),
    [
        (
            "{not json",
            "",
            "not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)",
        ),
        ([], "", "a mock config must be a JSON object"),
        ({"StateMachine": {}}, "StateMachine", "Extra inputs are not permitted"),
        ({"StateMachines": {"M": {}}}, "StateMachines.M.TestCases", "Field required"),
        (
            {"StateMachines": {"M": {"TestCases": {"T": {"S": 3}}}}},
            "StateMachines.M.TestCases.T.S",
            "Input should be a valid string",
        ),
        (
            _with_responses({"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}}),
            "MockedResponses.R.0",
            "needs exactly one of 'Return' and 'Throw'",
        ),
        (
            _with_responses({"R": {"0": {}}}),
            "MockedResponses.R.0",
            "needs exactly one of 'Return' and 'Throw'",
        ),
        (
            _with_responses({"R": {"0": {"Throw": {"Cause": "c"}}}}),
            "MockedResponses.R.0.Throw.Error",
            "Field required",
        ),
        (
            _with_responses({"R": {"0": {"Retrun": 1}}}),
            "MockedResponses.R.0.Retrun",
            "Extra inputs are not permitted",
        ),
        (
            _with_responses({"R": {"first": {"Return": 1}}}),
            "MockedResponses.R.first",
            "the invocation key is not a number or an inclusive range like '0-2'",
        ),
        (
            _with_responses({"R": {"3-1": {"Return": 1}}}),
            "MockedResponses.R.3-1",
            "the invocation range ends before it starts",
        ),
        (
            _with_responses({"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}),
            "MockedResponses.R",
            "invocation ranges overlap at invocation 2",
        ),
        (_with_responses({"R": {}}), "MockedResponses.R", "defines no invocation"),
        (
            {"StateMachines": {"M": {"TestCases": {"T": {"S": "Missing"}}}}, "MockedResponses": {}},
            "StateMachines.M.TestCases.T.S",
            "mocked response 'Missing' is not defined in MockedResponses",
        ),
    ],
)
def test_bad_files_name_the_file_and_key(
    document: Any, location: str, message: str, tmp_path: Path
) -> None:
    error = _error(document, tmp_path)
    assert (error.location, error.message) == (location, message)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(MockConfigError) as caught:
        load_mock_config(path)
    assert (caught.value.source, caught.value.location) == (str(path), "")
    assert caught.value.message == "cannot read the file (No such file or directory)"


def test_unknown_state_machine_and_test_case(config_file: Path) -> None:
    with pytest.raises(MockConfigError) as machine:
        MockConfigInterceptor.from_file(config_file, "Other", "HappyPath")
    assert machine.value.location == "StateMachines.Other"
    assert machine.value.message == "no such state machine (defined: LambdaSQSIntegration)"
    with pytest.raises(MockConfigError) as case:
        MockConfigInterceptor.from_file(config_file, "LambdaSQSIntegration", "SadPath")
    assert case.value.location == "StateMachines.LambdaSQSIntegration.TestCases.SadPath"
    assert case.value.message == "no such test case (defined: HappyPath, HybridPath, RetryPath)"


# --- the interceptor ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_return_is_the_whole_response(config_file: Path) -> None:
    mock = MockConfigInterceptor.from_file(config_file, "LambdaSQSIntegration", "HappyPath")
    assert await mock(_request("LambdaState", 0), _unreachable) == LAMBDA_OK
    sqs = "arn:aws:states:::sqs:sendMessage"
    assert await mock(_request("SQSState", 0, sqs), _unreachable) == {
        "MD5OfMessageBody": "md5",
        "MessageId": "mid",
    }


@pytest.mark.anyio
async def test_invocations_walk_through_ranges_and_throws(config_file: Path) -> None:
    mock = MockConfigInterceptor.from_file(config_file, "LambdaSQSIntegration", "RetryPath")
    seen: list[tuple[str | None, str | None]] = []
    for invocation in range(3):
        with pytest.raises(StatesError) as caught:
            await mock(_request("LambdaState", invocation), _unreachable)
        seen.append((caught.value.error, caught.value.cause))
    assert seen == [
        ("Lambda.ResourceNotReadyException", "not ready"),
        ("Lambda.TimeoutException", "timed out"),
        ("Lambda.TimeoutException", "timed out"),
    ]
    assert await mock(_request("LambdaState", 3), _unreachable) == LAMBDA_OK


@pytest.mark.anyio
async def test_past_the_last_response_fails_the_execution(config_file: Path) -> None:
    mock = MockConfigInterceptor.from_file(config_file, "LambdaSQSIntegration", "HappyPath")
    with pytest.raises(StatesError) as caught:
        await mock(_request("LambdaState", 1), _unreachable)
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == (
        f"The mock config {config_file} has no response for invocation 1 of state "
        "'LambdaState' (mocked response 'MockedLambdaSuccess' in test case 'HappyPath')."
    )


@pytest.mark.anyio
async def test_unlisted_states_call_through(config_file: Path) -> None:
    mock = MockConfigInterceptor.from_file(config_file, "LambdaSQSIntegration", "HybridPath")
    assert await mock(_request("SQSState", 0), _through) == {"real": "SQSState"}
    assert mock.mocks_state("LambdaState") is True
    assert mock.mocks_state("SQSState") is False
    assert is_mocked([mock], "LambdaState") is True


@pytest.mark.anyio
async def test_throw_without_cause(tmp_path: Path) -> None:
    document = {
        "StateMachines": {"M": {"TestCases": {"T": {"S": "Boom"}}}},
        "MockedResponses": {"Boom": {"0-1": {"Throw": {"Error": "Custom.Error"}}}},
    }
    mock = MockConfigInterceptor(load_mock_config(document), "M", "T")
    with pytest.raises(StatesError) as caught:
        await mock(_request("S", 1), _unreachable)
    assert (caught.value.error, caught.value.cause) == ("Custom.Error", None)


@pytest.mark.anyio
async def test_mock_in_an_interceptor_chain(config_file: Path) -> None:
    mock = MockConfigInterceptor.from_file(config_file, "LambdaSQSIntegration", "HybridPath")
    binding = resolve_binding("arn:aws:states:::lambda:invoke", {"Fn": lambda event: event})
    assert binding is not None
    call: Callable[[TaskRequest], Awaitable[Any]] = chain_interceptors([mock], binding)
    assert await call(_request("LambdaState", 0)) == LAMBDA_OK
    real = TaskRequest(
        state_name="Other",
        resource="arn:aws:states:::lambda:invoke",
        payload={"FunctionName": "Fn", "Payload": {"x": 1}},
    )
    assert (await call(real))["Payload"] == {"x": 1}
