"""TestState offline: each state type, AWS's recorded answers, mocks, retry and catch paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine import TestStateError, test_state

HELLO = '{"Value": "HelloWorld"}'
IO_INPUT = {
    "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
    "unrelatedData": {"someOtherField": 1234},
}
CHOICE = {
    "Type": "Choice",
    "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {
            "And": [
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30},
            ],
            "Next": "ValueInTwenties",
        },
    ],
    "Default": "DefaultState",
}
TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
    "ResultSelector": {"charged.$": "$.Payload.charged"},
    "ResultPath": "$.charge",
    "Retry": [
        {"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}
    ],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refund"}],
    "Next": "Ship",
}


def _decoded(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with its JSON-text fields parsed (as the recorded AWS snapshots show them)."""
    out = dict(answer)
    if "output" in out:
        out["output"] = json.loads(out["output"])
    if "inspectionData" in out:
        out["inspectionData"] = {
            key: (json.loads(value) if isinstance(value, str) else value)
            for key, value in out["inspectionData"].items()
        }
    return out


# Expected answers below are AWS's, as recorded by LocalStack's TestState snapshots
# (tests/aws/services/stepfunctions/v2/test_state/test_test_state_scenarios.snapshot.json).


def test_pass_state_info_and_debug() -> None:
    state = {"Type": "Pass", "End": True}
    assert _decoded(test_state(state, HELLO)) == {
        "status": "SUCCEEDED",
        "output": {"Value": "HelloWorld"},
    }
    hello = {"Value": "HelloWorld"}
    assert _decoded(test_state(state, HELLO, inspection_level="DEBUG")) == {
        "status": "SUCCEEDED",
        "output": hello,
        "inspectionData": {
            "input": hello,
            "afterInputPath": hello,
            "afterParameters": hello,
            "afterResultSelector": hello,
            "afterResultPath": hello,
        },
    }


def test_pass_state_with_result_reports_result_not_input_processing() -> None:
    state = {"Type": "Pass", "Result": {"resultKey": "result value"}, "End": True}
    result = {"resultKey": "result value"}
    assert _decoded(test_state(state, HELLO, inspection_level="TRACE")) == {
        "status": "SUCCEEDED",
        "output": result,
        "inspectionData": {
            "input": {"Value": "HelloWorld"},
            "result": result,
            "afterResultSelector": result,
            "afterResultPath": result,
        },
    }


def test_pass_state_io_processing() -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData",
        "End": True,
    }
    modified = {"staticValue": "some value", "inputValue": "value from input"}
    output = {**IO_INPUT, "modifiedData": modified}
    assert _decoded(test_state(state, json.dumps(IO_INPUT), inspection_level="DEBUG")) == {
        "status": "SUCCEEDED",
        "output": output,
        "inspectionData": {
            "input": IO_INPUT,
            "afterInputPath": IO_INPUT["initialData"],
            "afterParameters": modified,
            "afterResultSelector": modified,
            "afterResultPath": output,
        },
    }
    with_result = {**state, "Result": {"resultKey": "result value"}}
    answer = _decoded(test_state(with_result, json.dumps(IO_INPUT), inspection_level="DEBUG"))
    assert answer["output"] == {**IO_INPUT, "modifiedData": {"resultKey": "result value"}}
    assert set(answer["inspectionData"]) == {
        "input",
        "result",
        "afterResultSelector",
        "afterResultPath",
    }


def test_fail_state() -> None:
    state = {
        "Type": "Fail",
        "Error": "SomeFailure",
        "Cause": "This state machines raises a 'SomeFailure' failure.",
    }
    assert _decoded(test_state(state, HELLO, inspection_level="DEBUG")) == {
        "status": "FAILED",
        "error": "SomeFailure",
        "cause": "This state machines raises a 'SomeFailure' failure.",
        "inspectionData": {
            "input": {"Value": "HelloWorld"},
            "afterInputPath": {"Value": "HelloWorld"},
        },
    }
    dynamic = {"Type": "Fail", "ErrorPath": "$.code", "CausePath": "States.Format('no {}', $.what)"}
    answer = test_state(dynamic, '{"code": "E42", "what": "stock"}')
    assert (answer["status"], answer["error"], answer["cause"]) == ("FAILED", "E42", "no stock")


