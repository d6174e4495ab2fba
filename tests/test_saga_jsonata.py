"""Sagas in JSONata mode (``Saga(..., query_language="JSONata")``), property-based.

For random sagas mixing every shape (for-each groups, branches of several steps, conditional
and callback steps, child sagas, deadlines) and fault plans (the strategies of
``test_saga_equivalence``): the JSONata machine validates and passes statelint, survives
export → load unchanged, and its direct and exported runs end the same way (status, output,
error, cause, states entered); both also end exactly as the same saga compiled to JSONPath.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from engine.clock import VirtualClock
from saga.errors import SagaDefinitionError
from saga.saga import Saga
from saga.templates import JsonPath
from tests.oracles import asl_validator_path, asl_validator_problems
from tests.test_saga_equivalence import (
    SEED,
    T0,
    SagaSpec,
    _outcome,
    _substitute,
    answers_of,
    build,
    run_both,
    sagas,
    sagas_with_a_hang,
    spec_input,
)

MAX_EXAMPLES = 60


def _jsonpath_run(spec: SagaSpec) -> dict[str, Any]:
    execution = build(spec, {}).run(
        spec_input(spec),
        seed=SEED,
        interceptors=answers_of(spec),
        name="eq-1",
        clock=VirtualClock(T0),
    )
    return _outcome(execution)


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=sagas())
def test_jsonata_saga_direct_exported_and_jsonpath_runs_agree(spec: SagaSpec) -> None:
    machine = build(spec, {}, "JSONata").to_state_machine()
    assert machine.query_language == "JSONata"
    direct, exported = run_both(spec, side_by_side=False, query_language="JSONata")
    assert direct == exported
    assert direct == _jsonpath_run(spec)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=sagas_with_a_hang())
def test_jsonata_runs_agree_when_a_step_hangs_past_its_timeout(spec: SagaSpec) -> None:
    direct, exported = run_both(spec, side_by_side=True, query_language="JSONata")
    jsonpath, _ = run_both(spec, side_by_side=True)
    assert direct == exported == jsonpath


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
