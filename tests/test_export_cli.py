"""``saga export`` and ``saga graph`` on sagas, StateMachines and definition files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from asl_export.graph import render_graph
from asl_export.render import render, resolve
from asl_export.sam import render_sam
from engine.loader import load
from saga.cli import main
from tests.test_export_golden import AIRLINE, SHOP, shop, shop_functions

MACHINE = load({"StartAt": "Only", "States": {"Only": {"Type": "Succeed"}}}, validate=False)
NOT_A_SAGA = 42


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_saga_as_asl(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["export", "tests.test_export_golden:SHOP"], capsys) == (0, render(shop()), "")


def test_export_state_machine_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["export", "tests.test_export_cli:MACHINE"], capsys) == (0, render(MACHINE), "")


def test_export_definition_file_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "airline.asl.json"
    assert run(["export", str(AIRLINE), "-o", str(out)], capsys) == (0, "", "")
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(
        AIRLINE.read_text(encoding="utf-8")
    )


def test_export_resolved_with_substitutions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = {
        "ReserveSeat": "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:reserve-${Stage}",
        "ChargeCard.Arn": "arn:aws:lambda:eu-west-1:1:function:charge",
        "RefundCard.Arn": "arn:aws:lambda:eu-west-1:1:function:refund",
        "ReleaseSeat": "arn:aws:lambda:eu-west-1:1:function:release",
        "OrdersTable": "orders",
        "ShopDLQ": "https://sqs.eu-west-1.amazonaws.com/1/dlq",
    }
    path = tmp_path / "values.json"
    path.write_text(json.dumps(values))
    argv = ["export", "tests.test_export_golden:SHOP", "--substitutions", str(path)]
    argv += ["--account-id", "123456789012", "--region", "eu-west-1", "--stage", "prod"]
    code, out, err = run(argv, capsys)
    assert (code, err) == (0, "")
    expected = resolve(shop(), values, account_id="123456789012", region="eu-west-1", stage="prod")
    assert out == render(expected)
    assert json.loads(out)["States"]["Reserve Seat"]["Resource"] == (
        "arn:aws:lambda:eu-west-1:123456789012:function:reserve-prod"
    )


def test_export_saga_as_sam_with_its_python_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["export", "tests.test_export_golden:SHOP", "--format", "sam"], capsys)
    assert (code, err) == (0, "")
    assert out == render_sam(shop(), name="Shop", functions=shop_functions())
    functions = {
        name: resource["Properties"]["Environment"]["Variables"]["SAGA_STEP"]
        for name, resource in yaml.safe_load(out)["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert functions == {
        "ReserveSeat": "tests.test_export_golden:reserve_seat",
        "ChargeCard": "tests.test_export_golden:charge_card",
        "ReleaseSeat": "tests.test_export_golden:release_seat",
        "RefundCard": "tests.test_export_golden:refund_card",
    }


def test_export_cloudformation_json_with_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", "tests.test_export_golden:SHOP", "--format", "cloudformation"]
    code, out, _ = run([*argv, "--template-format", "json", "--name", "Checkout"], capsys)
    template = json.loads(out)
    assert code == 0
    assert template["Resources"]["StateMachine"]["Properties"]["StateMachineName"] == {
        "Fn::Sub": "Checkout-${Stage}"
    }


def test_graph_of_a_saga_marks_its_compensations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["graph", "tests.test_export_golden:SHOP"], capsys)
    assert (code, err) == (0, "")
    assert out == render_graph(shop(), "mermaid", compensations={"Release Seat", "Refund Card"})
    assert "  class s3,s4,s5,s6 compensation\n" in out


def test_graph_dot_of_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["graph", str(AIRLINE), "--format", "dot"], capsys)
    assert code == 0
    assert out.startswith('digraph "process_booking" {\n')


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["export", "nowhere.module:thing"],
            "TARGET 'nowhere.module:thing': cannot import 'nowhere.module'",
        ),
        (
            ["export", "tests.test_export_cli:missing"],
            "TARGET 'tests.test_export_cli:missing': tests.test_export_cli has no attribute "
            "'missing'",
        ),
        (
            ["export", "tests.test_export_cli:NOT_A_SAGA"],
            "TARGET 'tests.test_export_cli:NOT_A_SAGA' is neither a saga nor a StateMachine "
            "(it is int)",
        ),
        (
            ["export", "no_colon"],
            "TARGET 'no_colon': expected module:attribute or a definition file",
        ),
        (["export", "missing.asl.json"], "missing.asl.json: cannot read the definition"),
        (
            ["export", str(AIRLINE), "--format", "sam"],
            "state 'Reserve Booking': ${ReserveBooking.Arn} names nothing the template can "
            "create; add a FunctionSpec with placeholder 'ReserveBooking.Arn' (a Python step) or "
            "a value for it in the substitutions",
        ),
        (
            ["export", str(AIRLINE), "--format", "sam", "--name", "Process Booking"],
            "state machine name 'Process Booking' is not accepted by Step Functions",
        ),
        (
            ["graph", "tests.test_export_cli:NOT_A_SAGA"],
            "TARGET 'tests.test_export_cli:NOT_A_SAGA' is neither a saga nor a StateMachine",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"saga: {message}")
    assert err.count("\n") == 1


def test_missing_substitution_names_the_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "values.json"
    path.write_text(json.dumps({"ReserveSeat": "arn:aws:lambda:eu-west-1:1:function:r"}))
    code, _, err = run(
        ["export", "tests.test_export_golden:SHOP", "--substitutions", str(path)], capsys
    )
    assert code == 2
    assert err == (
        "saga: state 'Charge Card': placeholder ${ChargeCard.Arn} has no value; "
        "add a value for 'ChargeCard.Arn' to the substitutions\n"
    )


def test_invalid_definition_file_lists_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.asl.json"
    path.write_text('{"StartAt": "A"}')
    code, _, err = run(["export", str(path)], capsys)
    assert code == 2
    assert err.startswith(f"saga: {path}: not a usable definition: ")
    assert "States" in err


def test_substitutions_file_must_be_an_object_of_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "values.json"
    path.write_text(json.dumps({"A": 1}))
    code, _, err = run(["export", str(AIRLINE), "--substitutions", str(path)], capsys)
    assert (code, err) == (2, f"saga: --substitutions: {path} must hold a JSON object of strings\n")


def test_step_defined_in_a_function_cannot_be_exported(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from saga.saga import Saga

    local = Saga("Local")

    @local.step("Inner Step")
    def inner(event: Any) -> Any:
        return event

    monkeypatch.setattr(f"{__name__}.LOCAL_SAGA", local, raising=False)
    code, _, err = run(["export", "tests.test_export_cli:LOCAL_SAGA", "--format", "sam"], capsys)
    assert code == 2
    assert err == (
        "saga: state 'Inner Step': its step tests.test_export_cli.test_step_defined_in_a_function_"
        "cannot_be_exported.<locals>.inner cannot be imported by Lambda; define it at the top "
        "level of an importable module\n"
    )
    assert SHOP.name == "Shop"