def test_succeed_state() -> None:
    assert _decoded(test_state({"Type": "Succeed"}, HELLO, inspection_level="DEBUG")) == {
        "status": "SUCCEEDED",
        "output": {"Value": "HelloWorld"},
        "inspectionData": {
            "input": {"Value": "HelloWorld"},
            "afterInputPath": {"Value": "HelloWorld"},
        },
    }


def test_choice_state() -> None:
    data = {"type": "Private", "value": 22}
    assert _decoded(test_state(CHOICE, json.dumps(data), inspection_level="DEBUG")) == {
        "status": "SUCCEEDED",
        "nextState": "ValueInTwenties",
        "output": data,
        "inspectionData": {"input": data, "afterInputPath": data},
    }
    assert test_state(CHOICE, '{"type": "Public", "value": 0}')["nextState"] == "Public"
    no_default = {**CHOICE}
    del no_default["Default"]
    answer = test_state(no_default, '{"type": "Private", "value": 99}')
    assert (answer["status"], answer["error"]) == ("FAILED", "States.NoChoiceMatched")


def test_wait_state_does_not_wait_and_names_the_next_state() -> None:
    state = {"Type": "Wait", "Seconds": 86400, "OutputPath": "$.keep", "Next": "Later"}
    assert _decoded(test_state(state, '{"keep": {"a": 1}, "drop": 2}')) == {
        "status": "SUCCEEDED",
        "output": {"a": 1},
        "nextState": "Later",
    }


def test_task_with_a_handler() -> None:
    def charge(event: dict[str, Any]) -> dict[str, Any]:
        return {"charged": event["amount"] * 2}

    answer = _decoded(
        test_state(TASK, '{"amount": 21}', inspection_level="DEBUG", handlers={"charge": charge})
    )
    assert answer["status"] == "SUCCEEDED"
    assert answer["nextState"] == "Ship"
    assert answer["output"] == {"amount": 21, "charge": {"charged": 42}}
    inspection = answer["inspectionData"]
    assert inspection["afterParameters"] == {"FunctionName": "charge", "Payload": {"amount": 21}}
    assert inspection["result"]["Payload"] == {"charged": 42}
    assert inspection["result"]["StatusCode"] == 200
    assert inspection["afterResultSelector"] == {"charged": 42}


def test_task_with_a_mocked_result() -> None:
    mock = {"result": json.dumps({"Payload": {"charged": 5}, "StatusCode": 200})}
    answer = _decoded(test_state(TASK, '{"amount": 5}', mock=mock))
    assert answer == {
        "status": "SUCCEEDED",
        "output": {"amount": 5, "charge": {"charged": 5}},
        "nextState": "Ship",
    }


def test_mocked_error_is_retriable_until_the_retrier_is_exhausted_then_caught() -> None:
    mock = {"errorOutput": {"error": "Throttled", "cause": "slow down"}}
    first = test_state(TASK, '{"amount": 1}', mock=mock, inspection_level="DEBUG")
    assert (first["status"], first["error"], first["cause"]) == (
        "RETRIABLE",
        "Throttled",
        "slow down",
    )
    assert first["inspectionData"]["errorDetails"] == {
        "retryIndex": 0,
        "retryBackoffIntervalSeconds": 2,
    }
    second = test_state(
        TASK,
        '{"amount": 1}',
        mock=mock,
        inspection_level="DEBUG",
        state_configuration={"retrierRetryCount": 1},
    )
    assert second["inspectionData"]["errorDetails"] == {
        "retryIndex": 0,
        "retryBackoffIntervalSeconds": 6,
    }
    caught = _decoded(
        test_state(
            TASK,
            '{"amount": 1}',
            mock=mock,
            inspection_level="DEBUG",
            state_configuration={"retrierRetryCount": 2},
        )
    )
    assert caught["status"] == "CAUGHT_ERROR"
    assert caught["nextState"] == "Refund"
    assert caught["output"] == {"amount": 1, "error": {"Error": "Throttled", "Cause": "slow down"}}
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    uncaught = {key: value for key, value in TASK.items() if key != "Catch"}
    failed = test_state(uncaught, "{}", mock={"errorOutput": {"error": "Boom", "cause": "x"}})
    assert failed == {"status": "FAILED", "error": "Boom", "cause": "x"}


