"""Round trips: loading then dumping gives back the same JSON object, and independent validators
(statelint, asl-validator) accept every valid definition the tests dump."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from engine.loader import load, substitute
from engine.model import StateMachine
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems
from tests.strategies import machines
from tests.valid_definitions import SUBSTITUTIONS, VALID_DEFINITIONS

# statelint predates some fields AWS accepts; these exact complaints are expected, not bugs.
STATELINT_GAPS: dict[str, list[str]] = {
    # Map "Label" (distributed mode, 2022) is unknown to statelint.
    "map-distributed-kept": ['Field "Label" not allowed in State Machine.States.Only'],
    # Variables (Assign, "$name" paths; 2024) are unknown to statelint.
    "variables-assign": [
        'Field "Assign" not allowed in State Machine.States.Set',
        'Field "who.$" of Parameters at "State Machine.States.Use" is not a JSONPath or '
        "intrinsic function expression",
        'Field "n.$" of Parameters at "State Machine.States.Use" is not a JSONPath or '
        "intrinsic function expression",
    ],
    # JSONata expressions in integer fields are unknown to statelint.
    "jsonata-machine": [
        'State Machine.States.Call.TimeoutSeconds is "{% $states.input.timeout %}" but should '
        "be an Integer",
        'State Machine.States.Wait.Seconds is "{% 1 + 1 %}" but should be an Integer',
    ],
}

_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_same_json(actual: Any, expected: Any) -> None:
    """Equal as JSON *and* of the same JSON types (``2`` is not ``2.0``, ``1`` is not ``true``)."""
    stack: list[tuple[Any, Any, str]] = [(actual, expected, "")]
    while stack:
        left, right, where = stack.pop()
        assert type(left) is type(right), f"{where or '/'}: {left!r} vs {right!r}"
        if isinstance(left, dict):
            assert set(left) == set(right), f"{where}: keys differ"
            stack.extend((left[k], right[k], f"{where}/{k}") for k in right)
        elif isinstance(left, list):
            assert len(left) == len(right), f"{where}: lengths differ"
            stack.extend(
                (a, b, f"{where}/{i}") for i, (a, b) in enumerate(zip(left, right, strict=True))
            )
        else:
            assert left == right, f"{where or '/'}: {left!r} vs {right!r}"


def _check_round_trip(document: dict[str, Any]) -> StateMachine:
    machine = load(document)
    assert_same_json(machine.to_dict(), document)
    assert_same_json(json.loads(machine.to_json()), document)
    assert load(machine.to_json()) == machine
    assert load(machine.to_dict()) == machine
    return machine


@pytest.mark.parametrize("name", sorted(VALID_DEFINITIONS))
def test_valid_definition_round_trips(name: str) -> None:
    machine = _check_round_trip(VALID_DEFINITIONS[name])
    assert [d for d in machine.validate() if d.severity == "error"] == []


@pytest.mark.parametrize("name", sorted(VALID_DEFINITIONS))
def test_valid_definition_round_trips_after_substitution(name: str) -> None:
    resolved = substitute(VALID_DEFINITIONS[name], SUBSTITUTIONS)
    machine = load(VALID_DEFINITIONS[name], SUBSTITUTIONS)
    assert_same_json(machine.to_dict(), resolved)


def test_substitution_replaces_known_and_keeps_unknown_placeholders() -> None:
    document = VALID_DEFINITIONS["task-paths-and-placeholders"]
    machine = load(document, {"WorkFunction.Arn": "arn:aws:lambda:us-east-1:1:function:w"})
    dumped = machine.to_dict()
    assert dumped["States"]["Work"]["Resource"] == "arn:aws:lambda:us-east-1:1:function:w"
    assert dumped["States"]["Report"]["Parameters"]["QueueUrl"] == "${QueueUrl}"
    assert document["States"]["Work"]["Resource"] == "${WorkFunction.Arn}"


def test_explicit_null_and_absent_stay_distinct() -> None:
    machine = load(VALID_DEFINITIONS["pass-result-nulls-and-numbers"])
    state = machine.to_dict()["States"]["Only"]
    assert state["InputPath"] is None
    assert "Parameters" not in state
    assert state["Result"]["big"] == 12345678901234567890
    assert type(state["Result"]["f"]) is float
    assert type(state["Result"]["i"]) is int


def test_random_machines_round_trip_validate_and_pass_the_oracles() -> None:
    """100 random machines round-trip and validate; then both oracles check them in one batch."""
    dumped: list[dict[str, Any]] = []

    @_SETTINGS
    @given(machines())
    def round_trip(document: dict[str, Any]) -> None:
        machine = _check_round_trip(document)
        assert [str(d) for d in machine.validate() if d.severity == "error"] == []
        dumped.append(machine.to_dict())

    round_trip()
    assert len(dumped) >= 50
    rejected = [(d, p) for d, p in zip(dumped, statelint_problems(dumped), strict=True) if p]
    assert rejected == []
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator not installed; statelint alone checked the random machines")
    problems = asl_validator_problems(dumped, command)
    assert [(d, p) for d, p in zip(dumped, problems, strict=True) if p] == []


def test_statelint_accepts_hand_written_definitions() -> None:
    documents = [substitute(d, SUBSTITUTIONS) for d in VALID_DEFINITIONS.values()]
    problems = dict(zip(VALID_DEFINITIONS, statelint_problems(documents), strict=True))
    expected = {name: STATELINT_GAPS.get(name, []) for name in VALID_DEFINITIONS}
    assert problems == expected


def _asl_validator() -> Path:
    command = asl_validator_path()
    if command is None:
        pytest.skip(
            "asl-validator not installed (npm install --no-save --prefix .tools asl-validator@4, "
            "or set ASL_VALIDATOR)"
        )
    return command


def test_asl_validator_accepts_hand_written_definitions() -> None:
    command = _asl_validator()
    documents = [substitute(d, SUBSTITUTIONS) for d in VALID_DEFINITIONS.values()]
    problems = dict(zip(VALID_DEFINITIONS, asl_validator_problems(documents, command), strict=True))
    assert problems == {name: [] for name in VALID_DEFINITIONS}


def _nested_parallel(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"StartAt": "Leaf", "States": {"Leaf": {"Type": "Succeed"}}}
    for level in range(depth):
        state = {"Type": "Parallel", "Branches": [inner], "End": True}
        inner = {"StartAt": f"P{level}", "States": {f"P{level}": state}}
    return inner


def test_deeply_nested_parallel_round_trips() -> None:
    document = _nested_parallel(100)
    machine = _check_round_trip(document)
    assert machine.validate() == []


def test_deep_choice_rule_nesting_loads_and_validates() -> None:
    rule: dict[str, Any] = {"Variable": "$.x", "IsNull": True}
    for _ in range(200):
        rule = {"Not": rule}
    document = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [rule | {"Next": "E"}]},
            "E": {"Type": "Succeed"},
        },
    }
    machine = load(document)
    assert machine.validate() == []
    assert_same_json(machine.to_dict(), document)


def test_ten_thousand_state_chain_loads_and_validates() -> None:
    count = 10_000
    states: dict[str, Any] = {
        f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(count - 1)
    }
    states[f"S{count - 1}"] = {"Type": "Succeed"}
    text = json.dumps({"StartAt": "S0", "States": states})
    machine = load(text)
    assert len(machine.states) == count
    assert machine.validate() == []
