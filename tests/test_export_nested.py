"""Export of a saga of sagas: one SAM/CloudFormation template holds the parent, every saga it
runs as a step (grandchildren too) and all their Lambda functions, each child's ARN placeholder
bound to the child's ``Ref`` and the parent's role allowed to run the child with ``.sync``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from asl_export import ChildMachine, ExportError, cloudformation_template, sam_template
from asl_export.functions import function_specs_for
from saga import Saga
from saga.cli import main

EXECUTIONS = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
SYNC_RULE = (
    "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
    "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
)


def book_hotel(event: dict[str, Any]) -> str:
    return "hotel"


def cancel_hotel(event: dict[str, Any]) -> None:
    return None


def book_outbound(event: dict[str, Any]) -> str:
    return "outbound"


def cancel_outbound(event: dict[str, Any]) -> None:
    return None


def cancel_flights(event: dict[str, Any]) -> None:
    return None


def confirm(event: dict[str, Any]) -> str:
    return "confirmed"


def pick_seat(event: dict[str, Any]) -> str:
    return "12A"


seats = Saga("Seats")
seats.step("Pick Seat", pick_seat)

flights = Saga("Flights")
flights.step("Book Outbound", book_outbound).compensate("Cancel Outbound", cancel_outbound)
flights.step("Confirm Flights", confirm)

trip = Saga("Trip")
trip.step("Book Hotel", book_hotel).compensate("Cancel Hotel", cancel_hotel)
trip.step("Book Flights", flights).compensate("Cancel Flights", cancel_flights)
trip.step("Take Payment", confirm)

# Trip -> Flights -> Seats: the grandchild runs inside the child
nested_flights = Saga("NestedFlights")
nested_flights.step("Book Outbound", book_outbound)
nested_flights.step("Choose Seats", seats)
long_trip = Saga("LongTrip")
long_trip.step("Book Hotel", book_hotel)
long_trip.step("Book Flights", nested_flights)


def _export(target: str, fmt: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / f"{fmt}.json"
    code = main(
        ["export", target, "--format", fmt, "--template-format", "json", "-o", str(out), *extra]
    )
    assert code == 0
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def _statements(policy: dict[str, Any]) -> dict[str, list[Any]]:
    return {s["Action"][0]: s["Resource"] for s in policy["Statement"]}


def test_the_sam_template_holds_both_machines_and_binds_the_child_arn(tmp_path: Path) -> None:
    template = _export("tests.test_export_nested:trip", "sam", tmp_path)
    resources = template["Resources"]
    assert list(resources) == [
        "BookHotel",
        "TakePayment",
        "CancelHotel",
        "CancelFlights",
        "BookOutbound",
        "ConfirmFlights",
        "CancelOutbound",
        "StateMachine",
        "FlightsStateMachine",
    ]
    parent = resources["StateMachine"]["Properties"]
    child = resources["FlightsStateMachine"]["Properties"]
    assert parent["Name"] == {"Fn::Sub": "Trip-${Stage}"}
    assert child["Name"] == {"Fn::Sub": "Flights-${Stage}"}
    assert parent["DefinitionSubstitutions"] == {
        "BookHotel": {"Fn::GetAtt": ["BookHotel", "Arn"]},
        "FlightsStateMachineArn": {"Ref": "FlightsStateMachine"},
        "TakePayment": {"Fn::GetAtt": ["TakePayment", "Arn"]},
        "CancelFlights": {"Fn::GetAtt": ["CancelFlights", "Arn"]},
        "CancelHotel": {"Fn::GetAtt": ["CancelHotel", "Arn"]},
    }
    assert child["DefinitionSubstitutions"] == {
        "BookOutbound": {"Fn::GetAtt": ["BookOutbound", "Arn"]},
        "ConfirmFlights": {"Fn::GetAtt": ["ConfirmFlights", "Arn"]},
        "CancelOutbound": {"Fn::GetAtt": ["CancelOutbound", "Arn"]},
    }
    assert child["Definition"] == json.loads(flights.to_json())
    assert _statements(parent["Policies"][0]) == {
        "lambda:InvokeFunction": [
            {"Fn::GetAtt": ["BookHotel", "Arn"]},
            {"Fn::GetAtt": ["TakePayment", "Arn"]},
            {"Fn::GetAtt": ["CancelFlights", "Arn"]},
            {"Fn::GetAtt": ["CancelHotel", "Arn"]},
        ],
        "states:StartExecution": [{"Ref": "FlightsStateMachine"}],
        "states:DescribeExecution": [{"Fn::Sub": EXECUTIONS + "${FlightsStateMachine.Name}:*"}],
        "states:StopExecution": [{"Fn::Sub": EXECUTIONS + "${FlightsStateMachine.Name}:*"}],
        "events:PutTargets": [{"Fn::Sub": SYNC_RULE}],
        "events:PutRule": [{"Fn::Sub": SYNC_RULE}],
        "events:DescribeRule": [{"Fn::Sub": SYNC_RULE}],
    }
    assert _statements(child["Policies"][0]) == {
        "lambda:InvokeFunction": [
            {"Fn::GetAtt": ["BookOutbound", "Arn"]},
            {"Fn::GetAtt": ["ConfirmFlights", "Arn"]},
            {"Fn::GetAtt": ["CancelOutbound", "Arn"]},
        ]
    }
    assert "FlightsStateMachineArn" not in template["Parameters"]
    assert template["Parameters"]["Stage"]["MaxLength"] == 80 - len("Flights") - 1
    assert template["Outputs"]["FlightsStateMachineArn"]["Value"] == {"Ref": "FlightsStateMachine"}
    handler = resources["BookOutbound"]["Properties"]["Environment"]["Variables"]["SAGA_STEP"]
    assert handler == "tests.test_export_nested:book_outbound"
    _cfn_lint(template, tmp_path)


def _cfn_lint(template: dict[str, Any], tmp_path: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        pytest.skip("cfn-lint not installed (pip install -e '.[dev]')")
    path = tmp_path / "linted.template.json"
    path.write_text(json.dumps(template))
    done = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_cloudformation_template_gives_each_machine_its_role_and_passes_cfn_lint(
    tmp_path: Path,
) -> None:
    template = _export("tests.test_export_nested:trip", "cloudformation", tmp_path)
    resources = template["Resources"]
    machines = {
        k: v for k, v in resources.items() if v["Type"] == "AWS::StepFunctions::StateMachine"
    }
    assert list(machines) == ["StateMachine", "FlightsStateMachine"]
    parent = machines["StateMachine"]["Properties"]
    child = machines["FlightsStateMachine"]["Properties"]
    assert parent["RoleArn"] == {"Fn::GetAtt": ["StateMachineRole", "Arn"]}
    assert child["RoleArn"] == {"Fn::GetAtt": ["FlightsStateMachineRole", "Arn"]}
    assert child["StateMachineName"] == {"Fn::Sub": "Flights-${Stage}"}
    assert parent["DefinitionSubstitutions"]["FlightsStateMachineArn"] == {
        "Ref": "FlightsStateMachine"
    }
    role = resources["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    needs = _statements(role)
    assert needs["states:StartExecution"] == [{"Ref": "FlightsStateMachine"}]
    assert needs["states:DescribeExecution"] == [
        {"Fn::Sub": EXECUTIONS + "${FlightsStateMachine.Name}:*"}
    ]
    assert needs["events:PutRule"] == [{"Fn::Sub": SYNC_RULE}]
    child_role = resources["FlightsStateMachineRole"]["Properties"]["Policies"][0]
    assert list(_statements(child_role["PolicyDocument"])) == ["lambda:InvokeFunction"]
    assert resources["BookOutbound"]["Type"] == "AWS::Lambda::Function"
    assert resources["BookOutboundRole"]["Type"] == "AWS::IAM::Role"
    _cfn_lint(template, tmp_path)


@pytest.mark.parametrize("fmt", ["sam", "cloudformation"])
def test_a_grandchild_is_in_the_template_and_bound_inside_its_parent(
    fmt: str, tmp_path: Path
) -> None:
    template = _export("tests.test_export_nested:long_trip", fmt, tmp_path)
    resources = template["Resources"]
    kind = "AWS::Serverless::StateMachine" if fmt == "sam" else "AWS::StepFunctions::StateMachine"
    assert [k for k, v in resources.items() if v["Type"] == kind] == [
        "StateMachine",
        "NestedFlightsStateMachine",
        "SeatsStateMachine",
    ]
    top = resources["StateMachine"]["Properties"]["DefinitionSubstitutions"]
    middle = resources["NestedFlightsStateMachine"]["Properties"]["DefinitionSubstitutions"]
    bottom = resources["SeatsStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert top["NestedFlightsStateMachineArn"] == {"Ref": "NestedFlightsStateMachine"}
    assert middle == {
        "BookOutbound": {"Fn::GetAtt": ["BookOutbound", "Arn"]},
        "SeatsStateMachineArn": {"Ref": "SeatsStateMachine"},
    }
    assert bottom == {"PickSeat": {"Fn::GetAtt": ["PickSeat", "Arn"]}}
    if fmt == "sam":
        policy = resources["NestedFlightsStateMachine"]["Properties"]["Policies"][0]
    else:
        role = resources["NestedFlightsStateMachineRole"]["Properties"]
        policy = role["Policies"][0]["PolicyDocument"]
    needs = _statements(policy)
    assert needs["states:StartExecution"] == [{"Ref": "SeatsStateMachine"}]
    assert needs["states:StopExecution"] == [
        {"Fn::Sub": EXECUTIONS + "${SeatsStateMachine.Name}:*"}
    ]
    assert "PickSeat" in resources
    assert template["Parameters"]["Stage"]["MaxLength"] == 80 - len("NestedFlights") - 1
    _cfn_lint(template, tmp_path)  # a SAM template is linted after SAM's own transform


def test_asl_export_of_the_parent_is_its_own_machine_only(tmp_path: Path) -> None:
    out = tmp_path / "trip.asl.json"
    assert main(["export", "tests.test_export_nested:trip", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(trip.to_json())


def test_children_dir_writes_every_descendant_beside_the_parent(tmp_path: Path) -> None:
    out = tmp_path / "LongTrip.asl.json"
    argv = ["export", "tests.test_export_nested:long_trip", "-o", str(out)]
    assert main([*argv, "--children-dir", str(tmp_path / "children")]) == 0
    assert json.loads(out.read_text()) == json.loads(long_trip.to_json())
    written = sorted(p.name for p in (tmp_path / "children").iterdir())
    assert written == ["NestedFlights.asl.json", "Seats.asl.json"]
    for saga in (nested_flights, seats):
        text = (tmp_path / "children" / f"{saga.name}.asl.json").read_text()
        assert json.loads(text) == json.loads(saga.to_json())


def test_children_dir_is_refused_with_a_template_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["export", "tests.test_export_nested:trip", "--format", "sam"]
    assert main([*argv, "--children-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "saga: --children-dir: only with --format asl; a template already holds the children\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_two_machines_giving_one_function_name_to_different_code_are_refused() -> None:
    child = Saga("Hotels")
    child.step("Book Hotel", book_outbound)
    parent = Saga("Stay")
    parent.step("Book Hotel", book_hotel)
    parent.step("Hotels", child)
    machine = child.to_state_machine()
    children = [
        ChildMachine(
            "HotelsStateMachineArn",
            "Hotels",
            machine,
            function_specs_for(machine, child.handlers()),
        )
    ]
    parent_machine = parent.to_state_machine()
    functions = function_specs_for(parent_machine, parent.handlers())
    for render in (sam_template, cloudformation_template):
        with pytest.raises(ExportError) as caught:
            render(parent_machine, name="Stay", functions=functions, children=children)
        assert str(caught.value) == (
            "state machine 'Hotels': function 'BookHotel' (tests.test_export_nested:book_outbound) "
            "differs from another machine's tests.test_export_nested:book_hotel; "
            "give the steps different names"
        )


def test_a_child_named_like_its_parent_is_refused() -> None:
    machine = flights.to_state_machine()
    child = ChildMachine("FlightsStateMachineArn", "Trip", machine)
    with pytest.raises(ExportError, match="has the name of its parent"):
        sam_template(trip.to_state_machine(), name="Trip", children=[child])


def _local_child() -> Saga:
    def book(event: dict[str, Any]) -> str:
        return "local"

    child = Saga("Cars")
    child.step("Rent Car", book)
    parent = Saga("Drive")
    parent.step("Book Hotel", book_hotel)
    parent.step("Cars", child)
    return parent


drive = _local_child()


def test_a_child_step_lambda_cannot_import_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export", "tests.test_export_nested:drive", "--format", "sam"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "saga: child saga 'Cars': state 'Rent Car': its step "
        "tests.test_export_nested._local_child.<locals>.book cannot be imported by Lambda; "
        "define it at the top level of an importable module\n"
    )