def test_error_caused_by_state_configuration() -> None:
    answer = test_state(
        TASK,
        "{}",
        mock={"result": "{}"},
        state_configuration={"errorCausedByState": "States.Timeout"},
    )
    assert (answer["status"], answer["error"], answer["nextState"]) == (
        "CAUGHT_ERROR",
        "States.Timeout",
        "Refund",
    )


def test_mock_field_validation_modes() -> None:
    # As AWS checks a mock: fields the API does not have pass; the API's own are type-checked
    # (STRICT and PRESENT) and, in STRICT, the required ones must be there.
    extra = {"result": json.dumps({"Payload": {"charged": 1}, "Bogus": 1})}
    assert test_state(TASK, "{}", mock=extra)["status"] == "SUCCEEDED"
    wrong_type = {"result": json.dumps({"StatusCode": "200"}), "fieldValidationMode": "PRESENT"}
    with pytest.raises(TestStateError) as present:
        test_state(TASK, "{}", mock=wrong_type)
    assert (present.value.error_type, present.value.message) == (
        "ValidationException",
        "Mock result schema validation error: Field 'StatusCode' must be a number",
    )
    relaxed = {**wrong_type, "fieldValidationMode": "NONE"}
    assert test_state(TASK, "{}", mock=relaxed)["status"] == "FAILED"  # no Payload.charged
    started = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:M"},
        "End": True,
    }
    cases = {
        # Step Functions writes the API's members capitalised: executionArn is ExecutionArn.
        "Required field 'ExecutionArn' is missing": {"executionArn": "a", "startDate": "d"},
        "Field 'StartDate' must be a string": {"ExecutionArn": "a", "StartDate": 1764103483},
    }
    for message, result in cases.items():
        with pytest.raises(TestStateError) as strict:
            test_state(started, "{}", mock={"result": json.dumps(result)})
        assert strict.value.message == f"Mock result schema validation error: {message}"
    lenient = {"result": json.dumps({}), "fieldValidationMode": "PRESENT"}
    assert test_state(started, "{}", mock=lenient)["status"] == "SUCCEEDED"
    s3 = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "End": True}
    kms = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:encrypt", "End": True}
    for state, result, message in (
        (s3, {"StorageClass": "Papyrus"}, "Field 'StorageClass' is not an expected value"),
        (s3, {"ContentLength": "9000"}, "Field 'ContentLength' must be a number"),
        (kms, {"CiphertextBlob": 123}, "Field 'CiphertextBlob' must be a string"),
        (kms, {"CiphertextBlob": ""}, "Field 'CiphertextBlob' is smaller than the minimum length"),
    ):
        with pytest.raises(TestStateError) as strict:
            test_state(state, "{}", mock={"result": json.dumps(result)})
        assert strict.value.message == f"Mock result schema validation error: {message}"


