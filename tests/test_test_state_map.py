"""TestState on Map states: item reader data, the item stages inspectionData reports, tolerance.

Expected answers follow AWS's recordings (LocalStack's TestState snapshots recorded against AWS:
``test_state_configuration`` and ``test_state_context_object``) and the API reference's
``InspectionData`` fields; JSON-text fields are compared parsed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine import TestStateError, test_state

READER_MACHINE = {
    "QueryLanguage": "JSONata",
    "StartAt": "State0",
    "States": {
        "State0": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemReader": {
                "ReaderConfig": {"InputType": "JSON"},
                "Resource": "arn:aws:states:::s3:getObject",
                "Arguments": {
                    "Bucket": "{% $states.input.Bucket %}",
                    "Key": "{% $states.input.Key %}",
                },
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "HandleItem",
                "States": {"HandleItem": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    },
}
READER_INPUT = '{"Bucket": "test-bucket", "Key": "test-key"}'
DISTRIBUTED_MACHINE = {
    "StartAt": "State0",
    "States": {
        "State0": {
            "Type": "Map",
            "ItemsPath": "$.Values",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "HandleItem",
                "States": {"HandleItem": {"Type": "Pass", "End": True}},
            },
            "ToleratedFailureCount": 2,
            "End": True,
        }
    },
}
VALUES = '{"Values": ["first", "second", "third"]}'
MOCK_ERROR = {"errorOutput": {"error": "MockException", "cause": "Mock the error cause."}}


def _decoded(answer: dict[str, Any]) -> dict[str, Any]:
    out = dict(answer)
    if "output" in out:
        out["output"] = json.loads(out["output"])
    if "inspectionData" in out:
        out["inspectionData"] = {
            key: (json.loads(value) if isinstance(value, str) else value)
            for key, value in out["inspectionData"].items()
        }
    return out


@pytest.mark.parametrize("level", ["INFO", "DEBUG", "TRACE"])
def test_item_reader_data_replaces_s3(level: str) -> None:
    answer = test_state(
        READER_MACHINE,
        READER_INPUT,
        state_name="State0",
        inspection_level=level,
        mock={"result": "[1, 4, 9]"},
        state_configuration={"mapItemReaderData": "[1, 2, 3]"},
    )
    expected: dict[str, Any] = {"status": "SUCCEEDED", "output": [1, 4, 9]}
    if level != "INFO":
        expected["inspectionData"] = {
            "input": {"Bucket": "test-bucket", "Key": "test-key"},
            "maxConcurrency": 1,
        }
    assert _decoded(answer) == expected


@pytest.mark.parametrize("failures", [0, 2])
def test_item_reader_data_with_a_mocked_error(failures: int) -> None:
    answer = test_state(
        READER_MACHINE,
        READER_INPUT,
        state_name="State0",
        inspection_level="DEBUG",
        mock=MOCK_ERROR,
        state_configuration={
            "mapIterationFailureCount": failures,
            "errorCausedByState": "HandleItem",
            "mapItemReaderData": "[1, 2, 3]",
        },
    )
    assert _decoded(answer) == {
        "status": "FAILED",
        "error": "MockException",
        "cause": "Mock the error cause.",
        "inspectionData": {
            "input": {"Bucket": "test-bucket", "Key": "test-key"},
            "maxConcurrency": 1,
        },
    }


@pytest.mark.parametrize("failures", [0, 2])
def test_jsonpath_map_reports_its_items_path_and_limits(failures: int) -> None:
    answer = test_state(
        DISTRIBUTED_MACHINE,
        VALUES,
        state_name="State0",
        inspection_level="TRACE",
        mock=MOCK_ERROR,
        state_configuration={
            "mapIterationFailureCount": failures,
            "errorCausedByState": "HandleItem",
        },
    )
    assert answer["inspectionData"]["afterItemsPath"] == '["first","second","third"]'
    assert _decoded(answer) == {
        "status": "FAILED",
        "error": "MockException",
        "cause": "Mock the error cause.",
        "inspectionData": {
            "input": {"Values": ["first", "second", "third"]},
            "afterInputPath": {"Values": ["first", "second", "third"]},
            "afterItemsPath": ["first", "second", "third"],
            "maxConcurrency": 0,
            "toleratedFailureCount": 2,
        },
    }


def test_items_path_into_the_context_object() -> None:
    state = {
        "Type": "Map",
        "ItemsPath": "$$.Execution.Input.values",
        "MaxConcurrency": 1,
        "ItemProcessor": {
            "StartAt": "HandleItem",
            "States": {"HandleItem": {"Type": "Pass", "End": True}},
        },
        "End": True,
    }
    context = {"Execution": {"Input": {"values": ["charizard", "pikachu", "bulbasaur"]}}}
    mock = {"result": '["CHARIZARD", "PIKACHU", "BULBASAUR"]'}
    fire = '["fire", "electricity", "grass"]'
    answer = test_state(
        state, fire, inspection_level="TRACE", context=json.dumps(context), mock=mock
    )
    upper = ["CHARIZARD", "PIKACHU", "BULBASAUR"]
    assert _decoded(answer) == {
        "status": "SUCCEEDED",
        "output": upper,
        "inspectionData": {
            "input": ["fire", "electricity", "grass"],
            "afterInputPath": ["fire", "electricity", "grass"],
            "afterItemsPath": ["charizard", "pikachu", "bulbasaur"],
            "afterResultSelector": upper,
            "afterResultPath": upper,
            "maxConcurrency": 1,
        },
    }
    # A path to no array fails the state; AWS shows a context path with a single "$".
    for path, shown in (("$$", "$"), ("$$.Execution.Input", "$.Execution.Input")):
        failed = test_state(
            {**state, "ItemsPath": path},
            fire,
            inspection_level="TRACE",
            context=json.dumps(context),
            mock=mock,
        )
        assert _decoded(failed) == {
            "status": "FAILED",
            "error": "States.Runtime",
            "cause": f'Reference path "{shown}" must point to array.',
            "inspectionData": {
                "input": ["fire", "electricity", "grass"],
                "afterInputPath": ["fire", "electricity", "grass"],
            },
        }


def test_item_selector_and_batcher_over_reader_data() -> None:
    state = {
        "Type": "Map",
        "ItemReader": {
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket": "b", "Key": "ratings.csv"},
        },
        "ItemSelector": {"rating.$": "$$.Map.Item.Value.rating", "index.$": "$$.Map.Item.Index"},
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}},
        "MaxConcurrency": 5,
        "ToleratedFailurePercentage": 34,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}},
        },
        "ResultPath": "$.results",
        "End": True,
    }
    csv_text = "user,rating\nann,5\nbob,3\ncid,4\n"
    answer = test_state(
        state,
        '{"run": 7}',
        inspection_level="DEBUG",
        mock={"result": "[1, 2]"},
        state_configuration={"mapItemReaderData": csv_text},
    )
    selected = [
        {"rating": "5", "index": 0},
        {"rating": "3", "index": 1},
        {"rating": "4", "index": 2},
    ]
    assert _decoded(answer) == {
        "status": "SUCCEEDED",
        "output": {"run": 7, "results": [1, 2]},
        "inspectionData": {
            "input": {"run": 7},
            "afterInputPath": {"run": 7},
            "afterItemSelector": selected,
            "afterItemBatcher": [
                {"BatchInput": {"run": 7}, "Items": selected[:2]},
                {"BatchInput": {"run": 7}, "Items": selected[2:]},
            ],
            "afterResultSelector": [1, 2],
            "afterResultPath": {"run": 7, "results": [1, 2]},
            "maxConcurrency": 5,
            "toleratedFailurePercentage": 34,
        },
    }
    # 1 of 3 items failed is within 34 %; 2 of 3 is past it.
    for failures, status in ((1, "SUCCEEDED"), (2, "FAILED")):
        tolerated = test_state(
            state,
            '{"run": 7}',
            mock={"result": "[1, 2]"},
            state_configuration={
                "mapItemReaderData": csv_text,
                "mapIterationFailureCount": failures,
            },
        )
        assert tolerated["status"] == status
    assert tolerated["error"] == "States.ExceedToleratedFailureThreshold"


def test_jsonata_item_selector() -> None:
    state = {
        "Type": "Map",
        "QueryLanguage": "JSONata",
        "Items": "{% $states.input.nums %}",
        "ItemSelector": {"n": "{% $states.context.Map.Item.Value * 10 %}"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    answer = test_state(
        state, '{"nums": [1, 2]}', inspection_level="DEBUG", mock={"result": "[10, 20]"}
    )
    assert _decoded(answer) == {
        "status": "SUCCEEDED",
        "output": [10, 20],
        "inspectionData": {
            "input": {"nums": [1, 2]},
            "afterItemSelector": [{"n": 10}, {"n": 20}],
            "maxConcurrency": 0,
        },
    }


def test_iteration_failures_without_a_tolerance_are_not_checked() -> None:
    # AWS answered SUCCEEDED for a Map with no tolerated failure settings and 2 failed items.
    state = {
        "Type": "Map",
        "ItemsPath": "$.Values",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    answer = test_state(
        state,
        VALUES,
        mock={"result": "[0, 0, 1]"},
        state_configuration={"mapIterationFailureCount": 2},
    )
    assert _decoded(answer) == {"status": "SUCCEEDED", "output": [0, 0, 1]}


def test_map_configuration_refused() -> None:
    state = {
        "Type": "Map",
        "ItemsPath": "$.Values",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    with pytest.raises(TestStateError) as refused:
        test_state(
            state, VALUES, mock={"result": "[]"}, state_configuration={"mapItemReaderData": "[1]"}
        )
    assert (refused.value.error_type, refused.value.message) == (
        "ValidationException",
        "stateConfiguration.mapItemReaderData is only for a Map state with an ItemReader",
    )
    with pytest.raises(TestStateError, match="mapIterationFailureCount must be an integer"):
        test_state(
            state,
            VALUES,
            mock={"result": "[]"},
            state_configuration={"mapIterationFailureCount": -1},
        )
    broken = test_state(
        READER_MACHINE,
        READER_INPUT,
        state_name="State0",
        mock={"result": "[]"},
        state_configuration={"mapItemReaderData": '{"not": "an array"}'},
    )
    assert (broken["status"], broken["error"], broken["cause"]) == (
        "FAILED",
        "States.ItemReaderFailed",
        "Attempting to map over non-iterable node.",
    )
