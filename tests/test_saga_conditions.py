"""Conditional steps (``when=``): a Choice runs or skips the step; a skipped step is not
compensated, a step that ran is."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine
from saga import Saga, SagaDefinitionError
from saga.conditions import Condition, equals, greater_than, is_present, less_than
from tests.oracles import asl_validator_path, asl_validator_problems, statelint_problems

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def build(calls: list[str], fail: str | None = None) -> Saga:
    """Flight, optional insurance, a loyalty upgrade above 100 points, payment."""
    saga = Saga("Optional", success_state="Booked")

    def act(name: str) -> Any:
        def action(event: dict[str, Any]) -> str:
            calls.append(name)
            if name == fail:
                raise RuntimeError(f"{name} failed")
            return name

        return action

    saga.step("Book Flight", act("Book Flight")).compensate("Cancel Flight", act("Cancel Flight"))
    insure = saga.step("Buy Insurance", act("Buy Insurance"), when=equals("$.insurance", True))
    insure.compensate("Refund Insurance", act("Refund Insurance"))
    upgrade = saga.step("Upgrade", act("Upgrade"), when=greater_than("$.points", 100))
    upgrade.compensate("Downgrade", act("Downgrade"))
    saga.step("Take Payment", act("Take Payment"))
    return saga


@pytest.mark.parametrize(
    ("data", "ran"),
    [
        ({"insurance": True, "points": 500}, ["Buy Insurance", "Upgrade"]),
        ({"insurance": True, "points": 5}, ["Buy Insurance"]),
        ({"insurance": False, "points": 500}, ["Upgrade"]),
        ({}, []),
    ],
)
def test_a_step_runs_only_when_its_condition_holds(data: dict[str, Any], ran: list[str]) -> None:
    calls: list[str] = []
    execution = build(calls).run(data)
    assert execution.status == "SUCCEEDED"
    assert calls == ["Book Flight", *ran, "Take Payment"]


UNDO = {"Book Flight": "Cancel Flight", "Buy Insurance": "Refund Insurance", "Upgrade": "Downgrade"}


@pytest.mark.parametrize("insurance", [True, False])
@pytest.mark.parametrize("points", [500, 5])
@pytest.mark.parametrize("fail", ["Book Flight", "Buy Insurance", "Upgrade", "Take Payment"])
def test_a_skipped_step_is_not_compensated(insurance: bool, points: int, fail: str) -> None:
    calls: list[str] = []
    execution = build(calls, fail=fail).run({"insurance": insurance, "points": points})
    ran = ["Book Flight"]
    ran += ["Buy Insurance"] if insurance else []
    ran += ["Upgrade"] if points > 100 else []
    ran.append("Take Payment")
    if fail not in ran:
        assert execution.status == "SUCCEEDED"
        return
    tried = ran[: ran.index(fail) + 1]
    undone = [UNDO[step] for step in reversed(tried[:-1])]
    assert execution.status == "FAILED"
    assert calls == tried + undone
    assert [u.state for u in execution.unwind] == undone


def test_the_compiled_choices() -> None:
    states = json.loads(build([]).to_json())["States"]
    assert states["Book Flight"]["Next"] == "Buy Insurance (when)"
    assert states["Buy Insurance (when)"] == {
        "Type": "Choice",
        "Choices": [
            {
                "And": [
                    {"Variable": "$.insurance", "IsPresent": True},
                    {"Variable": "$.insurance", "BooleanEquals": True},
                ],
                "Next": "Buy Insurance",
            }
        ],
        "Default": "Upgrade (when)",
    }
    assert states["Take Payment"]["Catch"][0]["Next"] == "Downgrade (if ran)"
    assert states["Refund Insurance (if ran)"]["Default"] == "Cancel Flight"


def test_export_passes_both_validators_and_runs_the_same() -> None:
    calls: list[str] = []
    saga = build(calls, fail="Take Payment")
    text = saga.to_json()
    document = engine.substitute(json.loads(text), {k: ARN + k for k in saga.handlers()})
    assert statelint_problems([document]) == [[]]
    command = asl_validator_path()
    if command is None:
        pytest.skip("asl-validator is not installed")
    assert asl_validator_problems([document], command) == [[]]
    data = {"insurance": True, "points": 1}
    direct = saga.run(data, name="x")
    exported = engine.run(engine.load(text), data, handlers=saga.handlers(), name="x")
    assert (exported.status, exported.output, exported.cause, exported.states) == (
        direct.status,
        direct.output,
        direct.cause,
        direct.states,
    )


def test_a_conditional_last_step_skipped_ends_the_run() -> None:
    saga = Saga("Last")
    saga.step("A", lambda event: 1)
    saga.step("B", lambda event: 2, when=is_present("$.b"))
    assert saga.run({}).states == ["A", "B (when)", "B (skipped)"]
    assert saga.run({"b": 0}).states == ["A", "B (when)", "B"]


@pytest.mark.parametrize(
    ("condition", "data", "expected"),
    [
        (equals("$.a", "x") & less_than("$.n", 3), {"a": "x", "n": 2}, True),
        (equals("$.a", "x") & less_than("$.n", 3), {"a": "x", "n": 3}, False),
        (equals("$.a", 1) | is_present("$.b"), {"b": None}, True),
        (~is_present("$.b"), {"b": 1}, False),
        (equals("$.a", 2.5), {"a": 2.5}, True),
        (equals("$.a", "x"), {"a": 1}, False),
    ],
)
def test_conditions_combine(condition: Condition, data: dict[str, Any], expected: bool) -> None:
    saga = Saga("Combine")
    saga.step("Maybe", lambda event: "ran", when=condition)
    assert ("maybe" in saga.run(data).output) is expected


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Saga("S").step("A", print, when="$.x"), "when is '$.x'; use a condition"),
        (lambda: is_present("x"), "condition path 'x'"),
        (lambda: equals("$.x", [1]), "compare with a string, a boolean or a number"),
        (lambda: greater_than("$.x", "1"), "compare with a number"),
        (lambda: is_present("$.x") & "y", "combines with another condition"),
    ],
)
def test_bad_conditions_are_refused(make: Any, message: str) -> None:
    with pytest.raises(SagaDefinitionError, match=message.replace("$", r"\$")):
        make()


def test_a_machine_timeout_that_would_skip_the_unwind_is_warned_about() -> None:
    from saga.compile import saga_warnings

    saga = Saga("Timed", timeout=300)
    saga.step("A", lambda event: 1).compensate("Undo A", lambda event: None)
    saga.step("B", lambda event: 2)
    (warning,) = saga_warnings(saga)
    assert warning.code == "TIMEOUT_SKIPS_UNWIND"
    assert "without running any compensation" in str(warning)
    plain = Saga("NoUnwind", timeout=300)
    plain.step("A", lambda event: 1)
    assert saga_warnings(plain) == []