def test_map_and_parallel_need_a_mock() -> None:
    map_state = {
        "Type": "Map",
        "ItemsPath": "$.Values",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ResultPath": "$.result",
        "End": True,
    }
    with pytest.raises(TestStateError) as refused:
        test_state(map_state, '{"Values": [1, 2, 3]}')
    assert refused.value.error_type == "InvalidDefinition"
    assert refused.value.message == (
        "TestState API does not support Map or Parallel states. Supported state types include: "
        "[Task, Wait, Pass, Succeed, Fail, Choice]"
    )
    answer = _decoded(test_state(map_state, '{"Values": [1, 2, 3]}', mock={"result": "[1, 1, 1]"}))
    assert answer == {"status": "SUCCEEDED", "output": {"Values": [1, 2, 3], "result": [1, 1, 1]}}
    tolerant = {**map_state, "MaxConcurrency": 1, "ToleratedFailureCount": 2}
    inspected = test_state(
        tolerant, '{"Values": [1, 2, 3]}', mock={"result": "[1, 1, 1]"}, inspection_level="DEBUG"
    )["inspectionData"]
    assert (inspected["maxConcurrency"], inspected["toleratedFailureCount"]) == (1, 2)
    assert json.loads(inspected["afterItemsPath"]) == [1, 2, 3]
    # Iteration failures beyond the tolerance fail the Map as AWS reports it; within, it succeeds.
    caught = {
        **map_state,
        "ToleratedFailureCount": 1,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "HandleThreshold"}],
    }
    over = test_state(
        caught,
        '{"Values": [1, 2, 3]}',
        mock={"result": "[1, 1, 1]"},
        state_configuration={"mapIterationFailureCount": 2},
    )
    assert (over["status"], over["error"], over["cause"], over["nextState"]) == (
        "CAUGHT_ERROR",
        "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded",
        "HandleThreshold",
    )
    within = test_state(
        caught,
        '{"Values": [1, 2, 3]}',
        mock={"result": "[1, 1, 1]"},
        state_configuration={"mapIterationFailureCount": 1},
    )
    assert within["status"] == "SUCCEEDED"
    with pytest.raises(TestStateError, match=r"^Mocked result must be an array\.$"):
        test_state(map_state, "{}", mock={"result": "{}"})
    parallel = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
        ],
        "End": True,
    }
    with pytest.raises(TestStateError, match="same number of items as number of Parallel branches"):
        test_state(parallel, "{}", mock={"result": "[1]"})
    assert _decoded(test_state(parallel, "{}", mock={"result": "[1, 2]"}))["output"] == [1, 2]


def test_requests_testing_refuses() -> None:
    with pytest.raises(TestStateError, match="State type 'Pass' is not supported when a mock"):
        test_state({"Type": "Pass", "End": True}, "{}", mock={"result": "{}"})
    with pytest.raises(
        TestStateError, match=r"only one of the following fields: \[result, errorOutput\]"
    ):
        test_state(TASK, "{}", mock={"result": "{}", "errorOutput": {"error": "E"}})
    with pytest.raises(TestStateError) as bad_input:
        test_state({"Type": "Pass", "End": True}, "{oops")
    assert bad_input.value.error_type == "InvalidExecutionInput"
    with pytest.raises(TestStateError) as invalid:
        test_state({"Type": "Pass", "Next": 5}, "{}")
    assert invalid.value.error_type == "InvalidDefinition"


def test_state_name_picks_a_state_of_a_whole_machine_with_variables_and_context() -> None:
    machine = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Second"},
            "Second": {
                "Type": "Pass",
                "Parameters": {"limit.$": "$limit", "name.$": "$$.Execution.Name", "in.$": "$.x"},
                "End": True,
            },
        },
    }
    answer = _decoded(
        test_state(
            machine,
            '{"x": 1}',
            state_name="Second",
            variables='{"limit": 10}',
            context='{"Execution": {"Name": "given"}}',
            inspection_level="DEBUG",
        )
    )
    assert answer["output"] == {"limit": 10, "name": "given", "in": 1}
    assert answer["inspectionData"]["variables"] == {"limit": 10}
    # A given context is the whole context, as on AWS: nothing of the default one is added.
    whole = {"Type": "Pass", "Parameters": {"context.$": "$$"}, "End": True}
    for given in ({}, {"Execution": {}, "State": {}, "StateMachine": {}}):
        answer = _decoded(test_state(whole, "{}", context=json.dumps(given)))
        assert answer["output"] == {"context": given}


