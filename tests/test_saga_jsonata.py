"""Sagas in JSONata mode (``Saga(..., query_language="JSONata")``), property-based.

For random sagas and fault plans (the strategies of ``test_saga_equivalence``): the JSONata
machine validates, survives export → load unchanged, and its direct and exported runs end the
same way (status, output, error, cause, state order); both also end exactly as the same saga
compiled to JSONPath does.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import engine
from engine.execution import Execution
from saga.errors import SagaDefinitionError
from saga.saga import Saga
from saga.templates import JsonPath
from tests.oracles import asl_validator_path, asl_validator_problems
from tests.test_saga_equivalence import (
    INPUT,
    SEED,
    SagaSpec,
    _outcome,
    _substitute,
    build,
    sagas,
)

MAX_EXAMPLES = 60


def _jsonata(spec: SagaSpec) -> Saga:
    saga = build(spec, {})
    saga.query_language = "JSONata"
    return saga


def _runs(spec: SagaSpec) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    direct_saga, exported_saga = _jsonata(spec), _jsonata(spec)
    machine = direct_saga.to_state_machine()
    text = machine.to_json()
    assert json.loads(text)["QueryLanguage"] == "JSONata"
    loaded = engine.load(text)
    assert loaded.to_dict() == json.loads(text) == machine.to_dict()
    assert machine.validate() == []

    direct: Execution = direct_saga.run(INPUT, seed=SEED)
    exported = engine.run(loaded, INPUT, handlers=exported_saga.handlers(), seed=SEED)
    jsonpath = build(spec, {}).run(INPUT, seed=SEED)
    return _outcome(direct), _outcome(exported), _outcome(jsonpath)


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=sagas(shapes=False))
def test_jsonata_saga_direct_exported_and_jsonpath_runs_agree(spec: SagaSpec) -> None:
    direct, exported, jsonpath = _runs(spec)
    assert direct == exported
    assert direct == jsonpath


def _booking(query_language: str) -> Saga:
    def reserve(event: Any) -> Any:
        return {"seat": "12A", "for": event["orderId"]}

    def charge(event: Any) -> Any:
        raise ValueError("card declined")

    saga = Saga("Booking", query_language=query_language, success_state="Done")
    saga.step(
        "Reserve",
        reserve,
        parameters={
            "orderId": JsonPath("$.orderId"),
            "note": JsonPath("States.Format('o {}', $.n)"),
        },
        result_selector={"seat": JsonPath("$.seat")},
        result_path="$.reservation",
    ).compensate("Release", lambda event: {"released": event["reservation"]["seat"]})
    saga.step("Charge", charge)
    return saga


def test_jsonata_saga_definition_reads_as_jsonata() -> None:
    definition = json.loads(_booking("JSONata").to_state_machine().to_json())
    reserve = definition["States"]["Reserve"]
    assert reserve["Arguments"] == {
        "orderId": "{% ($states.input).`orderId` %}",
        "note": '{% ("o " & $string(($states.input).`n`) & "") %}',
    }
    assert reserve["Output"] == (
        '{% $merge([$states.input, {"reservation": {"seat": ($states.result).`seat`}}]) %}'
    )
    assert reserve["Catch"][0]["Output"] == (
        '{% $merge([$states.input, {"error": $states.errorOutput}]) %}'
    )
    assert definition["States"]["Saga Failed"]["Cause"] == (
        "{% $string(($states.input).`error`) %}"
    )
    assert "Parameters" not in reserve and "ResultPath" not in reserve


def test_jsonata_saga_passes_asl_validator() -> None:
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is installed by README's test command (npm, in .tools/)")
    text = _booking("JSONata").to_state_machine().to_json()
    arn = "arn:aws:lambda:us-east-1:123456789012:function:"
    assert asl_validator_problems([json.loads(_substitute(text, arn))], command) == [[]]


def test_jsonata_saga_fails_and_compensates_like_jsonpath() -> None:
    jsonata = _booking("JSONata").run({"orderId": "o-1", "n": 3})
    jsonpath = _booking("JSONPath").run({"orderId": "o-1", "n": 3})
    assert jsonata.states == ["Reserve", "Charge", "Release", "Saga Failed"]
    assert _outcome(jsonata) == _outcome(jsonpath)
    assert jsonata.error == "SagaFailed"
    assert json.loads(jsonata.cause or "")["Error"] == "ValueError"


def test_unknown_query_language_is_refused() -> None:
    with pytest.raises(SagaDefinitionError, match="query_language is 'JSONPATH'"):
        Saga("Bad", query_language="JSONPATH")


def test_intrinsic_without_translation_is_refused_with_the_step() -> None:
    saga = Saga("Hashing", query_language="JSONata")
    saga.step("Hash", lambda e: e, parameters={"h": JsonPath("States.Hash($.a, 'SHA-1')")})
    with pytest.raises(
        SagaDefinitionError, match=re.escape("state 'Hash': States.Hash has no JSONata")
    ):
        saga.to_state_machine()
