"""Rendering ASL deterministically, round trips, placeholders and resolving them."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from asl_export.render import (
    ExportError,
    UnresolvedPlaceholderError,
    ordered_definition,
    placeholders,
    render,
    resolve,
)
from engine.loader import load
from engine.model import (
    Branch,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    ItemProcessor,
    MapState,
    ParallelState,
    PassState,
    ProcessorConfig,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from tests.strategies import machines
from tests.test_export_golden import AIRLINE, ORDERS, ROOT, airline, orders, shop


def _task(**fields: Any) -> StateMachine:
    state = {"Type": "Task", "Resource": "arn:aws:lambda:eu-west-1:1:function:f", "End": True}
    return load({"StartAt": "A", "States": {"A": {**state, **fields}}}, validate=False)


def test_render_puts_keys_in_conventional_order() -> None:
    machine = StateMachine(
        states={
            "A": TaskState(
                end=True,
                catch=[Catcher(next="B", result_path="$.e", error_equals=["States.ALL"])],
                retry=[Retrier(max_attempts=2, backoff_rate=2.0, error_equals=["X"])],
                result_path="$.r",
                resource="arn:aws:lambda:eu-west-1:1:function:f",
                type="Task",
                comment="first",
            ),
            "B": FailState(type="Fail", error="E"),
        },
        start_at="A",
        comment="c",
    )
    document = json.loads(render(machine))
    assert list(document) == ["Comment", "StartAt", "States"]
    assert list(document["States"]["A"]) == [
        "Type",
        "Comment",
        "Resource",
        "ResultPath",
        "Retry",
        "Catch",
        "End",
    ]
    assert list(document["States"]["A"]["Retry"][0]) == [
        "ErrorEquals",
        "BackoffRate",
        "MaxAttempts",
    ]
    assert list(document["States"]["A"]["Catch"][0]) == ["ErrorEquals", "ResultPath", "Next"]


def test_choice_rules_put_operator_after_variable_and_next_last() -> None:
    state = ChoiceState(
        type="Choice",
        default="B",
        choices=[
            ChoiceRule(next="B", numeric_greater_than=3, variable="$.n"),
            ChoiceRule(next="B", not_=ChoiceRule(string_equals="x", variable="$.s")),
        ],
    )
    machine = StateMachine(start_at="A", states={"A": state, "B": SucceedState(type="Succeed")})
    rendered = json.loads(render(machine))["States"]["A"]
    assert list(rendered) == ["Type", "Choices", "Default"]
    assert list(rendered["Choices"][0]) == ["Variable", "NumericGreaterThan", "Next"]
    assert rendered["Choices"][1] == {"Not": {"Variable": "$.s", "StringEquals": "x"}, "Next": "B"}


def test_render_format_is_two_space_utf8_with_trailing_newline() -> None:
    machine = load(
        {"Comment": "café ☕", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
        validate=False,
    )
    assert render(machine) == (
        '{\n  "Comment": "café ☕",\n  "StartAt": "A",\n  "States": {\n'
        '    "A": {\n      "Type": "Succeed"\n    }\n  }\n}\n'
    )


def test_render_keeps_numbers_as_written() -> None:
    machine = _task(Retry=[{"ErrorEquals": ["X"], "BackoffRate": 2.0, "IntervalSeconds": 1}])
    assert '"IntervalSeconds": 1,\n          "BackoffRate": 2.0\n' in render(machine)
    integral = _task(Retry=[{"ErrorEquals": ["X"], "BackoffRate": 2}])
    assert '"BackoffRate": 2\n' in render(integral)


def test_explicit_null_result_path_is_kept_and_unset_is_omitted() -> None:
    assert json.loads(render(_task(ResultPath=None)))["States"]["A"]["ResultPath"] is None
    assert "ResultPath" not in json.loads(render(_task()))["States"]["A"]


def test_render_is_byte_identical_across_interpreter_runs() -> None:
    script = (
        "import sys; from asl_export.render import render; from engine.loader import load; "
        "from tests.test_export_golden import ORDERS; "
        "sys.stdout.buffer.write(render(load(ORDERS, validate=False)).encode())"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("0", "1", "2")
    }
    assert runs == {render(orders()).encode()}


@pytest.mark.parametrize("build", [airline, orders, shop])
def test_round_trip_of_examples(build: Any) -> None:
    machine = build()
    text = render(machine)
    again = load(text, validate=False)
    assert again == machine
    assert again.to_dict() == machine.to_dict()
    assert render(again) == text


def test_airline_render_matches_the_reference_definition() -> None:
    assert json.loads(render(airline())) == json.loads(AIRLINE.read_text(encoding="utf-8"))


def test_round_trip_of_every_state_type_and_nested_processor() -> None:
    inner: dict[str, State] = {"P": PassState(type="Pass", result={"k": [1, 2.5, None]}, end=True)}
    machine = StateMachine(
        start_at="W",
        version="1.0",
        timeout_seconds=60,
        states={
            "W": WaitState(type="Wait", seconds_path="$.s", next="Par"),
            "Par": ParallelState(
                type="Parallel",
                branches=[Branch(start_at="P", states=inner)],
                result_selector={"a.$": "$[0]"},
                next="M",
            ),
            "M": MapState(
                type="Map",
                item_processor=ItemProcessor(
                    processor_config=ProcessorConfig(mode="INLINE"),
                    start_at="Q",
                    states={"Q": SucceedState(type="Succeed")},
                ),
                items_path="$.items",
                max_concurrency=0,
                next="F",
            ),
            "F": FailState(type="Fail", error_path="$.e", cause="c"),
        },
    )
    text = render(machine)
    assert load(text, validate=False) == machine
    assert render(load(text, validate=False)) == text
    assert list(json.loads(text)) == ["StartAt", "States", "TimeoutSeconds", "Version"]
    processor = json.loads(text)["States"]["M"]["ItemProcessor"]
    assert list(processor) == ["ProcessorConfig", "StartAt", "States"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines())
def test_round_trip_of_generated_machines(document: dict[str, Any]) -> None:
    machine = load(document, validate=False)
    text = render(machine)
    assert json.loads(text) == document
    again = load(text, validate=False)
    assert again == machine
    assert render(again) == text


def test_every_model_field_has_a_place_in_the_key_order() -> None:
    # A field missing from the order lists would still render, but after the known ones;
    # this keeps the lists complete as the model grows.
    module = importlib.import_module("asl_export.render")  # the package exports a `render` too

    orders_by_model = [
        (StateMachine, module._MACHINE_ORDER),
        (Branch, module._BRANCH_ORDER),
        (ItemProcessor, module._BRANCH_ORDER),
        (ProcessorConfig, module._PROCESSOR_CONFIG_ORDER),
        (Retrier, module._RETRIER_ORDER),
        (Catcher, module._CATCHER_ORDER),
        (ChoiceRule, module._RULE_ORDER),
        *(
            (cls, module._STATE_ORDER)
            for cls in (
                TaskState,
                PassState,
                ChoiceState,
                WaitState,
                SucceedState,
                FailState,
                ParallelState,
                MapState,
            )
        ),
    ]
    for model, order in orders_by_model:
        fields = model.model_fields  # type: ignore[attr-defined]
        missing = {info.alias for info in fields.values()} - set(order)
        assert missing == set(), (model.__name__, missing)


def test_placeholders_name_each_using_state_in_order() -> None:
    assert placeholders(orders()) == {
        "ValidateOrder.Arn": ("Validate Order",),
        "OrdersTable": ("Save Order", "Delete Order"),
        "OrdersTopic": ("Notify Customer",),
        "ChargeCard.Arn": ("Charge Card",),
        "OrdersDLQ": ("Dead Letter",),
    }


def test_resolve_fills_values_and_pseudo_parameters() -> None:
    machine = _task(Resource="${Fn.Arn}", Parameters={"Table": "t-${Stage}"})
    resolved = resolve(
        machine,
        {"Fn.Arn": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:f"},
        account_id="123456789012",
        region="eu-west-1",
        stage="prod",
    )
    state = resolved.states["A"]
    assert isinstance(state, TaskState)
    assert state.resource == "arn:aws:lambda:eu-west-1:123456789012:function:f"
    assert state.parameters == {"Table": "t-prod"}


def test_resolve_names_the_state_and_placeholder_without_a_value() -> None:
    with pytest.raises(UnresolvedPlaceholderError) as caught:
        resolve(orders(), {"ValidateOrder.Arn": "arn:aws:lambda:eu-west-1:1:function:v"})
    assert str(caught.value) == (
        "state 'Save Order': placeholder ${OrdersTable} has no value; "
        "add a value for 'OrdersTable' to the substitutions"
    )
    assert (caught.value.state, caught.value.placeholder) == ("Save Order", "OrdersTable")


def test_resolve_asks_for_the_region_a_value_needs() -> None:
    machine = _task(Resource="${Fn}")
    with pytest.raises(ExportError, match=r"uses \$\{AWS::Region\}; give the region"):
        resolve(machine, {"Fn": "arn:aws:lambda:${AWS::Region}:1:function:f"})


def test_resolve_rejects_values_naming_other_placeholders() -> None:
    with pytest.raises(ExportError, match=r"the value of \$\{Fn\} uses \$\{Other\}"):
        resolve(_task(Resource="${Fn}"), {"Fn": "${Other}"})


def test_non_json_numbers_are_an_export_error() -> None:
    machine = _task(Parameters={"x": 1})
    machine.states["A"].parameters = {"x": float("nan")}  # type: ignore[union-attr]
    with pytest.raises(ExportError, match="JSON cannot represent"):
        render(machine)


def test_ordered_definition_is_a_fresh_json_object() -> None:
    machine = orders()
    document = ordered_definition(machine)
    document["States"]["Save Order"]["Parameters"]["TableName"] = "changed"
    assert json.loads(render(machine)) == ORDERS