def test_saga_test_state_command(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(CHOICE), encoding="utf-8")
    command = [sys.executable, "-c", "import sys; from saga.cli import main; sys.exit(main())"]
    done = subprocess.run(
        [
            *command,
            "test-state",
            str(state),
            "--input",
            '{"type": "Private", "value": 25}',
            "--inspection-level",
            "DEBUG",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert (printed["status"], printed["nextState"]) == ("SUCCEEDED", "ValueInTwenties")
    assert json.loads(printed["inspectionData"]["afterInputPath"]) == {
        "type": "Private",
        "value": 25,
    }
    fail = tmp_path / "fail.json"
    fail.write_text('{"Type": "Fail", "Error": "E"}', encoding="utf-8")
    done = subprocess.run(
        [*command, "test-state", str(fail)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert json.loads(done.stdout) == {"status": "FAILED", "error": "E"}
    done = subprocess.run(
        [*command, "test-state", str(fail), "--mock", '{"result": "{}"}'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"saga: {fail}: ValidationException: State type 'Fail' is not supported when a mock is "
        "specified"
    )
    assert "Traceback" not in done.stderr


def test_jsonata_states() -> None:
    # Modelled on AWS's recorded JSONata answer: $states and variables in Output.
    state = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Output": {
            "ja_states_input": "{% $states.input %}",
            "ja_var_access": "{% $var_input_value %}",
            "ja_expr": "{% $sum($states.input.input_values) + $var_constant_1 %}",
        },
        "End": True,
    }
    variables = {"var_input_value": "test_value", "var_constant_1": 10}
    answer = _decoded(
        test_state(
            state,
            '{"input_values": [1, 2, 3]}',
            variables=json.dumps(variables),
            inspection_level="DEBUG",
        )
    )
    assert answer == {
        "status": "SUCCEEDED",
        "output": {
            "ja_states_input": {"input_values": [1, 2, 3]},
            "ja_var_access": "test_value",
            "ja_expr": 16,
        },
        "inspectionData": {"input": {"input_values": [1, 2, 3]}, "variables": variables},
    }
    task = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "{% $states.input.Value %}"},
        "Output": "{% $states.result.Payload %}",
        "Catch": [{"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "Handle"}],
        "Next": "After",
    }
    done = _decoded(
        test_state(
            task,
            HELLO,
            mock={"result": '{"Payload": {"ok": true}}'},
            inspection_level="DEBUG",
        )
    )
    assert (done["status"], done["output"], done["nextState"]) == (
        "SUCCEEDED",
        {"ok": True},
        "After",
    )
    assert done["inspectionData"]["afterArguments"] == {
        "FunctionName": "foo",
        "Payload": "HelloWorld",
    }
    caught = _decoded(
        test_state(
            task,
            HELLO,
            mock={
                "errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}
            },
            inspection_level="DEBUG",
        )
    )
    assert caught["status"] == "CAUGHT_ERROR"
    assert caught["nextState"] == "Handle"
    assert caught["output"]["errorOutput"] == {
        "Error": "MockException",
        "Cause": "Mock the cause of the error.",
    }
    assert caught["output"]["input"] == {"Value": "HelloWorld"}
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    choice = {
        "Type": "Choice",
        "QueryLanguage": "JSONata",
        "Choices": [{"Condition": "{% $states.input.cost < 10 %}", "Next": "Approved"}],
        "Default": "Ask",
    }
    assert test_state(choice, '{"cost": 9}')["nextState"] == "Approved"
    assert test_state(choice, '{"cost": 10}')["nextState"] == "Ask"
    fail = {"Type": "Fail", "QueryLanguage": "JSONata", "Error": "{% $states.input.code %}"}
    assert test_state(fail, '{"code": "E1"}') == {"status": "FAILED", "error": "E1"}
