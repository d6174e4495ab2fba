"""``saga serve`` answers API calls with the shapes, codes and messages AWS Step Functions recorded.

Each test exercises one behaviour whose AWS answer is known from recorded responses; the
definitions here are this project's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests._sfn_server import ROLE, client_for, definition, running_server, wait_for

PREFIX = "arn:aws:states:us-east-1:123456789012"
OTHER_ROLE = "arn:aws:iam::123456789012:role/OtherRole"


def _pass(result: Any) -> dict[str, Any]:
    return {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "Result": result, "End": True}}}


@pytest.fixture(scope="module")
def sfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("recorded")) as server:
        yield client_for(server.endpoint)


def _error(info: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def test_revision_id_appears_from_the_first_update_that_changes_the_machine(sfn: Any) -> None:
    document = definition(_pass({"n": 1}))
    created = sfn.create_state_machine(
        name="Revisions", definition=document, roleArn=ROLE, publish=True
    )
    arn = created["stateMachineArn"]
    assert "revisionId" not in sfn.describe_state_machine(stateMachineArn=arn)
    assert "revisionId" not in sfn.describe_state_machine(
        stateMachineArn=created["stateMachineVersionArn"]
    )
    # An update that changes nothing keeps the first revision: still no id, same version.
    same = sfn.update_state_machine(stateMachineArn=arn, definition=document, publish=True)
    assert "revisionId" not in same
    assert same["stateMachineVersionArn"] == f"{PREFIX}:stateMachine:Revisions:1"
    changed = sfn.update_state_machine(stateMachineArn=arn, roleArn=OTHER_ROLE)
    revision = changed["revisionId"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["revisionId"] == revision
    again = sfn.update_state_machine(stateMachineArn=arn, definition=document, roleArn=OTHER_ROLE)
    assert again["revisionId"] == revision
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == _pass(
        {"n": 1}
    )


def test_list_state_machines_is_in_name_order_across_pages(sfn: Any) -> None:
    names = [f"Listed_{i}_x" for i in (2, 10, 1, 0)]
    for name in names:
        sfn.create_state_machine(name=name, definition=definition(_pass(1)), roleArn=ROLE)
    listed: list[str] = []
    for page in sfn.get_paginator("list_state_machines").paginate(maxResults=3):
        listed += [m["name"] for m in page["stateMachines"] if m["name"].startswith("Listed_")]
    # "_" sorts after the digits: Listed_10_x comes before Listed_1_x, as AWS lists them.
    assert listed == ["Listed_0_x", "Listed_10_x", "Listed_1_x", "Listed_2_x"]


def test_an_unknown_status_filter_lists_the_statuses_in_aws_order(sfn: Any) -> None:
    created = sfn.create_state_machine(
        name="Filtered", definition=definition(_pass(1)), roleArn=ROLE
    )
    with pytest.raises(sfn.exceptions.ClientError) as info:
        sfn.list_executions(stateMachineArn=created["stateMachineArn"], statusFilter="succeeded")
    assert _error(info) == (
        "ValidationException",
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: "
        "[SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]",
    )


def test_too_many_alias_routes_are_written_as_aws_writes_the_list(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="Routed", definition=definition(_pass(1)), roleArn=ROLE)[
        "stateMachineArn"
    ]
    versions = []
    for n in (2, 3, 4):
        sfn.update_state_machine(stateMachineArn=arn, definition=definition(_pass(n)))
        versions.append(
            sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
        )
    routes = [
        {"stateMachineVersionArn": version, "weight": weight}
        for version, weight in zip(versions, (50, 30, 20), strict=True)
    ]
    with pytest.raises(sfn.exceptions.ValidationException) as info:
        sfn.create_state_machine_alias(name="three", routingConfiguration=routes)
    listed = ", ".join(
        f"RoutingConfigurationListItem(stateMachineVersionArn={arn}:{n}, weight={weight})"
        for n, weight in ((1, 50), (2, 30), (3, 20))
    )
    assert _error(info) == (
        "ValidationException",
        f"1 validation error detected: Value '[{listed}]' at 'routingConfiguration' failed to "
        "satisfy constraint: Member must have length less than or equal to 2",
    )


def test_updating_a_version_arn_is_state_machine_does_not_exist(sfn: Any) -> None:
    created = sfn.create_state_machine(
        name="NoUpdateOfVersion", definition=definition(_pass(1)), roleArn=ROLE, publish=True
    )
    version = created["stateMachineVersionArn"]
    for extra in ({}, {"publish": True}):
        with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as info:
            sfn.update_state_machine(
                stateMachineArn=version, definition=definition(_pass(2)), **extra
            )
        assert _error(info) == (
            "StateMachineDoesNotExist",
            f"State Machine Does Not Exist: '{version}'",
        )


def test_validating_an_express_definition_reports_what_express_cannot_run(sfn: Any) -> None:
    callback = {
        "StartAt": "Wait for it",
        "States": {
            "Wait for it": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": "https://example.com/q",
                    "MessageBody.$": "$$.Task.Token",
                },
                "End": True,
            }
        },
    }
    express = sfn.validate_state_machine_definition(definition=definition(callback), type="EXPRESS")
    assert (express["result"], express["diagnostics"]) == (
        "FAIL",
        [
            {
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": "Express state machine does not support '.waitForTaskToken' service "
                "integration ",
                "location": "/States/Wait for it/Resource",
            }
        ],
    )
    standard = sfn.validate_state_machine_definition(definition=definition(callback))
    assert (standard["result"], standard["diagnostics"]) == ("OK", [])


def test_a_jsonata_choice_takes_a_constant_boolean_condition(sfn: Any) -> None:
    document = {
        "QueryLanguage": "JSONata",
        "StartAt": "Always",
        "States": {
            "Always": {
                "Type": "Choice",
                "Choices": [
                    {"Condition": False, "Next": "Never"},
                    {"Condition": True, "Next": "Done"},
                ],
                "Default": "Never",
            },
            "Done": {"Type": "Pass", "End": True},
            "Never": {"Type": "Fail", "Error": "Unexpected"},
        },
    }
    arn = sfn.create_state_machine(name="Constant", definition=definition(document), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING")
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [event["type"] for event in events] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_describe_lists_the_variables_each_jsonpath_state_reads(sfn: Any) -> None:
    document = {
        "StartAt": "Set",
        "States": {
            "Set": {
                "Type": "Pass",
                "Assign": {"limit": 2, "label": "x", "items": [1, 2], "pause": 0},
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$limit", "NumericGreaterThanPath": "$floor", "Next": "Each"}
                ],
                "Default": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$items",
                "MaxConcurrencyPath": "$limit",
                "ItemSelector": {
                    "text.$": "States.Format('{} $notAVariable {}', $label, $$.Map.Item.Value)",
                    "constant": "$label",
                },
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {"Inner": {"Type": "Wait", "SecondsPath": "$pause", "End": True}},
                },
                "Next": "Late",
            },
            "Late": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $label %}",
                "Next": "Plain",
            },
            "Plain": {"Type": "Pass", "InputPath": "$.x", "End": True},
        },
    }
    created = sfn.create_state_machine(
        name="References", definition=definition(document), roleArn=ROLE
    )
    described = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    # JSONata states and constants such as "$label" (no ".$") read nothing; "$$" is the context.
    assert described["variableReferences"] == {
        "Check": ["limit", "floor"],
        "Each": ["items", "limit", "label"],
        "Inner": ["pause"],
    }
    plain = sfn.create_state_machine(
        name="NoReferences", definition=definition(_pass(1)), roleArn=ROLE
    )
    assert "variableReferences" not in sfn.describe_state_machine(
        stateMachineArn=plain["stateMachineArn"]
    )


def test_describe_shows_the_encryption_configuration(sfn: Any) -> None:
    owned = {"type": "AWS_OWNED_KEY"}
    machine = sfn.create_state_machine(
        name="Encrypted", definition=definition(_pass(1)), roleArn=ROLE
    )
    arn = machine["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["encryptionConfiguration"] == owned
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    ran = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert ran["encryptionConfiguration"] == owned
    activity = sfn.create_activity(name="EncryptedWork")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["encryptionConfiguration"] == owned
    customer = {
        "type": "CUSTOMER_MANAGED_KMS_KEY",
        "kmsKeyId": "alias/sfn",
        "kmsDataKeyReusePeriodSeconds": 300,
    }
    updated = sfn.update_state_machine(stateMachineArn=arn, encryptionConfiguration=customer)
    assert "revisionId" in updated  # a new configuration is a new revision
    assert sfn.describe_state_machine(stateMachineArn=arn)["encryptionConfiguration"] == customer


_VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


def test_execution_input_that_is_not_json_is_described_as_aws_describes_it(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="Inputs", definition=definition(_pass(1)), roleArn=ROLE)[
        "stateMachineArn"
    ]
    cases = {
        "maybe later": f"Unrecognized token 'maybe': was expecting {_VALUES}",
        "{'key': 1}": "Unexpected character (''' (code 39)): was expecting double-quote to start "
        "field name",
        "": "Invalid execution input.",
    }
    for text, message in cases.items():
        with pytest.raises(sfn.exceptions.InvalidExecutionInput) as info:
            sfn.start_execution(stateMachineArn=arn, input=text)
        assert _error(info) == (
            "InvalidExecutionInput",
            f"Invalid State Machine Execution Input: '{message}'",
        )
    for text in ("7", '"text"', "null"):  # any JSON value is an input
        assert sfn.start_execution(stateMachineArn=arn, input=text)["executionArn"]


def test_definition_findings_use_aws_codes_and_words(sfn: Any) -> None:
    def diagnostics(text: str) -> list[dict[str, Any]]:
        answer = sfn.validate_state_machine_definition(definition=text)
        assert answer["result"] == "FAIL"
        found: list[dict[str, Any]] = answer["diagnostics"]
        return found

    assert diagnostics("  ") == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Definition must be a valid JSON object",
        }
    ]
    source = '[Source: (String)"no definition"; line: 1, column: 3]'
    assert diagnostics("no definition") == [
        {
            "severity": "ERROR",
            "code": "INVALID_JSON_DESCRIPTION",
            "message": f"Unrecognized token 'no': was expecting {_VALUES}\n at {source}",
            "location": source,
        }
    ]
    required = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "location": "/"}
    assert diagnostics("{}") == [
        {**required, "message": "These fields are required: [States, StartAt]"}
    ]
    states = {"Only": {"Type": "Pass", "End": True}}
    assert diagnostics(definition({"States": states})) == [
        {**required, "message": "These fields are required: [StartAt]"}
    ]
    downgrade = {
        "QueryLanguage": "JSONata",
        "StartAt": "Only",
        "States": {"Only": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
    }
    assert diagnostics(definition(downgrade)) == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "location": "/States/Only",
            "message": "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole "
            "state machine",
        }
    ]
    with pytest.raises(sfn.exceptions.InvalidDefinition) as info:
        sfn.create_state_machine(name="NoStates", definition='{"StartAt": "A"}', roleArn=ROLE)
    assert _error(info) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are "
        "required: [States] at /'",
    )


def _finished(sfn: Any, execution: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    finished: dict[str, Any] = wait_for(check)
    return finished


def _callback_token(sfn: Any, name: str) -> tuple[str, str]:
    """A parent execution waiting on a served child's callback, and the child's task token."""
    child = sfn.create_state_machine(
        name=f"{name}Child", definition=definition(_pass(None)), roleArn=ROLE
    )["stateMachineArn"]
    parent = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "Parameters": {"StateMachineArn": child, "Input": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    arn = sfn.create_state_machine(name=name, definition=definition(parent), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    started = wait_for(lambda: sfn.list_executions(stateMachineArn=child)["executions"])
    described = sfn.describe_execution(executionArn=started[0]["executionArn"])
    return execution, str(json.loads(described["input"])["token"])


def test_send_task_success_takes_a_json_string_output_once_parsed(sfn: Any) -> None:
    for name, text, value in (
        ("StringOutput", '"hello"', "hello"),
        ("QuotedOutput", ' "say \\"hi\\"" ', 'say "hi"'),
    ):
        execution, token = _callback_token(sfn, name)
        assert "ResponseMetadata" in sfn.send_task_success(taskToken=token, output=text)
        described = _finished(sfn, execution)
        assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", value)
        events = sfn.get_execution_history(executionArn=execution)["events"]
        succeeded = [e["taskSucceededEventDetails"] for e in events if e["type"] == "TaskSucceeded"]
        assert [json.loads(details["output"]) for details in succeeded] == [value]


def test_an_unknown_token_is_invalid_token_before_the_output_is_read(sfn: Any) -> None:
    invalid = ("InvalidToken", "Invalid Token: 'Invalid token'")
    with pytest.raises(sfn.exceptions.InvalidToken) as info:
        sfn.send_task_success(taskToken="NoSuchTaskToken", output="ParameterOutput")
    assert _error(info) == invalid
    with pytest.raises(sfn.exceptions.InvalidToken) as info:
        sfn.send_task_failure(taskToken="NoSuchTaskToken")
    assert _error(info) == invalid
    with pytest.raises(sfn.exceptions.InvalidToken) as info:
        sfn.send_task_heartbeat(taskToken="NoSuchTaskToken")
    assert _error(info) == invalid
    # A waiting task's token with output that is not JSON is InvalidOutput; the task waits on.
    execution, token = _callback_token(sfn, "BadOutput")
    with pytest.raises(sfn.exceptions.InvalidOutput):
        sfn.send_task_success(taskToken=token, output="ParameterOutput")
    sfn.send_task_success(taskToken=token, output="[1]")
    assert json.loads(_finished(sfn, execution)["output"]) == [1]


def test_a_task_of_a_deleted_activity_fails_the_execution_before_scheduling(sfn: Any) -> None:
    activity = sfn.create_activity(name="GoneWork")["activityArn"]
    sfn.delete_activity(activityArn=activity)
    document = {
        "StartAt": "ActivityTask",
        "States": {"ActivityTask": {"Type": "Task", "Resource": activity, "End": True}},
    }
    arn = sfn.create_state_machine(
        name="DeletedActivity", definition=definition(document), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input='{"Value1": "HelloWorld"}')
    cause = (
        "An error occurred while executing the state 'ActivityTask' (entered at the event id "
        f"#2). The activity {activity} does not exist."
    )
    described = _finished(sfn, execution["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "States.Runtime",
        cause,
    )
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    assert [(e["type"], e["id"], e["previousEventId"]) for e in events] == [
        ("ExecutionStarted", 1, 0),
        ("TaskStateEntered", 2, 0),
        ("ExecutionFailed", 3, 2),
    ]
    assert events[-1]["executionFailedEventDetails"] == {"error": "States.Runtime", "cause": cause}
    # Created again, the activity takes the machine's tasks again.
    sfn.create_activity(name="GoneWork")
    again = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w")
    sfn.send_task_success(taskToken=task["taskToken"], output='"done"')
    assert json.loads(_finished(sfn, again)["output"]) == "done"


def test_logging_needs_exactly_one_destination_unless_off(sfn: Any) -> None:
    def group(name: str) -> dict[str, Any]:
        arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{name}:*"
        return {"cloudWatchLogsLogGroup": {"logGroupArn": arn}}

    invalid = (
        "InvalidLoggingConfiguration",
        "Invalid Logging Configuration: Must specify exactly one Log Destination.",
    )
    document = definition(_pass(1))
    for n, config in enumerate(
        [
            {"level": "ALL"},
            {"level": "FATAL"},
            {"level": "ERROR", "destinations": []},
            {"level": "ALL", "destinations": [group("one"), group("two")]},
        ]
    ):
        with pytest.raises(sfn.exceptions.InvalidLoggingConfiguration) as info:
            sfn.create_state_machine(
                name=f"BadLogs{n}", definition=document, roleArn=ROLE, loggingConfiguration=config
            )
        assert _error(info) == invalid
    # Incomplete configurations take AWS's defaults: level OFF, no execution data.
    for n, config, described in (
        (0, {}, {"includeExecutionData": False, "level": "OFF"}),
        (
            1,
            {"destinations": []},
            {"destinations": [], "includeExecutionData": False, "level": "OFF"},
        ),
    ):
        arn = sfn.create_state_machine(
            name=f"Incomplete{n}", definition=document, roleArn=ROLE, loggingConfiguration=config
        )["stateMachineArn"]
        assert sfn.describe_state_machine(stateMachineArn=arn)["loggingConfiguration"] == described
    logged = {"level": "ALL", "includeExecutionData": True, "destinations": [group("one")]}
    arn = sfn.create_state_machine(
        name="Logged", definition=document, roleArn=ROLE, loggingConfiguration=logged
    )["stateMachineArn"]
    for config in ({**logged, "destinations": [group("one"), group("two")]}, {"level": "ALL"}):
        with pytest.raises(sfn.exceptions.InvalidLoggingConfiguration) as info:
            sfn.update_state_machine(stateMachineArn=arn, loggingConfiguration=config)
        assert _error(info) == invalid
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["loggingConfiguration"], "revisionId" in described) == (logged, False)


def _map_state(**extra: Any) -> dict[str, Any]:
    """A lone distributed Map whose inner state has the name a lone state would get."""
    inner = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    return {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "TestState",
            "States": {"TestState": {**inner, "Parameters": {"FunctionName": "f"}}},
        },
        **extra,
        "End": True,
    }


def test_test_state_names_a_lone_state_state_name(sfn: Any) -> None:
    # The state under test is "StateName" (its findings' locations, $$.State.Name), so an
    # inner state may be called anything, "TestState" included.
    with pytest.raises(sfn.exceptions.InvalidDefinition) as info:
        sfn.test_state(definition=definition(_map_state()), inspectionLevel="TRACE")
    assert _error(info) == (
        "InvalidDefinition",
        "TestState API does not support Map or Parallel states. Supported state types "
        "include: [Task, Wait, Pass, Succeed, Fail, Choice]",
    )
    empty = {"Type": "Parallel", "Branches": [], "End": True}
    with pytest.raises(sfn.exceptions.InvalidDefinition) as info:
        sfn.test_state(definition=definition(empty), mock={"result": "[]"})
    assert _error(info) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty "
        "at /States/StateName/Branches'",
    )
    context = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "ResultSelector": {"name.$": "$$.State.Name"},
        "End": True,
    }
    answer = sfn.test_state(definition=definition(context), mock={"result": "{}"})
    assert json.loads(answer["output"]) == {"name": "StateName"}
    machine = {"StartAt": "First", "States": {"First": context}}
    answer = sfn.test_state(
        definition=definition(machine), stateName="First", mock={"result": "{}"}
    )
    assert json.loads(answer["output"]) == {"name": "StateName"}


def test_test_state_checks_a_map_mock_against_the_map(sfn: Any) -> None:
    items = json.dumps({"items": [1, 2, 3]})
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b"}}
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (_map_state(), {"result": '{"not": "a list"}'}, "Mocked result must be an array."),
        (
            _map_state(ResultWriter=writer),
            {"result": '["not an object"]'},
            "Mocked result must be a JSON object.",
        ),
        (
            _map_state(),
            {"mapIterationFailureCount": 0},
            "TestState does not support MapIterationFailureCount when a mock is not specified.",
        ),
        (
            _map_state(),
            {"result": "[1, 1, 1]", "mapIterationFailureCount": 4},
            "Map iteration failure count must be less than or equal to the number of Map "
            "iterations",
        ),
    ]
    for state, request, message in cases:
        count = request.pop("mapIterationFailureCount", None)
        extra: dict[str, Any] = {"mock": request} if request else {}
        if count is not None:
            extra["stateConfiguration"] = {"mapIterationFailureCount": count}
        with pytest.raises(sfn.exceptions.ValidationException) as info:
            sfn.test_state(definition=definition(state), roleArn=ROLE, input=items, **extra)
        assert _error(info) == ("ValidationException", message)
    summary = {"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:M/m:1"}
    answer = sfn.test_state(
        definition=definition(_map_state(ResultWriter=writer)),
        input=items,
        mock={"result": json.dumps(summary)},
    )
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", summary)


def test_test_state_context_is_the_given_one_or_aws_default(sfn: Any) -> None:
    echo = {"Type": "Pass", "Parameters": {"context.$": "$$"}, "End": True}
    answer = sfn.test_state(definition=definition(echo), input='{"a": 1}')
    context = json.loads(answer["output"])["context"]
    # Without a roleArn the role is null; a Pass state has no RetryCount.
    assert context["Execution"]["RoleArn"] is None
    assert sorted(context["State"]) == ["EnteredTime", "Name"]
    assert context["State"]["Name"] == "StateName"
    given = {"Execution": {"Name": "mine"}, "State": {}}
    answer = sfn.test_state(definition=definition(echo), context=json.dumps(given))
    assert json.loads(answer["output"]) == {"context": given}
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "End": True,
    }
    invalid = {
        '{"Execution": {"Id": 1}}': "Execution.Id must be a string",
        '{"Map": {}}': "'Map' field is not supported when mocking a Context object",
        '{"Execution": {"Color": "red"}}': "Field 'Color' is not allowed",
        '{"Machine": {}}': "Field 'Machine' is not allowed",
        '{"Task": {"Token": "t"}}': "Context object contains 'Task' when state is not a Task "
        "state with a '.sync' or '.waitForTaskToken' service integration pattern",
    }
    for text, reason in invalid.items():
        with pytest.raises(sfn.exceptions.ValidationException) as info:
            sfn.test_state(definition=definition(task), context=text, mock={"result": "{}"})
        assert _error(info) == (
            "ValidationException",
            f"Invalid Context object provided: {reason}",
        )
    callback = {
        **task,
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
    }
    answer = sfn.test_state(
        definition=definition(callback),
        context='{"Task": {"Token": "abc"}}',
        mock={"result": '{"done": true}'},
        inspectionLevel="DEBUG",
    )
    assert json.loads(answer["inspectionData"]["afterParameters"])["Payload"] == {"token": "abc"}


def test_test_state_checks_only_the_api_fields_of_a_mocked_result(sfn: Any) -> None:
    put = {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True}
    for result in ({"anything": "else"}, {}):
        answer = sfn.test_state(definition=definition(put), mock={"result": json.dumps(result)})
        assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", result)
    for result, message in (
        ({"Entries": "no list"}, "Field 'Entries' must be an array"),
        ({"Entries": [{"EventId": "e"}, {"EventId": ["e"]}]}, "Field 'EventId' must be a string"),
    ):
        for mode in ("STRICT", "PRESENT"):
            mock = {"result": json.dumps(result), "fieldValidationMode": mode}
            with pytest.raises(sfn.exceptions.ValidationException) as info:
                sfn.test_state(definition=definition(put), mock=mock)
            assert _error(info) == (
                "ValidationException",
                f"Mock result schema validation error: {message}",
            )


def test_test_state_finds_a_named_state_inside_a_map_and_words_findings_as_aws(sfn: Any) -> None:
    machine = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {"Inner": {"Type": "Pass", "Result": {"ok": 1}, "End": True}},
                },
                "End": True,
            },
        },
    }
    answer = sfn.test_state(definition=definition(machine), stateName="Inner", input="{}")
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"ok": 1})
    with pytest.raises(sfn.exceptions.ValidationException) as info:
        sfn.test_state(definition=definition(machine), stateName="Nowhere", input="{}")
    assert _error(info) == ("ValidationException", "State not found in definition")
    broken = {"StartAt": "Broken", "States": {"Broken": {"Type": "Teleport", "End": True}}}
    with pytest.raises(sfn.exceptions.InvalidDefinition) as info:
        sfn.test_state(definition=definition(broken), stateName="Broken", input="{}")
    types = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"
    assert _error(info) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should "
        f"have one of these values: {types} at /States/Broken/Type'",
    )


def test_test_state_reports_what_aws_reports_for_mocks_and_retries(sfn: Any) -> None:
    branches = [{"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}} for name in "AB"]
    parallel = {
        "Type": "Parallel",
        "InputPath": "$.in",
        "ResultPath": "$.out",
        "Branches": branches,
        "End": True,
    }
    answer = sfn.test_state(
        definition=definition(parallel),
        input='{"in": {"x": 1}}',
        mock={"result": "[1, 2]"},
        inspectionLevel="TRACE",
    )
    # A mocked Parallel reports no InputPath/Parameters stages and no raw result.
    inspection = {key: json.loads(value) for key, value in answer["inspectionData"].items()}
    assert inspection == {
        "input": {"in": {"x": 1}},
        "afterResultSelector": [1, 2],
        "afterResultPath": {"in": {"x": 1}, "out": [1, 2]},
    }
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2}],
        "End": True,
    }
    with pytest.raises(sfn.exceptions.ValidationException) as info:
        sfn.test_state(
            definition=definition(task),
            mock={"result": "not JSON", "fieldValidationMode": "NONE"},
        )
    assert _error(info) == ("ValidationException", "Mocked result must be valid JSON")
    exhausted = sfn.test_state(
        definition=definition(task),
        mock={"errorOutput": {"error": "Busy", "cause": "later"}},
        stateConfiguration={"retrierRetryCount": 2},
        inspectionLevel="DEBUG",
    )
    assert (exhausted["status"], exhausted["inspectionData"]["errorDetails"]) == (
        "FAILED",
        {"retryIndex": 0},
    )
